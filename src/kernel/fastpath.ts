/**
 * The IPC fastpath (seL4's fastpath_call and fastpath_reply_recv, MCS
 * variant): a Call to a passive server waiting on an endpoint, and a
 * ReplyRecv that returns the donated scheduling context to a caller, done
 * without the general decode, transfer and scheduler code.
 *
 * The fastpath only runs when its outcome is exactly what the slow path
 * (handleSyscall) would produce: same registers, thread states, queues, call
 * stack, SC bindings and scheduling decision. Every condition below that
 * fails hands the system call to the slow path, untouched.
 *
 * seL4's conditions: the message fits in registers with no extra caps and
 * the caller has no pending fault; the cptr names an endpoint cap with send
 * (Call) or receive (ReplyRecv) rights; for Call a receiver is waiting, has
 * a valid VSpace root, the same domain, no SC of its own (passive) and a
 * reply object, the cap has grant or grant-reply rights, and the receiver
 * is not of lower priority than a ready thread; for ReplyRecv the reply cap
 * names a reply object at the head of a call stack whose SC is the current
 * one, the caller has no fault, a valid VSpace root, the same domain, no SC,
 * and is the highest-priority ready thread, no sender is queued on the
 * endpoint and no signal is pending on the bound notification.
 *
 * seL4's fastpath relies on the timer interrupt and on kernel invariants
 * for the rest; sel4ts checks those explicitly, so the slow path's entry work
 * (budget check, release of due refills, domain end) has nothing to do:
 * the current SC must still be sufficient for the time consumed, no release
 * may be due, the domain must not end, and both threads must be in the
 * states the invariants promise (not queued, no pending YieldTo). With an
 * observer attached (traces, the web view) the slow path runs, so every
 * event it reports is there.
 */
import { EndpointState } from './object/endpoint.js';
import type { Endpoint } from './object/endpoint.js';
import { NotificationState } from './object/notification.js';
import type { Reply } from './object/reply.js';
import { CapType, RIGHT_GRANT, RIGHT_GRANT_REPLY, RIGHT_READ, RIGHT_WRITE } from './cap.js';
import type { Cap } from './cap.js';
import { Kernel, SchedulerAction } from './kernel.js';
import { WORD_BITS } from './cspace.js';
import type { CNode } from './object/cnode.js';
import { FaultType, REG_A0, REG_A1, REG_A2, REG_A6, TCB, TCB_CTABLE, TCB_VTABLE, ThreadState } from './object/tcb.js';
import { tcbEPAppend } from './sched/queues.js';
import { updateTimestamp } from './sched/time.js';

/** The fastpath is on unless turned off (tests compare both; benchmarks report both). */
export const fastpathConfig = { enabled: true };

export function setFastpathEnabled(on: boolean): void {
  fastpathConfig.enabled = on;
}

/** How often each fastpath ran and how often a Call / ReplyRecv fell back to the slow path. */
export const fastpathStats = { call: 0, replyRecv: 0, fallback: 0 };

export function resetFastpathStats(): void {
  fastpathStats.call = 0;
  fastpathStats.replyRecv = 0;
  fastpathStats.fallback = 0;
}

const SYS_CALL = -1;
const SYS_REPLY_RECV = -2;

/** Message info low bits checked by fastpath_mi_check: length (7 bits) and extraCaps (2 bits). */
const MI_CHECK_MASK = 0x1ff;
const N_MSG_REGISTERS = 4;
/** capsUnwrapped field of the message info (bits 9..11). */
const CAPS_UNWRAPPED_MASK = 0x7 << 9;

const A0_LO = 2 * REG_A0;
const A1_LO = 2 * REG_A1;
const A2_LO = 2 * REG_A2;
const A6_LO = 2 * REG_A6;

/**
 * Try the fastpath for a Call or ReplyRecv. Returns true if the system call
 * has been completed (kernel exit included), false if the slow path must run.
 */
export function fastpathSyscall(k: Kernel, syscall: number, now: number): boolean {
  if (!fastpathConfig.enabled) return false;
  const done = syscall === SYS_CALL ? fastpathCall(k, now) : syscall === SYS_REPLY_RECV ? fastpathReplyRecv(k, now) : false;
  if (!done) fastpathStats.fallback++;
  return done;
}

/**
 * Entry conditions shared by both paths: read the clock as the slow path
 * does, then require that its budget check, release of due threads and
 * domain handling would all be no-ops and that the current thread runs on
 * the current SC in the state the invariants promise.
 */
function entryIsQuiet(k: Kernel, t: TCB, now: number): boolean {
  updateTimestamp(k, now);
  const sc = t.sc;
  if (sc === null || sc !== k.curSC || sc.tcb !== t) return false;
  if (k.schedulerAction !== SchedulerAction.ResumeCurrentThread || k.observer !== null) return false;
  if (!sc.refills.refillSufficient(k.consumed)) return false;
  if (k.domainTime === 0) return false;
  const rel = k.releaseHead;
  if (rel !== null && rel.sc!.refills.refillReady(k.curTime)) return false;
  if (t.inReadyQueue || t.inReleaseQueue) return false;
  return t.fault.type === FaultType.NullFault;
}

