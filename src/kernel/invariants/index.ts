/**
 * Kernel invariants checked at run time (the properties seL4's proofs
 * establish). Each check is a named function; checkInvariants runs them all
 * and throws InvariantViolation naming the first that fails.
 */
import type { Kernel } from '../kernel.js';
import type { Slot } from '../slot.js';

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`invariant ${invariant} violated: ${detail}`);
  }
}

/** Every slot the kernel can reach: CNode slots, TCB slots and IRQ handler slots. */
export function allSlots(k: Kernel): Slot[] {
  const out: Slot[] = [];
  for (const cn of k.cnodes) for (const s of cn.slots) out.push(s);
  for (const t of k.tcbs) for (const s of t.slots) out.push(s);
  for (const s of k.irqs.slots) out.push(s);
  return out;
}

/** The MDB is a well-formed doubly linked list over non-empty slots. */
export function mdbWellFormed(k: Kernel): void {
  for (const s of allSlots(k)) {
    if (s.isEmpty) {
      if (s.mdbPrev !== null || s.mdbNext !== null) throw new InvariantViolation('mdbWellFormed', 'empty slot with MDB links');
      continue;
    }
    if (s.mdbNext !== null && s.mdbNext.mdbPrev !== s) throw new InvariantViolation('mdbWellFormed', 'next.prev does not point back');
    if (s.mdbPrev !== null && s.mdbPrev.mdbNext !== s) throw new InvariantViolation('mdbWellFormed', 'prev.next does not point back');
    if (s.mdbNext !== null && s.mdbNext.isEmpty) throw new InvariantViolation('mdbWellFormed', 'link to an empty slot');
  }
}

export const INVARIANTS: ReadonlyArray<[string, (k: Kernel) => void]> = [['mdbWellFormed', mdbWellFormed]];

export function checkInvariants(k: Kernel): void {
  for (const [, f] of INVARIANTS) f(k);
}
