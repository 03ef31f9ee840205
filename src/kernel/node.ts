/**
 * Per-core kernel state (seL4's nodeState_t, reached through NODE_STATE() and
 * ksSMP[core] in an SMP build).
 *
 * Each core has its own current and idle thread, scheduler action, ready
 * queues with their bitmap, MCS release queue, clock reading, consumed time,
 * timer deadline and idle scheduling context. Everything else (objects, caps,
 * the domain schedule) is shared: seL4 serialises kernel entries with one big
 * kernel lock, and so does sel4ts, where only one core is ever in the kernel.
 * Kernel.node is the core executing the current kernel entry; the familiar
 * Kernel fields (curThread, curSC, ...) read and write that core's NodeState.
 */
import type { SchedContext } from './object/schedcontext.js';
import type { TCB } from './object/tcb.js';

/** seL4's scheduler action: resume the current thread, choose a new one, or switch to a given one. */
export enum SchedulerAction {
  ResumeCurrentThread = 0,
  ChooseNewThread = 1,
  SwitchToThread = 2,
}

export class NodeState {
  /** The core's index (getCurrentCPUIndex()). */
  readonly core: number;
  /** ksCurThread */
  curThread!: TCB;
  /** ksIdleThread */
  idleThread!: TCB;
  /** ksSchedulerAction, with the target thread when it is SwitchToThread. */
  schedulerAction: SchedulerAction = SchedulerAction.ResumeCurrentThread;
  schedulerTarget: TCB | null = null;
  /** ksCurSC */
  curSC: SchedContext | null = null;
  /** ksIdleSC */
  idleSC: SchedContext | null = null;
  /** ksReadyQueues, one per (domain, priority): heads, tails and a bitmap of non-empty ones. */
  readonly readyHead: (TCB | null)[];
  readonly readyTail: (TCB | null)[];
  readonly readyBitmap: Uint32Array;
  /** ksReleaseQueue: threads waiting for their next refill, ordered by release time. */
  releaseHead: TCB | null = null;
  /** ksCurTime: the clock as last read on this core (ns). */
  curTime = 0;
  /** ksConsumed: time used by the current SC not yet charged. */
  consumed = 0;
  /** ksReprogram: the core's timer must be reprogrammed on kernel exit. */
  reprogram = false;
  /** The timer deadline this core's kernel asked for (absolute ns). */
  deadline = Infinity;
  /** Why the current thread's timeslice ends in this kernel entry (for traces). */
  sliceEndHint: string | null = null;

  constructor(core: number, numDomains: number, numPriorities: number) {
    this.core = core;
    const nq = numDomains * numPriorities;
    this.readyHead = new Array<TCB | null>(nq).fill(null);
    this.readyTail = new Array<TCB | null>(nq).fill(null);
    this.readyBitmap = new Uint32Array(numDomains * Math.ceil(numPriorities / 32));
  }
}
