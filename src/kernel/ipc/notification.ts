/**
 * Notifications (seL4's notification.c, MCS): signal, wait, poll, binding.
 */
import type { Kernel } from '../kernel.js';
import { Notification, NotificationState } from '../object/notification.js';
import { REG_A0, TCB, ThreadState } from '../object/tcb.js';
import { tcbEPAppend, tcbEPDequeue } from '../sched/queues.js';
import { isSchedulable, possibleSwitchTo, rescheduleRequired, scheduleTCB, setThreadState } from '../sched/thread.js';
import { maybeDonateSchedContext, maybeReturnSchedContext } from '../sched/schedcontext.js';
import { cancelIPC, doNBRecvFailedTransfer } from './endpoint.js';

function setActive(n: Notification, hi: number, lo: number): void {
  n.state = NotificationState.Active;
  n.wordHi = hi >>> 0;
  n.wordLo = lo >>> 0;
}

/** seL4's sendSignal: OR the badge into the word or wake a waiter. */
export function sendSignal(k: Kernel, n: Notification, badgeHi: number, badgeLo: number): void {
  switch (n.state) {
    case NotificationState.Idle: {
      const t = n.boundTCB;
      if (t !== null && t.state === ThreadState.BlockedOnReceive) {
        cancelIPC(k, t);
        setThreadState(k, t, ThreadState.Running);
        t.setReg(REG_A0, badgeHi, badgeLo);
        maybeDonateSchedContext(k, t, n);
        if (isSchedulable(t)) possibleSwitchTo(k, t);
      } else {
        setActive(n, badgeHi, badgeLo);
      }
      break;
    }
    case NotificationState.Waiting: {
      const t = n.queueHead!;
      tcbEPDequeue(t, n);
      if (n.queueHead === null) n.state = NotificationState.Idle;
      setThreadState(k, t, ThreadState.Running);
      t.setReg(REG_A0, badgeHi, badgeLo);
      maybeDonateSchedContext(k, t, n);
      if (isSchedulable(t)) possibleSwitchTo(k, t);
      break;
    }
    case NotificationState.Active:
      n.wordHi = (n.wordHi | badgeHi) >>> 0;
      n.wordLo = (n.wordLo | badgeLo) >>> 0;
      break;
  }
  if (k.observer !== null) k.emit('signal', { ntfn: n.paddr });
}

/** seL4's receiveSignal: Wait (blocking) or Poll (non-blocking). */
export function receiveSignal(k: Kernel, t: TCB, n: Notification, isBlocking: boolean): void {
  if (n.state === NotificationState.Active) {
    t.setReg(REG_A0, n.wordHi, n.wordLo);
    n.state = NotificationState.Idle;
    n.wordHi = 0;
    n.wordLo = 0;
    maybeDonateSchedContext(k, t, n);
    const sc = t.sc;
    if (sc !== null && sc !== k.curSC && sc.refills.isSporadic()) sc.refills.refillUnblockCheck(k.curTime);
    return;
  }
  if (isBlocking) {
    t.state = ThreadState.BlockedOnNotification;
    t.blockingObject = n;
    scheduleTCB(k, t);
    tcbEPAppend(t, n);
    n.state = NotificationState.Waiting;
    maybeReturnSchedContext(k, n, t);
  } else {
    doNBRecvFailedTransfer(t);
  }
}

/** seL4's completeSignal: a bound thread receives the pending word instead of an IPC. */
export function completeSignal(k: Kernel, n: Notification, t: TCB): void {
  t.setReg(REG_A0, n.wordHi, n.wordLo);
  n.state = NotificationState.Idle;
  n.wordHi = 0;
  n.wordLo = 0;
  maybeDonateSchedContext(k, t, n);
  const sc = t.sc;
  if (sc !== null && sc.refills.isSporadic() && sc !== k.curSC) sc.refills.refillUnblockCheck(k.curTime);
}

export function cancelSignal(k: Kernel, t: TCB, n: Notification): void {
  tcbEPDequeue(t, n);
  if (n.queueHead === null) n.state = NotificationState.Idle;
  setThreadState(k, t, ThreadState.Inactive);
}

export function cancelAllSignals(k: Kernel, n: Notification): void {
  if (n.state !== NotificationState.Waiting) return;
  let t = n.queueHead;
  n.state = NotificationState.Idle;
  n.queueHead = null;
  n.queueTail = null;
  while (t !== null) {
    const next = t.epNext;
    t.epNext = null;
    t.epPrev = null;
    setThreadState(k, t, ThreadState.Restart);
    const sc = t.sc;
    if (sc !== null && sc.refills.isSporadic() && sc !== k.curSC) sc.refills.refillUnblockCheck(k.curTime);
    possibleSwitchTo(k, t);
    t = next;
  }
  rescheduleRequired(k);
}

export function bindNotification(t: TCB, n: Notification): void {
  n.boundTCB = t;
  t.boundNotification = n;
}

export function unbindNotification(t: TCB): void {
  const n = t.boundNotification;
  if (n !== null) {
    n.boundTCB = null;
    t.boundNotification = null;
  }
}

export function unbindMaybeNotification(n: Notification): void {
  if (n.boundTCB !== null) unbindNotification(n.boundTCB);
}
