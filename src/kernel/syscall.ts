/**
 * Kernel entry (seL4's syscall.c, MCS): system calls, invocations and their
 * decoding by cap type, receive, yield, interrupts and user faults.
 */
import { msgInfoGetLabel, msgInfoGetLength } from '../abi/messageinfo.js';
import { seL4_Syscall } from '../abi/constants.js';
import { Cap, CapType } from './cap.js';
import { decodeCNodeInvocation } from './cnode.js';
import { Exception, SeL4Error } from './errors.js';
import { replyFromKernelError, handleFault } from './faults.js';
import { decodeIRQControlInvocation, decodeIRQHandlerInvocation, handleInterrupt } from './irq.js';
import { sendIPC, receiveIPC } from './ipc/endpoint.js';
import { receiveSignal, sendSignal } from './ipc/notification.js';
import { doReplyTransfer } from './ipc/reply.js';
import { lookupExtraCaps, replyFromKernelSuccessEmpty } from './ipc/transfer.js';
import { Kernel, MSG_MAX_LENGTH, N_MSG_REGISTERS } from './kernel.js';
import { lookupCap, lookupSlot } from './lookup.js';
import type { Endpoint } from './object/endpoint.js';
import type { Notification } from './object/notification.js';
import type { Reply } from './object/reply.js';
import { FaultType, REG_A0, REG_A1, REG_A6, REG_NEXT_IP, REG_PC, REG_T0, TCB, ThreadState } from './object/tcb.js';
import { decodeTCBInvocation } from './tcbinvocation.js';
import { decodeDomainInvocation, decodeSchedContextInvocation, decodeSchedControlInvocation } from './schedinvocation.js';
import { decodeUntypedInvocation } from './untyped.js';
import { decodeArchInvocation } from './vspace/invocation.js';
import { chargeBudget, checkBudget, checkBudgetRestart, updateTimestamp } from './sched/time.js';
import { rescheduleRequired, schedule, setThreadState } from './sched/thread.js';
import { schedContextCompleteYieldTo } from './schedinvocation.js';
import { handleDebugSyscall } from './debug.js';
import { fastpathSyscall } from './fastpath.js';

/** The MCS system calls (numbers from libsel4's syscall.xml, via src/abi). */
export const Syscall = {
  Call: seL4_Syscall.seL4_SysCall,
  ReplyRecv: seL4_Syscall.seL4_SysReplyRecv,
  NBSendRecv: seL4_Syscall.seL4_SysNBSendRecv,
  NBSendWait: seL4_Syscall.seL4_SysNBSendWait,
  Send: seL4_Syscall.seL4_SysSend,
  NBSend: seL4_Syscall.seL4_SysNBSend,
  Recv: seL4_Syscall.seL4_SysRecv,
  NBRecv: seL4_Syscall.seL4_SysNBRecv,
  Wait: seL4_Syscall.seL4_SysWait,
  NBWait: seL4_Syscall.seL4_SysNBWait,
  Yield: seL4_Syscall.seL4_SysYield,
} as const;

