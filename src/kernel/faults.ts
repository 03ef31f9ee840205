/**
 * Faults (seL4's faulthandler.c and the fault parts of ipc): delivering a
 * thread's fault to its fault or timeout endpoint as a message, replies to
 * faults, and the error replies of failed invocations.
 */
import { msgInfoGetLength, msgInfoHi, msgInfoLo } from '../abi/messageinfo.js';
import { seL4_Error } from '../abi/constants.js';
import { CapType } from './cap.js';
import type { Endpoint } from './object/endpoint.js';
import { SeL4Error } from './errors.js';
import type { Kernel } from './kernel.js';
import { N_MSG_REGISTERS } from './kernel.js';
import {
  FaultType,
  LookupFault,
  N_USER_CONTEXT_REGS,
  REG_A0,
  REG_A1,
  REG_NEXT_IP,
  REG_PC,
  REG_RA,
  REG_SP,
  TCB,
  TCB_FAULT_HANDLER,
  TCB_TIMEOUT_HANDLER,
  ThreadState,
} from './object/tcb.js';
import { sendIPC } from './ipc/endpoint.js';
import { setThreadState } from './sched/thread.js';
import { msgLabel } from './ipc/transfer.js';
import { schedContextUpdateConsumed } from './sched/schedcontext.js';

/** UnknownSyscall fault message registers, in message order (FaultIP, sp, ra, a0..a6). */
const SYSCALL_MESSAGE = [REG_PC, REG_SP, REG_RA, REG_A0, REG_A0 + 1, REG_A0 + 2, REG_A0 + 3, REG_A0 + 4, REG_A0 + 5, REG_A0 + 6];
/** UserException fault message registers (FaultIP, sp). */
const EXCEPTION_MESSAGE = [REG_PC, REG_SP];
/** Timeout fault reply registers: the whole seL4_UserContext, in its order. */
const TIMEOUT_REPLY_MESSAGE = Array.from({ length: N_USER_CONTEXT_REGS }, (_, i) => i);

/** seL4's handleFault: send the current fault to the thread's fault handler, or stop the thread. */
export function handleFault(k: Kernel, t: TCB): void {
  const canDonate = t.sc !== null && !t.inReleaseQueue;
  if (!sendFaultIPC(k, t, TCB_FAULT_HANDLER, canDonate)) handleNoFaultHandler(k, t);
}

export function validTimeoutHandler(t: TCB): boolean {
  return t.slots[TCB_TIMEOUT_HANDLER]!.cap.type === CapType.Endpoint;
}

export function handleTimeout(k: Kernel, t: TCB): void {
  sendFaultIPC(k, t, TCB_TIMEOUT_HANDLER, false);
}

function sendFaultIPC(k: Kernel, t: TCB, handlerSlot: number, canDonate: boolean): boolean {
  const h = t.slots[handlerSlot]!.cap;
  if (h.type !== CapType.Endpoint) return false;
  const f = t.fault;
  const c = k.curFault;
  f.type = c.type;
  f.addrHi = c.addrHi;
  f.addrLo = c.addrLo;
  f.inReceivePhase = c.inReceivePhase;
  f.w0 = c.w0;
  f.w1 = c.w1;
  f.badgeHi = c.badgeHi;
  f.badgeLo = c.badgeLo;
  if (c.type === FaultType.CapFault) t.lookupFault.set(k.lookupFault);
  k.emit('fault', { thread: t.name, type: FaultType[c.type] });
  sendIPC(k, true, false, h.badgeHi, h.badgeLo, h.canGrant(), h.canGrantReply(), canDonate, t, h.obj as Endpoint);
  return true;
}

function handleNoFaultHandler(k: Kernel, t: TCB): void {
  k.emit('fault', { thread: t.name, type: FaultType[k.curFault.type], handler: null });
  setThreadState(k, t, ThreadState.Inactive);
}

/** seL4's setMRs_lookup_failure: describe a lookup failure from message register `offset`. */
export function setMRsLookupFailure(k: Kernel, receiver: TCB, buf: number, lf: LookupFault, offset: number): number {
  let i = k.setMRNumber(receiver, buf, offset, lf.type);
  switch (lf.type) {
    case 1: // invalid root
      return i;
    case 2: // missing capability
      return k.setMRNumber(receiver, buf, offset + 1, lf.bitsLeft);
    case 3: // depth mismatch
      k.setMRNumber(receiver, buf, offset + 1, lf.bitsLeft);
      return k.setMRNumber(receiver, buf, offset + 2, lf.bitsFound);
    case 4: // guard mismatch
      k.setMRNumber(receiver, buf, offset + 1, lf.bitsLeft);
      k.setMR(receiver, buf, offset + 2, lf.guardFoundHi, lf.guardFoundLo);
      return k.setMRNumber(receiver, buf, offset + 3, lf.bitsFound);
    default:
      return i;
  }
}

function copyRegsToMRs(k: Kernel, sender: TCB, receiver: TCB, buf: number, regs: number[]): number {
  for (let i = 0; i < regs.length; i++) {
    const r = regs[i]!;
    k.setMR(receiver, buf, i, sender.getRegHi(r), sender.getRegLo(r));
  }
  return regs.length;
}

