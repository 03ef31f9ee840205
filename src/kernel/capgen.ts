/**
 * The capability-state generation: a counter that every write to capability
 * state increments. Capability state here is every field of every Slot (its
 * cap, MDB links and flags; creating a slot counts too), every field of every
 * Cap, and the `live` flag of every kernel object: slot.ts, cap.ts and
 * object/kobject.ts keep those fields private and route writes through
 * setters that call capStateWritten, so no write, from the kernel or from
 * anywhere else, can miss the count.
 *
 * The kernel itself never reads the counter. The invariant checker does
 * (src/kernel/invariants/capscan.ts): a capability scan taken at generation g
 * still describes the state as long as the counter reads g, so the checker
 * can skip rescanning after the many kernel entries that touch no capability.
 */

/** The generation (a double: it cannot wrap around in practice). */
export const capStateGeneration = new Float64Array(1);

/** Count one write to capability state. */
export function capStateWritten(): void {
  capStateGeneration[0]!++;
}
