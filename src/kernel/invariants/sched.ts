/**
 * Scheduler invariants (MCS): scheduling contexts and their bindings, the
 * ready queues and their bitmap, the release queue, the current thread and
 * the idle thread. These follow seL4's valid_sched family: ready-queue threads
 * are runnable with an active, released, sufficient SC in the queue of their
 * domain and priority; the current thread is in no queue; schedulable threads
 * that are not current wait in the ready or the release queue (valid_blocked).
 *
 * With several cores every check runs for each core's NodeState: a thread is
 * queued only on its own core (tcbAffinity), which is its SC's core. Core
 * clocks differ by a bounded skew, so a queued thread must be released by
 * the latest core clock and a thread waiting for release not yet by the
 * earliest (on one core both are ksCurTime).
 */
import { Kernel, SchedulerAction } from '../kernel.js';
import type { NodeState } from '../node.js';
import type { SchedContext } from '../object/schedcontext.js';
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

function runnable(t: TCB): boolean {
  return t.state === ThreadState.Running || t.state === ThreadState.Restart;
}

function activeSC(t: TCB): boolean {
  return t.sc !== null && t.sc.refills.active;
}

/** Whether t is the current thread of some core. */
function isCurrent(k: Kernel, t: TCB): boolean {
  const nodes = k.nodes;
  for (let i = 0; i < nodes.length; i++) if (nodes[i]!.curThread === t) return true;
  return false;
}

/** Whether t is the idle thread of some core. */
function isIdle(k: Kernel, t: TCB): boolean {
  const nodes = k.nodes;
  for (let i = 0; i < nodes.length; i++) if (nodes[i]!.idleThread === t) return true;
  return false;
}

/** The latest (or earliest) core clock: ksCurTime of every core. */
function coreTime(k: Kernel, latest: boolean): number {
  let t = k.nodes[0]!.curTime;
  for (const n of k.nodes) if (latest ? n.curTime > t : n.curTime < t) t = n.curTime;
  return t;
}

