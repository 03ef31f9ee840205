/**
 * MCS time accounting (seL4's updateTimestamp, checkBudget, chargeBudget,
 * commitTime, endTimeslice, awaken, switchSchedContext, setNextInterrupt).
 * Time is in nanoseconds of the simulated clock; one refill tick is 1 ns.
 */
import type { Kernel } from '../kernel.js';
import { ThreadState } from '../object/tcb.js';
import type { SchedContext } from '../object/schedcontext.js';
import { tcbReleaseDequeue, tcbReleaseEnqueue, tcbSchedAppend, tcbSchedDequeue } from './queues.js';
import { isRunnable, isSchedulable, possibleSwitchTo, rescheduleRequired, setThreadState, nextDomain } from './thread.js';
import { handleTimeout, validTimeoutHandler } from '../faults.js';
import { FaultType } from '../object/tcb.js';

/** Read the clock at kernel entry: everything since the last read is consumed by the current SC. */
export function updateTimestamp(k: Kernel, now: number): void {
  if (now > k.curTime) {
    const delta = now - k.curTime;
    k.consumed += delta;
    if (k.domainTime !== Infinity) k.domainTime = Math.max(0, k.domainTime - delta);
    k.curTime = now;
  }
}

function isCurDomainExpired(k: Kernel): boolean {
  return k.domainSchedule.length > 1 && k.domainTime === 0;
}

/** Whether the current SC can pay for this kernel entry; charges it and preempts if not. */
export function checkBudget(k: Kernel): boolean {
  const sc = k.curSC!;
  if (sc.refills.refillSufficient(k.consumed)) {
    if (isCurDomainExpired(k)) {
      k.reprogram = true;
      rescheduleRequired(k);
      return false;
    }
    return true;
  }
  chargeBudget(k, k.consumed, true);
  return false;
}

export function checkBudgetRestart(k: Kernel): boolean {
  const ok = checkBudget(k);
  if (!ok && isRunnable(k.curThread)) setThreadState(k, k.curThread, ThreadState.Restart);
  return ok;
}

export function chargeBudget(k: Kernel, consumed: number, canTimeoutFault: boolean): void {
  const sc = k.curSC!;
  if (sc !== k.idleSC) {
    sc.refills.refillChargeBudget(consumed);
    sc.consumed += consumed;
  }
  k.consumed = 0;
  if (isSchedulable(k.curThread) && k.curThread.sc === sc) {
    endTimeslice(k, canTimeoutFault);
    rescheduleRequired(k);
    k.reprogram = true;
  }
}

/** Charge ksConsumed to the current SC without preempting. */
export function commitTime(k: Kernel): void {
  const sc = k.curSC;
  if (sc !== null && sc.refills.active && sc !== k.idleSC) {
    if (k.consumed > 0) {
      if (sc.refills.refillSufficient(k.consumed)) sc.refills.refillCommitTime(k.consumed);
      else sc.refills.refillChargeBudget(k.consumed);
    }
    sc.consumed += k.consumed;
  }
  k.consumed = 0;
}

export function endTimeslice(k: Kernel, canTimeoutFault: boolean): void {
  const sc = k.curSC!;
  const t = k.curThread;
  if (canTimeoutFault && !sc.refills.isRoundRobin() && validTimeoutHandler(t)) {
    k.curFault.type = FaultType.Timeout;
    k.curFault.badgeHi = sc.badgeHi;
    k.curFault.badgeLo = sc.badgeLo;
    handleTimeout(k, t);
  } else if (sc.refills.refillReady(k.curTime) && sc.refills.refillSufficient(0)) {
    tcbSchedAppend(k, t);
  } else {
    postpone(k, sc);
  }
}

/** Move an SC's thread to the release queue until its next refill. */
export function postpone(k: Kernel, sc: SchedContext): void {
  const t = sc.tcb!;
  tcbSchedDequeue(k, t);
  tcbReleaseEnqueue(k, t);
  k.reprogram = true;
  k.emit('postpone', { thread: t.name, until: sc.refills.headTime });
}

/** Release threads whose refill has come (seL4's awaken). */
export function awaken(k: Kernel): void {
  while (k.releaseHead !== null && k.releaseHead.sc!.refills.refillReady(k.curTime)) {
    const t = tcbReleaseDequeue(k);
    possibleSwitchTo(k, t);
    k.reprogram = true;
  }
}

export function checkDomainTime(k: Kernel): void {
  if (isCurDomainExpired(k)) {
    k.reprogram = true;
    rescheduleRequired(k);
  }
}

export function switchSchedContext(k: Kernel): void {
  const sc = k.curThread.sc;
  if (k.curSC !== sc) {
    k.reprogram = true;
    if (sc !== null && sc.refills.isConstantBandwidth()) sc.refills.refillUnblockCheck(k.curTime);
  }
  if (k.reprogram) commitTime(k);
  k.curSC = sc;
}

/** Program the next timer interrupt: end of the current budget or the next release. */
export function setNextInterrupt(k: Kernel): void {
  const sc = k.curThread.sc;
  let next = sc !== null && sc !== k.idleSC ? k.curTime + sc.refills.headAmount : Infinity;
  if (k.domainSchedule.length > 1) next = Math.min(next, k.curTime + k.domainTime);
  if (k.releaseHead !== null) next = Math.min(next, k.releaseHead.sc!.refills.headTime);
  k.deadline = next;
}

export { nextDomain };
