/**
 * Scheduling trace: from the kernel's events ('switch' with the reason the
 * outgoing thread stopped, 'sc' when the current scheduling context changes,
 * 'fault', 'timeout', 'exit', 'domain'), a list of slices
 * {thread, core, start, end, reason} in simulated nanoseconds, for the CLI,
 * the web view and tests (budget enforcement is measured from it).
 *
 * A slice is a stretch of time during which one thread was the kernel's
 * current thread of one core on one scheduling context; each core has its
 * own sequence of slices. Kernel entry time is part of
 * the slice of the thread that entered the kernel, as the kernel charges it
 * to that thread's SC. Attaching chains any observer already on the kernel;
 * detach restores it. The trace never changes kernel state.
 */
import type { Kernel, KernelObserver } from '../kernel/kernel.js';
import type { TCB } from '../kernel/object/tcb.js';
import type { Machine } from '../machine/machine.js';
import { SliceEndReason, switchReason } from '../kernel/sched/thread.js';

/** Why a slice ended; 'running' for the slice still open when the trace was read. */
export type SliceEnd = SliceEndReason | 'running';

export interface SchedSlice {
  /** Thread name at the start of the slice. */
  thread: string;
  /** TCB.id of the thread. */
  tid: number;
  /** Physical address of the scheduling context it ran on (the idle SC is 0), or null. */
  sc: number | null;
  priority: number;
  domain: number;
  /** The core it ran on. */
  core: number;
  start: number;
  end: number;
  reason: SliceEnd;
  /** True for the idle thread. */
  idle: boolean;
}

export interface DomainSwitch {
  domain: number;
  time: number;
}

interface OpenSlice {
  core: number;
  tcb: TCB;
  thread: string;
  sc: number | null;
  priority: number;
  domain: number;
  start: number;
  sawExit: boolean;
  sawFault: boolean;
}

export class SchedTrace {
  readonly slices: SchedSlice[] = [];
  readonly domains: DomainSwitch[] = [];
  /** The open slice of each core. */
  private readonly open: OpenSlice[];
  private readonly observer: KernelObserver;
  private readonly previous: KernelObserver | null;
  private attached = true;

  constructor(
    private readonly machine: Machine,
    private readonly includeIdle: boolean,
  ) {
    const k = machine.kernel;
    this.open = k.nodes.map((n) => this.start(k, n.core, n.curThread, machine.clocks[n.core]!));
    this.domains.push({ domain: k.curDomain, time: machine.now });
    this.previous = k.observer;
    const prev = this.previous;
    this.observer = {
      onEvent: (kind, detail) => {
        this.onEvent(kind, detail);
        if (prev !== null) prev.onEvent(kind, detail);
      },
    };
    k.observer = this.observer;
  }

  private start(k: Kernel, core: number, t: TCB, time: number): OpenSlice {
    const sc = t.sc;
    return {
      core,
      tcb: t,
      thread: t.name,
      sc: sc === null ? null : sc.paddr,
      priority: t.priority,
      domain: k.curDomain,
      start: time,
      sawExit: false,
      sawFault: false,
    };
  }

  private close(o: OpenSlice, end: number, reason: SliceEnd): void {
    const idle = o.tcb === this.machine.kernel.nodes[o.core]!.idleThread;
    if (idle && !this.includeIdle) return;
    this.slices.push({
      thread: o.thread,
      tid: o.tcb.id,
      sc: o.sc,
      priority: o.priority,
      domain: o.domain,
      core: o.core,
      start: o.start,
      end,
      reason,
      idle,
    });
  }

  private onEvent(kind: string, d: Record<string, unknown>): void {
    const k = this.machine.kernel;
    // The event happened on the core executing kernel code (its 'core' tag).
    const core = typeof d.core === 'number' ? d.core : k.node.core;
    const o = this.open[core]!;
    switch (kind) {
      case 'switch': {
        const time = typeof d.time === 'number' ? d.time : k.curTime;
        let reason = (d.reason as SliceEndReason | undefined) ?? switchReason(k, o.tcb);
        if (reason === 'blocked' && o.sawExit) reason = 'exit';
        else if (reason === 'blocked' && o.sawFault) reason = 'fault';
        this.close(o, time, reason);
        this.open[core] = this.start(k, core, k.curThread, time);
        return;
      }
      case 'sc': {
        // The current SC changed: split the slice if the thread kept running on another SC.
        const t = k.curThread;
        const sc = t.sc === null ? null : t.sc.paddr;
        if (t !== o.tcb || sc === o.sc) return;
        const time = typeof d.time === 'number' ? d.time : k.curTime;
        if (time > o.start) {
          this.close(o, time, 'preempted');
          this.open[core] = this.start(k, core, t, time);
        } else {
          o.sc = sc;
        }
        return;
      }
      case 'exit':
        if (d.thread === o.thread) o.sawExit = true;
        return;
      case 'fault':
      case 'timeout':
        if (d.thread === o.thread) o.sawFault = true;
        return;
      case 'domain':
        this.domains.push({ domain: d.domain as number, time: typeof d.time === 'number' ? d.time : k.curTime });
        return;
      default:
        return;
    }
  }

