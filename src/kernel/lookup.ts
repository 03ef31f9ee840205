/**
 * Slot lookups built on resolveAddressBits: a thread's own lookups (always the
 * full word, seL4's lookupSlot / lookupCap) and the explicit root/index/depth
 * lookups of CNode-style invocations (seL4's lookupSlotForCNodeOp).
 */
import { Cap, CapType } from './cap.js';
import { LookupFailure, resolveAddressBits, WORD_BITS } from './cspace.js';
import type { Kernel } from './kernel.js';
import { TCB, TCB_CTABLE } from './object/tcb.js';
import type { Slot } from './slot.js';

/**
 * Look up the slot a thread names with a cptr, resolving all 64 bits from its
 * CSpace root. Stops early at a non-CNode cap, as seL4 does. On failure returns
 * null with k.lookupFault describing it.
 */
export function lookupSlot(k: Kernel, t: TCB, cptrHi: number, cptrLo: number): Slot | null {
  const root = t.slots[TCB_CTABLE]!.cap;
  if (!resolveAddressBits(root, cptrHi, cptrLo, WORD_BITS, k.resolveOut, k.lookupFault)) return null;
  return k.resolveOut.slot;
}

/** seL4's lookupCap: the cap a thread names (the null cap if the slot is empty). */
export function lookupCap(k: Kernel, t: TCB, cptrHi: number, cptrLo: number): Cap | null {
  const s = lookupSlot(k, t, cptrHi, cptrLo);
  return s === null ? null : s.cap;
}

/**
 * seL4's lookupSlotForCNodeOp. Sets the syscall error (FailedLookup or
 * RangeError) and returns null on failure.
 */
export function lookupSlotForCNodeOp(
  k: Kernel,
  isSource: boolean,
  root: Cap,
  cptrHi: number,
  cptrLo: number,
  depth: number,
): Slot | null {
  if (root.type !== CapType.CNode) {
    k.lookupFault.type = LookupFailure.InvalidRoot;
    k.failedLookup(isSource);
    return null;
  }
  if (depth < 1 || depth > WORD_BITS) {
    k.rangeError(1, WORD_BITS);
    return null;
  }
  if (!resolveAddressBits(root, cptrHi, cptrLo, depth, k.resolveOut, k.lookupFault)) {
    k.failedLookup(isSource);
    return null;
  }
  if (k.resolveOut.bitsRemaining !== 0) {
    // seL4 builds lookup_fault_depth_mismatch_new(bitsFound = 0, bitsLeft = bitsRemaining).
    k.lookupFault.type = LookupFailure.DepthMismatch;
    k.lookupFault.bitsLeft = k.resolveOut.bitsRemaining;
    k.lookupFault.bitsFound = 0;
    k.failedLookup(isSource);
    return null;
  }
  return k.resolveOut.slot;
}

export function lookupSourceSlot(k: Kernel, root: Cap, hi: number, lo: number, depth: number): Slot | null {
  return lookupSlotForCNodeOp(k, true, root, hi, lo, depth);
}
export function lookupTargetSlot(k: Kernel, root: Cap, hi: number, lo: number, depth: number): Slot | null {
  return lookupSlotForCNodeOp(k, false, root, hi, lo, depth);
}
export function lookupPivotSlot(k: Kernel, root: Cap, hi: number, lo: number, depth: number): Slot | null {
  return lookupSlotForCNodeOp(k, true, root, hi, lo, depth);
}
