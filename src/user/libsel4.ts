/**
 * libsel4 for TypeScript threads: the system calls of sel4/syscalls.h and the
 * message-register helpers, with libsel4's names and argument order. Blocking
 * calls are generators: `const info = yield* seL4_Call(ep, tag)`.
 *
 * As in libsel4, message registers live in the IPC buffer; the syscall stubs
 * move MR0..MR3 into the registers (a2..a5) before trapping and back after.
 */
import { IPCBUF_CAPS_OR_BADGES, IPCBUF_MSG, IPCBUF_RECEIVE_CNODE, IPCBUF_RECEIVE_DEPTH, IPCBUF_RECEIVE_INDEX } from '../kernel/kernel.js';
import { REG_A0, REG_A1, REG_A2, REG_A6, REG_T0 } from '../kernel/object/tcb.js';
import { seL4_MessageInfo_t } from './messageinfo.js';
import { seL4_Syscall } from '../abi/constants.js';
import { currentThread, UserThread } from './thread.js';
import { splitWord, Word, WordOut } from './word.js';

export * from './messageinfo.js';
export { WordOut } from './word.js';
export type { Word } from './word.js';

export type seL4_CPtr = number;


const split = { hi: 0, lo: 0 };

// ------------------------------------------------------- message registers

export function seL4_SetMR(i: number, v: Word): void {
  const u = currentThread();
  const w = u.ipcBufferWords();
  const o = u.ipcWordIndex + ((IPCBUF_MSG >>> 2) + 2 * i);
  if (typeof v === 'number' && v >= 0 && v <= 0xffffffff && Number.isInteger(v)) {
    w[o] = v;
    w[o + 1] = 0;
    return;
  }
  splitWord(v, split);
  w[o] = split.lo;
  w[o + 1] = split.hi;
}

/** MR i as a number (exact below 2^53). */
export function seL4_GetMR(i: number): number {
  const u = currentThread();
  const w = u.ipcBufferWords();
  const o = u.ipcWordIndex + ((IPCBUF_MSG >>> 2) + 2 * i);
  return w[o + 1]! * 4294967296 + w[o]!;
}

/** MR i as a full 64-bit word. */
export function seL4_GetMRWord(i: number): bigint {
  const u = currentThread();
  const w = u.ipcBufferWords();
  const o = u.ipcWordIndex + ((IPCBUF_MSG >>> 2) + 2 * i);
  return (BigInt(w[o + 1]!) << 32n) | BigInt(w[o]!);
}

/** Set extra cap i of the next message (caps_or_badges[i]). */
export function seL4_SetCap(i: number, cptr: seL4_CPtr): void {
  const u = currentThread();
  const w = u.ipcBufferWords();
  splitWord(cptr, split);
  const o = u.ipcWordIndex + ((IPCBUF_CAPS_OR_BADGES >>> 2) + 2 * i);
  w[o] = split.lo;
  w[o + 1] = split.hi;
}

/** The badge of an unwrapped cap i of the last message received. */
export function seL4_GetBadge(i: number): bigint {
  const u = currentThread();
  const w = u.ipcBufferWords();
  const o = u.ipcWordIndex + ((IPCBUF_CAPS_OR_BADGES >>> 2) + 2 * i);
  return (BigInt(w[o + 1]!) << 32n) | BigInt(w[o]!);
}

/** Where a received capability is placed: root CNode cptr, index within it and depth. */
export function seL4_SetCapReceivePath(root: seL4_CPtr, index: seL4_CPtr, depth: number): void {
  const u = currentThread();
  const p = u.ipcBufferOrThrow();
  const mem = u.machine.mem;
  mem.write64(p + IPCBUF_RECEIVE_CNODE, BigInt(root));
  mem.write64(p + IPCBUF_RECEIVE_INDEX, BigInt(index));
  mem.write64(p + IPCBUF_RECEIVE_DEPTH, BigInt(depth));
}

/** The user data word of the IPC buffer (libsel4 keeps a pointer there). */
export function seL4_GetUserData(): number {
  const u = currentThread();
  return Number(u.machine.mem.read64(u.ipcBufferOrThrow() + IPCBUF_MSG + 8 * 120));
}

// ---------------------------------------------------------------- plumbing

