/**
 * Thread queues: endpoint/notification wait queues (tcbEPAppend/Dequeue), the
 * per-priority ready queues with their bitmap (tcbSchedEnqueue/Append/Dequeue),
 * and the MCS release queue ordered by the head refill's release time. Ready
 * and release queues are per core: a thread is queued on the core of its
 * affinity (tcbAffinity), which is its scheduling context's core.
 */
import type { Kernel } from '../kernel.js';
import type { TCB } from '../object/tcb.js';
import type { NodeState } from '../node.js';

/**
 * A wait queue of TCBs linked through epNext/epPrev (an endpoint or notification).
 * With MCS, queues are ordered by priority, FIFO among equal priorities.
 */
export interface EPQueue {
  queueHead: TCB | null;
  queueTail: TCB | null;
}

export function tcbEPAppend(t: TCB, q: EPQueue): void {
  let before: TCB | null = null;
  let after = q.queueHead;
  while (after !== null && t.priority <= after.priority) {
    before = after;
    after = after.epNext;
  }
  if (before === null) q.queueHead = t;
  else before.epNext = t;
  if (after === null) q.queueTail = t;
  else after.epPrev = t;
  t.epNext = after;
  t.epPrev = before;
}

/** Re-insert a queued thread after its priority changed (seL4's reorderEP / reorderNTFN). */
export function tcbEPReorder(t: TCB, q: EPQueue): void {
  tcbEPDequeue(t, q);
  tcbEPAppend(t, q);
}

export function tcbEPDequeue(t: TCB, q: EPQueue): void {
  if (t.epPrev !== null) t.epPrev.epNext = t.epNext;
  else q.queueHead = t.epNext;
  if (t.epNext !== null) t.epNext.epPrev = t.epPrev;
  else q.queueTail = t.epPrev;
  t.epPrev = null;
  t.epNext = null;
}

function queueIndex(k: Kernel, t: TCB): number {
  return t.domain * k.config.numPriorities + t.priority;
}

/** Bit of (domain, priority) in the ready bitmap: ceil(numPriorities / 32) words per domain. */
function bitmapBit(k: Kernel, t: TCB): number {
  return t.domain * (((k.config.numPriorities + 31) >>> 5) << 5) + t.priority;
}
function bitmapSet(k: Kernel, n: NodeState, t: TCB): void {
  const b = bitmapBit(k, t);
  n.readyBitmap[b >>> 5] = n.readyBitmap[b >>> 5]! | (1 << (b & 31));
}
function bitmapClear(k: Kernel, n: NodeState, t: TCB): void {
  const b = bitmapBit(k, t);
  n.readyBitmap[b >>> 5] = n.readyBitmap[b >>> 5]! & ~(1 << (b & 31));
}

/**
 * seL4's remoteQueueUpdate: a thread made ready on another core in the
 * current domain makes that core reschedule (a reschedule IPI at the end of
 * this kernel entry) if the core is idle, runs a lower-priority thread, or
 * the thread heads its release queue (a new timer deadline there).
 */
export function remoteQueueUpdate(k: Kernel, t: TCB): void {
  if (t.affinity === k.node.core || t.domain !== k.curDomain) return;
  const n = k.nodes[t.affinity]!;
  const cur = n.curThread;
  if (cur === n.idleThread || t.priority > cur.priority || n.releaseHead === t) k.ipiPending |= 1 << t.affinity;
}

/**
 * Put a runnable thread at the head of its ready queue (seL4's
 * tcbSchedEnqueue), the queue of the core it has affinity with; on another
 * core this is SCHED_ENQUEUE, with its remoteQueueUpdate.
 */
export function tcbSchedEnqueue(k: Kernel, t: TCB): void {
  if (t.inReadyQueue) return;
  const n = k.nodes[t.affinity]!;
  const idx = queueIndex(k, t);
  const head = n.readyHead[idx]!;
  t.schedPrev = null;
  t.schedNext = head;
  if (head !== null) head.schedPrev = t;
  else {
    n.readyTail[idx] = t;
    bitmapSet(k, n, t);
  }
  n.readyHead[idx] = t;
  t.inReadyQueue = true;
  if (n !== k.node) remoteQueueUpdate(k, t);
}

