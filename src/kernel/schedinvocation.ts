/**
 * Scheduling invocations (MCS), following seL4 13.0.0:
 * src/object/schedcontrol.c (SchedControl_ConfigureFlags),
 * src/object/schedcontext.c (SchedContext Bind, Unbind, UnbindObject,
 * Consumed, YieldTo) and src/object/domain.c (DomainSet_Set).
 */
import { msgInfoHi, msgInfoLo } from '../abi/messageinfo.js';
import { Cap, CapType } from './cap.js';
import { SeL4Error } from './errors.js';
import type { Kernel } from './kernel.js';
import { InvocationLabel } from './labels.js';
import type { Notification } from './object/notification.js';
import type { SchedContext } from './object/schedcontext.js';
import { REG_A1, TCB, ThreadState } from './object/tcb.js';
import { MAX_PERIOD_US, MIN_BUDGET, MIN_BUDGET_US, MIN_REFILLS, usToTicks } from './sched/refill.js';
import { tcbReleaseRemove, tcbSchedDequeue, tcbSchedEnqueue } from './sched/queues.js';
import { isBlocked, isRunnable, isSchedulable, noteSliceEnd, possibleSwitchTo, rescheduleRequired, setThreadState } from './sched/thread.js';
import {
  schedContextBindNtfn,
  schedContextBindTCB,
  schedContextCancelYieldTo,
  schedContextResume,
  schedContextUnbindAllTCBs,
  schedContextUnbindNtfn,
  schedContextUnbindTCB,
  schedContextUpdateConsumed,
} from './sched/schedcontext.js';
import { checkBudget, commitTime } from './sched/time.js';
import { setDomain } from './tcbinvocation.js';
import { migrateTCB, remoteTCBStall } from './sched/smp.js';

/** seL4_SchedContext_Sporadic */
export const SCHED_CONTEXT_SPORADIC = 1;

// ------------------------------------------------------------ SchedControl

/** seL4's decodeSchedControlInvocation / decodeSchedControl_ConfigureFlags. */
export function decodeSchedControlInvocation(k: Kernel, label: number, length: number, cap: Cap): SeL4Error {
  if (label !== InvocationLabel.SchedControlConfigureFlags) return k.error(SeL4Error.IllegalOperation);
  const target = k.extraCaps[0];
  if (target === null) return k.error(SeL4Error.TruncatedMessage);
  // TIME_ARG_SIZE is one word on 64-bit: budget, period, extra_refills, badge, flags.
  if (length < 5) return k.error(SeL4Error.TruncatedMessage);
  const budgetUs = k.argNumber(0);
  const periodUs = k.argNumber(1);
  const extraRefills = k.argNumber(2);
  const badgeHi = k.argHi(3);
  const badgeLo = k.argLo(3);
  const flags = k.argLo(4);
  const tc = target.cap;
  if (tc.type !== CapType.SchedContext) return k.invalidCapability(1);
  const budget = usToTicks(budgetUs);
  const period = usToTicks(periodUs);
  if (budgetUs > MAX_PERIOD_US || budget < MIN_BUDGET) return k.rangeError(MIN_BUDGET_US, MAX_PERIOD_US);
  if (periodUs > MAX_PERIOD_US || period < MIN_BUDGET) return k.rangeError(MIN_BUDGET_US, MAX_PERIOD_US);
  if (budget > period) return k.rangeError(MIN_BUDGET_US, periodUs);
  const sc = tc.obj as SchedContext;
  const absMax = sc.refills.capacity;
  // seL4 13.0.0 compares extra_refills + MIN_REFILLS with the maximum (a word
  // sum that wraps for the two largest words); the comparison here cannot wrap.
  if (extraRefills > absMax - MIN_REFILLS) return k.rangeError(0, absMax - MIN_REFILLS);
  setThreadState(k, k.curThread, ThreadState.Restart);
  invokeConfigureFlags(k, sc, cap.word, budget, period, extraRefills + MIN_REFILLS, badgeHi, badgeLo, flags);
  return SeL4Error.NoError;
}

