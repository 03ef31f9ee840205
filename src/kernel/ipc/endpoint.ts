/**
 * Endpoint IPC (seL4's endpoint.c, MCS): send, receive, cancellation.
 */
import { Cap, CapType } from '../cap.js';
import type { Kernel } from '../kernel.js';
import { Endpoint, EndpointState } from '../object/endpoint.js';
import type { Notification } from '../object/notification.js';
import { NotificationState } from '../object/notification.js';
import type { Reply } from '../object/reply.js';
import { FaultType, REG_A0, TCB, ThreadState } from '../object/tcb.js';
import { tcbEPAppend, tcbEPDequeue } from '../sched/queues.js';
import { possibleSwitchTo, rescheduleRequired, scheduleTCB, setThreadState } from '../sched/thread.js';
import { maybeReturnSchedContext, schedContextDonate } from '../sched/schedcontext.js';
import { replyPush, replyRemoveTCB, replyUnlink } from './reply.js';
import { doIPCTransfer } from './transfer.js';
import { cancelSignal, completeSignal } from './notification.js';

function unblockCheck(k: Kernel, t: TCB): void {
  const sc = t.sc;
  if (sc !== null && sc.refills.isSporadic() && sc !== k.curSC) sc.refills.refillUnblockCheck(k.curTime);
}

/** seL4's sendIPC. */
export function sendIPC(
  k: Kernel,
  blocking: boolean,
  doCall: boolean,
  badgeHi: number,
  badgeLo: number,
  canGrant: boolean,
  canGrantReply: boolean,
  canDonate: boolean,
  thread: TCB,
  ep: Endpoint,
): void {
  if (ep.state === EndpointState.Recv) {
    const dest = ep.queueHead!;
    tcbEPDequeue(dest, ep);
    if (ep.queueHead === null) ep.state = EndpointState.Idle;
    doIPCTransfer(k, thread, ep, badgeHi, badgeLo, canGrant, dest);
    const reply = dest.replyObject;
    if (reply !== null) replyUnlink(k, reply, dest);
    if (doCall || thread.fault.type !== FaultType.NullFault) {
      if (reply !== null && (canGrant || canGrantReply)) replyPush(k, thread, dest, reply, canDonate);
      else setThreadState(k, thread, ThreadState.Inactive);
    } else if (canDonate && dest.sc === null && thread.sc !== null) {
      schedContextDonate(k, thread.sc, dest);
    }
    setThreadState(k, dest, ThreadState.Running);
    unblockCheck(k, dest);
    possibleSwitchTo(k, dest);
    if (k.observer !== null) k.emit('ipc', { from: thread.name, to: dest.name, call: doCall });
    return;
  }
  if (!blocking) return;
  thread.state = ThreadState.BlockedOnSend;
  thread.blockingObject = ep;
  thread.blockingBadgeHi = badgeHi;
  thread.blockingBadgeLo = badgeLo;
  thread.blockingCanGrant = canGrant;
  thread.blockingCanGrantReply = canGrantReply;
  thread.blockingIsCall = doCall;
  scheduleTCB(k, thread);
  tcbEPAppend(thread, ep);
  ep.state = EndpointState.Send;
}

