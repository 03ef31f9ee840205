/**
 * Scheduling-context binding and donation (seL4 13.0.0 src/object/schedcontext.c helpers):
 * bind/unbind to TCBs and notifications, donation along IPC, resume.
 */
import { Kernel, SchedulerAction } from '../kernel.js';
import type { Notification } from '../object/notification.js';
import type { SchedContext } from '../object/schedcontext.js';
import type { TCB } from '../object/tcb.js';
import { tcbReleaseRemove, tcbSchedDequeue, tcbSchedEnqueue } from './queues.js';
import { isSchedulable, rescheduleRequired } from './thread.js';
import { postpone } from './time.js';
import { ticksToUs } from './refill.js';
import { migrateTCB, remoteTCBStall } from './smp.js';

/** If the SC's thread can run but its head refill is not ready or too small, postpone it. */
export function schedContextResume(k: Kernel, sc: SchedContext | null): void {
  if (sc === null || sc.tcb === null || !isSchedulable(sc.tcb)) return;
  if (!(sc.refills.refillReady(k.curTime) && sc.refills.refillSufficient(0))) postpone(k, sc);
}

export function schedContextBindTCB(k: Kernel, sc: SchedContext, t: TCB): void {
  t.sc = sc;
  sc.tcb = t;
  migrateTCB(k, t, sc.core);
  if (sc.refills.isSporadic() && sc !== k.curSC) sc.refills.refillUnblockCheck(k.curTime);
  schedContextResume(k, sc);
  if (isSchedulable(t)) {
    tcbSchedEnqueue(k, t);
    rescheduleRequired(k);
  }
}

export function schedContextUnbindTCB(k: Kernel, sc: SchedContext, t: TCB): void {
  if (t === k.curThread) rescheduleRequired(k);
  tcbSchedDequeue(k, t);
  tcbReleaseRemove(k, t);
  t.sc = null;
  sc.tcb = null;
}

export function schedContextDonate(k: Kernel, sc: SchedContext, to: TCB): void {
  const from = sc.tcb;
  if (from !== null) {
    remoteTCBStall(k, from);
    tcbSchedDequeue(k, from);
    tcbReleaseRemove(k, from);
    from.sc = null;
    if (from === k.curThread || (k.schedulerAction === SchedulerAction.SwitchToThread && k.schedulerTarget === from)) {
      rescheduleRequired(k);
    }
  }
  sc.tcb = to;
  to.sc = sc;
  migrateTCB(k, to, sc.core);
  if (k.observer !== null) k.emit('donate', { sc: sc.paddr, from: from?.name ?? null, to: to.name });
}

export function schedContextBindNtfn(sc: SchedContext, n: Notification): void {
  n.sc = sc;
  sc.ntfn = n;
}

export function schedContextUnbindNtfn(sc: SchedContext): void {
  if (sc.ntfn !== null) {
    sc.ntfn.sc = null;
    sc.ntfn = null;
  }
}

export function schedContextUnbindAllTCBs(k: Kernel, sc: SchedContext): void {
  if (sc.tcb !== null) {
    remoteTCBStall(k, sc.tcb);
    schedContextUnbindTCB(k, sc, sc.tcb);
  }
}

/**
 * seL4's maybeDonateSchedContext: a passive thread woken through a
 * notification with a bound SC that no thread holds borrows that SC. (The
 * sporadic refill_unblock_check is the caller's job, as in notification.c.)
 */
export function maybeDonateSchedContext(k: Kernel, t: TCB, n: Notification): void {
  if (t.sc !== null) return;
  const sc = n.sc;
  if (sc !== null && sc.tcb === null) {
    schedContextDonate(k, sc, t);
    // seL4 (notification.h, 12.x/13.0): unblock-check a borrowed SC unless it is
    // the one already running.
    if (sc !== k.curSC) sc.refills.refillUnblockCheck(k.curTime);
    schedContextResume(k, sc);
  }
}

/** A thread waiting passively gives back the SC it borrowed from its bound notification. */
export function maybeReturnSchedContext(k: Kernel, n: Notification, t: TCB): void {
  const sc = n.sc;
  if (sc !== null && sc === t.sc) {
    t.sc = null;
    sc.tcb = null;
    if (t === k.curThread) rescheduleRequired(k);
  }
}

/** seL4's schedContext_cancelYieldTo. */
export function schedContextCancelYieldTo(t: TCB): void {
  if (t.yieldTo !== null) {
    t.yieldTo.yieldFrom = null;
    t.yieldTo = null;
  }
}

/** seL4's schedContext_unbindYieldFrom. */
export function schedContextUnbindYieldFrom(sc: SchedContext): void {
  if (sc.yieldFrom !== null) schedContextCancelYieldTo(sc.yieldFrom);
}

/**
 * seL4's schedContext_updateConsumed: the time consumed since the last read,
 * in microseconds (rounded down); the count restarts from zero.
 */
export function schedContextUpdateConsumed(sc: SchedContext): number {
  const us = ticksToUs(sc.consumed);
  sc.consumed = 0;
  return us;
}
