/**
 * Scheduling invocations (MCS): SchedControl_ConfigureFlags, SchedContext
 * Bind/Unbind/UnbindObject/Consumed/YieldTo, and DomainSet_Set.
 */
import { msgInfoLo } from '../abi/messageinfo.js';
import { Cap, CapType } from './cap.js';
import { SeL4Error } from './errors.js';
import type { Kernel } from './kernel.js';
import { InvocationLabel } from './labels.js';
import type { Notification } from './object/notification.js';
import type { SchedContext } from './object/schedcontext.js';
import { REG_A0, REG_A1, TCB, ThreadState } from './object/tcb.js';
import { MAX_PERIOD_US, MIN_BUDGET_US, MIN_REFILLS, usToTicks } from './sched/refill.js';
import { tcbReleaseRemove, tcbSchedDequeue, tcbSchedEnqueue } from './sched/queues.js';
import { isRunnable, isSchedulable, possibleSwitchTo, rescheduleRequired, setThreadState } from './sched/thread.js';
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

export const SCHED_CONTEXT_SPORADIC = 1;

export function decodeSchedControlInvocation(k: Kernel, label: number, length: number, cap: Cap): SeL4Error {
  if (label !== InvocationLabel.SchedControlConfigureFlags) return k.error(SeL4Error.IllegalOperation);
  const target = k.extraCaps[0];
  if (target === null) return k.error(SeL4Error.TruncatedMessage);
  if (length < 5) return k.error(SeL4Error.TruncatedMessage);
  const budgetUs = k.argNumber(0);
  const periodUs = k.argNumber(1);
  const extraRefills = k.argNumber(2);
  const badgeHi = k.argHi(3);
  const badgeLo = k.argLo(3);
  const flags = k.argLo(4);
  const tc = target.cap;
  if (tc.type !== CapType.SchedContext) return k.invalidArgument(1);
  const budget = usToTicks(budgetUs);
  const period = usToTicks(periodUs);
  const sc = tc.obj as SchedContext;
  if (budgetUs > MAX_PERIOD_US || budget < sc.refills.minBudget) return k.rangeError(MIN_BUDGET_US, MAX_PERIOD_US);
  if (periodUs > MAX_PERIOD_US || period < sc.refills.minBudget) return k.rangeError(MIN_BUDGET_US, MAX_PERIOD_US);
  if (budget > period) return k.rangeError(MIN_BUDGET_US, periodUs);
  const absMax = sc.refills.capacity;
  if (extraRefills + MIN_REFILLS > absMax) return k.rangeError(0, absMax - MIN_REFILLS);
  setThreadState(k, k.curThread, ThreadState.Restart);
  configureFlags(k, sc, cap.word, budget, period, extraRefills + MIN_REFILLS, badgeHi, badgeLo, flags);
  return SeL4Error.NoError;
}

function configureFlags(
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
    tcbReleaseRemove(k, t);
    tcbSchedDequeue(k, t);
    if (k.curSC === sc) {
      checkBudget(k);
      commitTime(k);
    }
  }
  if (budget === period) {
    sc.refills.refillNew(MIN_REFILLS, budget, 0, k.curTime);
  } else if (sc.refills.active && t !== null && isRunnable(t) && core === sc.core) {
    sc.refills.refillUpdate(period, budget, maxRefills, k.curTime);
  } else {
    sc.refills.refillNew(maxRefills, budget, period, k.curTime);
  }
  sc.core = core;
  sc.configured = true;
  if (t !== null) {
    schedContextResume(k, sc);
    if (isRunnable(t) && t !== k.curThread) possibleSwitchTo(k, t);
    if (t === k.curThread) rescheduleRequired(k);
  }
}

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

/** seL4's setConsumed: reply with the consumed time (us) in MR0. */
function setConsumed(k: Kernel, sc: SchedContext, t: TCB): void {
  const buf = k.lookupIPCBuffer(true, t);
  const len = k.setMRNumber(t, buf, 0, schedContextUpdateConsumed(sc));
  t.setReg(REG_A0, 0, 0);
  t.setReg(REG_A1, 0, msgInfoLo(0, 0, 0, len));
}

