// seL4 ABI constants for the configuration sel4ts implements:
//   seL4 13.0.0, CONFIG_KERNEL_MCS=y, riscv64 (Sv39), qemu-riscv-virt, one core,
//   CONFIG_DEBUG_BUILD=y (so CONFIG_PRINTING=y), no hardware debug API, no CHERI,
//   no benchmarks, no FPU (13.0.0 default), all other options at their defaults.
// Every number here is a fact taken from seL4's sources; docs/abi-facts.md names
// the file each group came from. Nothing in this file allocates.

// ---------------------------------------------------------------------------
// Errors and lookup failures
// ---------------------------------------------------------------------------

/** seL4_Error (libsel4/include/sel4/errors.h). Used as the message label of an error reply. */
export enum seL4_Error {
  seL4_NoError = 0,
  seL4_InvalidArgument = 1,
  seL4_InvalidCapability = 2,
  seL4_IllegalOperation = 3,
  seL4_RangeError = 4,
  seL4_AlignmentError = 5,
  seL4_FailedLookup = 6,
  seL4_TruncatedMessage = 7,
  seL4_DeleteFirst = 8,
  seL4_RevokeFirst = 9,
  seL4_NotEnoughMemory = 10,
}
export const seL4_NumErrors = 11;

/**
 * seL4_LookupFailureType as user level sees it (libsel4 constants.h). The kernel keeps
 * lookup faults 0-based internally (invalid_root = 0 ... guard_mismatch = 3) and writes
 * `internal + 1` into the message, so the values below are what appears in MRs.
 */
export enum seL4_LookupFailureType {
  seL4_NoFailure = 0,
  seL4_InvalidRoot = 1,
  seL4_MissingCapability = 2,
  seL4_DepthMismatch = 3,
  seL4_GuardMismatch = 4,
}

/** The kernel's internal lookup_fault tags (structures.bf); user value = tag + 1. */
export const LookupFaultTag = {
  invalid_root: 0,
  missing_capability: 1,
  depth_mismatch: 2,
  guard_mismatch: 3,
} as const;

// ---------------------------------------------------------------------------
// Object types (riscv64, MCS). Order: generic api_object, then the riscv64 *mode*
// types (sel4_arch objecttype.h: Giga page = seL4_NonArchObjectTypeCount), then the
// riscv *arch* types (arch objecttype.h: 4K page = seL4_ModeObjectTypeCount).
// Sv39 has CONFIG_PT_LEVELS = 3, so seL4_RISCV_Tera_Page does not exist.
// ---------------------------------------------------------------------------

export enum seL4_ObjectType {
  seL4_UntypedObject = 0,
  seL4_TCBObject = 1,
  seL4_EndpointObject = 2,
  seL4_NotificationObject = 3,
  seL4_CapTableObject = 4,
  seL4_SchedContextObject = 5,
  seL4_ReplyObject = 6,
  seL4_RISCV_Giga_Page = 7,
  seL4_RISCV_4K_Page = 8,
  seL4_RISCV_Mega_Page = 9,
  seL4_RISCV_PageTableObject = 10,
  seL4_ObjectTypeCount = 11,
}
export const seL4_NonArchObjectTypeCount = 7;
export const seL4_ModeObjectTypeCount = 8;
export const seL4_ObjectTypeCount = 11;
/** libsel4 defines the Tera page as 0xffffffff when CONFIG_PT_LEVELS <= 3 (an invalid type). */
export const seL4_RISCV_Tera_Page_Invalid = 0xffffffff;

// ---------------------------------------------------------------------------
// Sizes (log2 bytes unless the name says otherwise)
// ---------------------------------------------------------------------------