/** Decode and perform an invocation of `cap` (seL4's decodeInvocation). */
function decodeInvocation(
  k: Kernel,
  label: number,
  length: number,
  cptrLo: number,
  slot: Slot,
  cap: Cap,
  block: boolean,
  call: boolean,
  canDonate: boolean,
  firstPhase: boolean,
): SeL4Error {
  switch (cap.type) {
    case CapType.Null:
    case CapType.Zombie:
      return k.invalidCapability(0);
    case CapType.Endpoint:
      if (!cap.canWrite()) return k.invalidCapability(0);
      setThreadState(k, k.curThread, ThreadState.Restart);
      sendIPC(k, block, call, cap.badgeHi, cap.badgeLo, cap.canGrant(), cap.canGrantReply(), canDonate, k.curThread, cap.obj as Endpoint);
      return SeL4Error.NoError;
    case CapType.Notification:
      if (!cap.canWrite()) return k.invalidCapability(0);
      setThreadState(k, k.curThread, ThreadState.Restart);
      sendSignal(k, cap.obj as Notification, cap.badgeHi, cap.badgeLo);
      return SeL4Error.NoError;
    case CapType.Reply:
      setThreadState(k, k.curThread, ThreadState.Restart);
      doReplyTransfer(k, k.curThread, cap.obj as Reply, cap.canGrant());
      return SeL4Error.NoError;
    case CapType.Thread:
      // MCS: the send phase of ReplyRecv / NBSendRecv / NBSendWait may not invoke these.
      if (firstPhase) return k.invalidCapability(0);
      return decodeTCBInvocation(k, label, length, cap, slot, call);
    case CapType.Domain:
      if (firstPhase) return k.invalidCapability(0);
      return decodeDomainInvocation(k, label, length);
    case CapType.CNode:
      if (firstPhase) return k.invalidCapability(0);
      return decodeCNodeInvocation(k, label, length, cap);
    case CapType.Untyped:
      return decodeUntypedInvocation(k, label, length, slot, cap);
    case CapType.IRQControl:
      return decodeIRQControlInvocation(k, label, length, slot);
    case CapType.IRQHandler:
      return decodeIRQHandlerInvocation(k, label, cap.word);
    case CapType.SchedControl:
      if (firstPhase) return k.invalidCapability(0);
      return decodeSchedControlInvocation(k, label, length, cap);
    case CapType.SchedContext:
      if (firstPhase) return k.invalidCapability(0);
      return decodeSchedContextInvocation(k, label, length, cap, call);
    default:
      void cptrLo;
      return decodeArchInvocation(k, label, length, slot, cap, call);
  }
}

import type { Slot } from './slot.js';

function capFault(k: Kernel, hi: number, lo: number, inReceivePhase: boolean): void {
  const f = k.curFault;
  f.type = FaultType.CapFault;
  f.addrHi = hi;
  f.addrLo = lo;
  f.inReceivePhase = inReceivePhase;
}

/** seL4's handleInvocation (MCS: firstPhase is the send phase of a combined send-receive). */
function handleInvocation(
  k: Kernel,
  isCall: boolean,
  isBlocking: boolean,
  canDonate: boolean,
  firstPhase: boolean,
  cptrReg: number,
): Exception {
  const t = k.curThread;
  const cptrHi = t.getRegHi(cptrReg);
  const cptrLo = t.getRegLo(cptrReg);
  const infoLo = t.getRegLo(REG_A1);
  const infoHi = t.getRegHi(REG_A1);
  const slot = lookupSlot(k, t, cptrHi, cptrLo);
  if (slot === null) {
    capFault(k, cptrHi, cptrLo, false);
    if (isBlocking) handleFault(k, t);
    return Exception.None;
  }
  const buffer = k.lookupIPCBuffer(false, t);
  if (!lookupExtraCaps(k, t, buffer, infoLo)) {
    if (isBlocking) handleFault(k, t);
    return Exception.None;
  }
  let length = msgInfoGetLength(infoLo);
  if (length > MSG_MAX_LENGTH) length = MSG_MAX_LENGTH;
  if (length > N_MSG_REGISTERS && buffer < 0) length = N_MSG_REGISTERS;
  k.curBuffer = buffer;
  const label = msgInfoGetLabel(infoHi, infoLo);
  k.err.type = SeL4Error.NoError;
  const status = decodeInvocation(k, label, length, cptrLo, slot, slot.cap, isBlocking, isCall, canDonate, firstPhase);
  k.curBuffer = -1;
  if (status !== SeL4Error.NoError) {
    if (isCall) replyFromKernelError(k, t);
    return Exception.None;
  }
  if (t.state === ThreadState.Restart) {
    if (isCall) replyFromKernelSuccessEmpty(t);
    setThreadState(k, t, ThreadState.Running);
  }
  return Exception.None;
}

