/**
 * 64-bit integer arithmetic on (hi, lo) int32 pairs, for the hart's M
 * extension: the parts that need more than a few inline operations (128-bit
 * products, 64-bit division). Allocation free: results are written to the
 * shared scratch array `I64` and must be read right after the call.
 *
 * Convention: a 64-bit value is (hi, lo) with both halves as int32 bit
 * patterns (the sign of each half is just its bit 31).
 */

/** Results: [0] = lo, [1] = hi of the first result, [2] = lo, [3] = hi of the second. */
export const I64 = new Int32Array(4);

const TWO_32 = 4294967296;

/** High 32 bits of the unsigned 64-bit product a * b (a, b taken as uint32). */
export function umulhi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/** Low 64 bits of a * b (same for signed and unsigned operands) into I64[0..1]. */
export function mul64(ah: number, al: number, bh: number, bl: number): void {
  I64[0] = Math.imul(al, bl);
  I64[1] = (umulhi32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
}

/**
 * High 64 bits of the 128-bit product a * b into I64[0..1]. aSigned / bSigned
 * select MULH (both), MULHSU (a only) and MULHU (neither).
 */
export function mulHigh64(ah: number, al: number, bh: number, bl: number, aSigned: boolean, bSigned: boolean): void {
  // The lowest word of al * bl only matters through its carry-free high part h00.
  const h00 = umulhi32(al, bl) >>> 0;
  const l01 = Math.imul(al, bh) >>> 0;
  const h01 = umulhi32(al, bh) >>> 0;
  const l10 = Math.imul(ah, bl) >>> 0;
  const h10 = umulhi32(ah, bl) >>> 0;
  const l11 = Math.imul(ah, bh) >>> 0;
  const h11 = umulhi32(ah, bh) >>> 0;
  const w1 = h00 + l01 + l10; // < 3 * 2^32, exact
  const c1 = Math.floor(w1 / TWO_32);
  const w2 = h01 + h10 + l11 + c1;
  const c2 = Math.floor(w2 / TWO_32);
  let lo = (w2 - c2 * TWO_32) | 0;
  let hi = (h11 + c2) | 0;
  // Signed corrections: a signed operand x < 0 is x_unsigned - 2^64, which
  // subtracts the other (unsigned) operand from the high half.
  if (aSigned && ah < 0) {
    const nlo = (lo - bl) | 0;
    hi = (hi - bh - ((lo >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
    lo = nlo;
  }
  if (bSigned && bh < 0) {
    const nlo = (lo - al) | 0;
    hi = (hi - ah - ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
    lo = nlo;
  }
  I64[0] = lo;
  I64[1] = hi;
}

/**
 * Unsigned 64-bit division n / d with RISC-V semantics for d = 0
 * (quotient all ones, remainder n). Quotient into I64[0..1], remainder
 * into I64[2..3].
 */
export function divremU64(nh: number, nl: number, dh: number, dl: number): void {
  if (dh === 0 && dl === 0) {
    I64[0] = -1;
    I64[1] = -1;
    I64[2] = nl;
    I64[3] = nh;
    return;
  }
  if (nh === 0 && dh === 0) {
    // Both below 2^32: double division is exact here.
    const n = nl >>> 0;
    const d = dl >>> 0;
    const q = Math.floor(n / d);
    I64[0] = q | 0;
    I64[1] = 0;
    I64[2] = (n - q * d) | 0;
    I64[3] = 0;
    return;
  }
  // Restoring shift-subtract division, one quotient bit per step, starting at
  // the highest set bit of n.
  let qh = 0;
  let ql = 0;
  let rh = 0;
  let rl = 0;
  const top = nh !== 0 ? 63 - Math.clz32(nh) : 31 - Math.clz32(nl);
  for (let i = top; i >= 0; i--) {
    const bit = i >= 32 ? (nh >>> (i - 32)) & 1 : (nl >>> i) & 1;
    const out = rh >>> 31; // bit shifted out of the 64-bit remainder
    rh = (rh << 1) | (rl >>> 31);
    rl = (rl << 1) | bit;
    const ge = out !== 0 || (rh >>> 0) > (dh >>> 0) || (rh === dh && (rl >>> 0) >= (dl >>> 0));
    if (ge) {
      const borrow = (rl >>> 0) < (dl >>> 0) ? 1 : 0;
      rl = (rl - dl) | 0;
      rh = (rh - dh - borrow) | 0;
      if (i >= 32) qh |= 1 << (i - 32);
      else ql |= 1 << i;
    }
  }
  I64[0] = ql;
  I64[1] = qh;
  I64[2] = rl;
  I64[3] = rh;
}

/**
 * Signed 64-bit division with RISC-V semantics: d = 0 gives quotient -1 and
 * remainder n; -2^63 / -1 gives quotient -2^63 and remainder 0; otherwise the
 * quotient rounds toward zero and the remainder has the sign of n.
 */
export function divremS64(nh: number, nl: number, dh: number, dl: number): void {
  if (dh === 0 && dl === 0) {
    I64[0] = -1;
    I64[1] = -1;
    I64[2] = nl;
    I64[3] = nh;
    return;
  }
  if (nh === (nl >> 31) && dh === (dl >> 31)) {
    // Both are sign-extended 32-bit values: exact in doubles, no overflow possible.
    const q = Math.trunc(nl / dl);
    const r = nl % dl;
    I64[0] = q | 0;
    I64[1] = q < 0 ? -1 : 0;
    I64[2] = r | 0;
    I64[3] = r < 0 ? -1 : 0;
    return;
  }
  if (nh === (0x80000000 | 0) && nl === 0 && dh === -1 && dl === -1) {
    I64[0] = 0;
    I64[1] = 0x80000000 | 0;
    I64[2] = 0;
    I64[3] = 0;
    return;
  }
  const nNeg = nh < 0;
  const dNeg = dh < 0;
  let ah = nh;
  let al = nl;
  if (nNeg) {
    al = -nl | 0;
    ah = (~nh + (nl === 0 ? 1 : 0)) | 0;
  }
  let bh = dh;
  let bl = dl;
  if (dNeg) {
    bl = -dl | 0;
    bh = (~dh + (dl === 0 ? 1 : 0)) | 0;
  }
  divremU64(ah, al, bh, bl);
  if (nNeg !== dNeg) {
    const ql = I64[0]!;
    const qh = I64[1]!;
    I64[0] = -ql | 0;
    I64[1] = (~qh + (ql === 0 ? 1 : 0)) | 0;
  }
  if (nNeg) {
    const rl = I64[2]!;
    const rh = I64[3]!;
    I64[2] = -rl | 0;
    I64[3] = (~rh + (rl === 0 ? 1 : 0)) | 0;
  }
}
