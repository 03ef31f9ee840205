/**
 * seL4_MessageInfo_t for TypeScript threads. The word is kept as a number,
 * exact for labels below 2^41 (the full 52-bit label needs seL4_MessageInfo_newWord).
 */
export type seL4_MessageInfo_t = number;

const TWO_12 = 4096;

export function seL4_MessageInfo_new(label: number, capsUnwrapped: number, extraCaps: number, length: number): seL4_MessageInfo_t {
  if (!Number.isInteger(label) || label < 0 || label >= 2 ** 41) throw new RangeError(`label ${label} out of range for a number message info`);
  return label * TWO_12 + ((capsUnwrapped & 7) << 9) + ((extraCaps & 3) << 7) + (length & 0x7f);
}
export function seL4_MessageInfo_get_label(info: seL4_MessageInfo_t): number {
  return Math.floor(info / TWO_12);
}
export function seL4_MessageInfo_get_length(info: seL4_MessageInfo_t): number {
  return info % 128;
}
export function seL4_MessageInfo_get_extraCaps(info: seL4_MessageInfo_t): number {
  return Math.floor(info / 128) % 4;
}
export function seL4_MessageInfo_get_capsUnwrapped(info: seL4_MessageInfo_t): number {
  return Math.floor(info / 512) % 8;
}
export function seL4_MessageInfo_set_length(info: seL4_MessageInfo_t, length: number): seL4_MessageInfo_t {
  return info - (info % 128) + (length & 0x7f);
}
