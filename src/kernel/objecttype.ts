/**
 * Object types that Untyped_Retype can create, with their sizes for riscv64
 * in the MCS configuration (seL4_*Bits).
 */

import { seL4_ObjectType as T } from '../abi/constants.js';
export {
  seL4_SlotBits,
  seL4_TCBBits,
  seL4_EndpointBits,
  seL4_NotificationBits,
  seL4_ReplyBits,
  seL4_MinSchedContextBits,
  seL4_PageTableBits,
  seL4_PageBits,
  seL4_LargePageBits,
  seL4_HugePageBits,
  seL4_ASIDPoolBits,
  seL4_MinUntypedBits,
  seL4_MaxUntypedBits,
  seL4_WordBits,
} from '../abi/constants.js';
import {
  seL4_SlotBits,
  seL4_TCBBits,
  seL4_EndpointBits,
  seL4_NotificationBits,
  seL4_ReplyBits,
  seL4_PageTableBits,
  seL4_PageBits,
  seL4_LargePageBits,
  seL4_HugePageBits,
} from '../abi/constants.js';

/** The kernel's short names for seL4_ObjectType (values from src/abi). */
export enum ObjectType {
  Untyped = T.seL4_UntypedObject,
  TCB = T.seL4_TCBObject,
  Endpoint = T.seL4_EndpointObject,
  Notification = T.seL4_NotificationObject,
  CapTable = T.seL4_CapTableObject,
  SchedContext = T.seL4_SchedContextObject,
  Reply = T.seL4_ReplyObject,
  RISCV_Giga_Page = T.seL4_RISCV_Giga_Page,
  RISCV_4K_Page = T.seL4_RISCV_4K_Page,
  RISCV_Mega_Page = T.seL4_RISCV_Mega_Page,
  RISCV_PageTable = T.seL4_RISCV_PageTableObject,
}
export const OBJECT_TYPE_COUNT = T.seL4_ObjectTypeCount;

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