/** seL4's handleRecv (MCS). */
function handleRecv(k: Kernel, isBlocking: boolean, canReply: boolean): void {
  const t = k.curThread;
  const hi = t.getRegHi(REG_A0);
  const lo = t.getRegLo(REG_A0);
  const cap = lookupCap(k, t, hi, lo);
  if (cap === null) {
    capFault(k, hi, lo, true);
    handleFault(k, t);
    return;
  }
  switch (cap.type) {
    case CapType.Endpoint: {
      if (!cap.canRead()) break;
      let replyCap: Cap = Cap.NULL;
      if (canReply) {
        const rc = lookupReply(k, t);
        if (rc === null) return;
        replyCap = rc;
      }
      receiveIPC(k, t, cap, isBlocking, replyCap);
      return;
    }
    case CapType.Notification: {
      const n = cap.obj as Notification;
      if (!cap.canRead() || (n.boundTCB !== null && n.boundTCB !== t)) break;
      receiveSignal(k, t, n, isBlocking);
      return;
    }
    default:
      break;
  }
  k.lookupFault.type = 2; // missing capability
  k.lookupFault.bitsLeft = 0;
  capFault(k, hi, lo, true);
  handleFault(k, t);
}

/**
 * seL4's lookupReply (MCS): the reply cap named by the replyRegister. A failed
 * lookup, or a cap that is not a reply object, is a cap fault on that cptr in
 * the receive phase (for a wrong cap type the lookup failure is left as it was).
 */
function lookupReply(k: Kernel, t: TCB): Cap | null {
  const rhi = t.getRegHi(REG_A6);
  const rlo = t.getRegLo(REG_A6);
  const rc = lookupCap(k, t, rhi, rlo);
  if (rc === null || rc.type !== CapType.Reply) {
    capFault(k, rhi, rlo, true);
    handleFault(k, t);
    return null;
  }
  return rc;
}

/** seL4's handleYield (MCS): give up the rest of the current budget. */
function handleYield(k: Kernel): void {
  const sc = k.curSC!;
  const consumed = sc.consumed + k.consumed;
  chargeBudget(k, sc.refills.headAmount, false);
  sc.consumed = consumed;
}

/** seL4's activateThread: a restarted thread re-executes its syscall or faulting instruction. */
function activateThread(k: Kernel): void {
  const t = k.curThread;
  if (t.yieldTo !== null) schedContextCompleteYieldTo(k, t);
  if (t.state === ThreadState.Restart) {
    t.setReg(REG_NEXT_IP, t.getRegHi(REG_PC), t.getRegLo(REG_PC));
    setThreadState(k, t, ThreadState.Running);
  }
}

/** Set while other cores take the reschedule IPIs of a kernel entry. */
let deliveringIPIs = false;

function kernelExit(k: Kernel): void {
  schedule(k);
  activateThread(k);
  if (deliveringIPIs) return; // the entry that sent the IPIs checks the invariants once all are taken
  if (k.ipiPending !== 0) deliverIPIs(k);
  if (k.invariantHook !== null) k.invariantHook(k);
}

/**
 * The reschedule IPIs sent during a kernel entry (seL4's doMaskReschedule):
 * once the entry has released the kernel, each target core takes its IPI,
 * in core order, as a kernel entry of its own at its clock (never before
 * the time the IPI was sent). IPIs sent while handling these are taken in
 * the same loop. The entering core is the executing one again afterwards.
 */
function deliverIPIs(k: Kernel): void {
  const self = k.node;
  const sentAt = self.curTime;
  deliveringIPIs = true;
  try {
    while (k.ipiPending !== 0) {
      const c = 31 - Math.clz32(k.ipiPending & -k.ipiPending);
      k.ipiPending &= ~(1 << c);
      k.enterCore(c);
      handleRescheduleIPI(k, k.clockOf(c, sentAt, true));
    }
  } finally {
    deliveringIPIs = false;
    k.node = self;
  }
}

/** A reschedule IPI taken by the executing core: charge the time, then choose a thread. */
function handleRescheduleIPI(k: Kernel, now: number): void {
  updateTimestamp(k, now);
  checkBudget(k);
  rescheduleRequired(k);
  kernelExit(k);
}

