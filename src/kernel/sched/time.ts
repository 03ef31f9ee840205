/**
 * MCS time accounting (seL4 13.0.0 include/kernel/thread.h and
 * src/kernel/thread.c): updateTimestamp, checkBudget, chargeBudget,
 * commitTime, endTimeslice, postpone, awaken, checkDomainTime,
 * switchSchedContext and setNextInterrupt, plus the boot-time set-up of the
 * domain schedule and the first timer deadline.
 *
 * Time is in nanoseconds of the simulated clock; one refill tick is 1 ns.
 */
import type { Kernel } from '../kernel.js';
import { FaultType, ThreadState } from '../object/tcb.js';
import type { SchedContext } from '../object/schedcontext.js';
import { tcbReleaseDequeue, tcbReleaseEnqueue, tcbSchedAppend, tcbSchedDequeue } from './queues.js';
import { MIN_BUDGET, usToTicks } from './refill.js';
import { isRunnable, isSchedulable, noteSliceEnd, possibleSwitchTo, rescheduleRequired, setThreadState } from './thread.js';
import { handleTimeout, validTimeoutHandler } from '../faults.js';

/** getTimerPrecision() = usToTicks(1): the deadline is programmed this much early. */
export const TIMER_PRECISION = usToTicks(1);

/**
 * seL4's updateTimestamp: read the clock at kernel entry. Everything since
 * the last read is consumed by the current SC (ksConsumed); with more than
 * one domain the domain's time shrinks too, and ends once less than
 * MIN_BUDGET would be left.
 */
export function updateTimestamp(k: Kernel, now: number): void {
  noteSliceEnd(k, null);
  const prev = k.curTime;
  const consumed = now > prev ? now - prev : 0;
  if (now > prev) k.curTime = now;
  k.consumed += consumed;
  if (k.config.numDomains > 1) {
    if (consumed + MIN_BUDGET >= k.domainTime) k.domainTime = 0;
    else k.domainTime -= consumed;
  }
}

/** isCurDomainExpired: numDomains > 1 and no domain time left. */
export function isCurDomainExpired(k: Kernel): boolean {
  return k.config.numDomains > 1 && k.domainTime === 0;
}

/**
 * seL4's checkBudget: whether the current SC can pay for this kernel entry.
 * If its head refill would drop below MIN_BUDGET the time is charged and the
 * timeslice ends. An expired domain also makes the entry not proceed.
 */
