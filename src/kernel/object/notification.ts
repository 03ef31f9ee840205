import { KernelObject, ObjectKind } from './kobject.js';
import type { TCB } from './tcb.js';
import type { SchedContext } from './schedcontext.js';

/** seL4's notification states. */
export enum NotificationState {
  Idle = 0,
  Waiting = 1,
  Active = 2,
}

/** A notification: a word of binary semaphores (OR of badges) plus a wait queue. */
export class Notification extends KernelObject {
  readonly kind = ObjectKind.Notification;
  state: NotificationState;
  /** The notification word, 64-bit, as two uint32 halves. */
  wordHi: number;
  wordLo: number;
  queueHead: TCB | null;
  queueTail: TCB | null;
  boundTCB: TCB | null;
  /** MCS: scheduling context bound to this notification (passive signal handlers). */
  sc: SchedContext | null;

  constructor(paddr: number, sizeBits: number) {
    super(paddr, sizeBits);
    this.state = NotificationState.Idle;
    this.wordHi = 0;
    this.wordLo = 0;
    this.queueHead = null;
    this.queueTail = null;
    this.boundTCB = null;
    this.sc = null;
  }

  get word(): bigint {
    return (BigInt(this.wordHi) << 32n) | BigInt(this.wordLo);
  }
}
