/**
 * The model's IPC (seL4 13.0.0 with MCS): endpoints with priority-ordered
 * queues, Call through reply objects, call stacks of donated scheduling
 * contexts, notifications with bound TCBs and bound scheduling contexts,
 * message and capability transfer, and the cancellation of blocked
 * threads. Threads are named by their TCB address.
 *
 * Call stacks are kept as the abstract spec keeps them: each scheduling
 * context lists the reply objects of the calls it was donated along, the
 * most recent first. Replying through the top reply gives the SC back to the
 * caller; removing a reply anywhere else cuts the stack there (the replies
 * below it are no longer reachable from the SC).
 */
import type { Model } from './model.js';
import {
  CapType,
  FAULT,
  FaultReply,
  UC,
  DeliveredMessage,
  Delivery,
  Message,
  MSG_MAX_EXTRA_CAPS,
  MSG_MAX_LENGTH,
  MSG_REGISTERS,
  SlotId,
  TState,
} from './state.js';

// ------------------------------------------------------------- queues

/** MCS tcbEPAppend: behind every queued thread of the same or higher priority. */
export function enqueue(m: Model, queue: number[], t: number): void {
  const prio = m.tcb(t).prio;
  let i = 0;
  while (i < queue.length && m.tcb(queue[i]!).prio >= prio) i++;
  queue.splice(i, 0, t);
}

function dequeue(queue: number[], t: number): void {
  const i = queue.indexOf(t);
  if (i >= 0) queue.splice(i, 1);
}

/** A blocked thread's priority changed: it moves to its new place in the queue (seL4's reorderEP / reorderNTFN). */
export function reorder(m: Model, t: number): void {
  const th = m.tcb(t);
  const q =
    th.state === TState.BlockedOnNotification
      ? m.notifications.get(th.on)!.queue
      : th.state === TState.BlockedOnSend || th.state === TState.BlockedOnReceive
        ? m.endpoints.get(th.on)!.queue
        : null;
  if (q === null) return;
  dequeue(q, t);
  enqueue(m, q, t);
}

// ----------------------------------------------------------- donation

/** schedContext_donate: the SC moves from whoever holds it to `to`. */
export function donate(m: Model, sc: number, to: number): void {
  const s = m.sc(sc);
  if (s.tcb !== null) m.tcb(s.tcb).sc = null;
  s.tcb = to;
  m.tcb(to).sc = sc;
}

/** A passive thread woken through a notification borrows the notification's SC if nobody holds it. */
function maybeDonateSchedContext(m: Model, t: number, n: number): void {
  if (m.tcb(t).sc !== null) return;
  const sc = m.notifications.get(n)!.sc;
  if (sc !== null && m.sc(sc).tcb === null) {
    donate(m, sc, t);
    m.note('ntfn-donate');
  }
}

/** A thread about to wait gives back an SC it borrowed from its notification. */
function maybeReturnSchedContext(m: Model, n: number, t: number): void {
  const sc = m.notifications.get(n)!.sc;
  if (sc !== null && m.tcb(t).sc === sc) {
    m.tcb(t).sc = null;
    m.sc(sc).tcb = null;
    m.note('ntfn-return');
  }
}

// ------------------------------------------------------------ replies

/** The scheduling context whose call stack holds a reply object, and where. */
function stackOf(m: Model, reply: number): { sc: number; index: number } | null {
  for (const [sc, s] of m.scs) {
    const index = s.replies.indexOf(reply);
    if (index >= 0) return { sc, index };
  }
  return null;
}

/** reply_unlink: the reply object and the thread forget each other; the thread is left Inactive. */
export function replyUnlink(m: Model, reply: number, t: number): void {
  m.replies.get(reply)!.tcb = null;
  const th = m.tcb(t);
  th.reply = null;
  th.state = TState.Inactive;
}

/** reply_push: the caller waits on the callee's reply object; if the callee is passive it gets the caller's SC. */
function replyPush(m: Model, caller: number, callee: number, reply: number, canDonate: boolean): void {
  const c = m.tcb(caller);
  m.replies.get(reply)!.tcb = caller;
  c.reply = reply;
  c.sending = null;
  c.state = TState.BlockedOnReply;
  const sc = c.sc;
  if (sc !== null && m.tcb(callee).sc === null && canDonate) {
    m.sc(sc).replies.unshift(reply);
    donate(m, sc, callee);
    m.note('donate');
  }
}

