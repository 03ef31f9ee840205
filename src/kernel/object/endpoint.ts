import { KernelObject, ObjectKind } from './kobject.js';
import type { TCB } from './tcb.js';

/** seL4's endpoint states. */
export enum EndpointState {
  Idle = 0,
  Send = 1,
  Recv = 2,
}

/** An endpoint: a FIFO queue of threads blocked sending or receiving. */
export class Endpoint extends KernelObject {
  readonly kind = ObjectKind.Endpoint;
  state: EndpointState;
  queueHead: TCB | null;
  queueTail: TCB | null;

  constructor(paddr: number, sizeBits: number) {
    super(paddr, sizeBits);
    this.state = EndpointState.Idle;
    this.queueHead = null;
    this.queueTail = null;
  }
}
