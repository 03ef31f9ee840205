/**
 * Scheduler invariants (MCS): scheduling contexts and their bindings, the
 * ready queues and their bitmap, the release queue, the current thread and
 * the idle thread. These follow seL4's valid_sched family: ready-queue threads
 * are runnable with an active, released, sufficient SC in the queue of their
 * domain and priority; the current thread is in no queue; schedulable threads
 * that are not current wait in the ready or the release queue (valid_blocked).
 */
import { Kernel, SchedulerAction } from '../kernel.js';
import type { SchedContext } from '../object/schedcontext.js';
import { TCB, ThreadState } from '../object/tcb.js';
import { objScan } from './objscan.js';
import { InvariantViolation, objName } from './violation.js';

function fail(name: string, detail: string): never {
  throw new InvariantViolation(name, detail);
}

function runnable(t: TCB): boolean {
  return t.state === ThreadState.Running || t.state === ThreadState.Restart;
}

function activeSC(t: TCB): boolean {
  return t.sc !== null && t.sc.refills.active;
}

function checkSC(k: Kernel, name: string, sc: SchedContext): void {
  if (sc.refills.active) {
    const bad = sc.refills.checkInvariants();
    if (bad !== null) fail(name, `${objName(sc)}: ${bad}`);
  }
  const t = sc.tcb;
  if (t !== null) {
    if (t !== k.idleThread && !(t.live && k.tcbs.has(t))) fail(name, `${objName(sc)} is bound to deleted thread ${t.name}`);
    if (t.sc !== sc) fail(name, `${objName(sc)} is bound to ${t.name}, whose SC is ${objName(t.sc)}`);
  }
  const n = sc.ntfn;
  if (n !== null) {
    if (!n.live || !k.objects.has(n)) fail(name, `${objName(sc)} is bound to deleted ${objName(n)}`);
    if (n.sc !== sc) fail(name, `${objName(sc)} is bound to ${objName(n)}, whose SC is ${objName(n.sc)}`);
  }
  const y = sc.yieldFrom;
  if (y !== null && y.yieldTo !== sc) fail(name, `${objName(sc)}.yieldFrom ${y.name} does not yield to it`);
}

/**
 * Refill queues are valid (RefillQueue.checkInvariants); sc.tcb/tcb.sc,
 * sc.ntfn/ntfn.sc and yieldFrom/yieldTo are symmetric and name live objects;
 * ksCurSC is the current thread's SC.
 */
export function schedContexts(k: Kernel): void {
  const name = 'schedContexts';
  const o = objScan(k);
  for (const sc of o.scs) checkSC(k, name, sc);
  if (k.idleSC !== null) checkSC(k, name, k.idleSC);
  for (const t of k.tcbs) {
    const sc = t.sc;
    if (sc !== null) {
      if (!sc.live || !k.objects.has(sc)) fail(name, `${t.name} is bound to deleted ${objName(sc)}`);
      if (sc.tcb !== t) fail(name, `${t.name} holds ${objName(sc)}, which is bound to ${sc.tcb?.name ?? 'nothing'}`);
    }
    const y = t.yieldTo;
    if (y !== null && y.yieldFrom !== t) fail(name, `${t.name}.yieldTo ${objName(y)} does not record it`);
  }
  for (const n of o.notifications) {
    if (n.sc !== null && n.sc.ntfn !== n) fail(name, `${objName(n)} holds ${objName(n.sc)}, which is bound elsewhere`);
  }
  if (k.curSC !== k.curThread.sc) fail(name, `ksCurSC ${objName(k.curSC)} is not the current thread's SC ${objName(k.curThread.sc)}`);
}

/**
 * Each ready queue (domain, priority) is a consistent list of live threads of
 * that domain and priority that are runnable, hold an active SC that is
 * released and sufficient (budget_ready, budget_sufficient), are not in the
 * release queue and are not the current thread; the bitmap marks exactly the
 * non-empty queues; inReadyQueue flags match membership.
 */
