/**
 * The trace recorder and kernel-state snapshots: events come out in kernel
 * order with the machine's time and resolved thread ids, slices tile the
 * recorded time, snapshots describe queues, caps and mappings as the kernel
 * holds them, and the capability derivation tree decoded from the MDB agrees
 * with seL4's revoke semantics (a slot's descendants are exactly the run of
 * following MDB nodes it isMDBParentOf).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import type { Machine } from '../src/machine/machine.js';
import type { Kernel, KernelObserver } from '../src/kernel/kernel.js';
import type { Slot } from '../src/kernel/slot.js';
import { isMDBParentOf } from '../src/kernel/mdb.js';
import { checkInvariants } from '../src/kernel/invariants/index.js';
import { TCB_CTABLE } from '../src/kernel/object/tcb.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import { TraceRecorder, Trace, recordMachine, toJSONValue, checkTraceEnvelope } from '../src/trace/recorder.js';
import { Snapshot, objectId, slotId, takeSnapshot } from '../src/trace/snapshot.js';

const ROOT = s.seL4_CapInitThreadTCB;
const CNODE = s.seL4_CapInitThreadCNode;

/** Slot id of a cptr in the root CNode (radix 12, guard 52: a depth-64 cptr is the index). */
function rootSlotId(m: Machine, cptr: number): string {
  return `${objectId(m.booted.rootTCB.slots[TCB_CTABLE]!.cap.obj as CNode)}[${cptr}]`;
}

/** Every slot the kernel holds, by snapshot slot id. */
function kernelSlots(k: Kernel): Map<string, Slot> {
  const out = new Map<string, Slot>();
  for (const cn of k.cnodes) for (const sl of cn.slots) out.set(slotId(sl), sl);
  for (const t of k.tcbs) for (const sl of t.slots) out.set(slotId(sl), sl);
  for (const sl of k.irqs.slots) out.set(slotId(sl), sl);
  return out;
}

/** Check a snapshot's cap tree against the live kernel (only valid for a snapshot of the current state). */
function checkCapTree(k: Kernel, snap: Snapshot): void {
  const slots = kernelSlots(k);
  const tree = snap.capTree;
  const nonEmpty = [...slots.values()].filter((x) => !x.isEmpty).map(slotId).sort();
  assert.deepEqual([...tree.order].sort(), nonEmpty, 'every non-empty slot appears once in MDB order');
  const parent = new Map<string, string>();
  const kids = new Map<string, string[]>();
  for (const [p, c] of tree.edges) {
    assert.ok(!parent.has(c), `${c} has one parent`);
    parent.set(c, p);
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p)!.push(c);
    assert.ok(isMDBParentOf(slots.get(p)!, slots.get(c)!), `${p} isMDBParentOf ${c}`);
  }
  for (const r of tree.roots) assert.ok(!parent.has(r), `root ${r} has no parent`);
  assert.equal(tree.roots.length + tree.edges.length, tree.order.length);
  // seL4's revoke deletes the run of following slots the revoked slot isMDBParentOf: exactly the tree descendants.
  for (const id of tree.order) {
    const run = new Set<string>();
    const sl = slots.get(id)!;
    for (let n = sl.mdbNext; n !== null && isMDBParentOf(sl, n); n = n.mdbNext) run.add(slotId(n));
    const desc = new Set<string>();
    const stack = [...(kids.get(id) ?? [])];
    while (stack.length > 0) {
      const x = stack.pop()!;
      desc.add(x);
      stack.push(...(kids.get(x) ?? []));
    }
    assert.deepEqual([...desc].sort(), [...run].sort(), `descendants of ${id}`);
  }
}