function setRegWord(u: UserThread, reg: number, v: Word): void {
  if (typeof v === 'number' && v >= 0 && v <= 0xffffffff && Number.isInteger(v)) {
    u.tcb.setReg(reg, 0, v);
    return;
  }
  splitWord(v, split);
  u.tcb.setReg(reg, split.hi, split.lo);
}

/** Copy MR0..MR3 from the IPC buffer into a2..a5 (if there is an IPC buffer). */
function loadMRs(u: UserThread, n: number): void {
  if (u.ipcBufferPaddr() < 0) return;
  const src = u.ipcBufferWords();
  const base = u.ipcWordIndex + (IPCBUF_MSG >>> 2);
  const regs = u.tcb.regs32;
  const m = n < 4 ? n : 4;
  for (let i = 0; i < m; i++) {
    regs[2 * (REG_A2 + i)] = src[base + 2 * i]!;
    regs[2 * (REG_A2 + i) + 1] = src[base + 2 * i + 1]!;
  }
}

/** Copy a2..a5 back into MR0..MR3 of the IPC buffer. */
function storeMRs(u: UserThread): void {
  if (u.ipcBufferPaddr() < 0) return;
  const dst = u.ipcBufferWords();
  const base = u.ipcWordIndex + (IPCBUF_MSG >>> 2);
  const regs = u.tcb.regs32;
  for (let i = 0; i < 4; i++) {
    dst[base + 2 * i] = regs[2 * (REG_A2 + i)]!;
    dst[base + 2 * i + 1] = regs[2 * (REG_A2 + i) + 1]!;
  }
}

function regWord(u: UserThread, reg: number): bigint {
  return (BigInt(u.tcb.getRegHi(reg)) << 32n) | BigInt(u.tcb.getRegLo(reg));
}

function infoOf(u: UserThread): seL4_MessageInfo_t {
  return u.tcb.getRegNumber(REG_A1);
}

function saveBadge(u: UserThread, sender: WordOut | null): void {
  if (sender !== null) {
    sender.hi = u.tcb.getRegHi(REG_A0);
    sender.lo = u.tcb.getRegLo(REG_A0);
  }
}

// ------------------------------------------------------------------ syscalls

export function* seL4_Send(dest: seL4_CPtr, info: seL4_MessageInfo_t): Generator<unknown, void, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, dest);
  setRegWord(u, REG_A1, info);
  loadMRs(u, info % 128);
  yield* u.syscall(seL4_Syscall.seL4_SysSend);
}

export function* seL4_NBSend(dest: seL4_CPtr, info: seL4_MessageInfo_t): Generator<unknown, void, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, dest);
  setRegWord(u, REG_A1, info);
  loadMRs(u, info % 128);
  yield* u.syscall(seL4_Syscall.seL4_SysNBSend);
}

export function* seL4_Call(dest: seL4_CPtr, info: seL4_MessageInfo_t): Generator<unknown, seL4_MessageInfo_t, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, dest);
  setRegWord(u, REG_A1, info);
  loadMRs(u, info % 128);
  yield* u.syscall(seL4_Syscall.seL4_SysCall);
  storeMRs(u);
  return infoOf(u);
}

export function* seL4_Recv(src: seL4_CPtr, sender: WordOut | null, reply: seL4_CPtr): Generator<unknown, seL4_MessageInfo_t, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, src);
  setRegWord(u, REG_A6, reply);
  yield* u.syscall(seL4_Syscall.seL4_SysRecv);
  storeMRs(u);
  saveBadge(u, sender);
  return infoOf(u);
}

export function* seL4_NBRecv(src: seL4_CPtr, sender: WordOut | null, reply: seL4_CPtr): Generator<unknown, seL4_MessageInfo_t, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, src);
  setRegWord(u, REG_A6, reply);
  yield* u.syscall(seL4_Syscall.seL4_SysNBRecv);
  storeMRs(u);
  saveBadge(u, sender);
  return infoOf(u);
}

export function* seL4_ReplyRecv(
  src: seL4_CPtr,
  info: seL4_MessageInfo_t,
  sender: WordOut | null,
  reply: seL4_CPtr,
): Generator<unknown, seL4_MessageInfo_t, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, src);
  setRegWord(u, REG_A1, info);
  setRegWord(u, REG_A6, reply);
  loadMRs(u, info % 128);
  yield* u.syscall(seL4_Syscall.seL4_SysReplyRecv);
  storeMRs(u);
  saveBadge(u, sender);
  return infoOf(u);
}

