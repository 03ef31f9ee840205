/**
 * Allocation-free helpers for 64-bit words held as (hi, lo) uint32 halves.
 * Results of two-word operations are left in the exported `r` scratch record.
 */

export const r = { hi: 0, lo: 0 };

/** r = (hi:lo >> shift) & mask(n), shift in 0..63, n in 0..64. */
export function shrMask(hi: number, lo: number, shift: number, n: number): void {
  let h: number;
  let l: number;
  if (shift === 0) {
    h = hi;
    l = lo;
  } else if (shift < 32) {
    l = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
    h = hi >>> shift;
  } else {
    l = hi >>> (shift - 32);
    h = 0;
  }
  if (n <= 0) {
    h = 0;
    l = 0;
  } else if (n < 32) {
    h = 0;
    l = (l & (0xffffffff >>> (32 - n))) >>> 0;
  } else if (n === 32) {
    h = 0;
  } else if (n < 64) {
    h = (h & (0xffffffff >>> (64 - n))) >>> 0;
  }
  r.hi = h >>> 0;
  r.lo = l >>> 0;
}

/** Split a non-negative number below 2^53 into r. */
export function splitNumber(v: number): void {
  r.lo = v >>> 0;
  r.hi = Math.floor(v / 4294967296) >>> 0;
}

export function toBigint(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function fromBigint(v: bigint): void {
  const w = BigInt.asUintN(64, v);
  r.lo = Number(w & 0xffffffffn);
  r.hi = Number(w >> 32n);
}

/** A word as a number: exact below 2^53, and at least 2^53 above it. */
export function wordNumber(hi: number, lo: number): number {
  return hi * 4294967296 + lo;
}
