/**
 * Where the Microkit puts things: the capability slots of a protection
 * domain's CSpace and of the monitor's, the badges, object sizes and the
 * virtual layout of a PD. Facts from seL4/microkit (the Rust tool's
 * capdl/builder.rs and libmicrokit/include/microkit.h, main branch at the
 * 2.x "capDL initialiser" stage); the names follow those files.
 */
import { USER_TOP } from './sdf.js';

// ------------------------------------------------------- a PD's CSpace

/** Radix of a PD's (and the monitor's) CNode: 512 slots (PD_CAP_SIZE). */
export const PD_CAP_BITS = 9;
/** The CNode cap's guard makes the whole 64-bit cptr resolve in one level. */
export const PD_CNODE_GUARD_SIZE = 64 - PD_CAP_BITS;

/** The PD's endpoint if it needs one, otherwise its notification: what libmicrokit receives on. */
export const INPUT_CAP = 1;
/** The PD's fault endpoint (badged), also bound to its TCB. */
export const FAULT_EP_CAP = 2;
/** The PD's own VSpace (for cache maintenance on ARM). */
export const VSPACE_CAP = 3;
/** The PD's reply object (no rights), used with Recv/ReplyRecv. */
export const REPLY_CAP = 4;
/** Passive PDs only: the monitor's endpoint, to ask for their SC to be taken away after init. */
export const MONITOR_EP = 5;
/** Benchmark configuration only: the PD's own TCB. */
export const TCB_CAP = 6;
/** ARM SMC only. */
export const ARM_SMC_CAP = 7;
export const BASE_OUTPUT_NOTIFICATION_CAP = 10;
export const BASE_ENDPOINT_CAP = BASE_OUTPUT_NOTIFICATION_CAP + 64;
export const BASE_IRQ_CAP = BASE_ENDPOINT_CAP + 64;
export const BASE_TCB_CAP = BASE_IRQ_CAP + 64;
export const BASE_VM_TCB_CAP = BASE_TCB_CAP + 64;
export const BASE_VCPU_CAP = BASE_VM_TCB_CAP + 64;

/** Channel ids 0..61 (62 channels): bits 62 and 63 of a badge are reserved. */
export const MICROKIT_MAX_CHANNELS = 62;
export const MICROKIT_MAX_CHANNEL_ID = MICROKIT_MAX_CHANNELS - 1;
export const MICROKIT_PD_NAME_LENGTH = 64;

// --------------------------------------------------------------- badges

/** A PPC endpoint badge: bit 63 set, the callee-side channel id below. */
export const PPC_BADGE = 1n << 63n;
/** A child's fault badge on its parent's endpoint: bit 62 set, the child id below. */
export const FAULT_BADGE = 1n << 62n;
/** libmicrokit masks a PPC badge with this to find the channel. */
export const CHANNEL_MASK = 0x3f;
/** libmicrokit masks a fault badge with this to find the child. */
export const PD_MASK = 0xff;
/** Badge of a PD's scheduling context (SchedControl_ConfigureFlags): 0x100 + PD index. */
export const SC_BADGE_BASE = 0x100;

// -------------------------------------------------------- the monitor

export const MON_FAULT_EP_CAP = 1;
export const MON_REPLY_CAP = 2;
export const MON_BASE_PD_TCB_CAP = 10;
export const MON_BASE_VM_TCB_CAP = MON_BASE_PD_TCB_CAP + 64;
export const MON_BASE_SCHED_CONTEXT_CAP = MON_BASE_VM_TCB_CAP + 64;
export const MON_BASE_NOTIFICATION_CAP = MON_BASE_SCHED_CONTEXT_CAP + 64;
export const MONITOR_STACK_SIZE = 0x1000;

// ------------------------------------------------------------- objects

/** Scheduling contexts get 2^8 bytes (room for extra refills), PD_SCHEDCONTEXT_EXTRA_SIZE_BITS. */
export const PD_SCHEDCONTEXT_SIZE_BITS = 8;
/** The monitor's budget and period (BUDGET_DEFAULT), microseconds. */
export const MONITOR_BUDGET_US = 1000;

// ------------------------------------------------- a PD's virtual layout

/** Top of a PD's stack (the stack grows down from seL4_UserTop). */
export const PD_STACK_TOP = USER_TOP;

/**
 * Where a TypeScript PD's "program image" sits: Microkit links PD ELFs at
 * 0x200000 on riscv64 and puts the IPC buffer (__sel4_ipc_buffer_obj) inside
 * the image. sel4ts programs have no ELF, so the image is exactly one page,
 * the IPC buffer; maps must not overlap it, as they must not overlap ELF segments.
 */
export const PD_IMAGE_BASE = 0x200000;
export const PD_IPC_BUFFER_VADDR = PD_IMAGE_BASE;
export const PD_IMAGE_SIZE = 0x1000;

/** seL4_CNode_CapData for a guard of `size` zero bits (guard size in bits 0..5). */
export function cnodeGuardData(size: number): number {
  return size & 0x3f;
}