/** seL4's setMRs_fault: the fault message; returns its length. */
export function setMRsFault(k: Kernel, sender: TCB, receiver: TCB, buf: number): number {
  const f = sender.fault;
  switch (f.type) {
    case FaultType.CapFault:
      k.setMR(receiver, buf, 0, sender.getRegHi(REG_PC), sender.getRegLo(REG_PC));
      k.setMR(receiver, buf, 1, f.addrHi, f.addrLo);
      k.setMRNumber(receiver, buf, 2, f.inReceivePhase ? 1 : 0);
      return setMRsLookupFailure(k, receiver, buf, sender.lookupFault, 3);
    case FaultType.UnknownSyscall: {
      const n = copyRegsToMRs(k, sender, receiver, buf, SYSCALL_MESSAGE);
      return k.setMR(receiver, buf, n, f.addrHi, f.addrLo);
    }
    case FaultType.UserException: {
      const n = copyRegsToMRs(k, sender, receiver, buf, EXCEPTION_MESSAGE);
      k.setMRNumber(receiver, buf, n, f.w0);
      return k.setMRNumber(receiver, buf, n + 1, f.w1);
    }
    case FaultType.Timeout: {
      k.setMR(receiver, buf, 0, f.badgeHi, f.badgeLo);
      const sc = sender.sc;
      if (sc !== null) {
        return k.setMRNumber(receiver, buf, 1, schedContextUpdateConsumed(sc));
      }
      return 1;
    }
    case FaultType.VMFault:
      k.setMR(receiver, buf, 0, sender.getRegHi(REG_PC), sender.getRegLo(REG_PC));
      k.setMR(receiver, buf, 1, f.addrHi, f.addrLo);
      k.setMRNumber(receiver, buf, 2, f.w1);
      return k.setMRNumber(receiver, buf, 3, f.w0);
    default:
      return 0;
  }
}

function copyMRsToRegs(k: Kernel, sender: TCB, receiver: TCB, regs: number[], n: number): void {
  const buf = k.lookupIPCBuffer(false, sender);
  for (let i = 0; i < n && i < regs.length; i++) {
    const r = regs[i]!;
    if (i < N_MSG_REGISTERS || buf >= 0) receiver.setReg(r, k.getMRHi(sender, buf, i), k.getMRLo(sender, buf, i));
  }
  // A register write to the pc sets where the thread resumes.
  if (regs[0] === REG_PC && n > 0) receiver.setReg(REG_NEXT_IP, receiver.getRegHi(REG_PC), receiver.getRegLo(REG_PC));
}

/**
 * seL4's handleFaultReply: apply a fault handler's reply; returns whether the
 * faulting thread restarts.
 */
export function handleFaultReply(k: Kernel, receiver: TCB, sender: TCB): boolean {
  const label = msgLabel(sender);
  const length = msgInfoGetLength(sender.getRegLo(REG_A1));
  switch (receiver.fault.type) {
    case FaultType.CapFault:
      return true;
    case FaultType.UnknownSyscall:
      copyMRsToRegs(k, sender, receiver, SYSCALL_MESSAGE, Math.min(length, SYSCALL_MESSAGE.length));
      return label === 0;
    case FaultType.UserException:
      copyMRsToRegs(k, sender, receiver, EXCEPTION_MESSAGE, Math.min(length, EXCEPTION_MESSAGE.length));
      return label === 0;
    case FaultType.Timeout:
      copyMRsToRegs(k, sender, receiver, TIMEOUT_REPLY_MESSAGE, Math.min(length, TIMEOUT_REPLY_MESSAGE.length));
      return label === 0;
    case FaultType.VMFault:
      return true;
    default:
      return true;
  }
}

/** seL4's replyFromKernel_error: the error code as label, details in the message registers. */
export function replyFromKernelError(k: Kernel, t: TCB): void {
  const buf = k.lookupIPCBuffer(true, t);
  t.setReg(REG_A0, 0, 0);
  const e = k.err;
  let len = 0;
  switch (e.type) {
    case SeL4Error.InvalidArgument:
      len = k.setMRNumber(t, buf, 0, e.invalidArgumentNumber);
      break;
    case SeL4Error.InvalidCapability:
      len = k.setMRNumber(t, buf, 0, e.invalidCapNumber);
      break;
    case SeL4Error.RangeError:
      k.setMRNumber(t, buf, 0, e.rangeErrorMin);
      len = k.setMRNumber(t, buf, 1, e.rangeErrorMax);
      break;
    case SeL4Error.FailedLookup:
      k.setMRNumber(t, buf, 0, e.failedLookupWasSource ? 1 : 0);
      len = setMRsLookupFailure(k, t, buf, k.lookupFault, 1);
      break;
    case SeL4Error.NotEnoughMemory:
      len = k.setMRNumber(t, buf, 0, e.memoryLeft);
      break;
    default:
      len = 0;
  }
  t.setReg(REG_A1, msgInfoHi(e.type), msgInfoLo(e.type, 0, 0, len));
  k.emit('error', { thread: t.name, error: seL4_Error[e.type as number] });
}