  /**
   * The slices so far plus the open ones, ended at `now` (default: each
   * core's clock) as 'running'.
   */
  snapshot(now?: number): SchedSlice[] {
    const out = this.slices.slice();
    for (const o of this.open) this.pushOpen(out, o, now ?? this.machine.clocks[o.core]!);
    return out;
  }

  private pushOpen(out: SchedSlice[], o: OpenSlice, now: number): void {
    const idle = o.tcb === this.machine.kernel.nodes[o.core]!.idleThread;
    if ((!idle || this.includeIdle) && now > o.start) {
      out.push({
        thread: o.thread,
        tid: o.tcb.id,
        sc: o.sc,
        priority: o.priority,
        domain: o.domain,
        core: o.core,
        start: o.start,
        end: now,
        reason: 'running',
        idle,
      });
    }
  }

  /** Stop recording and restore the observer that was installed before. */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    const k = this.machine.kernel;
    if (k.observer === this.observer) k.observer = this.previous;
  }
}

export interface SchedTraceOptions {
  /** Record the idle thread's slices too (default true). */
  idle?: boolean;
}

/** Start recording the scheduling trace of a machine from now on. */
export function attachSchedTrace(m: Machine, opts: SchedTraceOptions = {}): SchedTrace {
  return new SchedTrace(m, opts.idle ?? true);
}

// ------------------------------------------------------------ measurements

/** Total time of the slices that satisfy `pred`. */
export function totalTime(slices: readonly SchedSlice[], pred: (s: SchedSlice) => boolean = () => true): number {
  let sum = 0;
  for (const s of slices) if (pred(s)) sum += s.end - s.start;
  return sum;
}

/** Time of the slices that satisfy `pred` inside [from, to). */
export function timeIn(slices: readonly SchedSlice[], from: number, to: number, pred: (s: SchedSlice) => boolean = () => true): number {
  let sum = 0;
  for (const s of slices) {
    if (!pred(s)) continue;
    const a = Math.max(s.start, from);
    const b = Math.min(s.end, to);
    if (b > a) sum += b - a;
  }
  return sum;
}

/**
 * The most time the slices that satisfy `pred` cover in any window of
 * length `window`, with the window where it is reached. Slices on one core
 * never overlap, so the maximum is found with a window edge on a slice edge.
 */
export function maxWindowUsage(
  slices: readonly SchedSlice[],
  window: number,
  pred: (s: SchedSlice) => boolean = () => true,
): { used: number; from: number } {
  const iv = slices.filter((s) => pred(s) && s.end > s.start).sort((a, b) => a.start - b.start);
  const n = iv.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + (iv[i]!.end - iv[i]!.start);
  let best = 0;
  let bestFrom = n > 0 ? iv[0]!.start : 0;
  // Windows starting at a slice start.
  let j = 0;
  for (let i = 0; i < n; i++) {
    const from = iv[i]!.start;
    const to = from + window;
    if (j < i) j = i;
    while (j + 1 < n && iv[j + 1]!.start < to) j++;
    const used = prefix[j]! - prefix[i]! + Math.min(iv[j]!.end, to) - iv[j]!.start;
    if (used > best) {
      best = used;
      bestFrom = from;
    }
  }
  // Windows ending at a slice end.
  let i = 0;
  for (let e = 0; e < n; e++) {
    const to = iv[e]!.end;
    const from = to - window;
    while (i < e && iv[i]!.end <= from) i++;
    const used = prefix[e + 1]! - prefix[i + 1]! + iv[i]!.end - Math.max(iv[i]!.start, from);
    if (used > best) {
      best = used;
      bestFrom = from;
    }
  }
  return { used: best, from: bestFrom };
}
