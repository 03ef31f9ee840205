import { KernelObject, ObjectKind } from './kobject.js';
import type { TCB } from './tcb.js';
import type { SchedContext } from './schedcontext.js';

/**
 * MCS reply object. A Call links the caller (replyTCB) to the receiver's reply
 * object; reply objects that carry a donated scheduling context form the call
 * stack through replyPrev/replyNext (seL4's call_stack_t: next is either a reply
 * or the head scheduling context).
 */
export class Reply extends KernelObject {
  readonly kind = ObjectKind.Reply;
  /** The caller waiting on this reply (BlockedOnReply), or the receiver that owns it while BlockedOnReceive. */
  tcb: TCB | null;
  /** Call stack: the reply object below this one. */
  prev: Reply | null;
  /** Call stack: the reply above this one, or the scheduling context at the head. */
  next: Reply | null;
  nextSC: SchedContext | null;

  constructor(paddr: number, sizeBits: number) {
    super(paddr, sizeBits);
    this.tcb = null;
    this.prev = null;
    this.next = null;
    this.nextSC = null;
  }
}