function checkSC(k: Kernel, name: string, sc: SchedContext): void {
  if (sc.refills.active) {
    const bad = sc.refills.checkInvariants();
    if (bad !== null) fail(name, `${objName(sc)}: ${bad}`);
  }
  const t = sc.tcb;
  if (t !== null) {
    if (!isIdle(k, t) && !(t.live && k.tcbs.has(t))) fail(name, `${objName(sc)} is bound to deleted thread ${t.name}`);
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
 * a thread with an SC has the SC's core as its affinity; each core's
 * ksCurSC is its current thread's SC.
 */
export function schedContexts(k: Kernel): void {
  const name = 'schedContexts';
  const o = objScan(k);
  for (const sc of o.scs) checkSC(k, name, sc);
  for (const node of k.nodes) if (node.idleSC !== null) checkSC(k, name, node.idleSC);
  for (const t of threads(k)) {
    const sc = t.sc;
    if (sc !== null) {
      if (!sc.live || !k.objects.has(sc)) fail(name, `${t.name} is bound to deleted ${objName(sc)}`);
      if (sc.tcb !== t) fail(name, `${t.name} holds ${objName(sc)}, which is bound to ${sc.tcb?.name ?? 'nothing'}`);
      if (t.affinity !== sc.core) fail(name, `${t.name} has affinity ${t.affinity} but its ${objName(sc)} belongs to core ${sc.core}`);
    }
    const y = t.yieldTo;
    if (y !== null && y.yieldFrom !== t) fail(name, `${t.name}.yieldTo ${objName(y)} does not record it`);
  }
  for (const n of o.notifications) {
    if (n.sc !== null && n.sc.ntfn !== n) fail(name, `${objName(n)} holds ${objName(n.sc)}, which is bound elsewhere`);
  }
  for (const node of k.nodes) {
    if (node.curSC !== node.curThread.sc) {
      fail(name, `core ${node.core}: ksCurSC ${objName(node.curSC)} is not the current thread's SC ${objName(node.curThread.sc)}`);
    }
  }
}

/**
 * Each ready queue (domain, priority) is a consistent list of live threads of
 * that domain and priority that are runnable, hold an active SC that is
 * released and sufficient (budget_ready, budget_sufficient), are not in the
 * release queue and are not the current thread; the bitmap marks exactly the
 * non-empty queues; inReadyQueue flags match membership.
 */
export function readyQueues(k: Kernel): void {
  const now = coreTime(k, true);
  let queued = 0;
  for (const node of k.nodes) queued += checkReadyQueues(k, node, now);
  let flagged = 0;
  for (const t of threads(k)) if (t.inReadyQueue) flagged++;
  if (flagged !== queued) fail('readyQueues', `${flagged} threads are flagged inReadyQueue but ${queued} are queued`);
}

/** One core's ready queues; returns how many threads they hold. */
function checkReadyQueues(k: Kernel, node: NodeState, now: number): number {
  const name = 'readyQueues';
  const np = k.config.numPriorities;
  const c = k.nodes.length > 1 ? `core ${node.core} ` : '';
  // The bitmap has ceil(numPriorities / 32) words per domain (sched/queues.ts).
  const wordsPerDomain = (np + 31) >>> 5;
  let queued = 0;
  for (let d = 0; d < k.config.numDomains; d++) {
    for (let w = 0; w < wordsPerDomain; w++) {
      // The non-empty queues among priorities 32w .. 32w + 31, as a bitmap word.
      const first = 32 * w;
      const last = Math.min(first + 32, np);
      let nonEmpty = 0;
      for (let p = first; p < last; p++) if (node.readyHead[d * np + p] !== null) nonEmpty |= 1 << (p - first);
      const valid = last - first === 32 ? -1 : (1 << (last - first)) - 1;
      const word = node.readyBitmap[d * wordsPerDomain + w]! & valid;
      if (nonEmpty !== word) fail(name, `${c}bitmap bit ${d * np + first + lowestBit(nonEmpty ^ word)} disagrees with its queue`);
      for (let bits = nonEmpty; bits !== 0; bits &= bits - 1) {
        const p = first + lowestBit(bits);
        queued += walkReadyQueue(k, node, now, d, p);
      }
    }
  }
  return queued;
}

/**
 * What holds for every thread in a ready queue (`ready`) or a release queue
 * (`queue` names it) of `node`: live and registered, linked back to `prev`,
 * flagged for that queue only, of that core, runnable with an active SC, and
 * nobody's current thread.
 */
function checkQueuedThread(k: Kernel, name: string, node: NodeState, queue: string, t: TCB, prev: TCB | null, ready: boolean): void {
  if (!(t.live && k.tcbs.has(t))) fail(name, `${queue} holds deleted or idle thread ${t.name}`);
  if (t.schedPrev !== prev) fail(name, `${t.name}.schedPrev is inconsistent in ${queue}`);
  if (t.inReadyQueue !== ready || t.inReleaseQueue === ready) {
    fail(name, `${t.name} is in ${queue} with flags ready=${t.inReadyQueue} release=${t.inReleaseQueue}`);
  }
  if (t.affinity !== node.core) fail(name, `${t.name} (affinity ${t.affinity}) is in ${queue}, which belongs to core ${node.core}`);
  if (!runnable(t)) fail(name, `${t.name} is in ${queue} in state ${ThreadState[t.state]}`);
  if (!activeSC(t)) fail(name, `${t.name} is in ${queue} without an active SC`);
  if (isCurrent(k, t)) fail(name, `the current thread ${t.name} is in ${queue}`);
}

/** Index of the lowest set bit of a non-zero word. */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Check core `node`'s ready queue (d, p); returns its length. */
function walkReadyQueue(k: Kernel, node: NodeState, now: number, d: number, p: number): number {
  const name = 'readyQueues';
  const limit = k.tcbs.size + 1;
  const c = k.nodes.length > 1 ? `core ${node.core} ` : '';
  const idx = d * k.config.numPriorities + p;
  let prev: TCB | null = null;
  let n = 0;
  const queue = `${c}ready queue (${d}, ${p})`;
  for (let t: TCB | null = node.readyHead[idx]!; t !== null; t = t.schedNext) {
    if (++n > limit) fail(name, `${queue} has a cycle`);
    checkQueuedThread(k, name, node, queue, t, prev, true);
    if (t.domain !== d || t.priority !== p) fail(name, `${t.name} (domain ${t.domain}, priority ${t.priority}) is in ${queue}`);
    const r = t.sc!.refills;
    if (!r.refillReady(now) || !r.refillSufficient(0)) {
      fail(name, `${t.name} is in a ready queue but its head refill (${r.headTime}, ${r.headAmount}) is not released and sufficient at ${now}`);
    }
    prev = t;
  }
  if (node.readyTail[idx] !== prev) fail(name, `${c}ready queue (${d}, ${p}) has a wrong tail`);
  return n;
}

/**
 * The release queue is a consistent list of live runnable threads with an
 * active SC whose head refill is not yet ready, sorted by release time, with
 * matching inReleaseQueue flags and none in a ready queue.
 */
export function releaseQueue(k: Kernel): void {
  const now = coreTime(k, false);
  let n = 0;
  for (const node of k.nodes) n += checkReleaseQueue(k, node, now);
  let flagged = 0;
  for (const t of threads(k)) if (t.inReleaseQueue) flagged++;
  if (flagged !== n) fail('releaseQueue', `${flagged} threads are flagged inReleaseQueue but ${n} are queued`);
}

/** One core's release queue; returns how many threads it holds. */
function checkReleaseQueue(k: Kernel, node: NodeState, now: number): number {
  const name = 'releaseQueue';
  const limit = k.tcbs.size + 1;
  let prev: TCB | null = null;
  let n = 0;
  const queue = k.nodes.length > 1 ? `the release queue of core ${node.core}` : 'the release queue';
  for (let t = node.releaseHead; t !== null; t = t.schedNext) {
    if (++n > limit) fail(name, `${queue} has a cycle`);
    checkQueuedThread(k, name, node, queue, t, prev, false);
    const r = t.sc!.refills;
    if (r.refillReady(now)) fail(name, `${t.name} is still in ${queue} although its refill at ${r.headTime} is ready at ${now}`);
    if (prev !== null && prev.sc!.refills.headTime > r.headTime) fail(name, `${queue} is not sorted at ${t.name}`);
    prev = t;
  }
  return n;
}

/**
 * seL4's valid_blocked: a runnable thread with an active SC that is not the
 * current thread waits in a ready queue or in the release queue.
 */
export function schedulableThreadsQueued(k: Kernel): void {
  for (const t of threads(k)) {
    if (!runnable(t) || !activeSC(t) || isCurrent(k, t)) continue;
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
  for (const t of threads(k)) {
    if ((t.inReadyQueue || t.inReleaseQueue || isCurrent(k, t)) && !activeSC(t)) {
      const where = t.inReadyQueue || t.inReleaseQueue ? 'is queued to run' : 'is the current thread';
      fail('runnableHaveSchedContext', `${t.name} ${where} without an active scheduling context`);
    }
  }
}

/**
 * At kernel exit every core's scheduler action is ResumeCurrentThread and
 * its current thread is its idle thread or a live, runnable thread with an
 * active SC, in no queue, running on that core (its affinity).
 */
export function currentThread(k: Kernel): void {
  const name = 'currentThread';
  for (const node of k.nodes) {
    const t = node.curThread;
    const c = k.nodes.length > 1 ? `core ${node.core}: ` : '';
    if (node.schedulerAction !== SchedulerAction.ResumeCurrentThread) {
      fail(name, `${c}scheduler action ${SchedulerAction[node.schedulerAction]} at kernel exit`);
    }
    if (t === node.idleThread) continue;
    if (!(t.live && k.tcbs.has(t))) fail(name, `${c}the current thread ${t.name} is deleted`);
    if (!runnable(t)) fail(name, `${c}the current thread ${t.name} is ${ThreadState[t.state]}`);
    if (!activeSC(t)) fail(name, `${c}the current thread ${t.name} has no active SC`);
    if (t.inReadyQueue || t.inReleaseQueue) fail(name, `${c}the current thread ${t.name} is queued`);
    if (t.affinity !== node.core) fail(name, `${c}the current thread ${t.name} has affinity ${t.affinity}`);
  }
}

/**
 * Each core's idle thread is in IdleThreadState, unregistered, unqueued,
 * holds that core's idle SC, and idle threads are the only threads in that
 * state; a core runs its idle thread only when no thread of the current
 * domain is ready on it.
 */
export function idleThread(k: Kernel): void {
  const name = 'idleThread';
  for (const node of k.nodes) {
    const idle = node.idleThread;
    if (idle.state !== ThreadState.IdleThreadState) fail(name, `the idle thread is ${ThreadState[idle.state]}`);
    if (k.tcbs.has(idle) || k.objects.has(idle)) fail(name, 'the idle thread is registered as a user object');
    if (idle.inReadyQueue || idle.inReleaseQueue || idle.epNext !== null || idle.epPrev !== null) fail(name, 'the idle thread is queued');
    if (idle.sc !== node.idleSC || node.idleSC === null || node.idleSC.tcb !== idle) fail(name, 'the idle thread does not hold the idle SC');
    if (idle.affinity !== node.core) fail(name, `the idle thread of core ${node.core} has affinity ${idle.affinity}`);
    if (node.curThread === idle) {
      const np = k.config.numPriorities;
      const base = k.curDomain * np;
      for (let p = 0; p < np; p++) {
        const t = node.readyHead[base + p];
        if (t !== null && t !== undefined) fail(name, `the idle thread of core ${node.core} runs while ${t.name} is ready`);
      }
    }
  }
  for (const t of threads(k)) if (t.state === ThreadState.IdleThreadState) fail(name, `${t.name} is in IdleThreadState`);
}
