/**
 * The abstract model's state: capabilities as values, kernel objects as
 * plain records keyed by their address, and the constants of seL4's API the
 * model needs. Shared by model.ts and the model's IPC, TCB/scheduling and
 * VSpace parts; nothing here comes from src/kernel except the names of the
 * cap types.
 */
import { CapType } from '../kernel/cap.js';

export { CapType };

export type SlotId = string;
export const hex = (n: number): string => n.toString(16);
/** Slot `index` of the CNode at address `cnode`. */
export const slotId = (cnode: number, index: number): SlotId => `${hex(cnode)}:${index}`;
/** One of the five capability slots of the TCB at address `tcb` (seL4's tcb_cnode_index). */
export const tcbSlotId = (tcb: number, index: number): SlotId => `tcb${hex(tcb)}.${index}`;
export const TCB_CTABLE = 0;
export const TCB_VTABLE = 1;
export const TCB_BUFFER = 2;
export const TCB_FAULT_HANDLER = 3;
export const TCB_TIMEOUT_HANDLER = 4;
export const TCB_SLOTS = 5;

/** Where a frame or page-table cap is mapped (seL4's capFMappedASID/Address, capPTMappedASID/Address). */
export interface Mapping {
  readonly asid: number;
  readonly vaddr: number;
}

/** A capability as the model sees it: immutable values, new ones for every change. */
export interface MCap {
  readonly type: CapType;
  /** Object (or region) address: the object's identity. */
  readonly obj: number;
  /** Untyped size bits, CNode radix, other objects' size bits. */
  readonly size: number;
  readonly badge: bigint;
  /** Endpoint/notification/reply rights bits; for frames seL4's vm_rights (1 kernel-only, 2 read-only, 3 read-write). */
  readonly rights: number;
  readonly guard: bigint;
  readonly guardSize: number;
  /** Untyped free index in bytes. */
  readonly freeIndex: number;
  /** Frames and page tables: the mapping (for a page table that is a VSpace root: its ASID, address 0). */
  readonly mapped: Mapping | null;
  /** ASID pool caps: the first ASID of the pool. */
  readonly asidBase: number;
}

export function makeCap(type: CapType, obj: number, size: number, more: Partial<MCap> = {}): MCap {
  return { type, obj, size, badge: 0n, rights: 0, guard: 0n, guardSize: 0, freeIndex: 0, mapped: null, asidBase: 0, ...more };
}
export const NULL_CAP = makeCap(CapType.Null, 0, 0);

/** Thread states; seL4's Running and Restart are both Runnable here. */
export const enum TState {
  Runnable = 'Runnable',
  Inactive = 'Inactive',
  BlockedOnSend = 'BlockedOnSend',
  BlockedOnReceive = 'BlockedOnReceive',
  BlockedOnNotification = 'BlockedOnNotification',
  BlockedOnReply = 'BlockedOnReply',
}

/** A message as its sender wrote it: label, message registers and the cptrs of its extra caps. */
export interface Message {
  readonly label: number;
  readonly mrs: readonly bigint[];
  readonly caps: readonly bigint[];
}

/** How a thread blocked on an endpoint sends (seL4's blocking IPC fields of the thread state). */
export interface PendingSend {
  readonly badge: bigint;
  readonly canGrant: boolean;
  readonly canGrantReply: boolean;
  readonly isCall: boolean;
  readonly msg: Message;
}

/** The receive path a thread names in its IPC buffer (receiveCNode, receiveIndex, receiveDepth). */
export interface ReceivePath {
  readonly cnode: bigint;
  readonly index: bigint;
  readonly depth: bigint;
}

export interface MTCB {
  readonly addr: number;
  state: TState;
  /** The endpoint or notification it is queued on (blocked on send, receive or notification). */
  on: number;
  /** BlockedOnReceive: the reply object it will receive a call on (or null); BlockedOnReply: the reply object its callee holds. */
  reply: number | null;
  /** BlockedOnSend: the message and how it is sent. */
  sending: PendingSend | null;
  prio: number;
  mcp: number;
  /** Bound (or donated) scheduling context. */
  sc: number | null;
  /** Bound notification. */
  ntfn: number | null;
  rcv: ReceivePath;
  /** Whether it has a usable IPC buffer (the refinement world's threads do, new TCBs do not). */
  hasBuffer: boolean;
  /** seL4_UserContext registers, when the model knows them (a TCB that never ran); else null. */
  regs: bigint[] | null;
  /**
   * The fault being handled (seL4's tcbFault): set when the thread faults with a
   * fault handler, until the handler replies or the thread's IPC is cancelled.
   */
  fault: MFault | null;
}

/** seL4_FaultType values the model handles (riscv64, MCS). */
export const FAULT = { CapFault: 1, UnknownSyscall: 2, UserException: 3, Timeout: 5, VMFault: 6 } as const;
export const FAULT_NAMES: Record<number, string> = { 1: 'CapFault', 2: 'UnknownSyscall', 3: 'UserException', 5: 'Timeout', 6: 'VMFault' };

/**
 * A pending fault: its type (the fault message's label) and the fault message
 * (seL4's setMRs_fault), computed when the thread faults from the registers
 * it faulted with. A null word or length: unknown to the model (a cap fault
 * whose lookup failure seL4 leaves as it was). pc: the thread's FaultIP,
 * where it restarts if the handler's reply does not rewrite it.
 */
