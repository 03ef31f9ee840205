/**
 * IPC invariants: endpoint and notification wait queues agree with thread
 * states, notification binding is symmetric, reply objects agree with the
 * threads they link, and MCS call stacks are consistently linked.
 */
import type { Kernel } from '../kernel.js';
import { Endpoint, EndpointState } from '../object/endpoint.js';
import { ObjectKind } from '../object/kobject.js';
import { NotificationState } from '../object/notification.js';
import type { Notification } from '../object/notification.js';
import type { Reply } from '../object/reply.js';
import { TCB, ThreadState } from '../object/tcb.js';
import { objScan } from './objscan.js';
import { InvariantViolation, objName } from './violation.js';

function fail(name: string, detail: string): never {
  throw new InvariantViolation(name, detail);
}

/** The registered threads (k.tcbs), as the array objscan.ts keeps of them: iterating it is cheaper than the set. */
function threads(k: Kernel): readonly TCB[] {
  return objScan(k).tcbs;
}

/** A queued thread must be a live, registered TCB. */
function liveTCB(k: Kernel, t: TCB): boolean {
  return t.live && k.tcbs.has(t);
}

/**
 * Walk a wait queue, checking links, the state every member must be in and
 * the MCS priority order (non-increasing). Returns the number of members.
 */
function walkQueue(k: Kernel, name: string, q: Endpoint | Notification, want: ThreadState): number {
  const limit = k.tcbs.size + 1;
  let count = 0;
  let prev: TCB | null = null;
  for (let t = q.queueHead; t !== null; t = t.epNext) {
    if (++count > limit) fail(name, `the queue of ${objName(q)} has a cycle`);
    if (!liveTCB(k, t)) fail(name, `${objName(q)} queues deleted thread ${t.name}`);
    if (t.epPrev !== prev) fail(name, `${t.name}.epPrev is inconsistent in the queue of ${objName(q)}`);
    if (t.state !== want) fail(name, `${t.name} is queued on ${objName(q)} in state ${ThreadState[t.state]}, not ${ThreadState[want]}`);
    if (t.blockingObject !== q) fail(name, `${t.name} is queued on ${objName(q)} but blocked on ${objName(t.blockingObject)}`);
    if (prev !== null && prev.priority < t.priority) fail(name, `${objName(q)}'s queue is not in priority order at ${t.name}`);
    prev = t;
  }
  if (q.queueTail !== prev) fail(name, `the queue tail of ${objName(q)} is not its last thread`);
  return count;
}

/**
 * Endpoint queues hold exactly the threads BlockedOnSend / BlockedOnReceive on
 * them, all sending or all receiving as the endpoint's state says, in priority
 * order; an endpoint is Idle iff its queue is empty.
 */
export function endpointQueues(k: Kernel): void {
  const name = 'endpointQueues';
  let queued = 0;
  for (const ep of objScan(k).endpoints) {
    if (ep.state === EndpointState.Idle) {
      if (ep.queueHead !== null || ep.queueTail !== null) fail(name, `Idle ${objName(ep)} has a queue`);
      continue;
    }
    if (ep.queueHead === null) fail(name, `${objName(ep)} is ${EndpointState[ep.state]} with an empty queue`);
    const want = ep.state === EndpointState.Send ? ThreadState.BlockedOnSend : ThreadState.BlockedOnReceive;
    queued += walkQueue(k, name, ep, want);
  }
  let blocked = 0;
  for (const t of threads(k)) {
    if (t.state === ThreadState.BlockedOnSend || t.state === ThreadState.BlockedOnReceive) {
      const ep = t.blockingObject;
      if (ep === null || ep.kind !== ObjectKind.Endpoint || !ep.live || !k.objects.has(ep)) {
        fail(name, `${t.name} is ${ThreadState[t.state]} on ${objName(ep)}, not a live endpoint`);
      }
      blocked++;
    } else if (t.state !== ThreadState.BlockedOnNotification && (t.epNext !== null || t.epPrev !== null)) {
      fail(name, `${t.name} is ${ThreadState[t.state]} but still linked into a wait queue`);
    }
  }
  if (blocked !== queued) fail(name, `${blocked} threads are blocked on endpoints but ${queued} are queued`);
}

/**
 * Notification queues hold exactly the threads BlockedOnNotification on them;
 * a notification is Waiting iff its queue is non-empty, and an Idle or Waiting
 * notification has a zero word.
 */
export function notificationQueues(k: Kernel): void {
  const name = 'notificationQueues';
  let queued = 0;
  for (const n of objScan(k).notifications) {
    if (n.state !== NotificationState.Waiting) {
      if (n.queueHead !== null || n.queueTail !== null) fail(name, `${NotificationState[n.state]} ${objName(n)} has a queue`);
    } else {
      if (n.queueHead === null) fail(name, `Waiting ${objName(n)} has an empty queue`);
      queued += walkQueue(k, name, n, ThreadState.BlockedOnNotification);
    }
    if (n.state !== NotificationState.Active && (n.wordHi | n.wordLo) !== 0) {
      fail(name, `${NotificationState[n.state]} ${objName(n)} holds a pending word`);
    }
  }
  let blocked = 0;
  for (const t of threads(k)) {
    if (t.state !== ThreadState.BlockedOnNotification) continue;
    const n = t.blockingObject;
    if (n === null || n.kind !== ObjectKind.Notification || !n.live || !k.objects.has(n)) {
      fail(name, `${t.name} is BlockedOnNotification on ${objName(n)}, not a live notification`);
    }
    blocked++;
  }
  if (blocked !== queued) fail(name, `${blocked} threads are blocked on notifications but ${queued} are queued`);
}