export const seL4_WordBits = 64;
export const seL4_WordSizeBits = 3;
export const seL4_WordBytes = 8;
export const seL4_SlotBits = 5;
/** 10 without FPU (13.0.0 default: KernelRiscvExtF/ExtD OFF); 11 with CONFIG_HAVE_FPU. */
export const seL4_TCBBits = 10;
export const seL4_TCBBits_WithFPU = 11;
export const seL4_EndpointBits = 4;
/** MCS value (non-MCS is 5). */
export const seL4_NotificationBits = 6;
/** MCS only. */
export const seL4_ReplyBits = 5;
/** 13.0.0 corrected this from 8 to 7 (CHANGES.md, 13.0.0 MCS section). */
export const seL4_MinSchedContextBits = 7;
/** 10 words + 6 * 8 bytes: the sched_context_t plus MIN_REFILLS refills = 128 bytes. */
export const seL4_CoreSchedContextBytes = 10 * 8 + 6 * 8;
/** One refill: {rTime, rAmount}, two 64-bit values. */
export const seL4_RefillSizeBytes = 2 * 8;
/** libsel4 seL4_MaxExtraRefills(sizeBits): extra refills that fit beyond the core part. */
export function seL4_MaxExtraRefills(sizeBits: number): number {
  return Math.floor((2 ** sizeBits - seL4_CoreSchedContextBytes) / seL4_RefillSizeBytes);
}

export const seL4_PageTableEntryBits = 3;
export const seL4_PageTableIndexBits = 9;
export const seL4_PageBits = 12;
export const seL4_LargePageBits = 21;
export const seL4_HugePageBits = 30;
/** Defined by libsel4 but only usable with CONFIG_PT_LEVELS > 3 (not Sv39). */
export const seL4_TeraPageBits = 39;
export const seL4_PageTableBits = 12;
export const seL4_VSpaceBits = seL4_PageTableBits;
export const seL4_NumASIDPoolsBits = 7;
export const seL4_ASIDPoolIndexBits = 9;
export const seL4_ASIDPoolBits = 12;
export const seL4_MinUntypedBits = 4;
export const seL4_MaxUntypedBits = 38;
export const seL4_IPCBufferSizeBits = 10;
/** First user virtual address that is not accessible (Sv39): 0x0000003ffffff000. */
export const seL4_UserTop = 0x0000003ffffff000;
/** CONFIG_PADDR_USER_DEVICE_TOP for Sv39: device untypeds are created up to 2^39. */
export const CONFIG_PADDR_USER_DEVICE_TOP = 2 ** 39;
export const CONFIG_PT_LEVELS = 3;

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

export const seL4_MsgLengthBits = 7;
export const seL4_MsgExtraCapBits = 2;
export const seL4_MsgMaxLength = 120;
export const seL4_MsgMaxExtraCaps = (1 << seL4_MsgExtraCapBits) - 1; // 3
/** MR0..MR3 travel in a2..a5 (kernel n_msgRegisters). */
export const seL4_FastMessageRegisters = 4;
export const seL4_CapRightsBits = 4;

// ---------------------------------------------------------------------------
// Priorities, kernel configuration defaults
// ---------------------------------------------------------------------------

export const CONFIG_NUM_PRIORITIES = 256;
export const seL4_InvalidPrio = -1;
export const seL4_MinPrio = 0;
export const seL4_MaxPrio = CONFIG_NUM_PRIORITIES - 1; // 255
export const CONFIG_RETYPE_FAN_OUT_LIMIT = 256;
export const CONFIG_ROOT_CNODE_SIZE_BITS = 12;
export const CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS = 230;
export const CONFIG_NUM_DOMAINS = 1;
export const CONFIG_MAX_NUM_NODES = 1;
export const CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION = 100;
export const CONFIG_RESET_CHUNK_BITS = 8;
export const CONFIG_KERNEL_STACK_BITS = 12;
export const CONFIG_FASTPATH = true;
export const CONFIG_USER_STACK_TRACE_LENGTH = 16;

// ---------------------------------------------------------------------------
// Guards and badges (libsel4/mode_include/64/sel4/mode/types.h)
// ---------------------------------------------------------------------------

export const seL4_GuardSizeBits = 6;
export const seL4_GuardBits = 58;
/** All 64 bits of a badge are usable on 64-bit seL4. */
export const seL4_BadgeBits = 64;

/**
 * CNode cap data word (shared_types.bf, block seL4_CNode_CapData, base 64):
 * guardSize in bits 0..5, guard in bits 6..63.
 */