/** seL4's invokeSchedControl_ConfigureFlags. */
function invokeConfigureFlags(
  k: Kernel,
  sc: SchedContext,
  core: number,
  budget: number,
  period: number,
  maxRefills: number,
  badgeHi: number,
  badgeLo: number,
  flags: number,
): void {
  sc.badgeHi = badgeHi >>> 0;
  sc.badgeLo = badgeLo >>> 0;
  sc.sporadic = (flags & SCHED_CONTEXT_SPORADIC) !== 0;
  sc.refills.sporadic = sc.sporadic;
  const t = sc.tcb;
  if (t !== null) {
    // A thread another core is running stops there first: that core charges
    // what the SC consumed so far (seL4 charges it remotely and reschedules
    // the core; the stall does both).
    remoteTCBStall(k, t);
    // Do not change the parameters of a thread while it is in a sorted queue.
    tcbReleaseRemove(k, t);
    tcbSchedDequeue(k, t);
    if (k.curSC === sc) {
      // seL4 (debug build) asserts checkBudget() here; it holds, so nothing changes.
      checkBudget(k);
      commitTime(k);
    }
  }
  if (budget === period) {
    // Round robin: period 0 and two refills.
    sc.refills.refillNew(MIN_REFILLS, budget, 0, k.curTime);
  } else if (sc.refills.active && t !== null && isRunnable(t)) {
    // In use: keep the bandwidth it already has.
    sc.refills.refillUpdate(period, budget, maxRefills, k.curTime);
  } else {
    sc.refills.refillNew(maxRefills, budget, period, k.curTime);
  }
  // The SC now belongs to the SchedControl's core, and so does its thread.
  sc.core = core;
  if (t !== null) migrateTCB(k, t, core);
  sc.configured = true;
  if (t !== null) {
    schedContextResume(k, sc);
    // On another core possibleSwitchTo only queues the thread (SCHED_ENQUEUE).
    if (isRunnable(t) && t !== k.curThread) possibleSwitchTo(k, t);
    if (t === k.curThread) rescheduleRequired(k);
  }
}

// ------------------------------------------------------------ SchedContext

/**
 * seL4's setConsumed: MR0 of the current thread := the SC's consumed time in
 * microseconds, message length 1. (handleInvocation then replies with an
 * empty message when the thread is still restarting, as in seL4; MR0 keeps
 * the value.)
 */
function setConsumed(k: Kernel, sc: SchedContext): void {
  const t = k.curThread;
  const buf = k.lookupIPCBuffer(true, t);
  const len = k.setMRNumber(t, buf, 0, schedContextUpdateConsumed(sc));
  t.setReg(REG_A1, msgInfoHi(0), msgInfoLo(0, 0, 0, len));
}

/** seL4's schedContext_completeYieldTo, run by activateThread for a thread that yielded. */
export function schedContextCompleteYieldTo(k: Kernel, yielder: TCB): void {
  if (yielder.yieldTo !== null) {
    setConsumed(k, yielder.yieldTo);
    schedContextCancelYieldTo(yielder);
  }
}

/** seL4's decodeSchedContextInvocation. */
export function decodeSchedContextInvocation(k: Kernel, label: number, _length: number, cap: Cap, _call: boolean): SeL4Error {
  const sc = cap.obj as SchedContext;
  // seL4's maybeStallSC: the SC's thread must not be running on another core.
  if (sc.tcb !== null) remoteTCBStall(k, sc.tcb);
  switch (label) {
    case InvocationLabel.SchedContextConsumed:
      setThreadState(k, k.curThread, ThreadState.Restart);
      setConsumed(k, sc);
      return SeL4Error.NoError;
    case InvocationLabel.SchedContextBind:
      return decodeBind(k, sc);
    case InvocationLabel.SchedContextUnbindObject:
      return decodeUnbindObject(k, sc);
    case InvocationLabel.SchedContextUnbind:
      if (sc.tcb === k.curThread) return k.error(SeL4Error.IllegalOperation);
      setThreadState(k, k.curThread, ThreadState.Restart);
      schedContextUnbindAllTCBs(k, sc);
      schedContextUnbindNtfn(sc);
      if (sc.reply !== null) {
        sc.reply.next = null;
        sc.reply.nextSC = null;
        sc.reply = null;
      }
      return SeL4Error.NoError;
    case InvocationLabel.SchedContextYieldTo:
      return decodeYieldTo(k, sc);
    default:
      return k.error(SeL4Error.IllegalOperation);
  }
}

