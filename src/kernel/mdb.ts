/**
 * Mapping-database operations (seL4's cteInsert, cteMove, cteSwap, emptySlot,
 * isMDBParentOf, isFinalCapability, ensureNoChildren). These touch only the
 * list structure and caps; object finalisation lives in delete.ts.
 */
import { Cap, CapType, sameObjectAs, sameRegionAs, isCapRevocable } from './cap.js';
import { Slot } from './slot.js';

/** seL4's isMDBParentOf(a, b): b is a child of a (b must follow a in the list). */
export function isMDBParentOf(a: Slot, b: Slot): boolean {
  if (!a.revocable) return false;
  if (!sameRegionAs(a.cap, b.cap)) return false;
  const ac = a.cap;
  if (ac.type === CapType.Endpoint || ac.type === CapType.Notification) {
    if (!ac.hasBadge()) return true;
    return ac.badgeHi === b.cap.badgeHi && ac.badgeLo === b.cap.badgeLo && !b.firstBadged;
  }
  return true;
}

/** Whether the slot has MDB children (seL4's ensureNoChildren fails). */
export function hasChildren(s: Slot): boolean {
  const n = s.mdbNext;
  return n !== null && isMDBParentOf(s, n);
}

/** The cap in slot is the last one naming its object. */
export function isFinalCapability(s: Slot): boolean {
  const p = s.mdbPrev;
  if (p !== null && sameObjectAs(p.cap, s.cap)) return false;
  const n = s.mdbNext;
  if (n !== null && sameObjectAs(s.cap, n.cap)) return false;
  return true;
}

/** Insert newCap, derived from src, into the empty slot dest as src's child. */
export function cteInsert(newCap: Cap, src: Slot, dest: Slot): void {
  const srcCap = src.cap;
  const revocable = isCapRevocable(newCap, srcCap);
  // Each slot owns its cap record: fields the kernel updates in place (an
  // untyped's free index, a mapping) must never be shared between two slots.
  if (newCap === srcCap) newCap = newCap.clone();
  // seL4's setUntypedCapAsFull: copying an untyped marks the source full, so
  // only the newest cap to a region allocates from it.
  if (
    srcCap.type === CapType.Untyped &&
    newCap.type === CapType.Untyped &&
    srcCap.paddr === newCap.paddr &&
    srcCap.sizeBits === newCap.sizeBits
  ) {
    srcCap.freeIndex = 2 ** srcCap.sizeBits;
  }
  dest.cap = newCap;
  dest.revocable = revocable;
  dest.firstBadged = revocable;
  dest.mdbPrev = src;
  dest.mdbNext = src.mdbNext;
  if (src.mdbNext !== null) src.mdbNext.mdbPrev = dest;
  src.mdbNext = dest;
}

/** Insert a cap to a newly created object below its untyped parent (seL4's insertNewCap). */
export function insertNewCap(parent: Slot, dest: Slot, cap: Cap): void {
  dest.cap = cap;
  dest.revocable = true;
  dest.firstBadged = true;
  dest.mdbPrev = parent;
  dest.mdbNext = parent.mdbNext;
  if (parent.mdbNext !== null) parent.mdbNext.mdbPrev = dest;
  parent.mdbNext = dest;
}

/** Install a root cap with no MDB parent (boot time). */
export function insertRootCap(dest: Slot, cap: Cap): void {
  dest.cap = cap;
  dest.revocable = true;
  dest.firstBadged = true;
  dest.mdbPrev = null;
  dest.mdbNext = null;
}

/** Move the cap in src to the empty slot dest, keeping its place in the MDB. */
export function cteMove(newCap: Cap, src: Slot, dest: Slot): void {
  dest.cap = newCap;
  dest.revocable = src.revocable;
  dest.firstBadged = src.firstBadged;
  dest.mdbPrev = src.mdbPrev;
  dest.mdbNext = src.mdbNext;
  if (dest.mdbPrev !== null) dest.mdbPrev.mdbNext = dest;
  if (dest.mdbNext !== null) dest.mdbNext.mdbPrev = dest;
  src.cap = Cap.NULL;
  src.revocable = false;
  src.firstBadged = false;
  src.mdbPrev = null;
  src.mdbNext = null;
}

/** Exchange two (non-empty) slots' caps and MDB positions (seL4's cteSwap). */
export function cteSwap(cap1: Cap, slot1: Slot, cap2: Cap, slot2: Slot): void {
  // Capture both nodes, then rewrite each slot with the other's node, fixing
  // neighbours. Adjacent slots are handled by remapping references.
  const p1 = slot1.mdbPrev, n1 = slot1.mdbNext, r1 = slot1.revocable, f1 = slot1.firstBadged;
  const p2 = slot2.mdbPrev, n2 = slot2.mdbNext, r2 = slot2.revocable, f2 = slot2.firstBadged;
  const swap = (s: Slot | null): Slot | null => (s === slot1 ? slot2 : s === slot2 ? slot1 : s);

  slot1.cap = cap2;
  slot1.revocable = r2;
  slot1.firstBadged = f2;
  slot1.mdbPrev = swap(p2);
  slot1.mdbNext = swap(n2);

  slot2.cap = cap1;
  slot2.revocable = r1;
  slot2.firstBadged = f1;
  slot2.mdbPrev = swap(p1);
  slot2.mdbNext = swap(n1);

  if (slot1.mdbPrev !== null) slot1.mdbPrev.mdbNext = slot1;
  if (slot1.mdbNext !== null) slot1.mdbNext.mdbPrev = slot1;
  if (slot2.mdbPrev !== null) slot2.mdbPrev.mdbNext = slot2;
  if (slot2.mdbNext !== null) slot2.mdbNext.mdbPrev = slot2;
}

/** Remove a slot from the MDB and clear it (seL4's emptySlot, without IRQ cleanup). */
export function mdbRemove(s: Slot): void {
  const p = s.mdbPrev;
  const n = s.mdbNext;
  if (p !== null) p.mdbNext = n;
  if (n !== null) {
    n.mdbPrev = p;
    n.firstBadged = n.firstBadged || s.firstBadged;
  }
  s.cap = Cap.NULL;
  s.revocable = false;
  s.firstBadged = false;
  s.mdbPrev = null;
  s.mdbNext = null;
}
