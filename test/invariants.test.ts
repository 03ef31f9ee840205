/**
 * The kernel invariants (src/kernel/invariants): all of them hold in a rich
 * kernel state reached through real system calls (threads blocked sending,
 * receiving, on notifications and on replies, a passive server holding a
 * donated SC, threads in the ready and release queues, mapped frames, retyped
 * untypeds), and each one, named, catches a deliberate corruption of that
 * state.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testMachine } from './support/harness.js';
import * as s from '../src/user/index.js';
import { checkInvariants, INVARIANTS, InvariantViolation, violatedInvariants } from '../src/kernel/invariants/index.js';
import { capStateGeneration } from '../src/kernel/capgen.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { SchedulerAction } from '../src/kernel/kernel.js';
import { Cap, CapType } from '../src/kernel/cap.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import { Endpoint, EndpointState } from '../src/kernel/object/endpoint.js';
import type { Notification } from '../src/kernel/object/notification.js';
import type { Reply } from '../src/kernel/object/reply.js';
import type { SchedContext } from '../src/kernel/object/schedcontext.js';
import { TCB, TCB_CTABLE, ThreadState } from '../src/kernel/object/tcb.js';
import type { Slot } from '../src/kernel/slot.js';
import { tcbSchedDequeue, tcbSchedEnqueue } from '../src/kernel/sched/queues.js';
import { lookupPTSlot } from '../src/kernel/vspace/vspace.js';
import { pteHi, pteLo, PTE_R, PTE_U, PTE_V, PTE_A } from '../src/machine/sv39.js';

interface Rich {
  k: Kernel;
  /** Root CNode cptrs of interesting objects. */
  cptr: Record<string, number>;
  root: CNode;
}

/** Build the rich state with real invocations, stopping while spinners are both ready and released. */
function richState(): Rich {
  const m = testMachine();
  const bi = m.booted.bootInfo;
  const vka = new s.Vka(bi);
  const cptr: Record<string, number> = {};
  const prog = (name: string, body: () => Generator<unknown, void, unknown>) => m.registerProgram(body, name);
  const server1 = prog('server1', function* () {
    yield* s.seL4_Recv(cptr.ep1!, null, cptr.reply1!);
  });
  const server2 = prog('server2', function* () {
    yield* s.seL4_Recv(cptr.ep2!, null, cptr.reply2!);
    yield* s.seL4_Wait(cptr.ntfn1!, null);
  });
  const client = prog('client', function* () {
    yield* s.seL4_Call(cptr.ep2!, s.seL4_MessageInfo_new(1, 0, 0, 0));
  });
  const sender = prog('sender', function* () {
    yield* s.seL4_Send(cptr.ep3!, s.seL4_MessageInfo_new(2, 0, 0, 0));
  });
  const bound = prog('bound', function* () {
    yield* s.seL4_Wait(cptr.ntfn2!, null);
  });
  const spinner = prog('spinner', function* () {
    yield* s.sel4ts_Work(1e12);
  });
  m.startRoot(function* () {
    for (const n of ['ep1', 'ep2', 'ep3']) cptr[n] = yield* vka.allocObject(s.seL4_EndpointObject);
    for (const n of ['ntfn1', 'ntfn2']) cptr[n] = yield* vka.allocObject(s.seL4_NotificationObject);
    for (const n of ['reply1', 'reply2']) cptr[n] = yield* vka.allocObject(s.seL4_ReplyObject);
    cptr.epCopy = vka.allocSlot();
    assert.equal(yield* s.seL4_CNode_Copy(2, cptr.epCopy, 64, 2, cptr.ep1!, 64, 15), 0);
    const [frame] = yield* vka.allocMappedFrame();
    cptr.frame = frame;
    // The servers start at the root's priority so that one Yield lets them block in Recv.
    const s1 = yield* vka.createThread({ entry: server1, priority: 255 });
    const s2 = yield* vka.createThread({ entry: server2, priority: 255 });
    yield* s.seL4_Yield();
    // server2 is now blocked in Recv: make it passive.
    assert.equal(yield* s.seL4_SchedContext_UnbindObject(s2.sc, s2.tcb), 0);
    assert.equal(yield* s.seL4_TCB_SetPriority(s1.tcb, s.seL4_CapInitThreadTCB, 150), 0);
    assert.equal(yield* s.seL4_TCB_SetPriority(s2.tcb, s.seL4_CapInitThreadTCB, 140), 0);
    yield* vka.createThread({ entry: client, priority: 130 });
    yield* vka.createThread({ entry: sender, priority: 120 });
    const b = yield* vka.createThread({ entry: bound, priority: 110, suspended: true });
    assert.equal(yield* s.seL4_TCB_BindNotification(b.tcb, cptr.ntfn2!), 0);
    assert.equal(yield* s.seL4_TCB_Resume(b.tcb), 0);
    for (let i = 0; i < 3; i++) yield* vka.createThread({ entry: spinner, priority: 100, budgetUs: 1000, periodUs: 2000 });
  });
  const k = m.kernel;
  const spinning = () => [...k.tcbs].filter((t) => t.name.startsWith('tcb') && t.priority === 100);
  for (let i = 0; i < 2000; i++) {
    m.run({ untilNs: m.now + 137_000 });
    const sp = spinning();
    if (k.releaseHead !== null && sp.some((t) => t.inReadyQueue) && sp.includes(k.curThread)) break;
  }
  return { k, cptr, root: m.booted.rootTCB.slots[TCB_CTABLE]!.cap.obj as CNode };
}