/**
 * The thread about to be switched to can be switched to directly (no queue
 * membership, no YieldTo, valid VSpace, and last run on this core, so no
 * migration is needed).
 */
function canSwitchDirectly(k: Kernel, to: TCB): boolean {
  if (to.inReadyQueue || to.inReleaseQueue || to.yieldTo !== null) return false;
  if (to.affinity !== k.node.core) return false;
  if (to.domain !== k.curDomain) return false;
  const vt: Cap = to.slots[TCB_VTABLE]!.cap;
  if (vt.type !== CapType.PageTable || !vt.isMapped) return false;
  return noneReadyAbove(k, to.priority);
}

/** Bits [shift, shift + n) of the word hi:lo, n in 1..32, as a uint32. */
function bitField(hi: number, lo: number, shift: number, n: number): number {
  let v: number;
  if (shift >= 32) v = hi >>> (shift - 32);
  else if (shift === 0) v = lo;
  else v = (lo >>> shift) | (hi << (32 - shift));
  return n === 32 ? v >>> 0 : (v & ((1 << n) - 1)) >>> 0;
}

/**
 * seL4's lookup_fp: the cap a thread's cptr names, resolving all 64 bits from
 * its CSpace root and stopping early at a non-CNode cap, exactly as
 * resolveAddressBits succeeds; null on any lookup failure (the slow path then
 * reports the fault) and for radices over 31 bits (which no RAM can hold).
 */
export function lookupFp(t: TCB, hi: number, lo: number): Cap | null {
  let cap: Cap = t.slots[TCB_CTABLE]!.cap;
  let bits = WORD_BITS;
  while (cap.type === CapType.CNode) {
    const radix = cap.radix;
    const guardSize = cap.guardSize;
    const level = radix + guardSize;
    if (level > bits || radix > 31) return null;
    const shift = bits - level;
    if (guardSize > 0) {
      const g = shift + radix;
      if (guardSize <= 32) {
        if (bitField(hi, lo, g, guardSize) !== cap.guardLo || cap.guardHi !== 0) return null;
      } else if (bitField(hi, lo, g, 32) !== cap.guardLo || bitField(hi, lo, g + 32, guardSize - 32) !== cap.guardHi) {
        return null;
      }
    }
    const index = radix === 0 ? 0 : bitField(hi, lo, shift, radix);
    cap = (cap.obj as CNode).slot(index).cap;
    bits = shift;
    if (bits === 0) return cap;
  }
  return bits === WORD_BITS ? null : cap;
}

/**
 * seL4's isHighestPrio for the domain chooseThread looks at: no ready thread
 * has a higher priority than `prio` (the ready-queue bitmap, from the top).
 */
function noneReadyAbove(k: Kernel, prio: number): boolean {
  const bm = k.readyBitmap;
  const words = (k.config.numPriorities + 31) >>> 5;
  const base = (k.config.numDomains > 1 ? k.curDomain : 0) * words;
  const pw = prio >>> 5;
  for (let w = words - 1; w > pw; w--) if (bm[base + w] !== 0) return false;
  return bm[base + pw]! >>> (prio & 31) >>> 1 === 0;
}

/**
 * The cap named by the cptr in a register (index of its low half in regs32).
 * A CSpace root that resolves all 64 bits in one level (guard + radix = 64,
 * as for the root task and most processes) is looked up inline.
 */
function lookupRegCap(t: TCB, reg: number): Cap | null {
  const regs = t.regs32;
  const hi = regs[reg + 1]!;
  const lo = regs[reg]!;
  const root: Cap = t.slots[TCB_CTABLE]!.cap;
  const radix = root.radix;
  if (root.type === CapType.CNode && radix + root.guardSize === WORD_BITS && radix < 32) {
    // The guard is bits [radix, 64) of the cptr (radix >= 64 - 58 here).
    if (((lo >>> radix) | (hi << (32 - radix))) >>> 0 !== root.guardLo || hi >>> radix !== root.guardHi) return null;
    return (root.obj as CNode).slot(lo & ((1 << radix) - 1)).cap;
  }
  return lookupFp(t, hi, lo);
}

/** fastpath_copy_mrs: the first `n` (at most four) message registers. */
function copyRegisterMRs(from: Uint32Array, to: Uint32Array, n: number): void {
  for (let i = 0; i < 2 * n; i++) to[A2_LO + i] = from[A2_LO + i]!;
}

function kernelExit(k: Kernel): void {
  if (k.invariantHook !== null) k.invariantHook(k);
}

