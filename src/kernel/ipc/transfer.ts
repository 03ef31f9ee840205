/**
 * Message transfer between threads (seL4's doIPCTransfer, doNormalTransfer,
 * copyMRs, transferCaps, getReceiveSlots) and the kernel's own replies.
 */
import { msgInfoGetExtraCaps, msgInfoGetLabel, msgInfoGetLength, msgInfoHi, msgInfoLo } from '../../abi/messageinfo.js';
import { CapType } from '../cap.js';
import { deriveCap } from '../derive.js';
import {
  IPCBUF_CAPS_OR_BADGES,
  IPCBUF_MSG,
  IPCBUF_RECEIVE_CNODE,
  IPCBUF_RECEIVE_DEPTH,
  IPCBUF_RECEIVE_INDEX,
  Kernel,
  MSG_MAX_EXTRA_CAPS,
  MSG_MAX_LENGTH,
  N_MSG_REGISTERS,
} from '../kernel.js';
import { lookupCap, lookupSlot, lookupTargetSlot } from '../lookup.js';
import { cteInsert } from '../mdb.js';
import type { Endpoint } from '../object/endpoint.js';
import { FaultType, REG_A0, REG_A1, REG_A2, TCB } from '../object/tcb.js';
import type { Slot } from '../slot.js';
import { setMRsFault } from '../faults.js';

/** The message info of a thread's msgInfoRegister, with length clamped to seL4_MsgMaxLength. */
export function msgLength(t: TCB): number {
  const len = msgInfoGetLength(t.getRegLo(REG_A1));
  return len > MSG_MAX_LENGTH ? MSG_MAX_LENGTH : len;
}
export function msgLabel(t: TCB): number {
  return msgInfoGetLabel(t.getRegHi(REG_A1), t.getRegLo(REG_A1));
}

/**
 * seL4's lookupExtraCaps: resolve the cptrs in the sender's IPC buffer into
 * k.extraCaps. On failure sets k.curFault to a cap fault and returns false.
 */
export function lookupExtraCaps(k: Kernel, t: TCB, buf: number, infoLo: number): boolean {
  const ec = k.extraCaps;
  ec[0] = null;
  ec[1] = null;
  ec[2] = null;
  if (buf < 0) return true;
  const n = msgInfoGetExtraCaps(infoLo);
  for (let i = 0; i < n; i++) {
    const a = buf + IPCBUF_CAPS_OR_BADGES + 8 * i;
    const hi = k.readWordHi(a);
    const lo = k.readWordLo(a);
    const s = lookupSlot(k, t, hi, lo);
    if (s === null) {
      const f = k.curFault;
      f.type = FaultType.CapFault;
      f.addrHi = hi;
      f.addrLo = lo;
      f.inReceivePhase = false;
      return false;
    }
    ec[i] = s;
  }
  return true;
}

/** seL4's copyMRs: registers first, then the IPC buffers if both exist. Returns the count copied. */
export function copyMRs(k: Kernel, sender: TCB, sendBuf: number, receiver: TCB, recvBuf: number, n: number): number {
  let i = 0;
  const s32 = sender.regs32;
  const r32 = receiver.regs32;
  for (; i < n && i < N_MSG_REGISTERS; i++) {
    const ri = 2 * (REG_A2 + i);
    r32[ri] = s32[ri]!;
    r32[ri + 1] = s32[ri + 1]!;
  }
  if (recvBuf < 0 || sendBuf < 0) return i;
  const m = n < MSG_MAX_LENGTH ? n : MSG_MAX_LENGTH;
  if (i < m) {
    k.mem.copy(recvBuf + IPCBUF_MSG + 8 * i, sendBuf + IPCBUF_MSG + 8 * i, 8 * (m - i));
    i = m;
  }
  return i;
}

/** seL4's getReceiveSlots: the empty slot the receiver named for a capability, or null. */
function getReceiveSlot(k: Kernel, receiver: TCB, buf: number): Slot | null {
  if (buf < 0) return null;
  const rootCap = lookupCap(k, receiver, k.readWordHi(buf + IPCBUF_RECEIVE_CNODE), k.readWordLo(buf + IPCBUF_RECEIVE_CNODE));
  if (rootCap === null) return null;
  const depth = k.readWordNumber(buf + IPCBUF_RECEIVE_DEPTH);
  const savedErr = k.err.type;
  const slot = lookupTargetSlot(k, rootCap, k.readWordHi(buf + IPCBUF_RECEIVE_INDEX), k.readWordLo(buf + IPCBUF_RECEIVE_INDEX), depth);
  k.err.type = savedErr;
  if (slot === null || !slot.isEmpty) return null;
  return slot;
}