export function readyQueues(k: Kernel): void {
  const name = 'readyQueues';
  const np = k.config.numPriorities;
  const limit = k.tcbs.size + 1;
  const now = k.curTime;
  let queued = 0;
  for (let idx = 0; idx < k.readyHead.length; idx++) {
    const head = k.readyHead[idx]!;
    const bit = (k.readyBitmap[idx >>> 5]! >>> (idx & 31)) & 1;
    if ((head === null) !== (bit === 0)) fail(name, `bitmap bit ${idx} disagrees with its queue`);
    const d = Math.floor(idx / np);
    const p = idx % np;
    let prev: TCB | null = null;
    let n = 0;
    for (let t: TCB | null = head; t !== null; t = t.schedNext) {
      if (++n > limit) fail(name, `ready queue (${d}, ${p}) has a cycle`);
      if (!(t.live && k.tcbs.has(t))) fail(name, `ready queue (${d}, ${p}) holds deleted or idle thread ${t.name}`);
      if (t.schedPrev !== prev) fail(name, `${t.name}.schedPrev is inconsistent in ready queue (${d}, ${p})`);
      if (!t.inReadyQueue || t.inReleaseQueue) fail(name, `${t.name} is in ready queue (${d}, ${p}) with flags ready=${t.inReadyQueue} release=${t.inReleaseQueue}`);
      if (t.domain !== d || t.priority !== p) fail(name, `${t.name} (domain ${t.domain}, priority ${t.priority}) is in ready queue (${d}, ${p})`);
      if (!runnable(t)) fail(name, `${t.name} is in a ready queue in state ${ThreadState[t.state]}`);
      if (!activeSC(t)) fail(name, `${t.name} is in a ready queue without an active SC`);
      if (t === k.curThread) fail(name, `the current thread ${t.name} is in a ready queue`);
      const r = t.sc!.refills;
      if (!r.refillReady(now) || !r.refillSufficient(0)) {
        fail(name, `${t.name} is in a ready queue but its head refill (${r.headTime}, ${r.headAmount}) is not released and sufficient at ${now}`);
      }
      prev = t;
    }
    if (k.readyTail[idx] !== prev) fail(name, `ready queue (${d}, ${p}) has a wrong tail`);
    queued += n;
  }
  let flagged = 0;
  for (const t of k.tcbs) if (t.inReadyQueue) flagged++;
  if (flagged !== queued) fail(name, `${flagged} threads are flagged inReadyQueue but ${queued} are queued`);
}

/**
 * The release queue is a consistent list of live runnable threads with an
 * active SC whose head refill is not yet ready, sorted by release time, with
 * matching inReleaseQueue flags and none in a ready queue.
 */
export function releaseQueue(k: Kernel): void {
  const name = 'releaseQueue';
  const limit = k.tcbs.size + 1;
  let prev: TCB | null = null;
  let n = 0;
  for (let t = k.releaseHead; t !== null; t = t.schedNext) {
    if (++n > limit) fail(name, 'the release queue has a cycle');
    if (!(t.live && k.tcbs.has(t))) fail(name, `the release queue holds deleted or idle thread ${t.name}`);
    if (t.schedPrev !== prev) fail(name, `${t.name}.schedPrev is inconsistent in the release queue`);
    if (!t.inReleaseQueue || t.inReadyQueue) fail(name, `${t.name} is in the release queue with flags ready=${t.inReadyQueue} release=${t.inReleaseQueue}`);
    if (!runnable(t)) fail(name, `${t.name} is in the release queue in state ${ThreadState[t.state]}`);
    if (!activeSC(t)) fail(name, `${t.name} is in the release queue without an active SC`);
    if (t === k.curThread) fail(name, `the current thread ${t.name} is in the release queue`);
    const r = t.sc!.refills;
    if (r.refillReady(k.curTime)) fail(name, `${t.name} is still in the release queue although its refill at ${r.headTime} is ready at ${k.curTime}`);
    if (prev !== null && prev.sc!.refills.headTime > r.headTime) fail(name, `the release queue is not sorted at ${t.name}`);
    prev = t;
  }
  let flagged = 0;
  for (const t of k.tcbs) if (t.inReleaseQueue) flagged++;
  if (flagged !== n) fail(name, `${flagged} threads are flagged inReleaseQueue but ${n} are queued`);
}