export function* seL4_NBSendRecv(
  dest: seL4_CPtr,
  info: seL4_MessageInfo_t,
  src: seL4_CPtr,
  sender: WordOut | null,
  reply: seL4_CPtr,
): Generator<unknown, seL4_MessageInfo_t, unknown> {
  const u = currentThread();
  setRegWord(u, REG_T0, dest);
  setRegWord(u, REG_A0, src);
  setRegWord(u, REG_A1, info);
  setRegWord(u, REG_A6, reply);
  loadMRs(u, info % 128);
  yield* u.syscall(seL4_Syscall.seL4_SysNBSendRecv);
  storeMRs(u);
  saveBadge(u, sender);
  return infoOf(u);
}

export function* seL4_NBSendWait(
  dest: seL4_CPtr,
  info: seL4_MessageInfo_t,
  src: seL4_CPtr,
  sender: WordOut | null,
): Generator<unknown, seL4_MessageInfo_t, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A6, dest);
  setRegWord(u, REG_A0, src);
  setRegWord(u, REG_A1, info);
  loadMRs(u, info % 128);
  yield* u.syscall(seL4_Syscall.seL4_SysNBSendWait);
  storeMRs(u);
  saveBadge(u, sender);
  return infoOf(u);
}

export function* seL4_Wait(src: seL4_CPtr, sender: WordOut | null): Generator<unknown, seL4_MessageInfo_t, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, src);
  yield* u.syscall(seL4_Syscall.seL4_SysWait);
  storeMRs(u);
  saveBadge(u, sender);
  return infoOf(u);
}

export function* seL4_NBWait(src: seL4_CPtr, sender: WordOut | null): Generator<unknown, seL4_MessageInfo_t, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, src);
  yield* u.syscall(seL4_Syscall.seL4_SysNBWait);
  storeMRs(u);
  saveBadge(u, sender);
  return infoOf(u);
}

/** Signal a notification: a Send of an empty message. */
export function* seL4_Signal(dest: seL4_CPtr): Generator<unknown, void, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, dest);
  u.tcb.setReg(REG_A1, 0, 0);
  yield* u.syscall(seL4_Syscall.seL4_SysSend);
}

/** Poll a notification: returns the word (0 if none pending) through sender. */
export function* seL4_Poll(src: seL4_CPtr, sender: WordOut | null): Generator<unknown, seL4_MessageInfo_t, unknown> {
  return yield* seL4_NBWait(src, sender);
}

export function* seL4_Yield(): Generator<unknown, void, unknown> {
  yield* currentThread().syscall(seL4_Syscall.seL4_SysYield);
}

// ------------------------------------------------------------------- debug

export function* seL4_DebugPutChar(c: number): Generator<unknown, void, unknown> {
  const u = currentThread();
  u.tcb.setReg(REG_A0, 0, c & 0xff);
  yield* u.syscall(seL4_Syscall.seL4_SysDebugPutChar);
}

export function* seL4_DebugPutString(s: string): Generator<unknown, void, unknown> {
  for (let i = 0; i < s.length; i++) yield* seL4_DebugPutChar(s.charCodeAt(i));
}

export function* seL4_DebugHalt(): Generator<unknown, void, unknown> {
  yield* currentThread().syscall(seL4_Syscall.seL4_SysDebugHalt);
}

export function* seL4_DebugCapIdentify(cap: seL4_CPtr): Generator<unknown, number, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, cap);
  yield* u.syscall(seL4_Syscall.seL4_SysDebugCapIdentify);
  return u.tcb.getRegLo(REG_A0);
}

export function* seL4_DebugNameThread(tcb: seL4_CPtr, name: string): Generator<unknown, void, unknown> {
  const u = currentThread();
  const p = u.ipcBufferOrThrow();
  const bytes = new TextEncoder().encode(name.slice(0, 63));
  const mem = u.machine.mem;
  for (let i = 0; i < bytes.length; i++) mem.write8(p + IPCBUF_MSG + i, bytes[i]!);
  mem.write8(p + IPCBUF_MSG + bytes.length, 0);
  setRegWord(u, REG_A0, tcb);
  yield* u.syscall(seL4_Syscall.seL4_SysDebugNameThread);
}