export const CNodeCapData = {
  guardSizeShift: 0,
  guardSizeBits: 6,
  guardShift: 6,
  guardBits: 58,
} as const;

const GUARD_MASK = (1n << 58n) - 1n;

export function seL4_CNode_CapData_new(guard: bigint, guardSize: number): bigint {
  return ((guard & GUARD_MASK) << 6n) | BigInt(guardSize & 0x3f);
}
export function seL4_CNode_CapData_get_guard(w: bigint): bigint {
  return (BigInt.asUintN(64, w) >> 6n) & GUARD_MASK;
}
export function seL4_CNode_CapData_get_guardSize(w: bigint): number {
  return Number(BigInt.asUintN(64, w) & 0x3fn);
}
/** guardSize from the low 32-bit half of the cap data word. */
export function cnodeCapDataGuardSize(lo: number): number {
  return lo & 0x3f;
}
/** Low 32 bits of the 58-bit guard, from the (hi, lo) halves of the cap data word. */
export function cnodeCapDataGuardLo(hi: number, lo: number): number {
  return ((lo >>> 6) | (hi << 26)) >>> 0;
}
/** High 26 bits of the 58-bit guard. */
export function cnodeCapDataGuardHi(hi: number): number {
  return hi >>> 6;
}

// ---------------------------------------------------------------------------
// Capability rights (shared_types.bf, block seL4_CapRights, base 64)
// ---------------------------------------------------------------------------

/** Bit positions in the rights word. */
export const seL4_CapRights = {
  AllowWrite: 0,
  AllowRead: 1,
  AllowGrant: 2,
  AllowGrantReply: 3,
} as const;

/** Same argument order as libsel4's seL4_CapRights_new(grantReply, grant, read, write). */
export function seL4_CapRights_new(
  allowGrantReply: number | boolean,
  allowGrant: number | boolean,
  allowRead: number | boolean,
  allowWrite: number | boolean,
): number {
  return (
    ((allowWrite ? 1 : 0) << seL4_CapRights.AllowWrite) |
    ((allowRead ? 1 : 0) << seL4_CapRights.AllowRead) |
    ((allowGrant ? 1 : 0) << seL4_CapRights.AllowGrant) |
    ((allowGrantReply ? 1 : 0) << seL4_CapRights.AllowGrantReply)
  );
}
export function seL4_CapRights_get_capAllowWrite(w: number): number {
  return (w >>> seL4_CapRights.AllowWrite) & 1;
}
export function seL4_CapRights_get_capAllowRead(w: number): number {
  return (w >>> seL4_CapRights.AllowRead) & 1;
}
export function seL4_CapRights_get_capAllowGrant(w: number): number {
  return (w >>> seL4_CapRights.AllowGrant) & 1;
}
export function seL4_CapRights_get_capAllowGrantReply(w: number): number {
  return (w >>> seL4_CapRights.AllowGrantReply) & 1;
}
export interface CapRightsFields {
  allowWrite: boolean;
  allowRead: boolean;
  allowGrant: boolean;
  allowGrantReply: boolean;
}
/** Off the hot path: decode the low bits of a rights word (the kernel ignores the rest). */
export function decodeCapRights(w: number): CapRightsFields {
  return {
    allowWrite: seL4_CapRights_get_capAllowWrite(w) === 1,
    allowRead: seL4_CapRights_get_capAllowRead(w) === 1,
    allowGrant: seL4_CapRights_get_capAllowGrant(w) === 1,
    allowGrantReply: seL4_CapRights_get_capAllowGrantReply(w) === 1,
  };
}
export const seL4_ReadWrite = 0x3;
export const seL4_AllRights = 0xf;
export const seL4_CanRead = 0x2;
export const seL4_CanWrite = 0x1;
export const seL4_CanGrant = 0x4;
export const seL4_CanGrantReply = 0x8;
export const seL4_NoWrite = 0xe;
export const seL4_NoRead = 0xd;
export const seL4_NoRights = 0x0;

// ---------------------------------------------------------------------------
// RISC-V VM attributes (arch types.h; kernel block vm_attributes: bit 0 riscvExecuteNever)
// ---------------------------------------------------------------------------