function fn(name: string): (k: Kernel) => void {
  const e = INVARIANTS.find(([n]) => n === name);
  assert.ok(e !== undefined, `no invariant named ${name}`);
  return e[1];
}

/**
 * The named invariant holds, then fails after corrupt(): both within a full
 * check (checkInvariants, which reuses what it can of the previous check, so
 * a check just before the corruption primes its caches) and called on its own.
 */
function caught(r: Rich, name: string, corrupt: () => void): void {
  fn(name)(r.k);
  checkInvariants(r.k);
  corrupt();
  const found = violatedInvariants(r.k);
  assert.ok(
    found.some((v) => v.startsWith(`${name}: `)),
    `a full check right after a clean one misses the corruption (found: ${found.join('; ') || 'nothing'})`,
  );
  assert.throws(
    () => fn(name)(r.k),
    (e: unknown) => e instanceof InvariantViolation && e.invariant === name,
  );
}

function rootSlot(r: Rich, cptr: number): Slot {
  return r.root.slots[cptr]!;
}
function obj<T>(r: Rich, cptr: number): T {
  return rootSlot(r, cptr).cap.obj as T;
}
function threadsIn(r: Rich, st: ThreadState): TCB[] {
  return [...r.k.tcbs].filter((t) => t.state === st);
}
function readyThread(r: Rich): TCB {
  const t = [...r.k.tcbs].find((x) => x.inReadyQueue);
  assert.ok(t !== undefined, 'some thread is ready');
  return t;
}

const covered = new Set<string>();
function corruption(name: string, title: string, corrupt: (r: Rich) => void): void {
  covered.add(name);
  it(`${name} catches ${title}`, () => {
    const r = richState();
    caught(r, name, () => corrupt(r));
  });
}