function decodeBind(k: Kernel, sc: SchedContext): SeL4Error {
  const s = k.extraCaps[0];
  if (s === null) return k.error(SeL4Error.TruncatedMessage);
  const c = s.cap;
  switch (c.type) {
    case CapType.Thread: {
      const t = c.obj as TCB;
      if (sc.tcb !== null) return k.error(SeL4Error.IllegalOperation);
      if (t.sc !== null) return k.error(SeL4Error.IllegalOperation);
      if (isBlocked(t) && !sc.refills.released(k.curTime)) return k.error(SeL4Error.IllegalOperation);
      setThreadState(k, k.curThread, ThreadState.Restart);
      schedContextBindTCB(k, sc, t);
      return SeL4Error.NoError;
    }
    case CapType.Notification: {
      const n = c.obj as Notification;
      if (sc.ntfn !== null) return k.error(SeL4Error.IllegalOperation);
      if (n.sc !== null) return k.error(SeL4Error.IllegalOperation);
      setThreadState(k, k.curThread, ThreadState.Restart);
      schedContextBindNtfn(sc, n);
      return SeL4Error.NoError;
    }
    default:
      return k.invalidCapability(1);
  }
}

function decodeUnbindObject(k: Kernel, sc: SchedContext): SeL4Error {
  const s = k.extraCaps[0];
  if (s === null) return k.error(SeL4Error.TruncatedMessage);
  const c = s.cap;
  switch (c.type) {
    case CapType.Thread:
      if (sc.tcb !== c.obj) return k.error(SeL4Error.IllegalOperation);
      if (sc.tcb === k.curThread) return k.error(SeL4Error.IllegalOperation);
      setThreadState(k, k.curThread, ThreadState.Restart);
      schedContextUnbindTCB(k, sc, sc.tcb!);
      return SeL4Error.NoError;
    case CapType.Notification:
      if (sc.ntfn !== c.obj) return k.error(SeL4Error.IllegalOperation);
      setThreadState(k, k.curThread, ThreadState.Restart);
      schedContextUnbindNtfn(sc);
      return SeL4Error.NoError;
    default:
      return k.invalidCapability(1);
  }
}

function decodeYieldTo(k: Kernel, sc: SchedContext): SeL4Error {
  const cur = k.curThread;
  const t = sc.tcb;
  if (t === null) return k.error(SeL4Error.IllegalOperation);
  if (t === cur) return k.error(SeL4Error.IllegalOperation);
  if (t.priority > cur.mcp) return k.error(SeL4Error.IllegalOperation);
  if (cur.yieldTo !== null) return k.error(SeL4Error.IllegalOperation);
  setThreadState(k, cur, ThreadState.Restart);
  invokeYieldTo(k, sc, t);
  return SeL4Error.NoError;
}

/** seL4's invokeSchedContext_YieldTo. */
function invokeYieldTo(k: Kernel, sc: SchedContext, t: TCB): void {
  const cur = k.curThread;
  if (sc.yieldFrom !== null) schedContextCompleteYieldTo(k, sc.yieldFrom);
  // From here, if the thread is schedulable its head refill is ready and sufficient.
  schedContextResume(k, sc);
  let returnNow = true;
  if (isSchedulable(t)) {
    // A thread of another core is only queued there; the caller returns now.
    if (sc.core !== k.node.core || t.priority < cur.priority) {
      tcbSchedDequeue(k, t);
      tcbSchedEnqueue(k, t);
    } else {
      cur.yieldTo = sc;
      sc.yieldFrom = cur;
      tcbSchedDequeue(k, t);
      tcbSchedEnqueue(k, cur);
      tcbSchedEnqueue(k, t);
      rescheduleRequired(k);
      noteSliceEnd(k, 'yield');
      // The consumed time is written when the caller runs again (activateThread).
      returnNow = false;
    }
  }
  if (returnNow) setConsumed(k, sc);
}

// ------------------------------------------------------------------ Domain

/** seL4's decodeDomainInvocation (DomainSet_Set). */
export function decodeDomainInvocation(k: Kernel, label: number, length: number): SeL4Error {
  if (label !== InvocationLabel.DomainSetSet) return k.error(SeL4Error.IllegalOperation);
  if (length === 0) return k.error(SeL4Error.TruncatedMessage);
  const domain = k.argNumber(0);
  if (domain >= k.config.numDomains) return k.invalidArgument(0);
  const s = k.extraCaps[0];
  if (s === null) return k.error(SeL4Error.TruncatedMessage);
  if (s.cap.type !== CapType.Thread) return k.invalidArgument(1);
  setThreadState(k, k.curThread, ThreadState.Restart);
  setDomain(k, s.cap.obj as TCB, domain);
  return SeL4Error.NoError;
}