/** Remove a reply from whatever call stack holds it: the stack keeps only the calls made after it. */
function cutStack(m: Model, reply: number): void {
  const at = stackOf(m, reply);
  if (at !== null) m.sc(at.sc).replies = m.sc(at.sc).replies.slice(0, at.index);
}

/**
 * reply_remove: the caller t stops waiting on reply. If the reply is the top
 * of a call stack the SC goes back to the caller (unless it has one by now);
 * otherwise the stack is cut there.
 */
export function replyRemove(m: Model, reply: number, t: number): void {
  const at = stackOf(m, reply);
  if (at !== null && at.index === 0) {
    m.sc(at.sc).replies.shift();
    if (m.tcb(t).sc === null) {
      donate(m, at.sc, t);
      m.note('sc-return');
    }
  } else {
    cutStack(m, reply);
  }
  replyUnlink(m, reply, t);
}

/** reply_remove_tcb: a caller waiting on a reply is cancelled; no SC goes back. */
function replyRemoveTCB(m: Model, t: number): void {
  const reply = m.tcb(t).reply!;
  cutStack(m, reply);
  replyUnlink(m, reply, t);
}

/** doReplyTransfer: reply to the caller waiting on this reply object, if there is one. */
export function doReplyTransfer(m: Model, sender: number, reply: number, grant: boolean, msg: Message): void {
  const receiver = m.replies.get(reply)!.tcb;
  if (receiver === null || m.tcb(receiver).state !== TState.BlockedOnReply) {
    m.note('reply-to-nobody');
    return;
  }
  replyRemove(m, reply, receiver);
  const r = m.tcb(receiver);
  if (r.fault === null) {
    m.deliveries.push(doIPCTransfer(m, sender, msg, null, 0n, grant, receiver));
    r.state = TState.Runnable;
    m.note('reply');
    return;
  }
  // A reply to a fault: nothing is delivered; the reply may rewrite registers and restarts the thread or not.
  const fr = handleFaultReply(m, receiver, msg);
  r.fault = null;
  r.state = fr.restart ? TState.Runnable : TState.Inactive;
  m.faultReplies.push(fr);
  m.note(`fault-${FAULT_NAME[fr.type] ?? fr.type}-replied-${fr.restart ? 'restart' : 'stop'}`);
}

const FAULT_NAME: Record<number, string> = { 1: 'cap', 2: 'unknown-syscall', 3: 'user-exception', 5: 'timeout', 6: 'vm' };
/** The fault name used in coverage events. */
export function faultName(type: number): string {
  return FAULT_NAME[type] ?? String(type);
}

/**
 * seL4's handleFaultReply (riscv64): cap faults and VM faults restart the
 * thread whatever the reply says; an unknown-syscall reply writes its first
 * (up to 10) words into pc, sp, ra, a0..a6, a user-exception reply its first
 * (up to 2) into pc, sp; those restart only if the reply's label is 0.
 */
function handleFaultReply(m: Model, t: number, msg: Message): FaultReply {
  const f = m.tcb(t).fault!;
  const order =
    f.type === FAULT.UnknownSyscall
      ? [UC.pc, UC.sp, UC.ra, UC.a0, UC.a0 + 1, UC.a0 + 2, UC.a0 + 3, UC.a0 + 4, UC.a0 + 5, UC.a0 + 6]
      : f.type === FAULT.UserException
        ? [UC.pc, UC.sp]
        : [];
  const n = Math.min(msg.mrs.length, MSG_MAX_LENGTH, order.length);
  const regs: [number, bigint][] = [];
  for (let i = 0; i < n; i++) regs.push([order[i]!, msg.mrs[i]!]);
  const pc = n > 0 ? msg.mrs[0]! : f.pc;
  const restart = order.length === 0 ? true : msg.label === 0;
  return { tcb: t, type: f.type, restart, regs, pc };
}

// ----------------------------------------------------------- transfer

/**
 * getReceiveSlots: the empty slot the receiver names in its IPC buffer
 * (receiveCNode looked up in its CSpace, then index and depth within it), or null.
 */