/**
 * seL4's valid_blocked: a runnable thread with an active SC that is not the
 * current thread waits in a ready queue or in the release queue.
 */
export function schedulableThreadsQueued(k: Kernel): void {
  for (const t of k.tcbs) {
    if (t === k.curThread || !runnable(t) || !activeSC(t)) continue;
    if (!t.inReadyQueue && !t.inReleaseQueue) {
      fail('schedulableThreadsQueued', `${t.name} is ${ThreadState[t.state]} with an active SC but in neither the ready nor the release queue`);
    }
  }
}

/**
 * No thread runs or waits to run without a configured scheduling context:
 * the current thread and every ready- or release-queued thread holds one. A
 * passive thread (no SC) may be Running/Restart in seL4 (a Send to a passive
 * server, TCB_Resume) but then it is never chosen; it runs only on an SC
 * donated along a Call or by a bound notification.
 */
export function runnableHaveSchedContext(k: Kernel): void {
  for (const t of k.tcbs) {
    if ((t === k.curThread || t.inReadyQueue || t.inReleaseQueue) && !activeSC(t)) {
      const where = t === k.curThread ? 'is the current thread' : 'is queued to run';
      fail('runnableHaveSchedContext', `${t.name} ${where} without an active scheduling context`);
    }
  }
}

/**
 * At kernel exit the scheduler action is ResumeCurrentThread and the current
 * thread is the idle thread or a live, runnable thread with an active SC in
 * no queue.
 */
export function currentThread(k: Kernel): void {
  const name = 'currentThread';
  const t = k.curThread;
  if (k.schedulerAction !== SchedulerAction.ResumeCurrentThread) fail(name, `scheduler action ${SchedulerAction[k.schedulerAction]} at kernel exit`);
  if (t === k.idleThread) return;
  if (!(t.live && k.tcbs.has(t))) fail(name, `the current thread ${t.name} is deleted`);
  if (!runnable(t)) fail(name, `the current thread ${t.name} is ${ThreadState[t.state]}`);
  if (!activeSC(t)) fail(name, `the current thread ${t.name} has no active SC`);
  if (t.inReadyQueue || t.inReleaseQueue) fail(name, `the current thread ${t.name} is queued`);
}

/**
 * The idle thread is in IdleThreadState, unregistered, unqueued, holds the
 * idle SC, and is the only thread in that state; it runs only when no thread
 * of the current domain is ready.
 */
export function idleThread(k: Kernel): void {
  const name = 'idleThread';
  const idle = k.idleThread;
  if (idle.state !== ThreadState.IdleThreadState) fail(name, `the idle thread is ${ThreadState[idle.state]}`);
  if (k.tcbs.has(idle) || k.objects.has(idle)) fail(name, 'the idle thread is registered as a user object');
  if (idle.inReadyQueue || idle.inReleaseQueue || idle.epNext !== null || idle.epPrev !== null) fail(name, 'the idle thread is queued');
  if (idle.sc !== k.idleSC || k.idleSC === null || k.idleSC.tcb !== idle) fail(name, 'the idle thread does not hold the idle SC');
  for (const t of k.tcbs) if (t.state === ThreadState.IdleThreadState) fail(name, `${t.name} is in IdleThreadState`);
  if (k.curThread === idle) {
    const np = k.config.numPriorities;
    const base = k.curDomain * np;
    for (let p = 0; p < np; p++) {
      const t = k.readyHead[base + p];
      if (t !== null && t !== undefined) fail(name, `the idle thread runs while ${t.name} is ready`);
    }
  }
}