/**
 * seL4's transferCaps: transfer (or unwrap) the extra caps; returns the
 * receiver's message-info low word with extraCaps and capsUnwrapped set.
 */
function transferCaps(k: Kernel, infoLo: number, caps: (Slot | null)[], ep: Endpoint | null, receiver: TCB, recvBuf: number): number {
  let lo = infoLo & ~(0x3 << 7) & ~(0x7 << 9);
  if (caps[0] === null || recvBuf < 0) return lo >>> 0;
  let dest = getReceiveSlot(k, receiver, recvBuf);
  let unwrapped = 0;
  let i = 0;
  for (; i < MSG_MAX_EXTRA_CAPS && caps[i] !== null; i++) {
    const slot = caps[i]!;
    const cap = slot.cap;
    if (cap.type === CapType.Endpoint && cap.obj === ep) {
      k.writeWord(recvBuf + IPCBUF_CAPS_OR_BADGES + 8 * i, cap.badgeHi, cap.badgeLo);
      unwrapped |= 1 << i;
    } else {
      if (dest === null) break;
      const d = deriveCap(k, slot, cap);
      if (d === null || d.isNull) break;
      cteInsert(d, slot, dest);
      dest = null;
    }
  }
  lo = lo | ((i & 3) << 7) | ((unwrapped & 7) << 9);
  return lo >>> 0;
}

/** seL4's doIPCTransfer: a normal message, or a fault message if the sender faulted. */
export function doIPCTransfer(
  k: Kernel,
  sender: TCB,
  ep: Endpoint | null,
  badgeHi: number,
  badgeLo: number,
  grant: boolean,
  receiver: TCB,
): void {
  const recvBuf = k.lookupIPCBuffer(true, receiver);
  if (sender.fault.type === FaultType.NullFault) {
    const sendBuf = k.lookupIPCBuffer(false, sender);
    doNormalTransfer(k, sender, sendBuf, ep, badgeHi, badgeLo, grant, receiver, recvBuf);
  } else {
    doFaultTransfer(k, badgeHi, badgeLo, sender, receiver, recvBuf);
  }
}

const noCaps: (Slot | null)[] = [null, null, null];

function doNormalTransfer(
  k: Kernel,
  sender: TCB,
  sendBuf: number,
  ep: Endpoint | null,
  badgeHi: number,
  badgeLo: number,
  canGrant: boolean,
  receiver: TCB,
  recvBuf: number,
): void {
  const tagHi = sender.getRegHi(REG_A1);
  const tagLo = sender.getRegLo(REG_A1);
  let caps = noCaps;
  if (canGrant && msgInfoGetExtraCaps(tagLo) !== 0) {
    if (lookupExtraCaps(k, sender, sendBuf, tagLo)) caps = k.extraCaps;
  }
  const len = msgInfoGetLength(tagLo);
  const transferred = copyMRs(k, sender, sendBuf, receiver, recvBuf, len > MSG_MAX_LENGTH ? MSG_MAX_LENGTH : len);
  let lo = transferCaps(k, tagLo, caps, ep, receiver, recvBuf);
  lo = ((lo & ~0x7f) | transferred) >>> 0;
  receiver.setReg(REG_A1, tagHi, lo);
  receiver.setReg(REG_A0, badgeHi, badgeLo);
}

function doFaultTransfer(k: Kernel, badgeHi: number, badgeLo: number, sender: TCB, receiver: TCB, recvBuf: number): void {
  const sent = setMRsFault(k, sender, receiver, recvBuf);
  const label = sender.fault.type;
  receiver.setReg(REG_A1, msgInfoHi(label), msgInfoLo(label, 0, 0, sent));
  receiver.setReg(REG_A0, badgeHi, badgeLo);
}

/** seL4's replyFromKernel_success_empty. */
export function replyFromKernelSuccessEmpty(t: TCB): void {
  t.setReg(REG_A0, 0, 0);
  t.setReg(REG_A1, 0, 0);
}