export function checkBudget(k: Kernel): boolean {
  const sc = k.curSC;
  if (sc === null) return true;
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

/** seL4's checkBudgetRestart: as checkBudget, and a thread that cannot proceed restarts its syscall. */
export function checkBudgetRestart(k: Kernel): boolean {
  const ok = checkBudget(k);
  if (!ok && isRunnable(k.curThread)) setThreadState(k, k.curThread, ThreadState.Restart);
  return ok;
}

/**
 * seL4's chargeBudget: the current SC's head refill is used up (or, from
 * seL4_Yield, given up). Round-robin SCs get their whole budget back in the
 * head; others go through refill_budget_check. A schedulable current thread
 * then ends its timeslice.
 */
export function chargeBudget(k: Kernel, consumed: number, canTimeoutFault: boolean): void {
  const sc = k.curSC;
  if (sc !== null && sc !== k.idleSC && sc.refills.active) {
    sc.refills.refillChargeBudget(consumed);
    sc.consumed += consumed;
  }
  k.consumed = 0;
  const t = k.curThread;
  if (sc !== null && isSchedulable(t) && t.sc === sc) {
    noteSliceEnd(k, canTimeoutFault ? 'budget' : 'yield');
    endTimeslice(k, canTimeoutFault);
    rescheduleRequired(k);
    k.reprogram = true;
  }
}

/**
 * seL4's commitTime: charge ksConsumed to the current SC without ending its
 * timeslice (the head refill is known to be sufficient). seL4 asserts
 * sufficiency; an entry that skipped checkBudget (a TypeScript thread's exit)
 * is charged as chargeBudget would, so the kernel never asserts on it.
 */
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

/**
 * seL4's endTimeslice: raise a timeout fault if the thread has a timeout
 * handler (and may fault, and its SC is not round robin); otherwise put it at
 * the end of its ready queue if its next refill can be used now, or in the
 * release queue until it can.
 */
export function endTimeslice(k: Kernel, canTimeoutFault: boolean): void {
  const sc = k.curSC!;
  const t = k.curThread;
  if (canTimeoutFault && !sc.refills.isRoundRobin() && validTimeoutHandler(t)) {
    k.curFault.type = FaultType.Timeout;
    k.curFault.badgeHi = sc.badgeHi;
    k.curFault.badgeLo = sc.badgeLo;
    if (k.observer !== null) k.emit('timeout', { thread: t.name, time: k.curTime });
    handleTimeout(k, t);
  } else if (sc.refills.refillReady(k.curTime) && sc.refills.refillSufficient(0)) {
    tcbSchedAppend(k, t);
  } else {
    postpone(k, sc);
  }
}

/** seL4's postpone: move an SC's thread to the release queue until its next refill. */
export function postpone(k: Kernel, sc: SchedContext): void {
  const t = sc.tcb!;
  tcbSchedDequeue(k, t);
  tcbReleaseEnqueue(k, t);
  k.reprogram = true;
  if (k.observer !== null) k.emit('postpone', { thread: t.name, until: sc.refills.headTime, time: k.curTime });
}

/** seL4's awaken: release the threads whose head refill is ready. */
export function awaken(k: Kernel): void {
  while (k.releaseHead !== null && k.releaseHead.sc!.refills.refillReady(k.curTime)) {
    const t = tcbReleaseDequeue(k);
    if (k.observer !== null) k.emit('release', { thread: t.name, time: k.curTime });
    possibleSwitchTo(k, t);
  }
}

/** seL4's checkDomainTime: an expired domain forces a reschedule (and a new deadline). */
export function checkDomainTime(k: Kernel): void {
  if (isCurDomainExpired(k)) {
    k.reprogram = true;
    rescheduleRequired(k);
  }
}

/**
 * seL4's switchSchedContext: when the thread chosen runs on another SC, a
 * constant-bandwidth SC gets its refills unblocked now and the timer is
 * reprogrammed; whenever the timer is reprogrammed the consumed time is
 * committed to the SC that used it.
 */
export function switchSchedContext(k: Kernel): void {
  const sc = k.curThread.sc;
  if (k.curSC !== sc) {
    k.reprogram = true;
    if (sc !== null && sc.refills.isConstantBandwidth()) sc.refills.refillUnblockCheck(k.curTime);
    if (k.observer !== null && sc !== null) k.emit('sc', { thread: k.curThread.name, sc: sc.paddr, time: k.curTime });
  }
  if (k.reprogram) commitTime(k);
  k.curSC = sc;
}

/**
 * seL4's setNextInterrupt: the earliest of the end of the current head
 * refill (the idle thread's SC too), the end of the domain (numDomains > 1)
 * and the head of the release queue, less the timer precision.
 */
export function setNextInterrupt(k: Kernel): void {
  const sc = k.curThread.sc;
  let next = sc !== null && sc.refills.active ? k.curTime + sc.refills.headAmount : Infinity;
  if (k.config.numDomains > 1) next = Math.min(next, k.curTime + k.domainTime);
  const rlq = k.releaseHead;
  if (rlq !== null) next = Math.min(next, rlq.sc!.refills.headTime);
  k.deadline = next - TIMER_PRECISION;
}

/**
 * Boot-time scheduler state that seL4 sets up in init_kernel: the domain
 * schedule (ksDomSchedule, ksDomScheduleIdx = 0, ksCurDomain and
 * ksDomainTime from its first entry; the initial thread is created in that
 * domain) and the first timer deadline. Throws on an invalid configuration
 * (a build-time error in seL4, never user input).
 */
export function initSchedulerTime(k: Kernel): void {
  const cfg = k.config;
  const sched = cfg.domainSchedule;
  if (!Number.isInteger(cfg.numDomains) || cfg.numDomains < 1) throw new Error('config: numDomains must be >= 1');
  if (sched.length === 0) throw new Error('config: the domain schedule must not be empty');
  if (cfg.numDomains > 1 && k.numCores > 1) {
    throw new Error('config: domain scheduling with more than one core is not supported by sel4ts');
  }
  for (const e of sched) {
    if (!Number.isInteger(e.domain) || e.domain < 0 || e.domain >= cfg.numDomains) {
      throw new Error(`config: domain schedule entry for domain ${e.domain} is not below numDomains ${cfg.numDomains}`);
    }
    if (!Number.isSafeInteger(e.length) || e.length < MIN_BUDGET) {
      throw new Error(`config: domain schedule length ${e.length} ns is below MIN_BUDGET (${MIN_BUDGET} ns)`);
    }
  }
  k.domainSchedule = sched.map((e) => ({ domain: e.domain, length: e.length }));
  k.domainScheduleIdx = 0;
  k.curDomain = sched[0]!.domain;
  k.domainTime = sched[0]!.length;
  const t = k.curThread;
  if (t !== k.idleThread && !t.inReadyQueue) t.domain = k.curDomain;
  // Every core's first deadline (the other cores start idle).
  const boot = k.node;
  for (const n of k.nodes) {
    k.node = n;
    setNextInterrupt(k);
    k.reprogram = false;
  }
  k.node = boot;
}

