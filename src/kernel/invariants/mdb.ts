/**
 * Mapping-database invariants: the MDB is a set of well-formed, acyclic doubly
 * linked lists over exactly the non-empty slots, with consistent revocable and
 * firstBadged flags, and the caps to any one object are contiguous in it.
 */
import type { Kernel } from '../kernel.js';
import { capScan } from './capscan.js';
import { report } from './violation.js';

/**
 * prev/next agree; lists reach only non-empty slots of live objects; every
 * non-empty slot is on exactly one list (acyclic); empty slots have no links
 * or flags; revocable implies firstBadged; untyped caps are revocable; a badge
 * change along the list starts at a firstBadged slot (seL4's valid_badges).
 */
export function mdbWellFormed(k: Kernel): void {
  report('mdbWellFormed', capScan(k).mdbWellFormed);
}

/** Caps naming the same object (sameObjectAs) form one contiguous run of the MDB. */
export function mdbObjectRuns(k: Kernel): void {
  report('mdbObjectRuns', capScan(k).mdbObjectRuns);
}
