/**
 * TCB invocations (seL4's tcb.c, MCS): registers, Configure, SetSpace,
 * SetIPCBuffer, priorities and MCP, scheduling parameters, timeout and fault
 * handlers, notification binding, suspend/resume and the TLS base.
 */
import { Cap, CapType, sameObjectAs } from './cap.js';
import { deriveCap, updateCapData } from './derive.js';
import { SeL4Error } from './errors.js';
import { cteDelete } from './delete.js';
import { Kernel, N_MSG_REGISTERS } from './kernel.js';
import { InvocationLabel } from './labels.js';
import { cteInsert } from './mdb.js';
import { bindNotification, unbindNotification } from './ipc/notification.js';
import type { Endpoint } from './object/endpoint.js';
import type { Notification } from './object/notification.js';
import type { SchedContext } from './object/schedcontext.js';
import {
  REG_A0,
  REG_A1,
  REG_NEXT_IP,
  REG_PC,
  REG_TP,
  TCB,
  TCB_BUFFER,
  TCB_CTABLE,
  TCB_FAULT_HANDLER,
  TCB_TIMEOUT_HANDLER,
  TCB_VTABLE,
  ThreadState,
} from './object/tcb.js';
import { msgInfoLo } from '../abi/messageinfo.js';
import type { Slot } from './slot.js';
import { tcbEPReorder, tcbSchedDequeue, tcbSchedEnqueue } from './sched/queues.js';
import { isSchedulable, rescheduleRequired, setThreadState } from './sched/thread.js';
import { restart, suspend } from './sched/lifecycle.js';
import { schedContextBindTCB, schedContextUnbindTCB } from './sched/schedcontext.js';
import { remoteTCBStall } from './sched/smp.js';
import { isValidVTableRoot } from './vspace/vspace.js';

/** seL4_IPCBufferSizeBits */
const IPC_BUFFER_SIZE_BITS = 10;
/** UserContext slots 0..15 are frame registers, 16..31 integer registers (riscv). */
const N_FRAME_REGISTERS = 16;
const N_GP_REGISTERS = 16;

/** Kernel register index of UserContext slot i (the layout is the same). */
function ucReg(i: number): number {
  return i;
}

function checkPrio(k: Kernel, prio: number, auth: TCB): boolean {
  if (prio > auth.mcp) {
    k.rangeError(0, auth.mcp);
    return false;
  }
  return true;
}

/** An endpoint usable as a fault handler: can send, and can grant or grant-reply; or null. */
function validFaultHandler(k: Kernel, c: Cap): boolean {
  if (c.type === CapType.Null) return true;
  if (c.type === CapType.Endpoint && c.canWrite() && (c.canGrant() || c.canGrantReply())) return true;
  k.err.type = SeL4Error.InvalidCapability;
  return false;
}

function checkValidIPCBuffer(k: Kernel, vptr: number, c: Cap): boolean {
  if (c.type !== CapType.Frame || c.isDevice) {
    k.error(SeL4Error.IllegalOperation);
    return false;
  }
  if (vptr % 2 ** IPC_BUFFER_SIZE_BITS !== 0) {
    k.error(SeL4Error.AlignmentError);
    return false;
  }
  return true;
}

/** seL4's isBlocked: waiting in an endpoint, notification or reply. */
function isBlocked(t: TCB): boolean {
  switch (t.state) {
    case ThreadState.BlockedOnReceive:
    case ThreadState.BlockedOnSend:
    case ThreadState.BlockedOnNotification:
    case ThreadState.BlockedOnReply:
      return true;
    default:
      return false;
  }
}

export function setPriority(k: Kernel, t: TCB, prio: number): void {
  switch (t.state) {
    case ThreadState.Running:
    case ThreadState.Restart:
      if (t.inReadyQueue || t === k.curThread) {
        tcbSchedDequeue(k, t);
        t.priority = prio;
        if (isSchedulable(t)) tcbSchedEnqueue(k, t);
        rescheduleRequired(k);
      } else {
        t.priority = prio;
      }
      break;
    case ThreadState.BlockedOnReceive:
    case ThreadState.BlockedOnSend:
      t.priority = prio;
      tcbEPReorder(t, t.blockingObject as Endpoint);
      break;
    case ThreadState.BlockedOnNotification:
      t.priority = prio;
      tcbEPReorder(t, t.blockingObject as Notification);
      break;
    default:
      t.priority = prio;
  }
}

