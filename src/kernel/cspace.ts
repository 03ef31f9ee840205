/**
 * CSpace addressing: seL4's resolveAddressBits and the slot lookups built on it.
 * A cptr is a 64-bit word (hi, lo); each CNode level consumes guardSize bits that
 * must equal the guard, then radix bits that index the CNode.
 */
import { Cap, CapType } from './cap.js';
import type { CNode } from './object/cnode.js';
import { LookupFault } from './object/tcb.js';
import type { Slot } from './slot.js';
import { r, shrMask } from './word.js';

export const WORD_BITS = 64;

export enum LookupFailure {
  NoFailure = 0,
  InvalidRoot = 1,
  MissingCapability = 2,
  DepthMismatch = 3,
  GuardMismatch = 4,
}

/** Result of a resolve: the slot reached and the bits of the cptr not yet consumed. */
export class ResolveResult {
  slot: Slot | null = null;
  bitsRemaining = 0;
}

/**
 * Resolve nBits of cptr starting at the CNode named by nodeCap. On failure
 * returns false and describes the failure in fault.
 */
export function resolveAddressBits(
  nodeCap: Cap,
  cptrHi: number,
  cptrLo: number,
  nBits: number,
  out: ResolveResult,
  fault: LookupFault,
): boolean {
  if (nodeCap.type !== CapType.CNode) {
    fault.type = LookupFailure.InvalidRoot;
    return false;
  }
  let cap = nodeCap;
  for (;;) {
    const radixBits = cap.radix;
    const guardBits = cap.guardSize;
    const levelBits = radixBits + guardBits;
    // A CNode with neither radix nor guard cannot be built (radix >= 1).
    let guardOk = guardBits <= nBits;
    if (guardOk && guardBits > 0) {
      shrMask(cptrHi, cptrLo, nBits - guardBits, guardBits);
      guardOk = r.hi === cap.guardHi && r.lo === cap.guardLo;
    }
    if (!guardOk) {
      fault.type = LookupFailure.GuardMismatch;
      fault.guardFoundHi = cap.guardHi;
      fault.guardFoundLo = cap.guardLo;
      fault.bitsLeft = nBits;
      fault.bitsFound = guardBits;
      return false;
    }
    if (levelBits > nBits) {
      fault.type = LookupFailure.DepthMismatch;
      fault.bitsLeft = nBits;
      fault.bitsFound = levelBits;
      return false;
    }
    shrMask(cptrHi, cptrLo, nBits - levelBits, radixBits);
    const offset = r.hi * 4294967296 + r.lo;
    const slot = (cap.obj as CNode).slot(offset);
    if (nBits === levelBits) {
      out.slot = slot;
      out.bitsRemaining = 0;
      return true;
    }
    nBits -= levelBits;
    const next = slot.cap;
    if (next.type !== CapType.CNode) {
      out.slot = slot;
      out.bitsRemaining = nBits;
      return true;
    }
    cap = next;
  }
}