export const seL4_RISCV_ExecuteNever = 0x1;
export const seL4_RISCV_Default_VMAttributes = 0x0;

// ---------------------------------------------------------------------------
// MCS scheduling
// ---------------------------------------------------------------------------

export const seL4_SchedContext_NoFlag = 0x0;
export const seL4_SchedContext_Sporadic = 0x1;
/** Minimum refills of a scheduling context (kernel structures.h). */
export const MIN_REFILLS = 2;
/** qemu-riscv-virt TIMER_FREQUENCY (src/plat/qemu-riscv-virt/config.cmake). */
export const TIMER_CLOCK_HZ = 10_000_000;
export const US_IN_MS = 1000;
export const MS_IN_S = 1000;
/** TIMER_CLOCK_HZ / 1e6: ticks per microsecond. */
export const TICKS_IN_US = TIMER_CLOCK_HZ / (US_IN_MS * MS_IN_S); // 10
/** riscv getKernelWcetUs() (include/arch/riscv/arch/machine/timer.h). */
export const KERNEL_WCET_US = 10;
export const KERNEL_WCET_TICKS = KERNEL_WCET_US * TICKS_IN_US; // 100
export const CONFIG_KERNEL_WCET_SCALE = 1;
/** MIN_BUDGET_US = 2 * getKernelWcetUs() * CONFIG_KERNEL_WCET_SCALE. */
export const MIN_BUDGET_US = 2 * KERNEL_WCET_US * CONFIG_KERNEL_WCET_SCALE; // 20
/** MIN_BUDGET = 2 * getKernelWcetTicks() * CONFIG_KERNEL_WCET_SCALE (ticks). */
export const MIN_BUDGET = 2 * KERNEL_WCET_TICKS * CONFIG_KERNEL_WCET_SCALE; // 200
/** getTimerPrecision() = usToTicks(1). */
export const TIMER_PRECISION_TICKS = TICKS_IN_US;
export const CONFIG_KERNEL_STATIC_MAX_PERIOD_US = 0;
/** getMaxUsToTicks() = UINT64_MAX / TICKS_IN_US (integer division). */
export const MAX_US_TO_TICKS = ((1n << 64n) - 1n) / BigInt(TICKS_IN_US);
/** With CONFIG_KERNEL_STATIC_MAX_PERIOD_US == 0: MAX_PERIOD_US = getMaxUsToTicks() / 8. */
export const MAX_PERIOD_US = MAX_US_TO_TICKS / 8n; // 230584300921369395n
/** MAX_RELEASE_TIME = UINT64_MAX - 5 * usToTicks(MAX_PERIOD_US). */
export const MAX_RELEASE_TIME = ((1n << 64n) - 1n) - 5n * (MAX_PERIOD_US * BigInt(TICKS_IN_US));
/** Root task and idle thread budget, in milliseconds (CONFIG_BOOT_THREAD_TIME_SLICE). */
export const CONFIG_BOOT_THREAD_TIME_SLICE = 5;

export function usToTicks(us: number): number {
  return us * TICKS_IN_US;
}
export function ticksToUs(ticks: number): number {
  return Math.floor(ticks / TICKS_IN_US);
}

// ---------------------------------------------------------------------------
// System calls (libsel4 generated syscall.h for the MCS API plus the <debug> list).
// Numbers are assigned in file order regardless of conditions, counting down from -1.
// ---------------------------------------------------------------------------

