/**
 * User-side word helpers. libsel4 returns some words through pointers
 * (seL4_Recv's sender badge); TypeScript code passes a WordOut instead.
 */

/** An out-parameter for a 64-bit word, kept as two uint32 halves. */
export class WordOut {
  hi = 0;
  lo = 0;
  /** The word as a bigint. */
  get value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
  /** The word as a number (exact below 2^53). */
  get number(): number {
    return this.hi * 4294967296 + this.lo;
  }
}

export type Word = number | bigint;

/** Split a word given as number or bigint into halves, into `out`. */
export function splitWord(v: Word, out: { hi: number; lo: number }): void {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`word ${v} is not an integer in [0, 2^53); pass a bigint for larger words`);
    }
    out.lo = v >>> 0;
    out.hi = Math.floor(v / 4294967296) >>> 0;
  } else {
    const w = BigInt.asUintN(64, v);
    out.lo = Number(w & 0xffffffffn);
    out.hi = Number(w >> 32n);
  }
}