export function schedContextCompleteYieldTo(k: Kernel, yielder: TCB): void {
  if (yielder.yieldTo !== null) {
    setConsumed(k, yielder.yieldTo, yielder);
    schedContextCancelYieldTo(yielder);
  }
}

export function decodeSchedContextInvocation(k: Kernel, label: number, _length: number, cap: Cap, _call: boolean): SeL4Error {
  const sc = cap.obj as SchedContext;
  switch (label) {
    case InvocationLabel.SchedContextConsumed:
      setConsumed(k, sc, k.curThread);
      return SeL4Error.NoError;
    case InvocationLabel.SchedContextBind: {
      const s = k.extraCaps[0];
      if (s === null) return k.error(SeL4Error.TruncatedMessage);
      const c = s.cap;
      if (c.type === CapType.Thread) {
        const t = c.obj as TCB;
        if (sc.tcb !== null) return k.error(SeL4Error.IllegalOperation);
        if (t.sc !== null) return k.error(SeL4Error.IllegalOperation);
        if (isBlocked(t) && !sc.refills.released(k.curTime)) return k.error(SeL4Error.IllegalOperation);
        setThreadState(k, k.curThread, ThreadState.Restart);
        schedContextBindTCB(k, sc, t);
      } else if (c.type === CapType.Notification) {
        const n = c.obj as Notification;
        if (sc.ntfn !== null) return k.error(SeL4Error.IllegalOperation);
        if (n.sc !== null) return k.error(SeL4Error.IllegalOperation);
        setThreadState(k, k.curThread, ThreadState.Restart);
        schedContextBindNtfn(sc, n);
      } else {
        return k.invalidCapability(1);
      }
      return SeL4Error.NoError;
    }
    case InvocationLabel.SchedContextUnbindObject: {
      const s = k.extraCaps[0];
      if (s === null) return k.error(SeL4Error.TruncatedMessage);
      const c = s.cap;
      if (c.type === CapType.Thread) {
        if (sc.tcb !== c.obj) return k.invalidCapability(1);
        if (sc.tcb === k.curThread) return k.error(SeL4Error.IllegalOperation);
        setThreadState(k, k.curThread, ThreadState.Restart);
        schedContextUnbindTCB(k, sc, sc.tcb!);
      } else if (c.type === CapType.Notification) {
        if (sc.ntfn !== c.obj) return k.invalidCapability(1);
        setThreadState(k, k.curThread, ThreadState.Restart);
        schedContextUnbindNtfn(sc);
      } else {
        return k.invalidCapability(1);
      }
      return SeL4Error.NoError;
    }
    case InvocationLabel.SchedContextUnbind:
      if (sc.tcb === k.curThread) return k.error(SeL4Error.IllegalOperation);
      setThreadState(k, k.curThread, ThreadState.Restart);
      schedContextUnbindAllTCBs(k, sc);
      schedContextUnbindNtfn(sc);
      if (sc.reply !== null) {
        sc.reply.nextSC = null;
        sc.reply = null;
      }
      return SeL4Error.NoError;
    case InvocationLabel.SchedContextYieldTo: {
      const cur = k.curThread;
      if (sc.tcb === null) return k.error(SeL4Error.IllegalOperation);
      if (sc.tcb.priority > cur.mcp) return k.error(SeL4Error.IllegalOperation);
      if (sc.yieldFrom !== null) return k.error(SeL4Error.IllegalOperation);
      setThreadState(k, cur, ThreadState.Restart);
      const t = sc.tcb;
      let returnNow = true;
      if (isSchedulable(t)) {
        if (t.priority < cur.priority) {
          tcbSchedDequeue(k, t);
          tcbSchedEnqueue(k, t);
        } else {
          cur.yieldTo = sc;
          sc.yieldFrom = cur;
          tcbSchedDequeue(k, t);
          tcbSchedEnqueue(k, cur);
          tcbSchedEnqueue(k, t);
          rescheduleRequired(k);
          returnNow = false;
        }
      }
      if (returnNow) setConsumed(k, sc, cur);
      // The reply is written by setConsumed (now or when the yielder runs again).
      setThreadState(k, cur, ThreadState.Running);
      return SeL4Error.NoError;
    }
    default:
      return k.error(SeL4Error.IllegalOperation);
  }
}

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
