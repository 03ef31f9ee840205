/**
 * Thread scheduling decisions (seL4's thread.c, MCS): thread state changes,
 * the scheduler action, choosing and switching threads.
 */
import { Kernel, SchedulerAction } from '../kernel.js';
import { TCB, ThreadState } from '../object/tcb.js';
import {
  highestReadyPrio,
  isHighestPrio,
  tcbSchedAppend,
  tcbSchedDequeue,
  tcbSchedEnqueue,
} from './queues.js';
import { awaken, checkDomainTime, switchSchedContext, setNextInterrupt } from './time.js';

export function isRunnable(t: TCB): boolean {
  return t.state === ThreadState.Running || t.state === ThreadState.Restart;
}

/** MCS isSchedulable: runnable, with a configured SC, and not waiting for a refill. */
export function isSchedulable(t: TCB): boolean {
  return isRunnable(t) && t.sc !== null && t.sc.refills.active && !t.inReleaseQueue;
}

export function setThreadState(k: Kernel, t: TCB, ts: ThreadState): void {
  t.state = ts;
  scheduleTCB(k, t);
}

export function scheduleTCB(k: Kernel, t: TCB): void {
  if (t === k.curThread && k.schedulerAction === SchedulerAction.ResumeCurrentThread && !isSchedulable(t)) {
    rescheduleRequired(k);
  }
}

export function rescheduleRequired(k: Kernel): void {
  if (k.schedulerAction === SchedulerAction.SwitchToThread) {
    const t = k.schedulerTarget!;
    if (isSchedulable(t)) tcbSchedEnqueue(k, t);
  }
  k.schedulerAction = SchedulerAction.ChooseNewThread;
  k.schedulerTarget = null;
}

export function possibleSwitchTo(k: Kernel, target: TCB): void {
  if (target.sc === null || target.inReleaseQueue) return;
  if (k.curDomain !== target.domain) {
    tcbSchedEnqueue(k, target);
  } else if (k.schedulerAction !== SchedulerAction.ResumeCurrentThread) {
    rescheduleRequired(k);
    tcbSchedEnqueue(k, target);
  } else {
    k.schedulerAction = SchedulerAction.SwitchToThread;
    k.schedulerTarget = target;
  }
}

export function switchToThread(k: Kernel, t: TCB): void {
  tcbSchedDequeue(k, t);
  if (k.curThread !== t) k.emit('switch', { from: k.curThread.name, to: t.name });
  k.curThread = t;
}

export function switchToIdleThread(k: Kernel): void {
  if (k.curThread !== k.idleThread) k.emit('switch', { from: k.curThread.name, to: k.idleThread.name });
  k.curThread = k.idleThread;
}

function chooseThread(k: Kernel): void {
  const prio = highestReadyPrio(k, k.curDomain);
  if (prio >= 0) {
    const t = k.readyHead[k.curDomain * k.config.numPriorities + prio]!;
    switchToThread(k, t);
  } else {
    switchToIdleThread(k);
  }
}

function scheduleChooseNewThread(k: Kernel): void {
  if (k.domainTime === 0) nextDomain(k);
  chooseThread(k);
}

/** Advance the static domain schedule. */
export function nextDomain(k: Kernel): void {
  const sched = k.domainSchedule;
  if (sched.length === 0) {
    k.domainTime = Infinity;
    return;
  }
  k.domainScheduleIdx = (k.domainScheduleIdx + 1) % sched.length;
  const e = sched[k.domainScheduleIdx]!;
  k.curDomain = e.domain;
  k.domainTime = e.length;
  k.reprogram = true;
  k.emit('domain', { domain: e.domain });
}

/** seL4's schedule(), run at the end of every kernel entry. */
export function schedule(k: Kernel): void {
  awaken(k);
  checkDomainTime(k);
  if (k.schedulerAction !== SchedulerAction.ResumeCurrentThread) {
    const cur = k.curThread;
    const wasRunnable = isSchedulable(cur);
    if (wasRunnable) tcbSchedEnqueue(k, cur);
    if (k.schedulerAction === SchedulerAction.ChooseNewThread) {
      scheduleChooseNewThread(k);
    } else {
      const candidate = k.schedulerTarget!;
      const fastfail = cur === k.idleThread || candidate.priority < cur.priority;
      if (fastfail && !isHighestPrio(k, k.curDomain, candidate.priority)) {
        tcbSchedEnqueue(k, candidate);
        k.schedulerAction = SchedulerAction.ChooseNewThread;
        scheduleChooseNewThread(k);
      } else if (wasRunnable && candidate.priority === cur.priority) {
        tcbSchedAppend(k, candidate);
        k.schedulerAction = SchedulerAction.ChooseNewThread;
        scheduleChooseNewThread(k);
      } else {
        switchToThread(k, candidate);
      }
    }
  }
  k.schedulerAction = SchedulerAction.ResumeCurrentThread;
  k.schedulerTarget = null;
  switchSchedContext(k);
  if (k.reprogram) {
    setNextInterrupt(k);
    k.reprogram = false;
  }
}
