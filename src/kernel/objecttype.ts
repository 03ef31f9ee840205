/**
 * Object types that Untyped_Retype can create, with their sizes for riscv64
 * in the MCS configuration (seL4_*Bits).
 */

export enum ObjectType {
  Untyped = 0,
  TCB = 1,
  Endpoint = 2,
  Notification = 3,
  CapTable = 4,
  SchedContext = 5,
  Reply = 6,
  RISCV_Giga_Page = 7,
  RISCV_4K_Page = 8,
  RISCV_Mega_Page = 9,
  RISCV_PageTable = 10,
}
export const OBJECT_TYPE_COUNT = 11;

export const seL4_SlotBits = 5;
export const seL4_TCBBits = 10;
export const seL4_EndpointBits = 4;
export const seL4_NotificationBits = 6;
export const seL4_ReplyBits = 5;
export const seL4_MinSchedContextBits = 7;
export const seL4_PageTableBits = 12;
export const seL4_PageBits = 12;
export const seL4_LargePageBits = 21;
export const seL4_HugePageBits = 30;
export const seL4_ASIDPoolBits = 12;
export const seL4_MinUntypedBits = 4;
export const seL4_MaxUntypedBits = 38;
export const seL4_WordBits = 64;

/** seL4's getObjectSize: log2 of the size of an object of this type. */
export function getObjectSize(type: ObjectType, userSize: number): number {
  switch (type) {
    case ObjectType.Untyped:
      return userSize;
    case ObjectType.TCB:
      return seL4_TCBBits;
    case ObjectType.Endpoint:
      return seL4_EndpointBits;
    case ObjectType.Notification:
      return seL4_NotificationBits;
    case ObjectType.CapTable:
      return seL4_SlotBits + userSize;
    case ObjectType.SchedContext:
      return userSize;
    case ObjectType.Reply:
      return seL4_ReplyBits;
    case ObjectType.RISCV_4K_Page:
      return seL4_PageBits;
    case ObjectType.RISCV_Mega_Page:
      return seL4_LargePageBits;
    case ObjectType.RISCV_Giga_Page:
      return seL4_HugePageBits;
    case ObjectType.RISCV_PageTable:
      return seL4_PageTableBits;
  }
}

export function isFrameType(type: ObjectType): boolean {
  return type === ObjectType.RISCV_4K_Page || type === ObjectType.RISCV_Mega_Page || type === ObjectType.RISCV_Giga_Page;
}