describe('kernel invariants', () => {
  it('all hold in the rich state, which has every kind of queue and binding', () => {
    const r = richState();
    const k = r.k;
    assert.deepEqual(violatedInvariants(k), []);
    assert.equal(threadsIn(r, ThreadState.BlockedOnReceive).length, 1);
    assert.equal(threadsIn(r, ThreadState.BlockedOnSend).length, 1);
    assert.equal(threadsIn(r, ThreadState.BlockedOnReply).length, 1);
    assert.equal(threadsIn(r, ThreadState.BlockedOnNotification).length, 2);
    assert.ok(k.releaseHead !== null, 'a thread waits in the release queue');
    const reply2 = obj<Reply>(r, r.cptr.reply2!);
    assert.ok(reply2.nextSC !== null && reply2.nextSC.reply === reply2, 'the passive server holds a donated SC');
    assert.equal(obj<Notification>(r, r.cptr.ntfn2!).boundTCB?.state, ThreadState.BlockedOnNotification);
  });

  corruption('mdbWellFormed', 'an MDB node unlinked from its predecessor only', (r) => {
    const s1 = rootSlot(r, r.cptr.epCopy!);
    s1.mdbPrev!.mdbNext = s1.mdbNext;
  });
  corruption('mdbWellFormed', 'a revocable slot that is not firstBadged', (r) => {
    rootSlot(r, r.cptr.ep1!).firstBadged = false;
  });
  corruption('mdbObjectRuns', 'a cap to another object spliced between two caps to one endpoint', (r) => {
    const a = rootSlot(r, r.cptr.ep1!);
    const b = rootSlot(r, r.cptr.epCopy!);
    assert.equal(a.mdbNext, b);
    const x = rootSlot(r, r.cptr.ep3!);
    // Unlink x and relink it between a and b, keeping the list well formed.
    if (x.mdbPrev !== null) x.mdbPrev.mdbNext = x.mdbNext;
    if (x.mdbNext !== null) x.mdbNext.mdbPrev = x.mdbPrev;
    x.mdbPrev = a;
    x.mdbNext = b;
    a.mdbNext = x;
    b.mdbPrev = x;
  });
  corruption('capsNameLiveObjects', 'a cap to an endpoint that was finalised', (r) => {
    const ep = obj<Endpoint>(r, r.cptr.ep3!);
    ep.live = false;
  });
  corruption('objectsHaveCaps', 'a registered object no cap names', (r) => {
    r.k.objects.add(new Endpoint(0x80000000, 4));
  });
  corruption('capsInsideUntyped', "an untyped whose free index was lowered below its children", (r) => {
    const ut = r.root.slots.find((sl) => sl.cap.type === CapType.Untyped && sl.mdbNext !== null && sl.mdbNext.cap.type !== CapType.Untyped);
    assert.ok(ut !== undefined);
    ut.cap.freeIndex = 0;
  });
  corruption('untypedObjectsDisjoint', 'two sibling objects of one untyped that overlap', (r) => {
    const ep1 = rootSlot(r, r.cptr.ep1!);
    const ep2 = rootSlot(r, r.cptr.ep2!);
    const c = ep2.cap.clone();
    const e = new Endpoint(ep1.cap.paddr, 4);
    r.k.objects.add(e);
    r.k.objects.delete(ep2.cap.obj!);
    c.obj = e;
    c.paddr = ep1.cap.paddr;
    ep2.cap = c;
  });
  corruption('endpointQueues', 'a thread queued on an endpoint that is no longer blocked', (r) => {
    threadsIn(r, ThreadState.BlockedOnSend)[0]!.state = ThreadState.Inactive;
  });
  corruption('endpointQueues', 'a receiving endpoint marked Idle', (r) => {
    obj<Endpoint>(r, r.cptr.ep1!).state = EndpointState.Idle;
  });
  corruption('notificationQueues', 'a waiting thread dropped from its notification queue', (r) => {
    const n = obj<Notification>(r, r.cptr.ntfn1!);
    n.queueHead = null;
    n.queueTail = null;
  });
  corruption('notificationBinding', 'a one-sided binding', (r) => {
    obj<Notification>(r, r.cptr.ntfn2!).boundTCB = null;
  });
  corruption('replyObjects', 'a reply that forgot its caller', (r) => {
    obj<Reply>(r, r.cptr.reply2!).tcb = null;
  });
  corruption('callStacks', 'an SC whose call-stack head does not carry it', (r) => {
    const reply = obj<Reply>(r, r.cptr.reply2!);
    const sc = reply.nextSC!;
    reply.nextSC = null;
    sc.reply = reply;
  });
  corruption('schedContexts', 'a one-sided SC binding', (r) => {
    const t = readyThread(r);
    (t.sc as SchedContext).tcb = null;
  });
  corruption('readyQueues', 'a blocked thread enqueued in a ready queue', (r) => {
    tcbSchedEnqueue(r.k, threadsIn(r, ThreadState.BlockedOnSend)[0]!);
  });
  corruption('releaseQueue', 'a released thread left in the release queue', (r) => {
    const t = r.k.releaseHead!;
    t.sc!.refills.debugLoad(t.sc!.refills.period, t.sc!.refills.maxRefills, [[0, t.sc!.refills.budget]]);
  });
  corruption('schedulableThreadsQueued', 'a ready thread dropped from every queue', (r) => {
    tcbSchedDequeue(r.k, readyThread(r));
  });
  corruption('runnableHaveSchedContext', 'a queued thread that lost its SC', (r) => {
    const t = readyThread(r);
    t.sc!.tcb = null;
    t.sc = null;
  });
  corruption('currentThread', 'a current thread that blocked without a reschedule', (r) => {
    r.k.curThread.state = ThreadState.BlockedOnReceive;
  });
  corruption('currentThread', 'a pending scheduler action at kernel exit', (r) => {
    r.k.schedulerAction = SchedulerAction.ChooseNewThread;
  });
  corruption('idleThread', 'an idle thread made runnable', (r) => {
    r.k.idleThread.state = ThreadState.Running;
  });
  corruption('asidTable', 'an ASID assigned to a page table without a cap', (r) => {
    r.k.asids.pools[0]!.entries[7] = 0x80400000;
  });
  corruption('vspaceMappings', 'a PTE pointing at a frame no cap maps there', (r) => {
    const k = r.k;
    const root = k.asids.pools[0]!.entries[1]!;
    const frame = rootSlot(r, r.cptr.frame!).cap;
    const slot = lookupPTSlot(k, root, frame.mappedAddr + 4096);
    const ppn = frame.paddr / 4096;
    k.writeWord(slot.paddr, pteHi(ppn), pteLo(ppn, PTE_V | PTE_R | PTE_U | PTE_A));
  });

  corruption('readyQueues', 'a non-empty ready queue whose bitmap bit is clear', (r) => {
    const t = readyThread(r);
    const k = r.k;
    const b = t.domain * (((k.config.numPriorities + 31) >>> 5) << 5) + t.priority;
    k.readyBitmap[b >>> 5] = k.readyBitmap[b >>> 5]! & ~(1 << (b & 31));
  });
  corruption('readyQueues', 'a bitmap bit set for an empty ready queue', (r) => {
    const k = r.k;
    const p = k.config.numPriorities - 1;
    assert.equal(k.readyHead[p], null);
    k.readyBitmap[p >>> 5] = k.readyBitmap[p >>> 5]! | (1 << (p & 31));
  });
  corruption('asidTable', 'an ASID far into the pool assigned to a page table without a cap', (r) => {
    r.k.asids.pools[0]!.entries[300] = 0x80400000;
  });
  corruption('vspaceMappings', 'a PTE, alone in its part of the table, pointing at a frame no cap maps there', (r) => {
    const k = r.k;
    const root = k.asids.pools[0]!.entries[1]!;
    const frame = rootSlot(r, r.cptr.frame!).cap;
    // The last entry of the leaf table that maps the frame.
    const slot = lookupPTSlot(k, root, Math.floor(frame.mappedAddr / 0x200000) * 0x200000 + 511 * 4096);
    assert.equal(slot.bitsLeft, 12);
    assert.equal(k.readWordLo(slot.paddr), 0);
    const ppn = frame.paddr / 4096;
    k.writeWord(slot.paddr, pteHi(ppn), pteLo(ppn, PTE_V | PTE_R | PTE_U | PTE_A));
  });

  it('every write to capability state counts in the capability-state generation (the checker reuses scans by it)', () => {
    const r = richState();
    const s1 = rootSlot(r, r.cptr.epCopy!);
    const c = s1.cap;
    const o = c.obj!;
    const writes: [string, () => void][] = [
      ['slot.cap', () => (s1.cap = c)],
      ['slot.mdbPrev', () => (s1.mdbPrev = s1.mdbPrev)],
      ['slot.mdbNext', () => (s1.mdbNext = s1.mdbNext)],
      ['slot.revocable', () => (s1.revocable = s1.revocable)],
      ['slot.firstBadged', () => (s1.firstBadged = s1.firstBadged)],
      ['object.live', () => (o.live = o.live)],
    ];
    // Every field of a Cap is an accessor with a setter (a plain field would escape the count).
    const proto = Object.getOwnPropertyDescriptors(Cap.prototype);
    for (const [f, d] of Object.entries(proto)) {
      if (d.set !== undefined) writes.push([`cap.${f}`, () => ((c as unknown as Record<string, unknown>)[f] = (c as unknown as Record<string, unknown>)[f])]);
    }
    assert.ok(writes.length >= 6 + 17, 'every Cap field has a setter');
    for (const [what, write] of writes) {
      const g = capStateGeneration[0]!;
      write();
      assert.ok(capStateGeneration[0]! > g, `writing ${what} is not counted`);
    }
    // No Cap, Slot or kernel object field that the scan reads is a plain (uncounted) property.
    assert.deepEqual(Object.keys(c), []);
    assert.deepEqual(Object.keys(s1).sort(), ['index', 'owner']);
    assert.ok(!Object.keys(o).includes('live'));
    checkInvariants(r.k);
  });

  it('no false alarm when an original endpoint cap goes and its badged children become siblings', () => {
    // Caps to one object that follow each other as siblings under their untyped are one object, not an overlap.
    let ok = false;
    const m = testMachine();
    const vka = new s.Vka(m.booted.bootInfo);
    m.startRoot(function* () {
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      for (let b = 1; b <= 3; b++) assert.equal(yield* s.seL4_CNode_Mint(2, vka.allocSlot(), 64, 2, ep, 64, 15, b), 0);
      assert.equal(yield* s.seL4_CNode_Delete(2, ep, 64), 0);
      const ut = yield* vka.allocObject(s.seL4_UntypedObject, 12);
      const copy = vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Copy(2, copy, 64, 2, ut, 64, 15), 0);
      assert.equal(yield* s.seL4_Untyped_Retype(copy, s.seL4_EndpointObject, 0, 2, 0, 0, vka.allocSlot(), 2), 0);
      ok = true;
    });
    m.run({ untilNs: 1e9 });
    assert.ok(ok);
    assert.deepEqual(violatedInvariants(m.kernel), []);
  });

  it('every registered invariant has a corruption test', () => {
    for (const [name] of INVARIANTS) assert.ok(covered.has(name), `${name} has no corruption test`);
  });

  it('the checks leave kernel state untouched (a second run agrees and the null cap is shared)', () => {
    const r = richState();
    assert.deepEqual(violatedInvariants(r.k), []);
    assert.deepEqual(violatedInvariants(r.k), []);
    assert.equal(rootSlot(r, 0).cap, Cap.NULL);
  });
});
