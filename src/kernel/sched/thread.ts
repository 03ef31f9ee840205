/**
 * Thread scheduling decisions (seL4 13.0.0 src/kernel/thread.c, MCS): thread
 * state changes, the scheduler action, choosing and switching threads, the
 * domain schedule. Every thread switch is reported as a 'switch' event with
 * the reason the outgoing thread stopped (for src/trace/sched.ts).
 */
import { Kernel, SchedulerAction } from '../kernel.js';
import { FaultType, TCB, ThreadState } from '../object/tcb.js';
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

/** seL4's isBlocked. */
export function isBlocked(t: TCB): boolean {
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

/**
 * seL4's possibleSwitchTo: a thread that became runnable is switched to now
 * if the scheduler decides so; a thread of another domain, or of another
 * core, is only queued (on another core with a reschedule IPI if it should run).
 */
export function possibleSwitchTo(k: Kernel, target: TCB): void {
  if (target.sc === null || target.inReleaseQueue) return;
  if (target.affinity !== k.node.core || k.curDomain !== target.domain) {
    tcbSchedEnqueue(k, target);
  } else if (k.schedulerAction !== SchedulerAction.ResumeCurrentThread) {
    rescheduleRequired(k);
    tcbSchedEnqueue(k, target);
  } else {
    k.schedulerAction = SchedulerAction.SwitchToThread;
    k.schedulerTarget = target;
  }
}

// ------------------------------------------------------- switch reasons

/** Why a thread stopped running (the end of a scheduling-trace slice). */
export type SliceEndReason = 'blocked' | 'preempted' | 'budget' | 'yield' | 'fault' | 'exit';

/** Record why the current thread's timeslice ends in this kernel entry (budget, yield...). */
export function noteSliceEnd(k: Kernel, reason: SliceEndReason | null): void {
  k.sliceEndHint = reason;
}

/** The reason the outgoing thread stops running at a switch. */
export function switchReason(k: Kernel, from: TCB): SliceEndReason {
  if (from === k.idleThread) return 'preempted';
  const hint = k.sliceEndHint as SliceEndReason | null;
  if (!isRunnable(from)) {
    if (hint === 'exit') return 'exit';
    if (from.fault.type !== FaultType.NullFault) return 'fault';
    return 'blocked';
  }
  if (hint !== null) return hint;
  if (from.inReleaseQueue) return 'budget';
  return 'preempted';
}

/**
 * Report a switch from `from` to the (new) current thread: the 'switch' event
 * with the time, the reason `from` stopped, the SC and domain of the new
 * thread. Every path that changes k.curThread should call it (the fastpath too).
 */
export function emitSwitch(k: Kernel, from: TCB): void {
  if (k.observer === null) return;
  const to = k.curThread;
  const sc = to.sc;
  k.emit('switch', {
    from: from.name,
    to: to.name,
    fromId: from.id,
    toId: to.id,
    time: k.curTime,
    reason: switchReason(k, from),
    sc: sc === null ? null : sc.paddr,
    domain: k.curDomain,
  });
}

export function switchToThread(k: Kernel, t: TCB): void {
  tcbSchedDequeue(k, t);
  const from = k.curThread;
  k.curThread = t;
  if (from !== t && k.observer !== null) emitSwitch(k, from);
}

export function switchToIdleThread(k: Kernel): void {
  const from = k.curThread;
  k.curThread = k.idleThread;
  if (from !== k.idleThread && k.observer !== null) emitSwitch(k, from);
}

function chooseThread(k: Kernel): void {
  const dom = k.config.numDomains > 1 ? k.curDomain : 0;
  const prio = highestReadyPrio(k, dom);
  if (prio >= 0) {
    const t = k.readyHead[dom * k.config.numPriorities + prio]!;
    switchToThread(k, t);
  } else {
    switchToIdleThread(k);
  }
}

function scheduleChooseNewThread(k: Kernel): void {
  if (k.domainTime === 0) nextDomain(k);
  chooseThread(k);
}

/** seL4's nextDomain: advance the static domain schedule. */
export function nextDomain(k: Kernel): void {
  const sched = k.domainSchedule;
  if (sched.length === 0) return;
  k.domainScheduleIdx = (k.domainScheduleIdx + 1) % sched.length;
  const e = sched[k.domainScheduleIdx]!;
  k.reprogram = true;
  k.curDomain = e.domain;
  k.domainTime = e.length;
  if (k.observer !== null) k.emit('domain', { domain: e.domain, time: k.curTime, length: e.length });
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