/** Structural checks every finished trace must pass. */
function checkTrace(tr: Trace): void {
  assert.equal(checkTraceEnvelope(tr), null);
  assert.deepEqual(JSON.parse(JSON.stringify(tr)), tr, 'trace survives JSON');
  tr.events.forEach((e, i) => {
    assert.equal(e.i, i);
    if (i > 0) assert.ok(e.t >= tr.events[i - 1]!.t, 'timestamps never decrease');
  });
  // Switches chain: each leaves the thread the previous one entered (the first leaves the thread current
  // at the start), names a different target, and the next event happens on that target.
  let running = tr.snapshots[0]!.curThread;
  tr.events.forEach((e, i) => {
    if (e.kind !== 'switch') return;
    assert.equal(e.d['fromTid'], running, `switch #${i} leaves the running thread`);
    assert.equal(typeof e.d['toTid'], 'number');
    assert.notEqual(e.d['toTid'], running);
    running = e.d['toTid'] as number;
    const next = tr.events[i + 1];
    if (next !== undefined) assert.equal(next.cur, running, `event after switch #${i} runs on its target`);
  });
  // The slices follow the switches: one slice per thread change, the same threads in the same order.
  const switched = [tr.snapshots[0]!.curThread, ...tr.events.filter((e) => e.kind === 'switch').map((e) => e.d['toTid'] as number)];
  if (tr.meta.droppedEvents === 0) {
    const sliceTids = tr.slices.map((sl) => sl.tid);
    assert.deepEqual(sliceTids, switched.slice(0, sliceTids.length));
    assert.ok(switched.length - sliceTids.length <= 1, 'only a zero-length final slice may be missing');
  }
  // Slices tile [startTime, endTime] and alternate between different threads at switch times.
  let at = tr.meta.startTime;
  for (const sl of tr.slices) {
    assert.equal(sl.start, at, 'slices are contiguous');
    assert.ok(sl.end > sl.start);
    at = sl.end;
  }
  if (tr.slices.length > 0) assert.equal(at, tr.meta.endTime);
  const tids = new Set(tr.threads.map((t) => t.tid));
  for (const sl of tr.slices) assert.ok(tids.has(sl.tid));
  assert.ok(tr.snapshots.length >= 2);
  assert.equal(tr.snapshots[0]!.label, 'start');
  assert.equal(tr.snapshots.at(-1)!.label, 'end');
  for (let i = 1; i < tr.snapshots.length; i++) {
    assert.ok(tr.snapshots[i]!.time >= tr.snapshots[i - 1]!.time);
    assert.ok(tr.snapshots[i]!.eventIndex >= tr.snapshots[i - 1]!.eventIndex);
  }
}

/** Echo client/server with named threads; returns the trace and the machine. */
function echo(rounds: number, opts: { snapshotEvery?: number; maxEvents?: number; observer?: KernelObserver } = {}) {
  let rec: TraceRecorder | null = null;
  const ids = { ep: 0, badged: 0, reply: 0 };
  const replies: number[] = [];
  const { m } = runRoot(
    function* ({ m, vka }: RootEnv) {
      ids.ep = yield* vka.allocObject(s.seL4_EndpointObject);
      ids.badged = vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Mint(CNODE, ids.badged, 64, CNODE, ids.ep, 64, s.seL4_AllRights, 0x42), 0);
      ids.reply = yield* vka.allocObject(s.seL4_ReplyObject);
      const server = m.registerProgram(function* () {
        yield* s.seL4_Recv(ids.ep, null, ids.reply);
        for (;;) {
          s.seL4_SetMR(0, s.seL4_GetMR(0) + 1);
          yield* s.seL4_ReplyRecv(ids.ep, s.seL4_MessageInfo_new(0, 0, 0, 1), null, ids.reply);
        }
      });
      const client = m.registerProgram(function* () {
        for (let i = 0; i < rounds; i++) {
          s.seL4_SetMR(0, 10 * i);
          yield* s.seL4_Call(ids.badged, s.seL4_MessageInfo_new(0, 0, 0, 1));
          replies.push(s.seL4_GetMR(0));
        }
      });
      const srv = yield* vka.createThread({ entry: server, priority: 200 });
      yield* s.seL4_DebugNameThread(srv.tcb, 'server');
      const cli = yield* vka.createThread({ entry: client, priority: 100 });
      yield* s.seL4_DebugNameThread(cli.tcb, 'client');
    },
    {
      setup: (m) => {
        if (opts.observer) m.kernel.observer = opts.observer;
        rec = recordMachine(m, { snapshotEvery: opts.snapshotEvery ?? 0, maxEvents: opts.maxEvents ?? 100_000 });
      },
    },
  );
  const trace = rec!.finish();
  return { m, trace, ids, replies, rec: rec! };
}

const tidOf = (tr: Trace, name: string): number => {
  const t = tr.threads.find((x) => x.name === name);
  assert.ok(t, `thread ${name} in trace`);
  return t.tid;
};

