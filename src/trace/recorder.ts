/**
 * Trace recorder: attaches to a Machine, timestamps every kernel event
 * (Kernel.emit) with the machine's simulated clock, takes kernel-state
 * snapshots (at the start, at the end, on request and optionally every N
 * events) and produces a versioned JSON trace ("sel4ts-trace", version 1)
 * that the web view reads. The format is documented in web/README.md.
 *
 * The recorder chains any observer already installed on the kernel and the
 * kernel-exit hook (Kernel.invariantHook, which the kernel calls at the end
 * of every entry), and restores both on detach. It never changes kernel state.
 * It uses no Node-only API, so it also runs in the browser.
 */
import type { Kernel, KernelObserver } from '../kernel/kernel.js';
import type { Machine } from '../machine/machine.js';
import type { TCB } from '../kernel/object/tcb.js';
import { Snapshot, takeSnapshot } from './snapshot.js';

export const TRACE_FORMAT = 'sel4ts-trace';
export const TRACE_VERSION = 1;

/** A JSON value (what event details are reduced to). */
export type JSONValue = null | boolean | number | string | JSONValue[] | { [k: string]: JSONValue };

export interface TraceEvent {
  /** Index in the event list. */
  i: number;
  /** Simulated time (ns) when the kernel emitted it. */
  t: number;
  /** Event kind as the kernel emits it: switch, ipc, signal, fault, error, retype, map, irq, donate, postpone, exit, ... */
  kind: string;
  /** TCB.id of the kernel's current thread when the event was emitted. */
  cur: number;
  /**
   * The kernel's detail record, made JSON-safe (bigints become decimal strings), plus
   * `<key>Tid` for each thread-name field (thread, from, to) naming exactly one thread;
   * a 'switch' always gets fromTid and toTid (from the kernel's fromId/toId when given).
   */
  d: { [k: string]: JSONValue };
}

/** A stretch of time during which one thread was the kernel's current thread. */
export interface TraceSlice {
  tid: number;
  start: number;
  end: number;
  /** The core the thread ran on (present only when the machine has several cores). */
  core?: number;
}

export interface TraceThread {
  tid: number;
  /** Last name seen; earlier names (seL4_DebugNameThread) are kept in `names`. */
  name: string;
  names: string[];
  isIdle: boolean;
}

export interface Trace {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  meta: {
    title: string;
    generator: string;
    timeUnit: 'ns';
    startTime: number;
    endTime: number;
    /** Kernel entries (exits) observed while recording. */
    kernelEntries: number;
    eventCount: number;
    /** Events not stored because maxEvents was reached (still counted, still ending slices). */
    droppedEvents: number;
    numDomains: number;
    numPriorities: number;
    /** Cores of the machine (CONFIG_MAX_NUM_NODES). */
    numCores: number;
  };
  threads: TraceThread[];
  slices: TraceSlice[];
  events: TraceEvent[];
  snapshots: Snapshot[];
  /** Console output produced while recording (bounded). */
  console: string;
}

export interface RecorderOptions {
  title?: string;
  /** Take a snapshot at the first kernel exit after every N events (0: never). */
  snapshotEvery?: number;
  /** Stop storing events after this many (default 100000). */
  maxEvents?: number;
  /** Stop taking periodic snapshots after this many (default 200). */
  maxSnapshots?: number;
  /** Keep at most this many characters of console output (default 65536). */
  maxConsole?: number;
}

/** Make an event detail JSON-safe: bigints to strings, non-plain objects to strings, bounded depth. */
export function toJSONValue(v: unknown, depth = 0): JSONValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return v.toString();
    case 'object': {
      if (depth > 4) return String(v);
      if (Array.isArray(v)) return v.map((x) => toJSONValue(x, depth + 1));
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return String(v);
      const out: { [k: string]: JSONValue } = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toJSONValue(x, depth + 1);
      return out;
    }
    default:
      return String(v);
  }
}

const THREAD_FIELDS = ['thread', 'from', 'to'] as const;

export class TraceRecorder implements KernelObserver {
  readonly machine: Machine;
  readonly kernel: Kernel;
  private readonly opts: Required<RecorderOptions>;
  private prevObserver: KernelObserver | null = null;
  private prevExitHook: ((k: Kernel) => void) | null = null;
  private readonly exitHook = (k: Kernel): void => {
    if (this.prevExitHook !== null) this.prevExitHook(k);
    this.onKernelExit();
  };
  private attached = false;
  private finished: Trace | null = null;