export function setDomain(k: Kernel, t: TCB, dom: number): void {
  remoteTCBStall(k, t);
  tcbSchedDequeue(k, t);
  t.domain = dom;
  if (isSchedulable(t)) tcbSchedEnqueue(k, t);
  if (t === k.curThread) rescheduleRequired(k);
}

/** seL4's installTCBCap: replace one of the TCB's own caps, if source and TCB are still there. */
function installTCBCap(k: Kernel, target: TCB, tSlot: Slot | null, tCap: Cap, index: number, newCap: Cap, src: Slot | null): void {
  const root = target.slots[index]!;
  cteDelete(k, root, true);
  if (src !== null && !newCap.isNull && sameObjectAs(newCap, src.cap) && tSlot !== null && sameObjectAs(tCap, tSlot.cap)) {
    cteInsert(newCap, src, root);
  }
}

export function decodeTCBInvocation(k: Kernel, label: number, length: number, cap: Cap, slot: Slot, call: boolean): SeL4Error {
  const target = cap.obj as TCB;
  // Another core must not be running the thread while it is changed (or read).
  remoteTCBStall(k, target);
  switch (label) {
    case InvocationLabel.TCBReadRegisters:
      return decodeReadRegisters(k, target, length, call);
    case InvocationLabel.TCBWriteRegisters:
      return decodeWriteRegisters(k, target, length);
    case InvocationLabel.TCBCopyRegisters:
      return decodeCopyRegisters(k, target, length);
    case InvocationLabel.TCBSuspend:
      setThreadState(k, k.curThread, ThreadState.Restart);
      suspend(k, target);
      return SeL4Error.NoError;
    case InvocationLabel.TCBResume:
      setThreadState(k, k.curThread, ThreadState.Restart);
      restart(k, target);
      return SeL4Error.NoError;
    case InvocationLabel.TCBConfigure:
      return decodeConfigure(k, target, cap, slot, length);
    case InvocationLabel.TCBSetPriority:
    case InvocationLabel.TCBSetMCPriority: {
      const auth = k.extraCaps[0];
      if (length < 1 || auth === null) return k.error(SeL4Error.TruncatedMessage);
      const v = k.argNumber(0);
      if (auth.cap.type !== CapType.Thread) return k.invalidCapability(1);
      if (!checkPrio(k, v, auth.cap.obj as TCB)) return SeL4Error.RangeError;
      setThreadState(k, k.curThread, ThreadState.Restart);
      if (label === InvocationLabel.TCBSetPriority) setPriority(k, target, v);
      else target.mcp = v;
      return SeL4Error.NoError;
    }
    case InvocationLabel.TCBSetSchedParams:
      return decodeSetSchedParams(k, target, cap, slot, length);
    case InvocationLabel.TCBSetTimeoutEndpoint: {
      const th = k.extraCaps[0];
      if (th === null) return k.error(SeL4Error.TruncatedMessage);
      if (!validFaultHandler(k, th.cap)) {
        k.err.invalidCapNumber = 1;
        return SeL4Error.InvalidCapability;
      }
      setThreadState(k, k.curThread, ThreadState.Restart);
      installTCBCap(k, target, slot, cap, TCB_TIMEOUT_HANDLER, th.cap, th);
      return SeL4Error.NoError;
    }
    case InvocationLabel.TCBSetIPCBuffer: {
      const bufSlot = k.extraCaps[0];
      if (length < 1 || bufSlot === null) return k.error(SeL4Error.TruncatedMessage);
      const addr = k.argNumber(0);
      let bufCap = Cap.NULL;
      if (addr !== 0) {
        const d = deriveCap(k, bufSlot, bufSlot.cap);
        if (d === null) return k.err.type;
        bufCap = d;
        if (!checkValidIPCBuffer(k, addr, bufCap)) return k.err.type;
      }
      setThreadState(k, k.curThread, ThreadState.Restart);
      setIPCBuffer(k, target, cap, slot, addr, bufCap, addr === 0 ? null : bufSlot);
      return SeL4Error.NoError;
    }
    case InvocationLabel.TCBSetSpace:
      return decodeSetSpace(k, target, cap, slot, length);
    case InvocationLabel.TCBBindNotification: {
      const ns = k.extraCaps[0];
      if (ns === null) return k.error(SeL4Error.TruncatedMessage);
      if (target.boundNotification !== null) return k.error(SeL4Error.IllegalOperation);
      const nc = ns.cap;
      if (nc.type !== CapType.Notification) return k.error(SeL4Error.IllegalOperation);
      if (!nc.canRead()) return k.error(SeL4Error.IllegalOperation);
      const n = nc.obj as Notification;
      if (n.queueHead !== null || n.boundTCB !== null) return k.error(SeL4Error.IllegalOperation);
      setThreadState(k, k.curThread, ThreadState.Restart);
      bindNotification(target, n);
      return SeL4Error.NoError;
    }
    case InvocationLabel.TCBUnbindNotification:
      if (target.boundNotification === null) return k.error(SeL4Error.IllegalOperation);
      setThreadState(k, k.curThread, ThreadState.Restart);
      unbindNotification(target);
      return SeL4Error.NoError;
    case InvocationLabel.TCBSetTLSBase:
      if (length < 1) return k.error(SeL4Error.TruncatedMessage);
      setThreadState(k, k.curThread, ThreadState.Restart);
      target.setReg(REG_TP, k.argHi(0), k.argLo(0));
      if (target === k.curThread) rescheduleRequired(k);
      return SeL4Error.NoError;
    default:
      return k.error(SeL4Error.IllegalOperation);
  }
}