/**
 * Make a system call with an arbitrary number (unknown ones raise UnknownSyscall
 * faults). `args` are placed in a0, a1, ... (at most a0..a6); returns a0..a6 as
 * they are when the call completes (a fault handler's reply may rewrite them).
 */
export function* seL4_RawSyscall(n: number, args: readonly Word[] = []): Generator<unknown, bigint[], unknown> {
  const u = currentThread();
  for (let i = 0; i < args.length && i < 7; i++) setRegWord(u, REG_A0 + i, args[i]!);
  yield* u.syscall(n);
  const out: bigint[] = [];
  for (let i = 0; i < 7; i++) out.push(regWord(u, REG_A0 + i));
  return out;
}

// ------------------------------------------- messages without an IPC buffer

/**
 * libsel4's *WithMRs variants: MR0..MR3 are passed in and out of the message
 * registers through `mrs` (up to four words) instead of the IPC buffer, so a
 * thread without an IPC buffer can still send and receive short messages.
 */
function putMRs(u: UserThread, mrs: readonly Word[]): void {
  for (let i = 0; i < 4 && i < mrs.length; i++) setRegWord(u, REG_A2 + i, mrs[i]!);
}
function getMRs(u: UserThread, mrs: bigint[]): void {
  for (let i = 0; i < 4; i++) mrs[i] = regWord(u, REG_A2 + i);
}

export function* seL4_SendWithMRs(dest: seL4_CPtr, info: seL4_MessageInfo_t, mrs: readonly Word[]): Generator<unknown, void, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, dest);
  setRegWord(u, REG_A1, info);
  putMRs(u, mrs);
  yield* u.syscall(seL4_Syscall.seL4_SysSend);
}

export function* seL4_CallWithMRs(dest: seL4_CPtr, info: seL4_MessageInfo_t, mrs: bigint[]): Generator<unknown, seL4_MessageInfo_t, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, dest);
  setRegWord(u, REG_A1, info);
  putMRs(u, mrs);
  yield* u.syscall(seL4_Syscall.seL4_SysCall);
  getMRs(u, mrs);
  return infoOf(u);
}

export function* seL4_RecvWithMRs(
  src: seL4_CPtr,
  sender: WordOut | null,
  mrs: bigint[],
  reply: seL4_CPtr,
): Generator<unknown, seL4_MessageInfo_t, unknown> {
  const u = currentThread();
  setRegWord(u, REG_A0, src);
  setRegWord(u, REG_A6, reply);
  yield* u.syscall(seL4_Syscall.seL4_SysRecv);
  getMRs(u, mrs);
  saveBadge(u, sender);
  return infoOf(u);
}

// ------------------------------------------------------- machine registers

/**
 * Read one of the running thread's machine registers, by seL4_UserContext
 * index (pc 0, ra 1, sp 2, gp 3, s0..s11 4..15, a0..a7 16..23, t0..t6 24..30, tp 31).
 * What an instruction reading that register would see.
 */
export function sel4ts_GetRegister(index: number): bigint {
  return regWord(currentThread(), index);
}

/** Write one of the running thread's machine registers (seL4_UserContext index). */
export function sel4ts_SetRegister(index: number, v: Word): void {
  setRegWord(currentThread(), index, v);
}

// --------------------------------------------------------- user-level work

/** Spend ns of simulated CPU time computing (preemptible). */
export function* sel4ts_Work(ns: number): Generator<unknown, void, unknown> {
  yield* currentThread().work(ns);
}

/** Read a word of the thread's virtual memory (VM faults go to its fault handler). */
export function* sel4ts_Load(vaddr: number, size: 1 | 2 | 4 | 8 = 8): Generator<unknown, bigint, unknown> {
  return yield* currentThread().load(vaddr, size);
}

export function* sel4ts_Store(vaddr: number, value: Word, size: 1 | 2 | 4 | 8 = 8): Generator<unknown, void, unknown> {
  yield* currentThread().store(vaddr, size, value);
}

/** Raise a user exception as an illegal instruction would (scause number, code). */
export function* sel4ts_UserException(number: number, code = 0): Generator<unknown, void, unknown> {
  yield* currentThread().userException(number, code);
}
