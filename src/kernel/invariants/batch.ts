/**
 * checkInvariants runs every invariant over one unchanged kernel state (a
 * batch): the scans several invariants share (capscan.ts, objscan.ts, the
 * ASID scan in vspace.ts) are computed once per batch. Outside a batch (an
 * invariant called on its own) they are computed on every call.
 */
let depth = 0;
let serial = 0;

export function beginBatch(): void {
  depth++;
  serial++;
}

export function endBatch(): void {
  depth--;
  serial++;
}

/** A number naming the current batch (a new one for every batch), or -1 outside any batch. */
export function batchToken(): number {
  return depth > 0 ? serial : -1;
}