  private readonly events: TraceEvent[] = [];
  private readonly snapshots: Snapshot[] = [];
  private readonly threads = new Map<number, TraceThread>();
  private readonly slices: TraceSlice[] = [];
  private eventCount = 0;
  private dropped = 0;
  private kernelEntries = 0;
  private sinceSnapshot = 0;
  private periodicSnapshots = 0;
  private startTime = 0;
  private consoleStart = 0;
  /** Per core: TCB.id of the thread current since sliceStart (the open slice), or -1. */
  private running: number[] = [];
  private sliceStart: number[] = [];
  /** A switch event whose target is not named unambiguously: it is the kernel's current thread after the switch. */
  private pendingSwitch: TraceEvent | null = null;

  constructor(machine: Machine, opts: RecorderOptions = {}) {
    this.machine = machine;
    this.kernel = machine.kernel;
    this.opts = {
      title: opts.title ?? 'sel4ts trace',
      snapshotEvery: opts.snapshotEvery ?? 0,
      maxEvents: opts.maxEvents ?? 100_000,
      maxSnapshots: opts.maxSnapshots ?? 200,
      maxConsole: opts.maxConsole ?? 65_536,
    };
  }

  /** Install on the kernel (chaining the existing observer and exit hook) and take the start snapshot. */
  attach(): this {
    if (this.attached || this.finished !== null) return this;
    const k = this.kernel;
    this.prevObserver = k.observer;
    this.prevExitHook = k.invariantHook;
    k.observer = this;
    k.invariantHook = this.exitHook;
    this.attached = true;
    this.startTime = this.machine.now;
    this.consoleStart = this.machine.console.length;
    this.running = k.nodes.map((n) => n.curThread.id);
    this.sliceStart = k.nodes.map((n) => this.machine.clocks[n.core]!);
    for (const n of k.nodes) this.noteThread(n.curThread);
    for (const t of k.tcbs) this.noteThread(t);
    this.snapshot('start');
    return this;
  }

  /** Remove from the kernel, restoring what was installed before (if nobody replaced us meanwhile). */
  detach(): void {
    if (!this.attached) return;
    const k = this.kernel;
    if (k.observer === this) k.observer = this.prevObserver;
    if (k.invariantHook === this.exitHook) k.invariantHook = this.prevExitHook;
    this.attached = false;
  }

  // ------------------------------------------------------------- kernel side

  onEvent(kind: string, detail: Record<string, unknown>): void {
    try {
      this.record(kind, detail);
    } finally {
      if (this.prevObserver !== null) this.prevObserver.onEvent(kind, detail);
    }
  }

  /** The time of an event: the clock of the core whose kernel entry it is part of. */
  private eventTime(): number {
    const k = this.kernel;
    return k.numCores === 1 ? this.machine.now : k.curTime;
  }

  private record(kind: string, detail: Record<string, unknown>): void {
    const k = this.kernel;
    this.resolvePendingSwitch();
    const now = this.eventTime();
    const core = k.node.core;
    const d = toJSONValue(detail) as { [key: string]: JSONValue };
    const cur = k.curThread;
    this.noteThread(cur);
    this.resolveNames(d);
    const ev: TraceEvent = { i: this.events.length, t: now, kind, cur: cur.id, d };
    this.eventCount++;
    this.sinceSnapshot++;
    if (this.events.length < this.opts.maxEvents) this.events.push(ev);
    else this.dropped++;
    if (kind === 'switch') {
      // Prefer the ids the kernel gives; else the thread we saw running, and the uniquely named target.
      d['fromTid'] = typeof d['fromId'] === 'number' ? d['fromId'] : this.running[core]!;
      const to = typeof d['toId'] === 'number' ? d['toId'] : typeof d['toTid'] === 'number' ? d['toTid'] : null;
      if (to !== null) {
        d['toTid'] = to;
        this.switchTo(core, to, now);
      } else {
        this.pendingSwitch = ev;
      }
    }
  }

  private onKernelExit(): void {
    if (!this.attached) return;
    this.kernelEntries++;
    this.resolvePendingSwitch();
    // A thread change the events did not announce still shows on the timeline.
    for (const n of this.kernel.nodes) {
      if (n.curThread.id !== this.running[n.core]) this.switchTo(n.core, n.curThread.id, this.machine.clocks[n.core]!);
    }
    const e = this.opts.snapshotEvery;
    if (e > 0 && this.sinceSnapshot >= e && this.periodicSnapshots < this.opts.maxSnapshots) {
      this.periodicSnapshots++;
      this.snapshot(`after ${this.eventCount} events`);
    }
  }

  /** A switch whose target had no unambiguous name: the kernel's current thread is now its target. */
  private resolvePendingSwitch(): void {
    const ev = this.pendingSwitch;
    if (ev === null) return;
    this.pendingSwitch = null;
    const core = typeof ev.d['core'] === 'number' ? ev.d['core'] : 0;
    const t = this.kernel.nodes[core]!.curThread;
    ev.d['toTid'] = t.id;
    this.noteThread(t);
    this.switchTo(core, t.id, ev.t);
  }

