import { KernelObject, ObjectKind } from './kobject.js';
import type { TCB } from './tcb.js';
import type { Notification } from './notification.js';
import type { Reply } from './reply.js';
import { RefillQueue, refillsForSizeBits } from '../sched/refill.js';

/**
 * MCS scheduling context: a budget of CPU time per period, held as a refill
 * queue (sporadic server) and bound to at most one TCB and one notification.
 */
export class SchedContext extends KernelObject {
  readonly kind = ObjectKind.SchedContext;
  readonly refills: RefillQueue;
  /** Core this SC's time belongs to (set by SchedControl_Configure). */
  core: number;
  tcb: TCB | null;
  ntfn: Notification | null;
  /** The reply object on top of the call stack this SC was donated along. */
  reply: Reply | null;
  /** Thread that yielded to this SC (SchedContext_YieldTo). */
  yieldFrom: TCB | null;
  /** Badge given by SchedControl_ConfigureFlags, delivered in timeout faults. */
  badgeHi: number;
  badgeLo: number;
  sporadic: boolean;
  /** Time consumed since last read by SchedContext_Consumed (ns). */
  consumed: number;
  /** Configured with a non-zero budget. */
  configured: boolean;

  constructor(paddr: number, sizeBits: number) {
    super(paddr, sizeBits);
    this.refills = new RefillQueue(refillsForSizeBits(sizeBits));
    this.core = 0;
    this.tcb = null;
    this.ntfn = null;
    this.reply = null;
    this.yieldFrom = null;
    this.badgeHi = 0;
    this.badgeLo = 0;
    this.sporadic = false;
    this.consumed = 0;
    this.configured = false;
  }
}