describe('trace recorder', () => {
  it('records an echo client/server: retypes, then a Call from client to server per round, in order', () => {
    const { m, trace, replies } = echo(3);
    assert.deepEqual(replies, [1, 11, 21]);
    checkTrace(trace);
    const server = tidOf(trace, 'server');
    const client = tidOf(trace, 'client');
    const root = m.booted.rootTCB.id;
    assert.equal(trace.format, 'sel4ts-trace');
    assert.equal(trace.version, 1);
    assert.equal(trace.meta.eventCount, trace.events.length);
    assert.equal(trace.meta.droppedEvents, 0);
    assert.equal(trace.meta.endTime, m.now);
    // The root retypes the endpoint, then the reply object, before any thread runs.
    const retypes = trace.events.filter((e) => e.kind === 'retype').map((e) => e.d['type']);
    assert.deepEqual(retypes.slice(0, 3), ['Endpoint', 'Reply', 'TCB']);
    assert.ok(trace.events.filter((e) => e.kind === 'retype').every((e) => e.cur === root));
    // Significant events in order (switches in between are checked by checkTrace).
    const seq = trace.events
      .filter((e) => e.kind === 'ipc' || e.kind === 'exit')
      .map((e) => (e.kind === 'ipc' ? `ipc ${e.d['fromTid']}->${e.d['toTid']} call=${e.d['call']}` : `exit ${e.d['threadTid']}`));
    const call = `ipc ${client}->${server} call=true`;
    assert.deepEqual(seq, [`exit ${root}`, call, call, call, `exit ${client}`]);
    // Each Call is made by the client and is followed by a switch to the server.
    trace.events.forEach((e, i) => {
      if (e.kind !== 'ipc') return;
      assert.equal(e.cur, client);
      const sw = trace.events.slice(i + 1).find((x) => x.kind === 'switch')!;
      assert.equal(sw.d['toTid'], server);
    });
    // Time: the server only runs after the root has exited.
    const exitRoot = trace.events.find((e) => e.kind === 'exit')!;
    assert.ok(trace.slices.filter((sl) => sl.tid === server).every((sl) => sl.start >= exitRoot.t));
    assert.ok(trace.console === '' || typeof trace.console === 'string');
  });

  it('snapshots show threads, queues, badges and the cap tree as the kernel holds them', () => {
    const { m, trace, ids } = echo(2);
    const end = trace.snapshots.at(-1)!;
    const start = trace.snapshots[0]!;
    const server = tidOf(trace, 'server');
    const client = tidOf(trace, 'client');
    // At the start only the root task (and idle) exist; the root is current.
    assert.deepEqual(start.threads.map((t) => t.name), ['idle', 'rootserver']);
    assert.equal(start.curThread, m.booted.rootTCB.id);
    assert.equal(start.threads.find((t) => t.name === 'rootserver')!.state, 'Running');
    // At the end the server waits on the endpoint with its reply object; the client has finished.
    const srv = end.threads.find((t) => t.tid === server)!;
    const epId = end.endpoints[0]!.id;
    assert.equal(srv.state, 'BlockedOnReceive');
    assert.equal(srv.blockedOn, epId);
    assert.equal(srv.priority, 200);
    assert.equal(srv.scBudget, 1_000_000);
    assert.equal(end.threads.find((t) => t.tid === client)!.state, 'Inactive');
    assert.deepEqual(end.endpoints, [{ id: epId, state: 'Recv', queue: [server] }]);
    assert.equal(end.replies[0]!.tcb, server);
    // The minted cap carries badge 0x42 and is a child of the original endpoint cap, itself a child of an untyped.
    const root = end.cnodes[0]!;
    const slot = (cptr: number) => root.slots.find((x) => x.index === cptr)!;
    assert.equal(slot(ids.badged).cap.badge, '0x42');
    assert.equal(slot(ids.badged).cap.rights, 'RWGP');
    assert.equal(slot(ids.ep).cap.badge, '0x0');
    const edges = new Map(end.capTree.edges.map(([p, c]) => [c, p]));
    assert.equal(edges.get(rootSlotId(m, ids.badged)), rootSlotId(m, ids.ep));
    const epParent = edges.get(rootSlotId(m, ids.ep))!;
    assert.equal(root.slots.find((x) => x.id === epParent)!.cap.type, 'Untyped');
    assert.equal(edges.get(rootSlotId(m, ids.reply)), epParent, 'endpoint and reply come from the same untyped');
    checkCapTree(m.kernel, end);
    // Untyped free index moved past what was retyped; the IPC buffer frames are mapped in ASID 1.
    const ut = end.untypeds.find((u) => u.slot === epParent)!;
    assert.ok(ut.freeIndex > 0);
    assert.ok(end.mappings.some((x) => x.type === 'Frame' && x.asid === 1 && x.vaddr === 0x402000 && x.rights === 'RW'));
    assert.equal(end.mappings.filter((x) => x.vspaceRoot).length, 1);
    assert.ok(end.irqs.some((q) => q.state === 'Timer'));
  });

  it('takes periodic snapshots at kernel exits every N events', () => {
    const { trace } = echo(4, { snapshotEvery: 5 });
    checkTrace(trace);
    const periodic = trace.snapshots.slice(1, -1);
    assert.ok(periodic.length >= 3, `got ${periodic.length} periodic snapshots`);
    let last = 0;
    for (const sn of periodic) {
      assert.ok(sn.eventIndex - last >= 5, 'at least N events between snapshots');
      last = sn.eventIndex;
    }
  });

  it('chains an existing observer and kernel-exit hook, and restores both when finished', () => {
    const seen: string[] = [];
    const observer: KernelObserver = { onEvent: (kind) => seen.push(kind) };
    const { m, trace } = echo(2, { observer });
    assert.deepEqual(seen, trace.events.map((e) => e.kind));
    assert.equal(m.kernel.observer, observer);
    assert.equal(m.kernel.invariantHook, checkInvariants);
  });

  it('counts events beyond maxEvents without storing them and still ends the timeline', () => {
    const { trace } = echo(3, { maxEvents: 4 });
    assert.equal(trace.events.length, 4);
    assert.ok(trace.meta.eventCount > 4);
    assert.equal(trace.meta.droppedEvents, trace.meta.eventCount - 4);
    assert.equal(trace.slices.at(-1)!.end, trace.meta.endTime);
  });

  it('shows blocked senders and notification waiters in their queues', () => {
    let rec: TraceRecorder | null = null;
    const { m } = runRoot(
      function* (env: RootEnv) {
        const { vka } = env;
        const ep = yield* vka.allocObject(s.seL4_EndpointObject);
        const ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
        const start = function* (prio: number, body: () => Generator<unknown, void, unknown>) {
          const t = yield* vka.createThread({ entry: env.m.registerProgram(body), priority: prio });
          assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 0), 0);
          assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 255), 0);
          return t.tcb;
        };
        const senders: number[] = [];
        for (const p of [10, 30, 10]) {
          const t = yield* start(p, function* () {
            yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 0));
          });
          yield* s.seL4_DebugNameThread(t, `sender${senders.length}`);
          senders.push(t);
        }
        const w = yield* start(50, function* () {
          yield* s.seL4_Wait(ntfn, null);
        });
        yield* s.seL4_DebugNameThread(w, 'waiter');
        const mid = rec!.snapshot('queued');
        const names = (q: number[]) => q.map((tid) => mid.threads.find((t) => t.tid === tid)!.name);
        // MCS endpoint queues are ordered by priority, FIFO among equals.
        assert.deepEqual(mid.endpoints.map((e) => [e.state, names(e.queue)]), [['Send', ['sender1', 'sender0', 'sender2']]]);
        assert.deepEqual(mid.notifications.map((n) => [n.state, names(n.queue), n.word]), [['Waiting', ['waiter'], '0x0']]);
        assert.equal(mid.threads.find((t) => t.name === 'waiter')!.blockedOn, mid.notifications[0]!.id);
        checkCapTree(env.m.kernel, mid);
        yield* s.seL4_Signal(ntfn);
        const after = rec!.snapshot('signalled');
        assert.deepEqual(after.notifications.map((n) => [n.state, n.queue]), [['Idle', []]]);
        const waiter = after.threads.find((t) => t.name === 'waiter')!;
        assert.equal(waiter.state, 'Running');
        assert.equal(waiter.blockedOn, null, 'no stale blocking object once running');
        assert.ok(after.readyQueues.some((q) => q.priority === 50 && q.threads.includes(waiter.tid)));
      },
      { setup: (mm) => (rec = recordMachine(mm)) },
    );
    const trace = rec!.finish();
    checkTrace(trace);
    const sig = trace.events.find((e) => e.kind === 'signal')!;
    assert.equal(sig.cur, m.booted.rootTCB.id);
    assert.equal(`ntfn@0x${(sig.d['ntfn'] as number).toString(16)}`, trace.snapshots[1]!.notifications[0]!.id);
    assert.deepEqual(trace.snapshots.map((x) => x.label), ['start', 'queued', 'signalled', 'end']);
  });

  it('records a fault with no handler on the faulting thread, and revoke empties a subtree', () => {
    let rec: TraceRecorder | null = null;
    let copies: number[] = [];
    let ep = 0;
    const { m } = runRoot(
      function* (env: RootEnv) {
        const { vka } = env;
        ep = yield* vka.allocObject(s.seL4_EndpointObject);
        const minted = vka.allocSlot();
        assert.equal(yield* s.seL4_CNode_Mint(CNODE, minted, 64, CNODE, ep, 64, s.seL4_AllRights, 7), 0);
        const copy = vka.allocSlot();
        assert.equal(yield* s.seL4_CNode_Copy(CNODE, copy, 64, CNODE, minted, 64, s.seL4_AllRights), 0);
        copies = [minted, copy];
        const before = rec!.snapshot('minted');
        checkCapTree(env.m.kernel, before);
        const parentOf = new Map(before.capTree.edges.map(([p, c]) => [c, p]));
        assert.equal(parentOf.get(rootSlotId(env.m, copy)), rootSlotId(env.m, minted), 'copy of a badged cap is its child');
        assert.equal(yield* s.seL4_CNode_Revoke(CNODE, ep, 64), 0);
        const after = rec!.snapshot('revoked');
        checkCapTree(env.m.kernel, after);
        const ids = after.cnodes[0]!.slots.map((x) => x.index);
        assert.ok(ids.includes(ep) && !ids.includes(minted) && !ids.includes(copy));
        const bad = env.m.registerProgram(function* () {
          yield* s.sel4ts_Load(0x7000_0000);
        });
        const t = yield* vka.createThread({ entry: bad, priority: 100 });
        yield* s.seL4_DebugNameThread(t.tcb, 'bad');
      },
      { setup: (mm) => (rec = recordMachine(mm)) },
    );
    const trace = rec!.finish();
    checkTrace(trace);
    assert.equal(copies.length, 2);
    const bad = tidOf(trace, 'bad');
    const faults = trace.events.filter((e) => e.kind === 'fault');
    assert.equal(faults.length, 1);
    assert.equal(faults[0]!.cur, bad);
    assert.equal(faults[0]!.d['threadTid'], bad);
    assert.equal(faults[0]!.d['type'], 'VMFault');
    assert.equal(trace.snapshots.at(-1)!.threads.find((t) => t.tid === bad)!.state, 'Inactive');
    assert.ok(trace.snapshots.at(-1)!.capTree.order.includes(rootSlotId(m, ep)));
  });

  it('takeSnapshot does not change kernel state and leaks no kernel objects', () => {
    const { m } = echo(1);
    const k = m.kernel;
    const a = JSON.stringify(takeSnapshot(k, m.now, 'a'));
    const b = JSON.stringify(takeSnapshot(k, m.now, 'a'));
    assert.equal(a, b);
    const snap = takeSnapshot(k, m.now);
    assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap, 'plain data only');
    checkCapTree(k, snap);
  });

  it('makes event details JSON-safe', () => {
    class Thing {
      toString() {
        return 'thing';
      }
    }
    assert.deepEqual(toJSONValue({ a: 1n << 64n, b: [new Thing(), Infinity, undefined], c: { d: 'x', e: true } }), {
      a: '18446744073709551616',
      b: ['thing', 'Infinity', null],
      c: { d: 'x', e: true },
    });
    assert.equal(checkTraceEnvelope({ format: 'sel4ts-trace', version: 2 }), 'unsupported version 2');
    assert.equal(checkTraceEnvelope({ format: 'other' }), 'format is not "sel4ts-trace"');
    assert.equal(checkTraceEnvelope({ format: 'sel4ts-trace', version: 1, threads: [], slices: [], events: [] }), 'missing array "snapshots"');
  });
});