function setIPCBuffer(k: Kernel, target: TCB, tCap: Cap, tSlot: Slot, addr: number, bufCap: Cap, src: Slot | null): void {
  const bufferSlot = target.slots[TCB_BUFFER]!;
  cteDelete(k, bufferSlot, true);
  target.ipcBuffer = addr;
  if (src !== null && sameObjectAs(bufCap, src.cap) && sameObjectAs(tCap, tSlot.cap)) cteInsert(bufCap, src, bufferSlot);
  if (target === k.curThread) rescheduleRequired(k);
}

/** Derive the CSpace and VSpace root caps of Configure / SetSpace; null with the error set. */
function deriveRoots(k: Kernel, cRootData: [number, number], cSlot: Slot, vRootData: [number, number], vSlot: Slot): [Cap, Cap] | null {
  let cRoot = cSlot.cap;
  if (cRootData[0] !== 0 || cRootData[1] !== 0) cRoot = updateCapData(false, cRootData[0], cRootData[1], cRoot);
  const dc = deriveCap(k, cSlot, cRoot);
  if (dc === null) return null;
  if (dc.type !== CapType.CNode) {
    k.error(SeL4Error.IllegalOperation);
    return null;
  }
  let vRoot = vSlot.cap;
  if (vRootData[0] !== 0 || vRootData[1] !== 0) vRoot = updateCapData(false, vRootData[0], vRootData[1], vRoot);
  const dv = deriveCap(k, vSlot, vRoot);
  if (dv === null) return null;
  if (!isValidVTableRoot(k, dv)) {
    k.error(SeL4Error.IllegalOperation);
    return null;
  }
  return [dc, dv];
}