/**
 * Binding is symmetric (ntfn.boundTCB = t iff t.boundNotification = ntfn), both
 * ends are live, and a bound notification's queue is empty or holds only its
 * bound thread (seL4's valid_ntfn).
 */
export function notificationBinding(k: Kernel): void {
  const name = 'notificationBinding';
  for (const n of objScan(k).notifications) {
    const t = n.boundTCB;
    if (t === null) continue;
    if (!liveTCB(k, t)) fail(name, `${objName(n)} is bound to deleted thread ${t.name}`);
    if (t.boundNotification !== n) fail(name, `${objName(n)} is bound to ${t.name}, which is bound to ${objName(t.boundNotification)}`);
    if (n.queueHead !== null && (n.queueHead !== t || n.queueHead.epNext !== null)) {
      fail(name, `bound ${objName(n)} has threads other than ${t.name} waiting on it`);
    }
  }
  for (const t of threads(k)) {
    const n: Notification | null = t.boundNotification;
    if (n === null) continue;
    if (!n.live || !k.objects.has(n)) fail(name, `${t.name} is bound to deleted ${objName(n)}`);
    if (n.boundTCB !== t) fail(name, `${t.name} is bound to ${objName(n)}, which is bound to ${n.boundTCB?.name ?? 'nothing'}`);
  }
}

/**
 * reply.tcb and tcb.replyObject agree: a reply names a thread iff that thread
 * names the reply, and the thread is BlockedOnReply (the caller) or
 * BlockedOnReceive (the receiver that supplied it); a thread BlockedOnReply
 * always has a reply; no other thread has one.
 */
export function replyObjects(k: Kernel): void {
  const name = 'replyObjects';
  for (const r of objScan(k).replies) {
    const t = r.tcb;
    if (t === null) continue;
    if (!liveTCB(k, t)) fail(name, `${objName(r)} names deleted thread ${t.name}`);
    if (t.replyObject !== r) fail(name, `${objName(r)} names ${t.name}, whose reply object is ${objName(t.replyObject)}`);
  }
  for (const t of threads(k)) {
    const r: Reply | null = t.replyObject;
    if (t.state === ThreadState.BlockedOnReply && r === null) fail(name, `${t.name} is BlockedOnReply without a reply object`);
    if (r === null) continue;
    if (t.state !== ThreadState.BlockedOnReply && t.state !== ThreadState.BlockedOnReceive) {
      fail(name, `${t.name} is ${ThreadState[t.state]} but holds ${objName(r)}`);
    }
    if (!r.live || !k.objects.has(r)) fail(name, `${t.name} holds deleted ${objName(r)}`);
    if (r.tcb !== t) fail(name, `${t.name} holds ${objName(r)}, which names ${r.tcb?.name ?? 'nothing'}`);
  }
}

/**
 * MCS call stacks: prev/next links are symmetric; the reply at the head of a
 * stack (nextSC set) is its SC's sc.reply and has no next; every reply on a
 * stack has a caller BlockedOnReply; every reply below a head reaches it.
 */
export function callStacks(k: Kernel): void {
  const name = 'callStacks';
  const replies = objScan(k).replies;
  const limit = replies.length + 1;
  for (const r of replies) {
    const p = r.prev;
    if (p !== null) {
      if (!p.live || !k.objects.has(p)) fail(name, `${objName(r)} sits on deleted ${objName(p)}`);
      if (p.next !== r) fail(name, `${objName(p)}.next is not ${objName(r)} although ${objName(r)}.prev is`);
      if (p.nextSC !== null) fail(name, `${objName(p)} is below ${objName(r)} yet holds an SC`);
    }
    if (r.next !== null && r.next.prev !== r) fail(name, `${objName(r.next)}.prev is not ${objName(r)}`);
    const sc = r.nextSC;
    if (sc !== null) {
      if (r.next !== null) fail(name, `${objName(r)} has both a reply and an SC above it`);
      if (sc.reply !== r) fail(name, `${objName(r)} carries ${objName(sc)}, whose reply is ${objName(sc.reply)}`);
    }
    if (p !== null || r.next !== null || sc !== null) {
      if (r.tcb === null || r.tcb.state !== ThreadState.BlockedOnReply) {
        fail(name, `${objName(r)} is on a call stack but has no caller BlockedOnReply`);
      }
    }
    let top: Reply = r;
    for (let i = 0; top.next !== null; i++) {
      if (i > limit) fail(name, `the call stack above ${objName(r)} has a cycle`);
      top = top.next;
    }
    if (top !== r && top.nextSC !== null && top.nextSC.reply !== top) fail(name, `${objName(r)}'s stack head is not its SC's reply`);
  }
  for (const sc of objScan(k).scs) {
    const r = sc.reply;
    if (r === null) continue;
    if (!r.live || !k.objects.has(r)) fail(name, `${objName(sc)}'s reply is deleted ${objName(r)}`);
    if (r.nextSC !== sc) fail(name, `${objName(sc)}'s reply ${objName(r)} does not carry it`);
  }
}
