// seL4_MessageInfo on 64-bit (libsel4/mode_include/64/sel4/shared_types.bf):
//   bits  0..6   length         (7 bits)
//   bits  7..8   extraCaps      (2 bits)
//   bits  9..11  capsUnwrapped  (3 bits)
//   bits 12..63  label          (52 bits)
// The hot-path helpers work on the word's two uint32 halves (hi = bits 32..63,
// lo = bits 0..31) and never allocate. Inputs are masked to their field widths, as the
// bitfield generator's _new functions do.

import { seL4_MsgMaxLength } from './constants.js';

export const MSGINFO_LENGTH_SHIFT = 0;
export const MSGINFO_LENGTH_BITS = 7;
export const MSGINFO_EXTRACAPS_SHIFT = 7;
export const MSGINFO_EXTRACAPS_BITS = 2;
export const MSGINFO_CAPSUNWRAPPED_SHIFT = 9;
export const MSGINFO_CAPSUNWRAPPED_BITS = 3;
export const MSGINFO_LABEL_SHIFT = 12;
export const MSGINFO_LABEL_BITS = 52;
/** Largest label: 2^52 - 1 (exactly representable as a number). */
export const MSGINFO_LABEL_MAX = 2 ** 52 - 1;

const TWO_20 = 0x100000; // label bits held in lo
const TWO_32 = 0x100000000;

/** Low 32 bits of the message info word. `label` may be any integer up to 2^52 - 1. */
export function msgInfoLo(label: number, capsUnwrapped: number, extraCaps: number, length: number): number {
  const labelLow = label % TWO_20; // label bits 0..19 go to word bits 12..31
  return (
    ((length & 0x7f) |
      ((extraCaps & 0x3) << MSGINFO_EXTRACAPS_SHIFT) |
      ((capsUnwrapped & 0x7) << MSGINFO_CAPSUNWRAPPED_SHIFT) |
      (labelLow << MSGINFO_LABEL_SHIFT)) >>>
    0
  );
}

/** High 32 bits of the message info word: label bits 20..51. */
export function msgInfoHi(label: number): number {
  return Math.floor(label / TWO_20) % TWO_32 >>> 0;
}

/** The 52-bit label as an exact number. */
export function msgInfoGetLabel(hi: number, lo: number): number {
  return (hi >>> 0) * TWO_20 + (lo >>> MSGINFO_LABEL_SHIFT);
}
export function msgInfoGetLength(lo: number): number {
  return lo & 0x7f;
}
export function msgInfoGetExtraCaps(lo: number): number {
  return (lo >>> MSGINFO_EXTRACAPS_SHIFT) & 0x3;
}
export function msgInfoGetCapsUnwrapped(lo: number): number {
  return (lo >>> MSGINFO_CAPSUNWRAPPED_SHIFT) & 0x7;
}
/** The kernel's messageInfoFromWord clamps a length above seL4_MsgMaxLength (120) to 120. */
export function msgInfoGetClampedLength(lo: number): number {
  const len = lo & 0x7f;
  return len > seL4_MsgMaxLength ? seL4_MsgMaxLength : len;
}
/** lo with the length field replaced (label bits in lo are kept). */
export function msgInfoLoSetLength(lo: number, length: number): number {
  return ((lo & ~0x7f) | (length & 0x7f)) >>> 0;
}
/** lo with the capsUnwrapped field replaced. */
export function msgInfoLoSetCapsUnwrapped(lo: number, capsUnwrapped: number): number {
  return ((lo & ~(0x7 << MSGINFO_CAPSUNWRAPPED_SHIFT)) | ((capsUnwrapped & 0x7) << MSGINFO_CAPSUNWRAPPED_SHIFT)) >>> 0;
}
/** lo with the extraCaps field replaced. */
export function msgInfoLoSetExtraCaps(lo: number, extraCaps: number): number {
  return ((lo & ~(0x3 << MSGINFO_EXTRACAPS_SHIFT)) | ((extraCaps & 0x3) << MSGINFO_EXTRACAPS_SHIFT)) >>> 0;
}

// ----- bigint conveniences (off the hot path) -----

export interface MessageInfoFields {
  label: number;
  capsUnwrapped: number;
  extraCaps: number;
  length: number;
}

export function seL4_MessageInfo_new(
  label: number | bigint,
  capsUnwrapped: number,
  extraCaps: number,
  length: number,
): bigint {
  const l = BigInt.asUintN(52, BigInt(label));
  return (
    (l << 12n) |
    (BigInt(capsUnwrapped & 0x7) << 9n) |
    (BigInt(extraCaps & 0x3) << 7n) |
    BigInt(length & 0x7f)
  );
}

export function decodeMessageInfo(w: bigint): MessageInfoFields {
  const u = BigInt.asUintN(64, w);
  return {
    label: Number(u >> 12n),
    capsUnwrapped: Number((u >> 9n) & 0x7n),
    extraCaps: Number((u >> 7n) & 0x3n),
    length: Number(u & 0x7fn),
  };
}

/** Split a 64-bit word into its uint32 halves. */
export function wordHi(w: bigint): number {
  return Number((BigInt.asUintN(64, w) >> 32n) & 0xffffffffn);
}
export function wordLo(w: bigint): number {
  return Number(BigInt.asUintN(64, w) & 0xffffffffn);
}
/** Join uint32 halves into a 64-bit bigint word. */
export function wordFromHalves(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