function getReceiveSlot(m: Model, receiver: number): SlotId | null {
  const r = m.tcb(receiver).rcv;
  const s = m.lookupSlot(receiver, r.cnode);
  if (s === null) return null;
  const d = m.cnodeOpSlot(m.cap(s), r.index, r.depth);
  if (typeof d === 'number' || m.slots.has(d)) return null;
  return d;
}

/**
 * doIPCTransfer for a sender without a fault: message registers, then the
 * extra caps if the sender may grant. Caps naming the endpoint the message
 * goes through are unwrapped (their badge is delivered instead); at most one
 * other cap is transferred, into the receive slot. The first cap that cannot
 * be transferred ends the transfer: extraCaps counts those before it.
 */
export function doIPCTransfer(m: Model, sender: number, msg: Message, ep: number | null, badge: bigint, canGrant: boolean, receiver: number): Delivery {
  const s = m.tcb(sender);
  const r = m.tcb(receiver);
  if (s.fault !== null) {
    // doFaultTransfer: the fault message, labelled with the fault type, no caps. Without an
    // IPC buffer the receiver gets the words that fit in message registers.
    const f = s.fault;
    const length = f.length === null ? null : r.hasBuffer ? f.length : Math.min(f.length, MSG_REGISTERS);
    const mrs = length === null ? [...f.mrs] : f.mrs.slice(0, length);
    return { tcb: receiver, badge, msg: { label: f.type, length, mrs, extraCaps: 0, capsUnwrapped: 0, badges: [] } };
  }
  const caps: SlotId[] = [];
  if (canGrant) {
    for (const p of msg.caps.slice(0, MSG_MAX_EXTRA_CAPS)) {
      const slot = m.lookupSlot(sender, p);
      if (slot === null) {
        caps.length = 0;
        break;
      }
      caps.push(slot);
    }
  }
  let length = Math.min(msg.mrs.length, MSG_MAX_LENGTH);
  if (!(s.hasBuffer && r.hasBuffer)) length = Math.min(length, MSG_REGISTERS);
  const out: DeliveredMessage = { label: msg.label, length, mrs: msg.mrs.slice(0, length), extraCaps: 0, capsUnwrapped: 0, badges: [] };
  if (caps.length > 0 && r.hasBuffer) {
    let dest = getReceiveSlot(m, receiver);
    let i = 0;
    for (; i < caps.length; i++) {
      const c = m.cap(caps[i]!);
      if (c.type === CapType.Endpoint && ep !== null && c.obj === ep) {
        out.badges[i] = c.badge;
        out.capsUnwrapped |= 1 << i;
        m.note('cap-unwrap');
        continue;
      }
      if (dest === null) break;
      const d = m.derive(caps[i]!, c);
      if (typeof d === 'number' || d.type === CapType.Null) break;
      m.insert(d, caps[i]!, dest);
      dest = null;
      m.note('cap-transfer');
    }
    out.extraCaps = i;
    if (i < caps.length) m.note('cap-transfer-stopped');
  }
  return { tcb: receiver, badge, msg: out };
}

// ---------------------------------------------------------- endpoints

/** sendIPC: deliver to a waiting receiver, or queue (if blocking). */
export function sendIPC(
  m: Model,
  blocking: boolean,
  isCall: boolean,
  badge: bigint,
  canGrant: boolean,
  canGrantReply: boolean,
  canDonate: boolean,
  t: number,
  epAddr: number,
  msg: Message,
): void {
  const ep = m.endpoints.get(epAddr)!;
  const head = ep.queue[0];
  if (head !== undefined && m.tcb(head).state === TState.BlockedOnReceive) {
    ep.queue.shift();
    const dest = m.tcb(head);
    m.deliveries.push(doIPCTransfer(m, t, msg, epAddr, badge, canGrant, head));
    const reply = dest.reply;
    if (reply !== null) replyUnlink(m, reply, head);
    // A fault message is sent like a Call: the faulter waits for the handler's reply.
    const faulting = m.tcb(t).fault !== null;
    if (isCall || faulting) {
      if (reply !== null && (canGrant || canGrantReply)) replyPush(m, t, head, reply, canDonate);
      else {
        m.tcb(t).state = TState.Inactive;
        m.note('call-without-reply');
      }
    } else if (canDonate && dest.sc === null && m.tcb(t).sc !== null) {
      donate(m, m.tcb(t).sc!, head);
      m.note('donate');
    }
    dest.state = TState.Runnable;
    m.note(faulting ? `fault-${faultName(m.tcb(t).fault!.type)}-delivered` : isCall ? 'call-delivered' : 'send-delivered');
    return;
  }
  if (!blocking) {
    m.note('send-dropped');
    return;
  }
  const th = m.tcb(t);
  th.state = TState.BlockedOnSend;
  th.on = epAddr;
  th.sending = { badge, canGrant, canGrantReply, isCall, msg };
  enqueue(m, ep.queue, t);
  m.note(th.fault !== null ? `fault-${faultName(th.fault.type)}-queued` : isCall ? 'call-blocked' : 'send-blocked');
}