/**
 * A system call from the current thread. The caller (user runtime or hart) has
 * stored the arguments in the thread's registers, FaultIP at the syscall and
 * NextIP after it. `now` is the current time in ns.
 */
export function handleSyscall(k: Kernel, syscall: number, now: number): void {
  if ((syscall === Syscall.Call || syscall === Syscall.ReplyRecv) && fastpathSyscall(k, syscall, now)) return;
  const t = k.curThread;
  t.syscalls++;
  updateTimestamp(k, now);
  if (checkBudgetRestart(k)) {
    switch (syscall) {
      case Syscall.Send:
        handleInvocation(k, false, true, false, false, REG_A0);
        break;
      case Syscall.NBSend:
        handleInvocation(k, false, false, false, false, REG_A0);
        break;
      case Syscall.Call:
        handleInvocation(k, true, true, true, false, REG_A0);
        break;
      case Syscall.Recv:
        handleRecv(k, true, true);
        break;
      case Syscall.ReplyRecv:
        handleInvocation(k, false, false, true, true, REG_A6);
        handleRecv(k, true, true);
        break;
      case Syscall.NBSendRecv:
        handleInvocation(k, false, false, true, true, REG_T0);
        handleRecv(k, true, true);
        break;
      case Syscall.NBSendWait:
        handleInvocation(k, false, false, true, true, REG_A6);
        handleRecv(k, true, false);
        break;
      case Syscall.NBRecv:
        handleRecv(k, false, true);
        break;
      case Syscall.Wait:
        handleRecv(k, true, false);
        break;
      case Syscall.NBWait:
        handleRecv(k, false, false);
        break;
      case Syscall.Yield:
        handleYield(k);
        break;
      default:
        if (!handleDebugSyscall(k, syscall)) handleUnknownSyscall(k, syscall);
        break;
    }
  }
  kernelExit(k);
}

function handleUnknownSyscall(k: Kernel, syscall: number): void {
  const f = k.curFault;
  f.type = FaultType.UnknownSyscall;
  const w = BigInt.asUintN(64, BigInt(syscall));
  f.addrHi = Number(w >> 32n);
  f.addrLo = Number(w & 0xffffffffn);
  handleFault(k, k.curThread);
}

/** A user-level exception (illegal instruction, misaligned access...) from the hart. */
export function handleUserLevelFault(k: Kernel, number: number, code: number, now: number): void {
  updateTimestamp(k, now);
  if (checkBudgetRestart(k)) {
    const f = k.curFault;
    f.type = FaultType.UserException;
    f.w0 = number;
    f.w1 = code;
    handleFault(k, k.curThread);
  }
  kernelExit(k);
}

/** A VM fault (page fault) from the hart or the user runtime's memory access. */
export function handleVMFaultEvent(k: Kernel, addr: number, fsr: number, instructionFault: boolean, now: number): void {
  updateTimestamp(k, now);
  if (checkBudgetRestart(k)) {
    const f = k.curFault;
    f.type = FaultType.VMFault;
    f.addrLo = addr >>> 0;
    f.addrHi = Math.floor(addr / 4294967296) >>> 0;
    f.w0 = fsr;
    f.w1 = instructionFault ? 1 : 0;
    handleFault(k, k.curThread);
  }
  kernelExit(k);
}

/** An interrupt: the kernel timer (budget/release/domain events) or a device IRQ. */
export function handleInterruptEntry(k: Kernel, irq: number, now: number): void {
  updateTimestamp(k, now);
  checkBudget(k);
  if (irq >= 0) handleInterrupt(k, irq);
  else k.reprogram = true; // timer
  kernelExit(k);
}


/** A TypeScript thread's program returned: treated as the thread suspending itself. */
export function handleThreadExit(k: Kernel, now: number): void {
  updateTimestamp(k, now);
  const t = k.curThread;
  k.emit('exit', { thread: t.name });
  suspend(k, t);
  kernelExit(k);
}
import { suspend } from './sched/lifecycle.js';