/** seL4's fastpath_call (MCS). */
function fastpathCall(k: Kernel, now: number): boolean {
  const t = k.curThread;
  const regs = t.regs32;
  const infoLo = regs[A1_LO]!;
  if ((infoLo & MI_CHECK_MASK) > N_MSG_REGISTERS) return false;
  if (!entryIsQuiet(k, t, now)) return false;
  const cap = lookupRegCap(t, A0_LO);
  if (cap === null || cap.type !== CapType.Endpoint || (cap.rights & RIGHT_WRITE) === 0) return false;
  if ((cap.rights & (RIGHT_GRANT | RIGHT_GRANT_REPLY)) === 0) return false;
  const ep = cap.obj as Endpoint;
  if (ep.state !== EndpointState.Recv) return false;
  const dest = ep.queueHead!;
  if (dest.sc !== null) return false;
  const reply = dest.replyObject;
  if (reply === null) return false;
  if (!canSwitchDirectly(k, dest)) return false;

  // --- point of no return ---
  t.syscalls++;
  fastpathStats.call++;
  const sc = t.sc!;
  const next = dest.epNext;
  ep.queueHead = next;
  if (next !== null) next.epPrev = null;
  else {
    ep.queueTail = null;
    ep.state = EndpointState.Idle;
  }
  dest.epNext = null;
  dest.epPrev = null;

  // The message: registers, badge and message info with capsUnwrapped cleared.
  const d = dest.regs32;
  copyRegisterMRs(regs, d, infoLo & 0x7f);
  d[A1_LO] = (infoLo & ~CAPS_UNWRAPPED_MASK) >>> 0;
  d[A1_LO + 1] = regs[A1_LO + 1]!;
  d[A0_LO] = cap.badgeLo;
  d[A0_LO + 1] = cap.badgeHi;

  // The caller blocks on the receiver's reply object and donates its SC.
  dest.replyObject = null;
  reply.tcb = t;
  t.replyObject = reply;
  t.state = ThreadState.BlockedOnReply;
  const oldCaller: Reply | null = sc.reply;
  reply.prev = oldCaller;
  if (oldCaller !== null) {
    oldCaller.next = reply;
    oldCaller.nextSC = null;
  }
  reply.next = null;
  reply.nextSC = sc;
  sc.reply = reply;
  t.sc = null;
  sc.tcb = dest;
  dest.sc = sc;
  dest.state = ThreadState.Running;
  k.curThread = dest;
  kernelExit(k);
  return true;
}

/** seL4's fastpath_reply_recv (MCS). */
function fastpathReplyRecv(k: Kernel, now: number): boolean {
  const t = k.curThread;
  const regs = t.regs32;
  const infoLo = regs[A1_LO]!;
  if ((infoLo & MI_CHECK_MASK) > N_MSG_REGISTERS) return false;
  if (!entryIsQuiet(k, t, now)) return false;
  const epCap = lookupRegCap(t, A0_LO);
  if (epCap === null || epCap.type !== CapType.Endpoint || (epCap.rights & RIGHT_READ) === 0) return false;
  const replyCap = lookupRegCap(t, A6_LO);
  if (replyCap === null || replyCap.type !== CapType.Reply) return false;
  const ntfn = t.boundNotification;
  if (ntfn !== null && ntfn.state === NotificationState.Active) return false;
  const ep = epCap.obj as Endpoint;
  if (ep.state === EndpointState.Send) return false;
  const reply = replyCap.obj as Reply;
  const sc = t.sc!;
  const caller = reply.tcb;
  if (caller === null || reply.nextSC !== sc || t.replyObject !== null) return false;
  if (caller.state !== ThreadState.BlockedOnReply || caller.fault.type !== FaultType.NullFault) return false;
  if (caller.sc !== null) return false;
  if (!canSwitchDirectly(k, caller)) return false;
  // doReplyTransfer gives the SC back only if it can run now; otherwise it postpones or raises a timeout.
  if (!(sc.refills.refillReady(k.curTime) && sc.refills.refillSufficient(0))) return false;

  // --- point of no return ---
  t.syscalls++;
  fastpathStats.replyRecv++;

  // Pop the call stack and give the SC back to the caller.
  const prev = reply.prev;
  sc.reply = prev;
  if (prev !== null) {
    prev.next = null;
    prev.nextSC = sc;
  }
  t.sc = null;
  sc.tcb = caller;
  caller.sc = sc;
  reply.prev = null;
  reply.next = null;
  reply.nextSC = null;
  caller.replyObject = null;

  // The reply message: no badge, capsUnwrapped cleared.
  const c = caller.regs32;
  copyRegisterMRs(regs, c, infoLo & 0x7f);
  c[A1_LO] = (infoLo & ~CAPS_UNWRAPPED_MASK) >>> 0;
  c[A1_LO + 1] = regs[A1_LO + 1]!;
  c[A0_LO] = 0;
  c[A0_LO + 1] = 0;
  caller.state = ThreadState.Running;

  // The current thread waits on the endpoint with the reply object.
  t.state = ThreadState.BlockedOnReceive;
  t.blockingObject = ep;
  t.replyObject = reply;
  reply.tcb = t;
  if (ep.queueTail === null) {
    t.epPrev = null;
    t.epNext = null;
    ep.queueHead = t;
    ep.queueTail = t;
  } else {
    tcbEPAppend(t, ep);
  }
  ep.state = EndpointState.Recv;
  k.curThread = caller;
  kernelExit(k);
  return true;
}