function decodeConfigure(k: Kernel, target: TCB, cap: Cap, slot: Slot, length: number): SeL4Error {
  const cSlot = k.extraCaps[0];
  const vSlot = k.extraCaps[1];
  const bSlot = k.extraCaps[2];
  if (length < 3 || cSlot === null || vSlot === null || bSlot === null) return k.error(SeL4Error.TruncatedMessage);
  const cData: [number, number] = [k.argHi(0), k.argLo(0)];
  const vData: [number, number] = [k.argHi(1), k.argLo(1)];
  const bufferAddr = k.argNumber(2);
  let bufCap = bSlot.cap;
  if (bufferAddr !== 0) {
    const d = deriveCap(k, bSlot, bufCap);
    if (d === null) return k.err.type;
    bufCap = d;
    if (!checkValidIPCBuffer(k, bufferAddr, bufCap)) return k.err.type;
  }
  const roots = deriveRoots(k, cData, cSlot, vData, vSlot);
  if (roots === null) return k.err.type;
  setThreadState(k, k.curThread, ThreadState.Restart);
  installTCBCap(k, target, slot, cap, TCB_CTABLE, roots[0], cSlot);
  installTCBCap(k, target, slot, cap, TCB_VTABLE, roots[1], vSlot);
  setIPCBuffer(k, target, cap, slot, bufferAddr, bufCap, bufferAddr === 0 ? null : bSlot);
  return SeL4Error.NoError;
}

function decodeSetSpace(k: Kernel, target: TCB, cap: Cap, slot: Slot, length: number): SeL4Error {
  const fhSlot = k.extraCaps[0];
  const cSlot = k.extraCaps[1];
  const vSlot = k.extraCaps[2];
  if (length < 2 || fhSlot === null || cSlot === null || vSlot === null) return k.error(SeL4Error.TruncatedMessage);
  const cData: [number, number] = [k.argHi(0), k.argLo(0)];
  const vData: [number, number] = [k.argHi(1), k.argLo(1)];
  const roots = deriveRoots(k, cData, cSlot, vData, vSlot);
  if (roots === null) return k.err.type;
  if (!validFaultHandler(k, fhSlot.cap)) {
    k.err.invalidCapNumber = 1;
    return SeL4Error.InvalidCapability;
  }
  setThreadState(k, k.curThread, ThreadState.Restart);
  installTCBCap(k, target, slot, cap, TCB_FAULT_HANDLER, fhSlot.cap, fhSlot);
  installTCBCap(k, target, slot, cap, TCB_CTABLE, roots[0], cSlot);
  installTCBCap(k, target, slot, cap, TCB_VTABLE, roots[1], vSlot);
  return SeL4Error.NoError;
}

function decodeSetSchedParams(k: Kernel, target: TCB, cap: Cap, slot: Slot, length: number): SeL4Error {
  const authSlot = k.extraCaps[0];
  const scSlot = k.extraCaps[1];
  const fhSlot = k.extraCaps[2];
  if (length < 2 || authSlot === null || scSlot === null || fhSlot === null) return k.error(SeL4Error.TruncatedMessage);
  const newMcp = k.argNumber(0);
  const newPrio = k.argNumber(1);
  if (authSlot.cap.type !== CapType.Thread) return k.invalidCapability(1);
  const auth = authSlot.cap.obj as TCB;
  if (!checkPrio(k, newMcp, auth)) return SeL4Error.RangeError;
  if (!checkPrio(k, newPrio, auth)) return SeL4Error.RangeError;
  let sc: SchedContext | null = null;
  const scCap = scSlot.cap;
  if (scCap.type === CapType.SchedContext) {
    sc = scCap.obj as SchedContext;
    if (target.sc !== null) return k.error(SeL4Error.IllegalOperation);
    if (sc.tcb !== null) return k.error(SeL4Error.IllegalOperation);
    if (isBlocked(target) && !sc.refills.released(k.curTime)) return k.error(SeL4Error.IllegalOperation);
  } else if (scCap.type === CapType.Null) {
    if (target === k.curThread) return k.error(SeL4Error.IllegalOperation);
  } else {
    return k.invalidCapability(2);
  }
  if (!validFaultHandler(k, fhSlot.cap)) return k.invalidCapability(3);
  setThreadState(k, k.curThread, ThreadState.Restart);
  installTCBCap(k, target, slot, cap, TCB_FAULT_HANDLER, fhSlot.cap, fhSlot);
  target.mcp = newMcp;
  setPriority(k, target, newPrio);
  if (sc !== null && sc !== target.sc) schedContextBindTCB(k, sc, target);
  else if (sc === null && target.sc !== null) schedContextUnbindTCB(k, target.sc, target);
  return SeL4Error.NoError;
}