export interface MFault {
  readonly type: number;
  readonly mrs: readonly (bigint | null)[];
  readonly length: number | null;
  pc: bigint | null;
}

/** The registers of a faulting thread the fault messages carry (seL4_UserContext order: pc 0, ra 1, sp 2, a0..a6 16..22). */
export interface FaultRegs {
  pc: bigint;
  ra: bigint;
  sp: bigint;
  /** a0..a6. */
  a: readonly bigint[];
}
/** seL4_UserContext indices. */
export const UC = { pc: 0, ra: 1, sp: 2, a0: 16 } as const;

/** A fault handler's reply applied to the faulting thread (seL4's handleFaultReply). */
export interface FaultReply {
  tcb: number;
  type: number;
  /** Whether the thread restarts (else it is left Inactive). */
  restart: boolean;
  /** seL4_UserContext registers the reply wrote, by index, and where the thread resumes (null: unknown). */
  regs: [number, bigint][];
  pc: bigint | null;
}

export interface MEndpoint {
  /** Queued threads in queue order (all senders or all receivers); ordered by priority (MCS). */
  queue: number[];
}

export interface MNotification {
  active: boolean;
  word: bigint;
  queue: number[];
  /** Bound TCB and bound scheduling context. */
  bound: number | null;
  sc: number | null;
}

export interface MSchedContext {
  readonly sizeBits: number;
  tcb: number | null;
  ntfn: number | null;
  /** The call stack donated along this SC: reply objects, the top (most recent call) first (the abstract spec's sc_replies). */
  replies: number[];
  /** Configured with SchedControl_ConfigureFlags (seL4's sc_active). */
  configured: boolean;
  /** Budget and period in ticks (period 0: round robin), refill slots, badge and sporadic flag. */
  budget: number;
  period: number;
  maxRefills: number;
  badge: bigint;
  sporadic: boolean;
}

export interface MReply {
  /** The caller waiting for this reply, or the receiver waiting with it. */
  tcb: number | null;
}

/** A valid page-table entry: the next-level table, or a frame with its permissions. */
export type PTE = { readonly table: number } | { readonly frame: number; readonly read: boolean; readonly write: boolean; readonly exec: boolean };

export interface MASIDPool {
  readonly obj: number;
  readonly base: number;
  /** Index within the pool -> root page table. */
  readonly entries: Map<number, number>;
}

/** A message as delivered to a receiver's registers and IPC buffer. */
export interface DeliveredMessage {
  label: number;
  /** null: unknown to the model (then only the known words of mrs are checked). */
  length: number | null;
  /** null entries: unknown to the model. */
  mrs: (bigint | null)[];
  extraCaps: number;
  capsUnwrapped: number;
  /** Badges of unwrapped caps by position (caps_or_badges). */
  badges: (bigint | null)[];
}

/** What a thread's registers must hold after a delivery: the badge register, and a message unless only a badge was delivered. */
export interface Delivery {
  tcb: number;
  badge: bigint;
  msg: DeliveredMessage | null;
}

export interface StepResult {
  /** The label of the kernel's reply to a Call (the error, 0 for success), or null if there is none. */
  err: number | null;
  /** A successful reply's message registers when they carry results (null entries: unknown to the model). */
  reply: (bigint | null)[] | null;
  deliveries: Delivery[];
  /** Fault replies applied in this step. */
  faultReplies?: FaultReply[];
}

// seL4 constants used by the model (libsel4 errors.h, constants.h, object-api, the riscv64 MCS configuration).
export const E = {
  NoError: 0, InvalidArgument: 1, InvalidCapability: 2, IllegalOperation: 3, RangeError: 4, AlignmentError: 5,
  FailedLookup: 6, TruncatedMessage: 7, DeleteFirst: 8, RevokeFirst: 9, NotEnoughMemory: 10,
} as const;
export const ERROR_NAMES = ['NoError', 'InvalidArgument', 'InvalidCapability', 'IllegalOperation', 'RangeError', 'AlignmentError', 'FailedLookup', 'TruncatedMessage', 'DeleteFirst', 'RevokeFirst', 'NotEnoughMemory'];
export const WORD_BITS = 64;
export const RIGHT_WRITE = 1, RIGHT_READ = 2, RIGHT_GRANT = 4, RIGHT_GRANT_REPLY = 8;
export const VM_KERNEL_ONLY = 1, VM_READ_ONLY = 2, VM_READ_WRITE = 3;
/** seL4_MsgMaxLength, seL4_MsgMaxExtraCaps, registers carrying message words. */
export const MSG_MAX_LENGTH = 120;
export const MSG_MAX_EXTRA_CAPS = 3;
export const MSG_REGISTERS = 4;

/** RISC-V maskVMRights: what remains of a frame's vm_rights under a rights mask. */
export function maskVMRights(vm: number, rights: number): number {
  const r = (rights & RIGHT_READ) !== 0;
  const w = (rights & RIGHT_WRITE) !== 0;
  if (vm === VM_READ_ONLY && r) return VM_READ_ONLY;
  if (vm === VM_READ_WRITE && r) return w ? VM_READ_WRITE : VM_READ_ONLY;
  return VM_KERNEL_ONLY;
}

export const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;