/** seL4's receiveIPC (MCS: with an optional reply object cap). */
export function receiveIPC(k: Kernel, thread: TCB, epCap: Cap, isBlocking: boolean, replyCap: Cap): void {
  const ep = epCap.obj as Endpoint;
  let reply: Reply | null = null;
  if (replyCap.type === CapType.Reply) {
    reply = replyCap.obj as Reply;
    if (reply.tcb !== null && reply.tcb !== thread) cancelIPC(k, reply.tcb);
  }
  const ntfn: Notification | null = thread.boundNotification;
  if (ntfn !== null && ntfn.state === NotificationState.Active) {
    completeSignal(k, ntfn, thread);
    return;
  }
  if (ntfn !== null && isBlocking) maybeReturnSchedContext(k, ntfn, thread);

  if (ep.state !== EndpointState.Send) {
    if (isBlocking) {
      thread.state = ThreadState.BlockedOnReceive;
      thread.blockingObject = ep;
      thread.replyObject = reply;
      if (reply !== null) reply.tcb = thread;
      scheduleTCB(k, thread);
      tcbEPAppend(thread, ep);
      ep.state = EndpointState.Recv;
    } else {
      doNBRecvFailedTransfer(thread);
    }
    return;
  }
  const sender = ep.queueHead!;
  tcbEPDequeue(sender, ep);
  if (ep.queueHead === null) ep.state = EndpointState.Idle;
  const canGrant = sender.blockingCanGrant;
  const canGrantReply = sender.blockingCanGrantReply;
  doIPCTransfer(k, sender, ep, sender.blockingBadgeHi, sender.blockingBadgeLo, canGrant, thread);
  const doCall = sender.blockingIsCall;
  const ssc = sender.sc;
  if (ssc !== null && ssc.refills.isSporadic() && ssc !== k.curSC) ssc.refills.refillUnblockCheck(k.curTime);
  if (doCall || sender.fault.type !== FaultType.NullFault) {
    if ((canGrant || canGrantReply) && reply !== null) {
      const canDonate = sender.sc !== null && sender.fault.type !== FaultType.Timeout;
      replyPush(k, sender, thread, reply, canDonate);
    } else {
      setThreadState(k, sender, ThreadState.Inactive);
    }
  } else {
    setThreadState(k, sender, ThreadState.Running);
    possibleSwitchTo(k, sender);
  }
  if (k.observer !== null) k.emit('ipc', { from: sender.name, to: thread.name, call: doCall });
}

/** A failed non-blocking receive returns badge 0 (seL4's doNBRecvFailedTransfer). */
export function doNBRecvFailedTransfer(t: TCB): void {
  t.setReg(REG_A0, 0, 0);
}

/** seL4's cancelIPC: take a blocked thread out of whatever IPC it is in. */
export function cancelIPC(k: Kernel, t: TCB): void {
  t.fault.type = FaultType.NullFault;
  switch (t.state) {
    case ThreadState.BlockedOnSend:
    case ThreadState.BlockedOnReceive: {
      const ep = t.blockingObject as Endpoint;
      tcbEPDequeue(t, ep);
      if (ep.queueHead === null) ep.state = EndpointState.Idle;
      const reply = t.replyObject;
      if (reply !== null) replyUnlink(k, reply, t);
      setThreadState(k, t, ThreadState.Inactive);
      break;
    }
    case ThreadState.BlockedOnNotification:
      cancelSignal(k, t, t.blockingObject as Notification);
      break;
    case ThreadState.BlockedOnReply:
      replyRemoveTCB(k, t);
      break;
    default:
      break;
  }
}

function restartCancelled(k: Kernel, t: TCB): void {
  if (t.fault.type === FaultType.NullFault) {
    setThreadState(k, t, ThreadState.Restart);
    unblockCheck(k, t);
    possibleSwitchTo(k, t);
  } else {
    setThreadState(k, t, ThreadState.Inactive);
  }
}

/** seL4's cancelAllIPC: the endpoint is being deleted; restart every waiter. */
export function cancelAllIPC(k: Kernel, ep: Endpoint): void {
  if (ep.state === EndpointState.Idle) return;
  let t = ep.queueHead;
  ep.state = EndpointState.Idle;
  ep.queueHead = null;
  ep.queueTail = null;
  while (t !== null) {
    const next = t.epNext;
    t.epNext = null;
    t.epPrev = null;
    const reply = t.replyObject;
    if (reply !== null) replyUnlink(k, reply, t);
    restartCancelled(k, t);
    t = next;
  }
  rescheduleRequired(k);
}

/** seL4's cancelBadgedSends: restart senders blocked with the given badge. */
export function cancelBadgedSends(k: Kernel, ep: Endpoint, badgeHi: number, badgeLo: number): void {
  if (ep.state !== EndpointState.Send) return;
  let t = ep.queueHead;
  while (t !== null) {
    const next = t.epNext;
    if (t.blockingBadgeHi === badgeHi && t.blockingBadgeLo === badgeLo) {
      tcbEPDequeue(t, ep);
      restartCancelled(k, t);
    }
    t = next;
  }
  ep.state = ep.queueHead === null ? EndpointState.Idle : EndpointState.Send;
  rescheduleRequired(k);
}