function decodeReadRegisters(k: Kernel, target: TCB, length: number, call: boolean): SeL4Error {
  if (length < 2) return k.error(SeL4Error.TruncatedMessage);
  const flags = k.argLo(0);
  const n = k.argNumber(1);
  if (n < 1 || n > N_FRAME_REGISTERS + N_GP_REGISTERS) return k.rangeError(1, N_FRAME_REGISTERS + N_GP_REGISTERS);
  if (target === k.curThread) return k.error(SeL4Error.IllegalOperation);
  setThreadState(k, k.curThread, ThreadState.Restart);
  if ((flags & 1) !== 0) suspend(k, target);
  const t = k.curThread;
  if (call) {
    const buf = k.lookupIPCBuffer(true, t);
    t.setReg(REG_A0, 0, 0);
    let i = 0;
    for (; i < n; i++) {
      if (i >= N_MSG_REGISTERS && buf < 0) break;
      const r = ucReg(i);
      k.setMR(t, buf, i, target.getRegHi(r), target.getRegLo(r));
    }
    t.setReg(REG_A1, 0, msgInfoLo(0, 0, 0, i));
  }
  setThreadState(k, t, ThreadState.Running);
  return SeL4Error.NoError;
}

function decodeWriteRegisters(k: Kernel, target: TCB, length: number): SeL4Error {
  if (length < 2) return k.error(SeL4Error.TruncatedMessage);
  const flags = k.argLo(0);
  let w = k.argNumber(1);
  if (length - 2 < w) return k.error(SeL4Error.TruncatedMessage);
  if (target === k.curThread) return k.error(SeL4Error.IllegalOperation);
  setThreadState(k, k.curThread, ThreadState.Restart);
  if (w > N_FRAME_REGISTERS + N_GP_REGISTERS) w = N_FRAME_REGISTERS + N_GP_REGISTERS;
  for (let i = 0; i < w; i++) target.setReg(ucReg(i), k.argHi(i + 2), k.argLo(i + 2));
  target.setReg(REG_NEXT_IP, target.getRegHi(REG_PC), target.getRegLo(REG_PC));
  if ((flags & 1) !== 0) restart(k, target);
  return SeL4Error.NoError;
}

function decodeCopyRegisters(k: Kernel, target: TCB, length: number): SeL4Error {
  const src = k.extraCaps[0];
  if (length < 1 || src === null) return k.error(SeL4Error.TruncatedMessage);
  const flags = k.argLo(0);
  if (src.cap.type !== CapType.Thread) return k.invalidCapability(1);
  const from = src.cap.obj as TCB;
  // The source is read (and may be suspended) too: another core must not be
  // running it. seL4 stalls only the invoked TCB; without this a source
  // suspended here stays current, Inactive, on its core (found by the SMP fuzzer).
  remoteTCBStall(k, from);
  setThreadState(k, k.curThread, ThreadState.Restart);
  if ((flags & 1) !== 0) suspend(k, from);
  if ((flags & 2) !== 0) restart(k, target);
  if ((flags & 4) !== 0) {
    for (let i = 0; i < N_FRAME_REGISTERS; i++) target.setReg(ucReg(i), from.getRegHi(ucReg(i)), from.getRegLo(ucReg(i)));
    target.setReg(REG_NEXT_IP, target.getRegHi(REG_PC), target.getRegLo(REG_PC));
  }
  if ((flags & 8) !== 0) {
    for (let i = N_FRAME_REGISTERS; i < N_FRAME_REGISTERS + N_GP_REGISTERS; i++) {
      target.setReg(ucReg(i), from.getRegHi(ucReg(i)), from.getRegLo(ucReg(i)));
    }
  }
  if (target === k.curThread) rescheduleRequired(k);
  return SeL4Error.NoError;
}