export enum seL4_Syscall {
  seL4_SysCall = -1,
  seL4_SysReplyRecv = -2,
  seL4_SysNBSendRecv = -3,
  seL4_SysNBSendWait = -4,
  seL4_SysSend = -5,
  seL4_SysNBSend = -6,
  seL4_SysRecv = -7,
  seL4_SysNBRecv = -8,
  seL4_SysWait = -9,
  seL4_SysNBWait = -10,
  seL4_SysYield = -11,
  // CONFIG_PRINTING
  seL4_SysDebugPutChar = -12,
  seL4_SysDebugDumpScheduler = -13,
  // CONFIG_DEBUG_BUILD
  seL4_SysDebugHalt = -14,
  seL4_SysDebugCapIdentify = -15,
  seL4_SysDebugSnapshot = -16,
  seL4_SysDebugNameThread = -17,
  // CONFIG_DEBUG_BUILD && CONFIG_ENABLE_SMP_SUPPORT (absent here)
  seL4_SysDebugSendIPI = -18,
  // CONFIG_DANGEROUS_CODE_INJECTION (absent here)
  seL4_SysDebugRun = -19,
  // CONFIG_ENABLE_BENCHMARKS (absent here)
  seL4_SysBenchmarkFlushCaches = -20,
  seL4_SysBenchmarkResetLog = -21,
  seL4_SysBenchmarkFinalizeLog = -22,
  seL4_SysBenchmarkSetLogBuffer = -23,
  seL4_SysBenchmarkNullSyscall = -24,
  // CONFIG_BENCHMARK_TRACK_UTILISATION (absent here)
  seL4_SysBenchmarkGetThreadUtilisation = -25,
  seL4_SysBenchmarkResetThreadUtilisation = -26,
  // CONFIG_DEBUG_BUILD && CONFIG_BENCHMARK_TRACK_UTILISATION (absent here)
  seL4_SysBenchmarkDumpAllThreadsUtilisation = -27,
  seL4_SysBenchmarkResetAllThreadsUtilisation = -28,
  // CONFIG_KERNEL_X86_DANGEROUS_MSR (absent here)
  seL4_SysX86DangerousWRMSR = -29,
  seL4_SysX86DangerousRDMSR = -30,
  // CONFIG_VTX (absent here)
  seL4_SysVMEnter = -31,
  // CONFIG_SET_TLS_BASE_SELF (absent on riscv: tp is a user register)
  seL4_SysSetTLSBase = -32,
}
/** Kernel SYSCALL_MAX / SYSCALL_MIN: the API range; anything else is handleUnknownSyscall. */
export const SYSCALL_MAX = -1;
export const SYSCALL_MIN = -11;
/** The debug syscalls that exist in this configuration (others raise UnknownSyscall faults). */
export const ENABLED_DEBUG_SYSCALLS: readonly seL4_Syscall[] = [
  seL4_Syscall.seL4_SysDebugPutChar,
  seL4_Syscall.seL4_SysDebugDumpScheduler,
  seL4_Syscall.seL4_SysDebugHalt,
  seL4_Syscall.seL4_SysDebugCapIdentify,
  seL4_Syscall.seL4_SysDebugSnapshot,
  seL4_Syscall.seL4_SysDebugNameThread,
];
export function isApiSyscall(n: number): boolean {
  return n >= SYSCALL_MIN && n <= SYSCALL_MAX;
}
export function isEnabledDebugSyscall(n: number): boolean {
  return n <= seL4_Syscall.seL4_SysDebugPutChar && n >= seL4_Syscall.seL4_SysDebugNameThread;
}

// ---------------------------------------------------------------------------
// Invocation labels (libsel4 generated invocation.h + sel4_arch + arch headers).
// invocation_label: InvalidInvocation = 0, then object-api.xml methods in file order
// whose <condition> holds (MCS=y, SMP=n, HARDWARE_DEBUG_API=n, CHERI=n); methods listed
// twice under exclusive MCS / non-MCS conditions give one label.
// sel4_arch_invocation_label starts at nInvocationLabels; riscv64 has no methods, so
// nSeL4ArchInvocationLabels = nInvocationLabels. arch_invocation_label starts at
// nSeL4ArchInvocationLabels.
// ---------------------------------------------------------------------------

