/**
 * A capability table entry (seL4's cte_t): a cap plus its node in the mapping
 * database (MDB). The MDB is seL4's representation of the capability derivation
 * tree: one doubly linked list of all slots in depth-first derivation order; a
 * slot's children are the slots that follow it and for which isMDBParentOf holds.
 */
import { Cap } from './cap.js';
import type { KernelObject } from './object/kobject.js';

export class Slot {
  cap: Cap;
  mdbPrev: Slot | null;
  mdbNext: Slot | null;
  /** seL4 mdbRevocable: this slot may be the MDB parent of the slots after it. */
  revocable: boolean;
  /** seL4 mdbFirstBadged: first badged copy; ends the badge-parent relation. */
  firstBadged: boolean;
  /** The CNode or TCB this slot belongs to, and its index there. */
  readonly owner: KernelObject | null;
  readonly index: number;

  constructor(owner: KernelObject | null, index: number) {
    this.cap = Cap.NULL;
    this.mdbPrev = null;
    this.mdbNext = null;
    this.revocable = false;
    this.firstBadged = false;
    this.owner = owner;
    this.index = index;
  }

  get isEmpty(): boolean {
    return this.cap.isNull;
  }
}