  /** Close core `core`'s open slice at time `at` and start one for thread `tid`. */
  private switchTo(core: number, tid: number, at: number): void {
    const running = this.running[core]!;
    if (tid === running) return;
    const start = this.sliceStart[core]!;
    if (running >= 0 && at > start) this.slices.push(this.slice(core, running, start, at));
    this.running[core] = tid;
    this.sliceStart[core] = at;
  }

  /** A timeline slice; `core` only on machines with several cores (the trace format is unchanged otherwise). */
  private slice(core: number, tid: number, start: number, end: number): TraceSlice {
    return this.kernel.numCores === 1 ? { tid, start, end } : { tid, start, end, core };
  }

  private noteThread(t: TCB): void {
    const rec = this.threads.get(t.id);
    if (rec === undefined) {
      this.threads.set(t.id, { tid: t.id, name: t.name, names: [t.name], isIdle: this.kernel.nodes.some((n) => n.idleThread === t) });
    } else if (rec.name !== t.name) {
      rec.name = t.name;
      if (!rec.names.includes(t.name)) rec.names.push(t.name);
    }
  }

  /** Add `<field>Tid` for thread-name fields that name exactly one live thread. */
  private resolveNames(d: { [key: string]: JSONValue }): void {
    let byName: Map<string, TCB | null> | null = null;
    for (const f of THREAD_FIELDS) {
      const name = d[f];
      if (typeof name !== 'string') continue;
      if (byName === null) {
        byName = new Map();
        const all = [...this.kernel.nodes.map((n) => n.idleThread), ...this.kernel.tcbs];
        for (const t of all) byName.set(t.name, byName.has(t.name) ? null : t);
      }
      const t = byName.get(name);
      if (t !== undefined && t !== null) {
        d[`${f}Tid`] = t.id;
        this.noteThread(t);
      }
    }
  }

  // ------------------------------------------------------------------ output

  /** Take a snapshot now (between kernel entries gives a consistent picture). */
  snapshot(label: string): Snapshot {
    const s = takeSnapshot(this.kernel, this.machine.now, label, this.events.length);
    for (const t of s.threads) {
      const rec = this.threads.get(t.tid);
      if (rec === undefined) this.threads.set(t.tid, { tid: t.tid, name: t.name, names: [t.name], isIdle: t.isIdle });
    }
    this.snapshots.push(s);
    this.sinceSnapshot = 0;
    return s;
  }

  /** Take the end snapshot, close the open slice, detach and return the trace. Idempotent. */
  finish(): Trace {
    if (this.finished !== null) return this.finished;
    this.resolvePendingSwitch();
    const end = this.machine.now;
    if (this.attached) this.snapshot('end');
    this.detach();
    for (let c = 0; c < this.running.length; c++) {
      const running = this.running[c]!;
      const cend = this.kernel.numCores === 1 ? end : this.machine.clocks[c]!;
      if (running >= 0 && cend > this.sliceStart[c]!) this.slices.push(this.slice(c, running, this.sliceStart[c]!, cend));
      this.running[c] = -1;
    }
    const k = this.kernel;
    const con = this.machine.console.slice(this.consoleStart);
    this.finished = {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      meta: {
        title: this.opts.title,
        generator: 'sel4ts',
        timeUnit: 'ns',
        startTime: this.startTime,
        endTime: end,
        kernelEntries: this.kernelEntries,
        eventCount: this.eventCount,
        droppedEvents: this.dropped,
        numDomains: k.config.numDomains,
        numPriorities: k.config.numPriorities,
        numCores: k.numCores,
      },
      threads: [...this.threads.values()].sort((a, b) => a.tid - b.tid),
      slices: this.slices,
      events: this.events,
      snapshots: this.snapshots,
      console: con.length > this.opts.maxConsole ? con.slice(con.length - this.opts.maxConsole) : con,
    };
    return this.finished;
  }

  /** The finished trace as JSON text. */
  serialise(space?: number): string {
    return JSON.stringify(this.finish(), null, space);
  }
}

/** Attach a recorder to a machine (convenience). */
export function recordMachine(machine: Machine, opts: RecorderOptions = {}): TraceRecorder {
  return new TraceRecorder(machine, opts).attach();
}

/** Check the envelope of a parsed trace; returns an error message or null. */
export function checkTraceEnvelope(x: unknown): string | null {
  if (typeof x !== 'object' || x === null) return 'not an object';
  const t = x as Record<string, unknown>;
  if (t['format'] !== TRACE_FORMAT) return `format is not "${TRACE_FORMAT}"`;
  if (t['version'] !== TRACE_VERSION) return `unsupported version ${String(t['version'])}`;
  for (const f of ['threads', 'slices', 'events', 'snapshots']) if (!Array.isArray(t[f])) return `missing array "${f}"`;
  return null;
}
