/**
 * The tracefs plan of `xtrace record`, pure (it reads no file): which kernel events a profile
 * needs — its points' events, the block layer's splits, merges and requeues, the interrupt exits
 * that pair with its interrupt entries — as tracefs `system:event` names found in
 * `available_events`; the events this kernel lacks, each with what its absence costs the report;
 * and the steps (mkdir, writes, rmdir, relative to the tracefs root) that set up xtrace's own
 * tracefs instance, record one run in it, and remove it. tracefs.ts carries the steps out and
 * computes the undo of each write from the content it finds (`restoreSteps`).
 */
import { UsageError } from '../core/errors.js';
import { blockLayerEvents } from '../correlate/engine.js';
import { runMarkerText, type Profile } from '../profiles/index.js';

/** One tracefs operation; `path` is relative to the tracefs root. A write is `echo VALUE > path` (`>>` when `append`). */
export type TracefsStep = { op: 'mkdir'; path: string } | { op: 'rmdir'; path: string } | { op: 'write'; path: string; value: string; append?: boolean };

/** An event the profile needs that the kernel lacks, and what the report loses without it. */
export interface MissingEvent {
  event: string;
  consequence: string;
}

export interface PlanOptions {
  /** The instance's directory name under `instances/` (e.g. `xtrace-<pid>`). */
  instanceName: string;
  /** Ring buffer size per CPU, KB. */
  bufferKb: number;
  /** trace_clock name (local, global, mono, boot …). */
  clock: string;
}

export interface RecordPlan {
  /** `instances/<name>`, relative to the tracefs root. */
  instance: string;
  /** The tracefs events enabled, `system:event`. */
  events: string[];
  missing: MissingEvent[];
  /** Points no tracefs event gives (`*`: trace_printk lines or xtbuf dumps), named with where they come from. */
  instrumented: string[];
  /** Creates and configures the instance, tracing off. */
  setup: TracefsStep[];
  /** Removes the instance (which frees its buffer and disables its events). */
  teardown: TracefsStep[];
}

/** An event the plan wants, and why (for the consequence of its absence). */
interface WantedEvent {
  name: string;
  /** What the report loses without it. */
  consequence: string;
}

function namesOf(e: string | string[]): string[] {
  return Array.isArray(e) ? e : [e];
}

/** The events a profile needs, by stored name (`block_rq_issue`), each with the cost of its absence. */
export function wantedEvents(profile: Profile, available?: ReadonlySet<string>): WantedEvent[] {
  const wanted = new Map<string, WantedEvent>();
  const want = (name: string, consequence: string): void => {
    if (name !== '*' && !wanted.has(name)) wanted.set(name, { name, consequence });
  };
  const path = profile.points.map((p) => p.name);
  for (const [i, p] of profile.points.entries()) {
    const events = namesOf(p.event).filter((n) => n !== '*');
    const present = available ? events.filter((n) => available.has(n)) : events;
    const stages = [i > 0 ? `${path[i - 1]}->${p.name}` : null, i + 1 < path.length ? `${p.name}->${path[i + 1]}` : null].filter((s) => s !== null);
    for (const n of events) {
      if (present.length > 0 && events.length > 1) want(n, `point ${p.name} does not see ${n.replace(/^sys_(enter|exit)_/, '')} (its other events are enabled)`);
      else if (p.optional) want(n, `point ${p.name} is never seen: the path leaves it out (stages ${stages.join(', ')} merge)`);
      else want(n, `point ${p.name} is never seen: the stage${stages.length > 1 ? 's' : ''} ${stages.join(' and ')} ${stages.length > 1 ? 'are' : 'is'} missing and requests cannot complete through it`);
    }
  }
  if (profile.block_layer) {
    const what = { split: 'a bio split into several requests is not followed', back: 'bios merged into a request are not recognised', front: 'bios merged into a request are not recognised', rqmerge: 'requests merged into another are not recognised', requeue: 'a requeued request is not recognised', until: 'more bios of a request are not cut off at the submission\'s return' } as const;
    for (const [name, kind] of blockLayerEvents(profile.block_layer)) want(name, `${what[kind]} (block layer)`);
  }
  for (const p of profile.points) {
    if (namesOf(p.event).includes('irq_handler_entry')) want('irq_handler_exit', 'interrupt handler durations are not recorded (the report does not need them)');
  }
  for (const m of namesOf(profile.markers.event)) want(m, 'run markers are not seen: the whole recording is one run');
  return [...wanted.values()];
}

/** `system:event` names by event name, from the text of available_events. */
export function availableEventIndex(availableEvents: string): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const line of availableEvents.split('\n')) {
    const t = line.trim();
    const i = t.indexOf(':');
    if (i <= 0) continue;
    const name = t.slice(i + 1);
    index.set(name, [...(index.get(name) ?? []), t]);
  }
  return index;
}

