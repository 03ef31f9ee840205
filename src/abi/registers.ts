// RISC-V register conventions of seL4 13.0.0 (riscv64, MCS).
// Sources: libsel4 arch types.h / object-api-arch.xml (seL4_UserContext), kernel
// include/arch/riscv/arch/machine/registerset.h, src/arch/riscv/machine/registerset.c,
// src/arch/riscv/traps.S. See docs/abi-facts.md.

/** seL4_UserContext field order, as used by TCB_ReadRegisters / WriteRegisters. */
export enum UserContextReg {
  pc = 0,
  ra,
  sp,
  gp,
  s0,
  s1,
  s2,
  s3,
  s4,
  s5,
  s6,
  s7,
  s8,
  s9,
  s10,
  s11,
  a0,
  a1,
  a2,
  a3,
  a4,
  a5,
  a6,
  a7,
  t0,
  t1,
  t2,
  t3,
  t4,
  t5,
  t6,
  tp,
}
export const seL4_UserContext_NumRegs = 32;
export const seL4_UserContext_Bytes = seL4_UserContext_NumRegs * 8;

/**
 * The kernel's per-thread register file (enum _register in registerset.h): the order in
 * which trap_entry saves registers into the TCB, plus kernel-saved state.
 */
export enum KernelReg {
  ra = 0,
  sp = 1,
  gp = 2,
  tp = 3,
  t0 = 4,
  t1 = 5,
  t2 = 6,
  s0 = 7,
  s1 = 8,
  a0 = 9,
  a1 = 10,
  a2 = 11,
  a3 = 12,
  a4 = 13,
  a5 = 14,
  a6 = 15,
  a7 = 16,
  s2 = 17,
  s3 = 18,
  s4 = 19,
  s5 = 20,
  s6 = 21,
  s7 = 22,
  s8 = 23,
  s9 = 24,
  s10 = 25,
  s11 = 26,
  t3 = 27,
  t4 = 28,
  t5 = 29,
  t6 = 30,
  SCAUSE = 31,
  SSTATUS = 32,
  /** sepc at kernel entry: the address of the trapping instruction (restart PC). */
  FaultIP = 33,
  /** Where the thread resumes: loaded into sepc on return to user. */
  NextIP = 34,
}
export const n_contextRegisters = 35;

// Register roles (aliases in the kernel's enum).
export const LR = KernelReg.ra;
export const SP = KernelReg.sp;
export const GP = KernelReg.gp;
export const TP = KernelReg.tp;
export const TLS_BASE = KernelReg.tp;
/** Invoked / received-from cap pointer in, badge out. */
export const capRegister = KernelReg.a0;
export const badgeRegister = KernelReg.a0;
/** seL4_MessageInfo word, in and out. */
export const msgInfoRegister = KernelReg.a1;
/** MCS: the reply object cap pointer for Recv / ReplyRecv / NBSendRecv. */
export const replyRegister = KernelReg.a6;
/** MCS: destination cap pointer of NBSendRecv / NBSendWait. */
export const nbsendRecvDestRegister = KernelReg.t0;
/** The syscall number is read from a7 by trap_entry (not a kernel enum alias). */
export const syscallNumberRegister = KernelReg.a7;

/** MR0..MR3 live in a2..a5; MR4.. live in the IPC buffer msg[] array. */
export const msgRegisters: readonly KernelReg[] = [KernelReg.a2, KernelReg.a3, KernelReg.a4, KernelReg.a5];
export const n_msgRegisters = 4;

/**
 * "Frame" registers (TCB_CopyRegisters transfer_frame, first 16 UserContext slots).
 * Slot 0 (pc) is FaultIP.
 */
export const frameRegisters: readonly KernelReg[] = [
  KernelReg.FaultIP,
  KernelReg.ra,
  KernelReg.sp,
  KernelReg.gp,
  KernelReg.s0,
  KernelReg.s1,
  KernelReg.s2,
  KernelReg.s3,
  KernelReg.s4,
  KernelReg.s5,
  KernelReg.s6,
  KernelReg.s7,
  KernelReg.s8,
  KernelReg.s9,
  KernelReg.s10,
  KernelReg.s11,
];
export const n_frameRegisters = 16;

/** "Integer" (gp) registers: UserContext slots 16..31. */
export const gpRegisters: readonly KernelReg[] = [
  KernelReg.a0,
  KernelReg.a1,
  KernelReg.a2,
  KernelReg.a3,
  KernelReg.a4,
  KernelReg.a5,
  KernelReg.a6,
  KernelReg.a7,
  KernelReg.t0,
  KernelReg.t1,
  KernelReg.t2,
  KernelReg.t3,
  KernelReg.t4,
  KernelReg.t5,
  KernelReg.t6,
  KernelReg.tp,
];
export const n_gpRegisters = 16;

/** Kernel register for each seL4_UserContext slot (frameRegisters followed by gpRegisters). */
export const userContextToKernelReg: readonly KernelReg[] = [...frameRegisters, ...gpRegisters];

/** UnknownSyscall fault message registers (SYSCALL_MESSAGE); MR10 is the syscall number. */
export const syscallMessage: readonly KernelReg[] = [
  KernelReg.FaultIP,
  KernelReg.sp,
  KernelReg.ra,
  KernelReg.a0,
  KernelReg.a1,
  KernelReg.a2,
  KernelReg.a3,
  KernelReg.a4,
  KernelReg.a5,
  KernelReg.a6,
];
export const n_syscallMessage = 10;

/** UserException fault message registers (EXCEPTION_MESSAGE); MR2 = scause, MR3 = 0. */
export const exceptionMessage: readonly KernelReg[] = [KernelReg.FaultIP, KernelReg.sp];
export const n_exceptionMessage = 2;

/** MCS timeout-fault reply registers (TIMEOUT_REPLY_MESSAGE). */
export const timeoutReplyMessage: readonly KernelReg[] = [
  KernelReg.FaultIP,
  KernelReg.ra,
  KernelReg.sp,
  KernelReg.gp,
  KernelReg.s0,
  KernelReg.s1,
  KernelReg.s2,
  KernelReg.s3,
  KernelReg.s4,
  KernelReg.s5,
  KernelReg.s6,
  KernelReg.s7,
  KernelReg.s8,
  KernelReg.s9,
  KernelReg.s10,
  KernelReg.s11,
  KernelReg.a0,
  KernelReg.a1,
  KernelReg.a2,
  KernelReg.a3,
  KernelReg.a4,
  KernelReg.a5,
  KernelReg.a6,
  KernelReg.a7,
  KernelReg.t0,
  KernelReg.t1,
  KernelReg.t2,
  KernelReg.t3,
  KernelReg.t4,
  KernelReg.t5,
  KernelReg.t6,
  KernelReg.tp,
];
export const n_timeoutMessage = 32;

/**
 * PC conventions (traps.S): on every trap FaultIP = sepc. For an ecall (scause 8),
 * NextIP = sepc + 4; for other exceptions and interrupts NextIP = sepc. Return to user
 * loads sepc from NextIP. getRestartPC() reads FaultIP; setNextPC() writes NextIP.
 * A thread in Restart state is resumed with NextIP = FaultIP (re-executes the ecall).
 */
export const ECALL_INSTRUCTION_BYTES = 4;
/** sstatus.SPIE (bit 5): the only bit Arch_initContext sets in a new thread's SSTATUS. */
export const SSTATUS_SPIE = 1 << 5;
export const SSTATUS_SPP = 1 << 8;
/** scause of an ecall from U-mode. */
export const SCAUSE_ECALL_U = 8;
