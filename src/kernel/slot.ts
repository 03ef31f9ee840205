/**
 * A capability table entry (seL4's cte_t): a cap plus its node in the mapping
 * database (MDB). The MDB is seL4's representation of the capability derivation
 * tree: one doubly linked list of all slots in depth-first derivation order; a
 * slot's children are the slots that follow it and for which isMDBParentOf holds.
 */
import { Cap } from './cap.js';
import { capStateWritten } from './capgen.js';
import type { KernelObject } from './object/kobject.js';

export class Slot {
  // The mutable fields are private: every write goes through a setter below
  // that counts it in the capability-state generation (capgen.ts).
  #cap: Cap;
  #mdbPrev: Slot | null;
  #mdbNext: Slot | null;
  #revocable: boolean;
  #firstBadged: boolean;
  /** The CNode or TCB this slot belongs to, and its index there. */
  readonly owner: KernelObject | null;
  readonly index: number;

  constructor(owner: KernelObject | null, index: number) {
    this.#cap = Cap.NULL;
    this.#mdbPrev = null;
    this.#mdbNext = null;
    this.#revocable = false;
    this.#firstBadged = false;
    this.owner = owner;
    this.index = index;
    capStateWritten();
  }

  /** The capability held (Cap.NULL when empty). */
  get cap(): Cap {
    return this.#cap;
  }
  set cap(c: Cap) {
    this.#cap = c;
    capStateWritten();
  }

  /** MDB neighbours. */
  get mdbPrev(): Slot | null {
    return this.#mdbPrev;
  }
  set mdbPrev(s: Slot | null) {
    this.#mdbPrev = s;
    capStateWritten();
  }
  get mdbNext(): Slot | null {
    return this.#mdbNext;
  }
  set mdbNext(s: Slot | null) {
    this.#mdbNext = s;
    capStateWritten();
  }

  /** seL4 mdbRevocable: this slot may be the MDB parent of the slots after it. */
  get revocable(): boolean {
    return this.#revocable;
  }
  set revocable(v: boolean) {
    this.#revocable = v;
    capStateWritten();
  }

  /** seL4 mdbFirstBadged: first badged copy; ends the badge-parent relation. */
  get firstBadged(): boolean {
    return this.#firstBadged;
  }
  set firstBadged(v: boolean) {
    this.#firstBadged = v;
    capStateWritten();
  }

  get isEmpty(): boolean {
    return this.#cap.isNull;
  }
}