/** receiveIPC (MCS): a pending signal on the bound notification first, then a queued sender, else wait. */
export function receiveIPC(m: Model, t: number, epAddr: number, blocking: boolean, reply: number | null): void {
  if (reply !== null) {
    // A reply object still in use by another thread is taken from it.
    const holder = m.replies.get(reply)!.tcb;
    if (holder !== null && holder !== t) {
      cancelIPC(m, holder);
      m.note('reply-reused');
    }
  }
  const th = m.tcb(t);
  const n = th.ntfn;
  if (n !== null && m.notifications.get(n)!.active) {
    completeSignal(m, n, t);
    m.note('bound-signal');
    return;
  }
  if (n !== null && blocking) maybeReturnSchedContext(m, n, t);
  const ep = m.endpoints.get(epAddr)!;
  const head = ep.queue[0];
  if (head !== undefined && m.tcb(head).state === TState.BlockedOnSend) {
    ep.queue.shift();
    const s = m.tcb(head);
    const p = s.sending!;
    s.sending = null;
    m.deliveries.push(doIPCTransfer(m, head, p.msg, epAddr, p.badge, p.canGrant, t));
    if (s.fault !== null) m.note(`fault-${faultName(s.fault.type)}-received`);
    if (p.isCall || s.fault !== null) {
      if ((p.canGrant || p.canGrantReply) && reply !== null) replyPush(m, head, t, reply, s.sc !== null);
      else {
        s.state = TState.Inactive;
        m.note('call-without-reply');
      }
    } else {
      s.state = TState.Runnable;
    }
    m.note('recv-delivered');
    return;
  }
  if (blocking) {
    th.state = TState.BlockedOnReceive;
    th.on = epAddr;
    th.reply = reply;
    if (reply !== null) m.replies.get(reply)!.tcb = t;
    enqueue(m, ep.queue, t);
    m.note('recv-blocked');
  } else {
    m.deliveries.push({ tcb: t, badge: 0n, msg: null });
    m.note('recv-nothing');
  }
}

// ------------------------------------------------------ notifications

/** sendSignal: wake the first waiter, or a bound thread waiting on an endpoint, or accumulate the badge. */
export function sendSignal(m: Model, nAddr: number, badge: bigint): void {
  const n = m.notifications.get(nAddr)!;
  if (n.queue.length > 0) {
    const w = n.queue.shift()!;
    m.tcb(w).state = TState.Runnable;
    m.deliveries.push({ tcb: w, badge, msg: null });
    maybeDonateSchedContext(m, w, nAddr);
    m.note('signal-wakes');
  } else if (n.active) {
    n.word |= badge;
    m.note('signal-accumulates');
  } else if (n.bound !== null && m.tcb(n.bound).state === TState.BlockedOnReceive) {
    const b = n.bound;
    cancelIPC(m, b);
    m.tcb(b).state = TState.Runnable;
    m.deliveries.push({ tcb: b, badge, msg: null });
    maybeDonateSchedContext(m, b, nAddr);
    m.note('signal-wakes-bound');
  } else {
    n.active = true;
    n.word = badge;
    m.note('signal-pends');
  }
}

