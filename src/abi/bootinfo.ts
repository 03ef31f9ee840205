// Root task boot interface of seL4 13.0.0 on riscv64 MCS
// (libsel4/include/sel4/bootinfo_types.h). All fields are 64-bit words unless noted.

import { CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS, seL4_PageBits } from './constants.js';

/** Fixed slots of the root CNode. Since 13.0.0 every slot exists; unsupported ones hold a null cap. */
export enum seL4_RootCNodeCapSlots {
  seL4_CapNull = 0,
  seL4_CapInitThreadTCB = 1,
  seL4_CapInitThreadCNode = 2,
  seL4_CapInitThreadVSpace = 3,
  seL4_CapIRQControl = 4,
  seL4_CapASIDControl = 5,
  seL4_CapInitThreadASIDPool = 6,
  /** x86 only: null cap on riscv. */
  seL4_CapIOPortControl = 7,
  /** IOMMU only: null cap on riscv. */
  seL4_CapIOSpace = 8,
  seL4_CapBootInfoFrame = 9,
  seL4_CapInitThreadIPCBuffer = 10,
  seL4_CapDomain = 11,
  /** Arm SMMU only: null cap on riscv. */
  seL4_CapSMMUSIDControl = 12,
  /** Arm SMMU only: null cap on riscv. */
  seL4_CapSMMUCBControl = 13,
  /** MCS: the root task's scheduling context. */
  seL4_CapInitThreadSC = 14,
  /** AArch64 SMC only: null cap on riscv. */
  seL4_CapSMC = 15,
  seL4_NumInitialCaps = 16,
}
export const seL4_CapNull = 0;
export const seL4_CapInitThreadTCB = 1;
export const seL4_CapInitThreadCNode = 2;
export const seL4_CapInitThreadVSpace = 3;
export const seL4_CapInitThreadPD = seL4_CapInitThreadVSpace;
export const seL4_CapIRQControl = 4;
export const seL4_CapASIDControl = 5;
export const seL4_CapInitThreadASIDPool = 6;
export const seL4_CapIOPortControl = 7;
export const seL4_CapIOSpace = 8;
export const seL4_CapBootInfoFrame = 9;
export const seL4_CapInitThreadIPCBuffer = 10;
export const seL4_CapDomain = 11;
export const seL4_CapSMMUSIDControl = 12;
export const seL4_CapSMMUCBControl = 13;
export const seL4_CapInitThreadSC = 14;
export const seL4_CapSMC = 15;
export const seL4_NumInitialCaps = 16;

/** seL4_SlotRegion: [start, end) slot positions, two words. */
export const SLOTREGION_START = 0;
export const SLOTREGION_END = 8;
export const SLOTREGION_SIZE = 16;

/** seL4_UntypedDesc: paddr word, sizeBits u8, isDevice u8, 6 bytes padding (zeroed). */
export const UNTYPEDDESC_PADDR = 0;
export const UNTYPEDDESC_SIZEBITS = 8;
export const UNTYPEDDESC_ISDEVICE = 9;
export const UNTYPEDDESC_PADDING = 10;
export const UNTYPEDDESC_PADDING_BYTES = 6;
export const UNTYPEDDESC_SIZE = 16;

/** seL4_BootInfo byte offsets (MCS layout: schedcontrol sits between initThreadDomain and untyped). */
export const BI_EXTRA_LEN = 0;
export const BI_NODE_ID = 8;
export const BI_NUM_NODES = 16;
export const BI_NUM_IOPT_LEVELS = 24;
export const BI_IPC_BUFFER = 32;
export const BI_EMPTY = 40;
export const BI_SHARED_FRAMES = 56;
export const BI_USER_IMAGE_FRAMES = 72;
export const BI_USER_IMAGE_PAGING = 88;
export const BI_IO_SPACE_CAPS = 104;
export const BI_EXTRA_BI_PAGES = 120;
export const BI_INIT_THREAD_CNODE_SIZE_BITS = 136;
export const BI_INIT_THREAD_DOMAIN = 144;
export const BI_SCHEDCONTROL = 152;
export const BI_UNTYPED = 168;
export const BI_UNTYPED_LIST = 184;
/** sizeof(seL4_BootInfo) = 184 + 230 * 16 = 3864 bytes. */
export const BI_SIZE = BI_UNTYPED_LIST + CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS * UNTYPEDDESC_SIZE;

