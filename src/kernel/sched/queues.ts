/**
 * Thread queues: endpoint/notification wait queues (tcbEPAppend/Dequeue), the
 * per-priority ready queues with their bitmap (tcbSchedEnqueue/Append/Dequeue),
 * and the MCS release queue ordered by the head refill's release time.
 */
import type { Kernel } from '../kernel.js';
import type { TCB } from '../object/tcb.js';

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
function bitmapSet(k: Kernel, t: TCB): void {
  const b = bitmapBit(k, t);
  k.readyBitmap[b >>> 5] = k.readyBitmap[b >>> 5]! | (1 << (b & 31));
}
function bitmapClear(k: Kernel, t: TCB): void {
  const b = bitmapBit(k, t);
  k.readyBitmap[b >>> 5] = k.readyBitmap[b >>> 5]! & ~(1 << (b & 31));
}

/** Put a runnable thread at the head of its ready queue (seL4's tcbSchedEnqueue). */
export function tcbSchedEnqueue(k: Kernel, t: TCB): void {
  if (t.inReadyQueue) return;
  const idx = queueIndex(k, t);
  const head = k.readyHead[idx]!;
  t.schedPrev = null;
  t.schedNext = head;
  if (head !== null) head.schedPrev = t;
  else {
    k.readyTail[idx] = t;
    bitmapSet(k, t);
  }
  k.readyHead[idx] = t;
  t.inReadyQueue = true;
}

/** Put a runnable thread at the tail of its ready queue (seL4's tcbSchedAppend). */
export function tcbSchedAppend(k: Kernel, t: TCB): void {
  if (t.inReadyQueue) return;
  const idx = queueIndex(k, t);
  const tail = k.readyTail[idx]!;
  t.schedNext = null;
  t.schedPrev = tail;
  if (tail !== null) tail.schedNext = t;
  else {
    k.readyHead[idx] = t;
    bitmapSet(k, t);
  }
  k.readyTail[idx] = t;
  t.inReadyQueue = true;
}

export function tcbSchedDequeue(k: Kernel, t: TCB): void {
  if (!t.inReadyQueue) return;
  const idx = queueIndex(k, t);
  if (t.schedPrev !== null) t.schedPrev.schedNext = t.schedNext;
  else k.readyHead[idx] = t.schedNext;
  if (t.schedNext !== null) t.schedNext.schedPrev = t.schedPrev;
  else k.readyTail[idx] = t.schedPrev;
  if (k.readyHead[idx] === null) bitmapClear(k, t);
  t.schedPrev = null;
  t.schedNext = null;
  t.inReadyQueue = false;
}

/** Highest priority with a ready thread in a domain, or -1. */
export function highestReadyPrio(k: Kernel, domain: number): number {
  const words = Math.ceil(k.config.numPriorities / 32);
  const base = domain * words;
  for (let w = words - 1; w >= 0; w--) {
    const bits = k.readyBitmap[base + w]!;
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

/** Insert into the release queue, ordered by release time (FIFO among equals). */
export function tcbReleaseEnqueue(k: Kernel, t: TCB): void {
  if (t.inReleaseQueue) return;
  const time = releaseTime(t);
  let prev: TCB | null = null;
  let cur = k.releaseHead;
  while (cur !== null && releaseTime(cur) <= time) {
    prev = cur;
    cur = cur.schedNext;
  }
  t.schedPrev = prev;
  t.schedNext = cur;
  if (prev !== null) prev.schedNext = t;
  else k.releaseHead = t;
  if (cur !== null) cur.schedPrev = t;
  t.inReleaseQueue = true;
  if (k.releaseHead === t) k.reprogram = true;
}

export function tcbReleaseRemove(k: Kernel, t: TCB): void {
  if (!t.inReleaseQueue) return;
  if (t.schedPrev !== null) t.schedPrev.schedNext = t.schedNext;
  else {
    k.releaseHead = t.schedNext;
    k.reprogram = true;
  }
  if (t.schedNext !== null) t.schedNext.schedPrev = t.schedPrev;
  t.schedPrev = null;
  t.schedNext = null;
  t.inReleaseQueue = false;
}

export function tcbReleaseDequeue(k: Kernel): TCB {
  const t = k.releaseHead!;
  tcbReleaseRemove(k, t);
  return t;
}