/** The clocks a trace_clock file offers, and the selected one (`[local] global counter …`). */
export function clocksOf(traceClock: string): { clocks: string[]; current: string | null } {
  const words = traceClock.trim().split(/\s+/).filter(Boolean);
  const sel = words.find((w) => w.startsWith('['));
  return { clocks: words.map((w) => w.replace(/^\[|\]$/g, '')), current: sel ? sel.slice(1, -1) : null };
}

/**
 * The plan: events from the profile through available_events (null: not readable, every event is
 * assumed present — the dry run of a machine without root), the instance's setup and teardown.
 * Throws UsageError when the clock is not one of `availableClocks` (given).
 */
export function planRecording(profile: Profile, availableEvents: string | null, o: PlanOptions, availableClocks?: readonly string[]): RecordPlan {
  if (availableClocks && !availableClocks.includes(o.clock)) throw new UsageError(`--clock ${o.clock}: not a clock this kernel offers (${availableClocks.join(', ')})`);
  if (!/^[A-Za-z0-9_.-]+$/.test(o.instanceName)) throw new UsageError(`an instance name is letters, digits, _ . -, not "${o.instanceName}"`);
  const index = availableEvents === null ? null : availableEventIndex(availableEvents);
  const wanted = wantedEvents(profile, index ? new Set(index.keys()) : undefined);
  const events: string[] = [];
  const missing: MissingEvent[] = [];
  for (const w of wanted) {
    // set_event takes a bare event name too (any system).
    if (!index) events.push(w.name);
    else if (index.has(w.name)) events.push(...index.get(w.name)!);
    else missing.push({ event: w.name, consequence: w.consequence });
  }
  const instrumented = profile.points
    .filter((p) => namesOf(p.event).every((n) => n === '*'))
    .map((p) => `point ${p.name} (${p.role}) comes from instrumentation, not a tracefs event: trace_printk lines go to the top-level buffer, not to this instance; an xtbuf dump is ingested on its own`);
  const instance = `instances/${o.instanceName}`;
  const at = (f: string): string => `${instance}/${f}`;
  return {
    instance,
    events,
    missing,
    instrumented,
    setup: [
      { op: 'mkdir', path: instance },
      // A new instance starts with tracing on: off until the first run begins.
      { op: 'write', path: at('tracing_on'), value: '0' },
      { op: 'write', path: at('buffer_size_kb'), value: String(o.bufferKb) },
      { op: 'write', path: at('trace_clock'), value: o.clock },
      { op: 'write', path: at('set_event'), value: '' },
      ...events.map((e): TracefsStep => ({ op: 'write', path: at('set_event'), value: e, append: true })),
    ],
    teardown: [
      { op: 'write', path: at('tracing_on'), value: '0' },
      { op: 'rmdir', path: instance },
    ],
  };
}

/** The steps around one run: clear the buffer, tracing on, begin marker — (the command) — end marker, tracing off. */
export function runSteps(plan: RecordPlan, label: string | number): { before: TracefsStep[]; after: TracefsStep[] } {
  const at = (f: string): string => `${plan.instance}/${f}`;
  return {
    before: [
      { op: 'write', path: at('trace'), value: '' },
      { op: 'write', path: at('tracing_on'), value: '1' },
      { op: 'write', path: at('trace_marker'), value: runMarkerText(label, 'begin') },
    ],
    after: [
      { op: 'write', path: at('trace_marker'), value: runMarkerText(label, 'end') },
      { op: 'write', path: at('tracing_on'), value: '0' },
    ],
  };
}

/**
 * The writes that put a tracefs file back to `original`, the content read from it before a write:
 * trace_clock shows `[local] global …` (write the selected one), buffer_size_kb `1410 (expanded: …)`
 * (the number; `X`, per-CPU sizes that differ, cannot be restored through it), set_event one event
 * a line (clear it, then add each).
 */
export function restoreSteps(path: string, original: string): TracefsStep[] {
  const file = path.slice(path.lastIndexOf('/') + 1);
  if (file === 'trace' || file === 'trace_marker') return [];
  if (file === 'trace_clock') {
    const { current } = clocksOf(original);
    return current ? [{ op: 'write', path, value: current }] : [];
  }
  if (file === 'buffer_size_kb') {
    const m = /^\s*(\d+)/.exec(original);
    return m ? [{ op: 'write', path, value: m[1]! }] : [];
  }
  if (file === 'set_event') {
    const lines = original.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    return [{ op: 'write', path, value: '' }, ...lines.map((l): TracefsStep => ({ op: 'write', path, value: l, append: true }))];
  }
  return [{ op: 'write', path, value: original.replace(/\n$/, '') }];
}

/** A step as the shell command that does it (`--dry-run`), with `root` the tracefs mount point. */
export function shellCommand(step: TracefsStep, root: string): string {
  const p = shellQuote(`${root}/${step.path}`);
  if (step.op === 'mkdir') return `mkdir ${p}`;
  if (step.op === 'rmdir') return `rmdir ${p}`;
  return `echo ${step.value === '' ? '' : shellQuote(step.value) + ' '}${step.append ? '>>' : '>'} ${p}`;
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