export enum InvocationLabel {
  InvalidInvocation = 0,
  UntypedRetype = 1,
  TCBReadRegisters = 2,
  TCBWriteRegisters = 3,
  TCBCopyRegisters = 4,
  TCBConfigure = 5,
  TCBSetPriority = 6,
  TCBSetMCPriority = 7,
  TCBSetSchedParams = 8,
  TCBSetTimeoutEndpoint = 9,
  TCBSetIPCBuffer = 10,
  TCBSetSpace = 11,
  TCBSuspend = 12,
  TCBResume = 13,
  TCBBindNotification = 14,
  TCBUnbindNotification = 15,
  TCBSetTLSBase = 16,
  CNodeRevoke = 17,
  CNodeDelete = 18,
  CNodeCancelBadgedSends = 19,
  CNodeCopy = 20,
  CNodeMint = 21,
  CNodeMove = 22,
  CNodeMutate = 23,
  CNodeRotate = 24,
  IRQIssueIRQHandler = 25,
  IRQAckIRQ = 26,
  IRQSetIRQHandler = 27,
  IRQClearIRQHandler = 28,
  DomainSetSet = 29,
  SchedControlConfigureFlags = 30,
  SchedContextBind = 31,
  SchedContextUnbind = 32,
  SchedContextUnbindObject = 33,
  SchedContextConsumed = 34,
  SchedContextYieldTo = 35,
  // arch_invocation_label (riscv), first = nSeL4ArchInvocationLabels = 36
  RISCVPageTableMap = 36,
  RISCVPageTableUnmap = 37,
  RISCVPageMap = 38,
  RISCVPageUnmap = 39,
  RISCVPageGetAddress = 40,
  RISCVASIDControlMakePool = 41,
  RISCVASIDPoolAssign = 42,
  RISCVIRQIssueIRQHandlerTrigger = 43,
}
export const nInvocationLabels = 36;
export const nSeL4ArchInvocationLabels = 36;
export const nArchInvocationLabels = 44;

// ---------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------

/** seL4_FaultType for riscv with MCS (arch shared_types.bf). 4 (DebugException) is unused. */
export enum seL4_FaultType {
  seL4_Fault_NullFault = 0,
  seL4_Fault_CapFault = 1,
  seL4_Fault_UnknownSyscall = 2,
  seL4_Fault_UserException = 3,
  seL4_Fault_Timeout = 5,
  seL4_Fault_VMFault = 6,
}

/**
 * CapFault message (shared_types.h seL4_CapFault_Msg). MR3 onward is the lookup
 * failure description; how many MRs are written depends on the failure type
 * (see lookupFailureMsgLength), so Length is the maximum (guard mismatch).
 */
export const seL4_CapFault_Msg = {
  IP: 0,
  Addr: 1,
  InRecvPhase: 2,
  LookupFailureType: 3,
  BitsLeft: 4,
  DepthMismatch_BitsFound: 5,
  GuardMismatch_GuardFound: 5,
  GuardMismatch_BitsFound: 6,
  Length: 7,
} as const;
export const seL4_CapFault_IP = 0;
export const seL4_CapFault_Addr = 1;
export const seL4_CapFault_InRecvPhase = 2;
export const seL4_CapFault_LookupFailureType = 3;
export const seL4_CapFault_BitsLeft = 4;
export const seL4_CapFault_DepthMismatch_BitsFound = 5;
export const seL4_CapFault_GuardMismatch_GuardFound = 5;
export const seL4_CapFault_GuardMismatch_BitsFound = 6;

/**
 * UnknownSyscall message (riscv64 sel4_arch constants.h). The syscall number is carried
 * in a7, so a7 appears only as `Syscall`; A0..A6 are the argument registers.
 * A reply with label 0 writes back min(length, 10) MRs into FaultIP, sp, ra, a0..a6.
 */
export const seL4_UnknownSyscall_Msg = {
  FaultIP: 0,
  SP: 1,
  RA: 2,
  A0: 3,
  A1: 4,
  A2: 5,
  A3: 6,
  A4: 7,
  A5: 8,
  A6: 9,
  Syscall: 10,
  Length: 11,
} as const;

/**
 * UserException message (riscv64): no FLAGS word on RISC-V. Number is scause, Code is 0.
 * A reply with label 0 writes back min(length, 2) MRs into FaultIP and sp.
 */
export const seL4_UserException_Msg = {
  FaultIP: 0,
  SP: 1,
  Number: 2,
  Code: 3,
  Length: 4,
} as const;

/**
 * VMFault message (riscv64). FSR is normalised by the kernel: any load fault reports 5
 * (load access fault), any store fault 7, any instruction fault 1 with PrefetchFault = 1.
 */