/** Field table in declaration order (name, byte offset, size in bytes). */
export const seL4_BootInfoLayout: readonly { readonly name: string; readonly offset: number; readonly size: number }[] = [
  { name: 'extraLen', offset: BI_EXTRA_LEN, size: 8 },
  { name: 'nodeID', offset: BI_NODE_ID, size: 8 },
  { name: 'numNodes', offset: BI_NUM_NODES, size: 8 },
  { name: 'numIOPTLevels', offset: BI_NUM_IOPT_LEVELS, size: 8 },
  { name: 'ipcBuffer', offset: BI_IPC_BUFFER, size: 8 },
  { name: 'empty', offset: BI_EMPTY, size: SLOTREGION_SIZE },
  { name: 'sharedFrames', offset: BI_SHARED_FRAMES, size: SLOTREGION_SIZE },
  { name: 'userImageFrames', offset: BI_USER_IMAGE_FRAMES, size: SLOTREGION_SIZE },
  { name: 'userImagePaging', offset: BI_USER_IMAGE_PAGING, size: SLOTREGION_SIZE },
  { name: 'ioSpaceCaps', offset: BI_IO_SPACE_CAPS, size: SLOTREGION_SIZE },
  { name: 'extraBIPages', offset: BI_EXTRA_BI_PAGES, size: SLOTREGION_SIZE },
  { name: 'initThreadCNodeSizeBits', offset: BI_INIT_THREAD_CNODE_SIZE_BITS, size: 8 },
  { name: 'initThreadDomain', offset: BI_INIT_THREAD_DOMAIN, size: 8 },
  { name: 'schedcontrol', offset: BI_SCHEDCONTROL, size: SLOTREGION_SIZE },
  { name: 'untyped', offset: BI_UNTYPED, size: SLOTREGION_SIZE },
  {
    name: 'untypedList',
    offset: BI_UNTYPED_LIST,
    size: CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS * UNTYPEDDESC_SIZE,
  },
];

/** The boot info frame is one 4 KiB page; extra boot info chunks start right after it. */
export const seL4_BootInfoFrameBits = seL4_PageBits;
export const seL4_BootInfoFrameSize = 1 << seL4_BootInfoFrameBits;

/** IDs of extra boot info chunks (seL4_BootInfoID). */
export enum seL4_BootInfoID {
  SEL4_BOOTINFO_HEADER_PADDING = 0,
  SEL4_BOOTINFO_HEADER_X86_VBE = 1,
  SEL4_BOOTINFO_HEADER_X86_MBMMAP = 2,
  SEL4_BOOTINFO_HEADER_X86_ACPI_RSDP = 3,
  SEL4_BOOTINFO_HEADER_X86_FRAMEBUFFER = 4,
  SEL4_BOOTINFO_HEADER_X86_TSC_FREQ = 5,
  SEL4_BOOTINFO_HEADER_FDT = 6,
  SEL4_BOOTINFO_HEADER_NUM = 7,
}
export const SEL4_BOOTINFO_HEADER_PADDING = 0;
export const SEL4_BOOTINFO_HEADER_X86_VBE = 1;
export const SEL4_BOOTINFO_HEADER_X86_MBMMAP = 2;
export const SEL4_BOOTINFO_HEADER_X86_ACPI_RSDP = 3;
export const SEL4_BOOTINFO_HEADER_X86_FRAMEBUFFER = 4;
export const SEL4_BOOTINFO_HEADER_X86_TSC_FREQ = 5;
export const SEL4_BOOTINFO_HEADER_FDT = 6;
export const SEL4_BOOTINFO_HEADER_NUM = 7;

/** seL4_BootInfoHeader: id word, len word (len includes the header). */
export const BIHEADER_ID = 0;
export const BIHEADER_LEN = 8;
export const BIHEADER_SIZE = 16;

/**
 * Root task virtual layout chosen by the kernel (src/arch/riscv/kernel/boot.c):
 * IPC buffer at the page right after the user image end, boot info frame one page after
 * that, extra boot info (if any) one frame after the boot info frame.
 */
export function rootTaskIpcBufferVaddr(userImageVEnd: number): number {
  return userImageVEnd;
}
export function rootTaskBootInfoVaddr(userImageVEnd: number): number {
  return userImageVEnd + (1 << seL4_PageBits);
}
export function rootTaskExtraBootInfoVaddr(userImageVEnd: number): number {
  return rootTaskBootInfoVaddr(userImageVEnd) + seL4_BootInfoFrameSize;
}

/**
 * calculate_extra_bi_size_bits: 0 if there is no extra boot info, otherwise log2 of the
 * extra size rounded up to whole pages and then up to a power of two.
 */
export function extraBootInfoSizeBits(extraSize: number): number {
  if (extraSize === 0) return 0;
  const pageSize = 1 << seL4_PageBits;
  const rounded = Math.ceil(extraSize / pageSize) * pageSize;
  let msb = 0;
  while (2 ** (msb + 1) <= rounded) msb++;
  if (extraSize > 2 ** msb) msb++;
  return msb;
}
