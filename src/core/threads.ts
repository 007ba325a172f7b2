/**
 * Starting a worker thread from one of xtrace's own modules, built (dist/, `.js`) or run from the
 * TypeScript sources under tsx (tests), where the worker must register the tsx loader before it
 * imports its module.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Starts `module` (a path without extension, relative to `callerUrl`, e.g. './worker'). */
export function startModuleWorker(callerUrl: string, module: string, opts: WorkerOptions): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const url = new URL(`${module}${fromSource ? '.ts' : '.js'}`, callerUrl);
  if (!fromSource) return new Worker(url, opts);
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...opts, eval: true });
}
