/**
 * Base of every kernel object that has kernel-side state. Objects whose whole
 * state is memory (frames, page tables) and untyped memory have no KernelObject:
 * their caps carry the physical address.
 */
import { capStateWritten } from '../capgen.js';

export enum ObjectKind {
  TCB,
  Endpoint,
  Notification,
  Reply,
  CNode,
  SchedContext,
  ASIDPool,
}

export abstract class KernelObject {
  abstract readonly kind: ObjectKind;
  /** Physical address of the object's memory (inside the untyped it was retyped from). */
  readonly paddr: number;
  /** log2 of its size in bytes. */
  readonly sizeBits: number;
  // Private: every write of `live` goes through the setter below, which counts
  // it in the capability-state generation (capgen.ts).
  #live: boolean;

  constructor(paddr: number, sizeBits: number) {
    this.paddr = paddr;
    this.sizeBits = sizeBits;
    this.#live = true;
  }

  /** False once finalised (its last cap deleted). */
  get live(): boolean {
    return this.#live;
  }
  set live(v: boolean) {
    this.#live = v;
    capStateWritten();
  }
}