/** Put a runnable thread at the tail of its ready queue (seL4's tcbSchedAppend / SCHED_APPEND). */
export function tcbSchedAppend(k: Kernel, t: TCB): void {
  if (t.inReadyQueue) return;
  const n = k.nodes[t.affinity]!;
  const idx = queueIndex(k, t);
  const tail = n.readyTail[idx]!;
  t.schedNext = null;
  t.schedPrev = tail;
  if (tail !== null) tail.schedNext = t;
  else {
    n.readyHead[idx] = t;
    bitmapSet(k, n, t);
  }
  n.readyTail[idx] = t;
  t.inReadyQueue = true;
  if (n !== k.node) remoteQueueUpdate(k, t);
}

export function tcbSchedDequeue(k: Kernel, t: TCB): void {
  if (!t.inReadyQueue) return;
  const n = k.nodes[t.affinity]!;
  const idx = queueIndex(k, t);
  if (t.schedPrev !== null) t.schedPrev.schedNext = t.schedNext;
  else n.readyHead[idx] = t.schedNext;
  if (t.schedNext !== null) t.schedNext.schedPrev = t.schedPrev;
  else n.readyTail[idx] = t.schedPrev;
  if (n.readyHead[idx] === null) bitmapClear(k, n, t);
  t.schedPrev = null;
  t.schedNext = null;
  t.inReadyQueue = false;
}

/** Highest priority with a ready thread in a domain on the executing core, or -1. */
export function highestReadyPrio(k: Kernel, domain: number): number {
  const words = Math.ceil(k.config.numPriorities / 32);
  const base = domain * words;
  const bm = k.node.readyBitmap;
  for (let w = words - 1; w >= 0; w--) {
    const bits = bm[base + w]!;
    if (bits !== 0) return w * 32 + (31 - Math.clz32(bits));
  }
  return -1;
}

export function isHighestPrio(k: Kernel, domain: number, prio: number): boolean {
  const h = highestReadyPrio(k, domain);
  return h === -1 || prio >= h;
}

// ------------------------------------------------------------ release queue

function releaseTime(t: TCB): number {
  return t.sc!.refills.headTime;
}

/**
 * Insert into the release queue of the thread's core, ordered by release
 * time (FIFO among equals). A new head means a new timer deadline there.
 */
export function tcbReleaseEnqueue(k: Kernel, t: TCB): void {
  if (t.inReleaseQueue) return;
  const n = k.nodes[t.affinity]!;
  const time = releaseTime(t);
  let prev: TCB | null = null;
  let cur = n.releaseHead;
  while (cur !== null && releaseTime(cur) <= time) {
    prev = cur;
    cur = cur.schedNext;
  }
  t.schedPrev = prev;
  t.schedNext = cur;
  if (prev !== null) prev.schedNext = t;
  else n.releaseHead = t;
  if (cur !== null) cur.schedPrev = t;
  t.inReleaseQueue = true;
  if (n.releaseHead === t) {
    n.reprogram = true;
    if (n !== k.node) remoteQueueUpdate(k, t);
  }
}

export function tcbReleaseRemove(k: Kernel, t: TCB): void {
  if (!t.inReleaseQueue) return;
  const n = k.nodes[t.affinity]!;
  if (t.schedPrev !== null) t.schedPrev.schedNext = t.schedNext;
  else {
    n.releaseHead = t.schedNext;
    n.reprogram = true;
  }
  if (t.schedNext !== null) t.schedNext.schedPrev = t.schedPrev;
  t.schedPrev = null;
  t.schedNext = null;
  t.inReleaseQueue = false;
}

/** Take the head of the executing core's release queue. */
export function tcbReleaseDequeue(k: Kernel): TCB {
  const t = k.node.releaseHead!;
  tcbReleaseRemove(k, t);
  return t;
}
