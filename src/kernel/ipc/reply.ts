/**
 * MCS reply objects (seL4's reply.c): linking a caller to a reply object, the
 * call stack of donated scheduling contexts, and replying.
 */
import type { Kernel } from '../kernel.js';
import type { Reply } from '../object/reply.js';
import { FaultType, TCB, ThreadState } from '../object/tcb.js';
import { isRunnable, possibleSwitchTo, setThreadState } from '../sched/thread.js';
import { schedContextDonate } from '../sched/schedcontext.js';
import { postpone } from '../sched/time.js';
import { doIPCTransfer } from './transfer.js';
import { handleFaultReply, handleTimeout, validTimeoutHandler } from '../faults.js';

/** Detach a thread from its reply object and make it inactive (seL4's reply_unlink). */
export function replyUnlink(k: Kernel, reply: Reply, t: TCB): void {
  t.replyObject = null;
  reply.tcb = null;
  setThreadState(k, t, ThreadState.Inactive);
}

/** Block the caller on the callee's reply object, donating its SC if the callee has none. */
export function replyPush(k: Kernel, caller: TCB, callee: TCB, reply: Reply, canDonate: boolean): void {
  const sc = caller.sc;
  reply.tcb = caller;
  caller.replyObject = reply;
  setThreadState(k, caller, ThreadState.BlockedOnReply);
  if (sc !== null && callee.sc === null && canDonate) {
    const oldCaller = sc.reply;
    reply.prev = oldCaller;
    if (oldCaller !== null) {
      oldCaller.next = reply;
      oldCaller.nextSC = null;
    }
    reply.next = null;
    reply.nextSC = sc;
    sc.reply = reply;
    schedContextDonate(k, sc, callee);
  }
}

/** Pop the reply at the head of a call stack, returning the SC to the caller. */
export function replyPop(k: Kernel, reply: Reply, t: TCB): void {
  const sc = reply.nextSC;
  const prev = reply.prev;
  if (sc !== null) {
    sc.reply = prev;
    if (prev !== null) {
      prev.next = null;
      prev.nextSC = sc;
    }
    if (t.sc === null) schedContextDonate(k, sc, t);
  }
  reply.prev = null;
  reply.next = null;
  reply.nextSC = null;
  replyUnlink(k, reply, t);
}

/** Remove a reply that is not being replied to (seL4's reply_remove). */
export function replyRemove(k: Kernel, reply: Reply, t: TCB): void {
  if (reply.nextSC !== null) {
    replyPop(k, reply, t);
    return;
  }
  if (reply.next !== null) reply.next.prev = null;
  if (reply.prev !== null) {
    reply.prev.next = null;
    reply.prev.nextSC = null;
  }
  reply.prev = null;
  reply.next = null;
  replyUnlink(k, reply, t);
}

/** A caller blocked on a reply is cancelled (seL4's reply_remove_tcb). */
export function replyRemoveTCB(k: Kernel, t: TCB): void {
  const reply = t.replyObject!;
  if (reply.nextSC !== null) reply.nextSC.reply = null;
  else if (reply.next !== null) reply.next.prev = null;
  if (reply.prev !== null) {
    reply.prev.next = null;
    reply.prev.nextSC = null;
  }
  reply.prev = null;
  reply.next = null;
  reply.nextSC = null;
  replyUnlink(k, reply, t);
}

/** seL4's doReplyTransfer (MCS): reply through a reply object. */
export function doReplyTransfer(k: Kernel, sender: TCB, reply: Reply, grant: boolean): void {
  const receiver = reply.tcb;
  if (receiver === null || receiver.state !== ThreadState.BlockedOnReply) return;
  replyRemove(k, reply, receiver);
  const sc = receiver.sc;
  if (sc !== null && sc.refills.isSporadic() && sc !== k.curSC) sc.refills.refillUnblockCheck(k.curTime);

  const faultType = receiver.fault.type;
  if (faultType === FaultType.NullFault) {
    doIPCTransfer(k, sender, null, 0, 0, grant, receiver);
    setThreadState(k, receiver, ThreadState.Running);
  } else {
    const restart = handleFaultReply(k, receiver, sender);
    receiver.fault.type = FaultType.NullFault;
    setThreadState(k, receiver, restart ? ThreadState.Restart : ThreadState.Inactive);
  }

  const rsc = receiver.sc;
  if (rsc !== null && isRunnable(receiver)) {
    if (rsc.refills.refillReady(k.curTime) && rsc.refills.refillSufficient(0)) {
      possibleSwitchTo(k, receiver);
    } else if (validTimeoutHandler(receiver) && faultType !== FaultType.Timeout) {
      k.curFault.type = FaultType.Timeout;
      k.curFault.badgeHi = rsc.badgeHi;
      k.curFault.badgeLo = rsc.badgeLo;
      handleTimeout(k, receiver);
    } else {
      postpone(k, rsc);
    }
  }
}