export const seL4_VMFault_Msg = {
  IP: 0,
  Addr: 1,
  PrefetchFault: 2,
  FSR: 3,
  Length: 4,
} as const;

/** MCS timeout fault message: Data = the SC badge; Consumed is written only if the thread has an SC. */
export const seL4_Timeout_Msg = {
  Data: 0,
  Consumed: 1,
  Length: 2,
} as const;

/** Reply to a timeout fault (label 0 resumes): registers in this order, min(length, 32) of them. */
export const seL4_TimeoutReply_Msg = {
  FaultIP: 0,
  LR: 1,
  SP: 2,
  GP: 3,
  s0: 4,
  s1: 5,
  s2: 6,
  s3: 7,
  s4: 8,
  s5: 9,
  s6: 10,
  s7: 11,
  s8: 12,
  s9: 13,
  s10: 14,
  s11: 15,
  a0: 16,
  a1: 17,
  a2: 18,
  a3: 19,
  a4: 20,
  a5: 21,
  a6: 22,
  a7: 23,
  t0: 24,
  t1: 25,
  t2: 26,
  t3: 27,
  t4: 28,
  t5: 29,
  t6: 30,
  TP: 31,
  Length: 32,
} as const;

// Short aliases.
export const CapFaultMsg = seL4_CapFault_Msg;
export const UnknownSyscallMsg = seL4_UnknownSyscall_Msg;
export const UserExceptionMsg = seL4_UserException_Msg;
export const VMFaultMsg = seL4_VMFault_Msg;
export const TimeoutMsg = seL4_Timeout_Msg;
export const TimeoutReplyMsg = seL4_TimeoutReply_Msg;

// Kernel message sizes (n_msgRegisters, n_syscallMessage, ...) live in registers.ts.

// ---------------------------------------------------------------------------
// Syscall error replies (endpoint.c replyFromKernel_error, tcb.c setMRs_syscall_error).
// Label = seL4_Error, badge register = 0, capsUnwrapped = extraCaps = 0, length = MRs below.
// ---------------------------------------------------------------------------

export const SyscallErrorMsg = {
  /** seL4_InvalidArgument: MR0 = index of the bad argument. */
  InvalidArgumentNumber: 0,
  /** seL4_InvalidCapability: MR0 = index of the bad cap (0 = the invoked cap). */
  InvalidCapNumber: 0,
  /** seL4_RangeError: MR0 = min, MR1 = max. */
  RangeErrorMin: 0,
  RangeErrorMax: 1,
  /** seL4_NotEnoughMemory: MR0 = bytes left in the untyped. */
  MemoryLeft: 0,
} as const;

/**
 * seL4_FailedLookup error reply: MR0 = 1 if the failing lookup was a source operand,
 * else 0; MR1.. = the lookup failure, same shape as CapFault's MR3.. .
 */
export const seL4_FailedLookup_Msg = {
  FailedLookupWasSource: 0,
  LookupFailureType: 1,
  BitsLeft: 2,
  DepthMismatch_BitsFound: 3,
  GuardMismatch_GuardFound: 3,
  GuardMismatch_BitsFound: 4,
} as const;

/** Number of MRs a lookup failure description occupies (type word included). */
export function lookupFailureMsgLength(type: seL4_LookupFailureType): number {
  switch (type) {
    case seL4_LookupFailureType.seL4_InvalidRoot:
      return 1;
    case seL4_LookupFailureType.seL4_MissingCapability:
      return 2;
    case seL4_LookupFailureType.seL4_DepthMismatch:
      return 3;
    case seL4_LookupFailureType.seL4_GuardMismatch:
      return 4;
    default:
      return 0;
  }
}

/** RISC-V scause exception codes named as seL4 does (arch hardware.h / RISC-V privileged spec). */
export const RISCVException = {
  InstructionMisaligned: 0,
  InstructionAccessFault: 1,
  InstructionIllegal: 2,
  Breakpoint: 3,
  LoadAccessFault: 5,
  AddressMisaligned: 6,
  StoreAccessFault: 7,
  EnvCall: 8,
  InstructionPageFault: 12,
  LoadPageFault: 13,
  StorePageFault: 15,
} as const;