/** receiveSignal: Wait / Poll on a notification. */
export function receiveSignal(m: Model, t: number, nAddr: number, blocking: boolean): void {
  const n = m.notifications.get(nAddr)!;
  if (n.active) {
    m.deliveries.push({ tcb: t, badge: n.word, msg: null });
    n.active = false;
    n.word = 0n;
    maybeDonateSchedContext(m, t, nAddr);
    m.note('wait-takes');
  } else if (blocking) {
    const th = m.tcb(t);
    th.state = TState.BlockedOnNotification;
    th.on = nAddr;
    enqueue(m, n.queue, t);
    maybeReturnSchedContext(m, nAddr, t);
    m.note('wait-blocked');
  } else {
    m.deliveries.push({ tcb: t, badge: 0n, msg: null });
    m.note('poll-nothing');
  }
}

/** completeSignal: a bound thread receiving on an endpoint takes its notification's pending word instead. */
function completeSignal(m: Model, nAddr: number, t: number): void {
  const n = m.notifications.get(nAddr)!;
  m.deliveries.push({ tcb: t, badge: n.word, msg: null });
  n.active = false;
  n.word = 0n;
  maybeDonateSchedContext(m, t, nAddr);
}

export function bindNotification(m: Model, t: number, n: number): void {
  m.tcb(t).ntfn = n;
  m.notifications.get(n)!.bound = t;
}

export function unbindNotification(m: Model, t: number): void {
  const th = m.tcb(t);
  if (th.ntfn === null) return;
  m.notifications.get(th.ntfn)!.bound = null;
  th.ntfn = null;
}

// ------------------------------------------------------- cancellation

/** cancelIPC: take a blocked thread out of its IPC; it is left Inactive. */
export function cancelIPC(m: Model, t: number): void {
  const th = m.tcb(t);
  // MCS: cancelling a thread's IPC cancels its fault too.
  th.fault = null;
  switch (th.state) {
    case TState.BlockedOnSend:
    case TState.BlockedOnReceive:
      dequeue(m.endpoints.get(th.on)!.queue, t);
      if (th.reply !== null) replyUnlink(m, th.reply, t);
      th.sending = null;
      th.state = TState.Inactive;
      return;
    case TState.BlockedOnNotification:
      dequeue(m.notifications.get(th.on)!.queue, t);
      th.state = TState.Inactive;
      return;
    case TState.BlockedOnReply:
      replyRemoveTCB(m, t);
      return;
    default:
      return;
  }
}

/** cancelAllIPC: an endpoint goes away; every waiter restarts (a receiver loses its reply object). */
export function cancelAllIPC(m: Model, epAddr: number): void {
  const ep = m.endpoints.get(epAddr)!;
  for (const t of ep.queue) {
    const th = m.tcb(t);
    if (th.reply !== null) replyUnlink(m, th.reply, t);
    th.sending = null;
    // restart_thread_if_no_fault: a thread sending a fault message stops instead.
    th.state = th.fault === null ? TState.Runnable : TState.Inactive;
  }
  ep.queue = [];
}

/** cancelBadgedSends: senders with the badge restart. */
export function cancelBadgedSends(m: Model, epAddr: number, badge: bigint): void {
  const ep = m.endpoints.get(epAddr)!;
  ep.queue = ep.queue.filter((t) => {
    const th = m.tcb(t);
    if (th.state !== TState.BlockedOnSend || th.sending!.badge !== badge) return true;
    th.sending = null;
    // restart_thread_if_no_fault, as in cancelAllIPC.
    th.state = th.fault === null ? TState.Runnable : TState.Inactive;
    return false;
  });
}

/** cancelAllSignals: a notification goes away; its waiters restart. */
export function cancelAllSignals(m: Model, nAddr: number): void {
  const n = m.notifications.get(nAddr)!;
  for (const t of n.queue) m.tcb(t).state = TState.Runnable;
  n.queue = [];
}

/** seL4's suspend: cancel its IPC and stop it. */
export function suspend(m: Model, t: number): void {
  cancelIPC(m, t);
  m.tcb(t).state = TState.Inactive;
}

/** seL4's restart: a stopped thread (inactive or blocked) has its IPC cancelled and runs again. */
export function restart(m: Model, t: number): void {
  if (m.tcb(t).state === TState.Runnable) return;
  cancelIPC(m, t);
  m.tcb(t).state = TState.Runnable;
}
