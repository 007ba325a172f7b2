/**
 * A minimal discrete-event simulation core: a time-ordered action queue, processes written as
 * generators (yield an absolute time to sleep until it, or a Signal to wait for it), and
 * single-threaded workers (a kernel thread, a userspace event loop) that run jobs one at a time.
 * Times are integer nanoseconds in the reference clock. Ties run in scheduling order, so a run is
 * fully deterministic.
 */

export type Proc = Generator<number | Signal, void, unknown>;

interface Action {
  t: number;
  s: number;
  fn: () => void;
}

export class Sim {
  now = 0;
  /**
   * How far (ns) an action may be asked for before `now` and still run (at `now`): 0 by default
   * (any earlier time is a simulator bug). Drifting clocks need a few ns: a local µs of a clock
   * running slow lasts slightly more than 1000 true ns, so a time derived from a printed
   * timestamp plus the 1 µs minimum latency can fall a ns or two before the present.
   */
  slack = 0;
  private readonly heap: Action[] = [];
  private serial = 0;

  /** Runs `fn` at time `t` (≥ now). */
  at(t: number, fn: () => void): void {
    if (t < this.now && t >= this.now - this.slack) t = this.now;
    if (!Number.isSafeInteger(t) || t < this.now) throw new Error(`simulator bug: action at ${t} ns, before now (${this.now} ns) or not an integer`);
    const h = this.heap;
    const a: Action = { t, s: this.serial++, fn };
    h.push(a);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = a;
  }

  /** Starts a process now (it runs synchronously up to its first yield). */
  spawn(p: Proc, onDone?: () => void): void {
    const r = p.next();
    if (r.done === true) {
      onDone?.();
      return;
    }
    const v = r.value;
    if (typeof v === 'number') this.at(v, () => this.spawn(p, onDone));
    else v.wait(() => this.spawn(p, onDone));
  }

  run(): void {
    const h = this.heap;
    while (h.length > 0) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= h.length) break;
          const r = l + 1;
          const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
          if (!before(h[c]!, last)) break;
          h[i] = h[c]!;
          i = c;
        }
        h[i] = last;
      }
      this.now = top.t;
      top.fn();
    }
  }
}

function before(a: Action, b: Action): boolean {
  return a.t < b.t || (a.t === b.t && a.s < b.s);
}

/** A one-shot event a process can wait for. */
export class Signal {
  private fired = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly sim: Sim) {}

  wait(fn: () => void): void {
    if (this.fired) this.sim.at(this.sim.now, fn);
    else this.waiters.push(fn);
  }

  fire(): void {
    if (this.fired) return;
    this.fired = true;
    for (const w of this.waiters) this.sim.at(this.sim.now, w);
    this.waiters = [];
  }
}

/** A single-threaded executor: jobs run one after the other, in submission order. */
export class SerialExecutor<K extends string> {
  private readonly queue: { kind: K; make: () => Proc }[] = [];
  private busy = false;

  constructor(private readonly sim: Sim) {}

  /** Queues a job; an idle worker starts it at once (synchronously, up to its first yield). */
  submit(kind: K, make: () => Proc): void {
    this.queue.push({ kind, make });
    if (!this.busy) this.startNext();
  }

  /** Kind of the next queued job, if any. */
  nextKind(): K | undefined {
    return this.queue[0]?.kind;
  }

  private startNext(): void {
    const j = this.queue.shift();
    if (j === undefined) {
      this.busy = false;
      return;
    }
    this.busy = true;
    this.sim.spawn(j.make(), () => this.startNext());
  }
}
