/**
 * SchedContext_YieldTo (seL4 13.0.0 decodeSchedContext_YieldTo /
 * invokeSchedContext_YieldTo / schedContext_completeYieldTo).
 * Mirrors sel4test SCHED0017 (errors), SCHED0019 (yielding to a thread) and
 * SCHED0018 (the yielder comes back when the thread it yielded to stops).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot } from './support/harness.js';
import {
  seL4_Call,
  seL4_GetMR,
  seL4_MessageInfo_get_length,
  seL4_MessageInfo_new,
  seL4_SchedContext_YieldTo,
  seL4_TCB_Resume,
  seL4_TCB_Suspend,
  seL4_Wait,
  seL4_CapInitThreadSC,
  seL4_EndpointObject,
  seL4_SchedContextObject,
  sel4ts_Work,
} from '../src/user/index.js';
import { InvocationLabel, seL4_Error } from '../src/abi/constants.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { SchedContext } from '../src/kernel/object/schedcontext.js';
import type { TCB } from '../src/kernel/object/tcb.js';
import type { Machine } from '../src/machine/machine.js';
import { attachSchedTrace, SchedTrace, totalTime } from '../src/trace/sched.js';

function objAt<T>(m: Machine, cptr: number): T {
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  return root.slots[cptr]!.cap.obj as T;
}

/** YieldTo by hand, to see the reply's message length as well. */
function* yieldTo(sc: number): Generator<unknown, { error: number; consumed: number; length: number }, unknown> {
  const tag = yield* seL4_Call(sc, seL4_MessageInfo_new(InvocationLabel.SchedContextYieldTo, 0, 0, 0));
  return { error: tag / 4096 >>> 0, consumed: seL4_GetMR(0), length: seL4_MessageInfo_get_length(tag) };
}

test('SCHED0017: SchedContext_YieldTo errors', () => {
  const results: number[] = [];
  runRoot(function* ({ m, vka }) {
    // Yielding to one's own SC, or to an SC bound to no thread.
    let [err] = yield* seL4_SchedContext_YieldTo(seL4_CapInitThreadSC);
    assert.equal(err, seL4_Error.seL4_IllegalOperation);
    const unbound = yield* vka.allocObject(seL4_SchedContextObject, 8);
    [err] = yield* seL4_SchedContext_YieldTo(unbound);
    assert.equal(err, seL4_Error.seL4_IllegalOperation);
    // A thread that does not run (never resumed): allowed, returns at once with 0 consumed.
    const nop = m.registerProgram(function* () {});
    const h = yield* vka.createThread({ entry: nop, priority: 100, suspended: true });
    const r = yield* yieldTo(h.sc);
    assert.deepEqual(r, { error: 0, consumed: 0, length: 0 });
    // A thread whose MCP is below our priority may not yield to us.
    const tryYield = m.registerProgram(function* () {
      const [e] = yield* seL4_SchedContext_YieldTo(seL4_CapInitThreadSC);
      results.push(e);
    });
    yield* vka.createThread({ entry: tryYield, priority: 254, mcp: 0 });
    // Block so that the helper runs.
    yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
  });
  assert.deepEqual(results, [seL4_Error.seL4_IllegalOperation]);
});

test('SCHED0019: YieldTo a thread of equal priority runs it now and reports its consumed time later', () => {
  let trace = null as SchedTrace | null;
  let toSC = -1;
  let toId = -1;
  let result = { error: -1, consumed: -1, length: -1 };
  const order: string[] = [];
  runRoot(function* ({ m, vka }) {
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const to = m.registerProgram(function* () {
      order.push('to runs');
      yield* sel4ts_Work(300_000);
      order.push('to blocks');
      yield* seL4_Wait(ep, null);
    });
    trace = attachSchedTrace(m);
    // Same priority as the root: resuming it only queues it behind the root.
    const t = yield* vka.createThread({ entry: to, priority: 255, budgetUs: 5000, periodUs: 5000 });
    toSC = objAt<SchedContext>(m, t.sc).paddr;
    toId = objAt<TCB>(m, t.tcb).id;
    order.push('root yields');
    result = yield* yieldTo(t.sc);
    order.push('root back');
  });
  assert.deepEqual(order, ['root yields', 'to runs', 'to blocks', 'root back']);
  // The deferred reply (activateThread) carries one MR: the consumed time in us.
  assert.equal(result.error, 0);
  assert.equal(result.length, 1);
  const ran = totalTime(trace!.snapshot(), (s) => s.sc === toSC && s.tid === toId);
  assert.ok(ran > 300_000);
  assert.equal(result.consumed, Math.floor(ran / 1000));
  // The root's slice ended with reason 'yield'.
  const rootSlice = trace!.slices.find((s) => s.thread === 'rootserver' && s.reason === 'yield');
  assert.ok(rootSlice !== undefined);
});

test('YieldTo a lower-priority thread returns at once and puts it at the head of its queue', () => {
  const order: string[] = [];
  runRoot(function* ({ m, vka }) {
    const prog = m.registerProgram(function* (id: number) {
      order.push(`t${id}`);
    });
    const a = yield* vka.createThread({ entry: prog, priority: 100, args: [1] });
    const b = yield* vka.createThread({ entry: prog, priority: 100, args: [2] });
    const c = yield* vka.createThread({ entry: prog, priority: 100, args: [3] });
    void b;
    void c;
    // Queue at prio 100 is now t3, t2, t1 (each resume enqueues at the head). YieldTo t1 moves it first.
    const r = yield* yieldTo(a.sc);
    assert.deepEqual(r, { error: 0, consumed: 0, length: 0 });
    assert.deepEqual(order, []);
    yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
  });
  assert.deepEqual(order, ['t1', 't3', 't2']);
});

test('SCHED0018: the yielder gets its reply when the thread it yielded to exhausts its budget or stops', () => {
  const consumed: number[] = [];
  let spinSC = -1;
  let trace = null as SchedTrace | null;
  runRoot(
    function* ({ m, vka }) {
      const spin = m.registerProgram(function* () {
        for (;;) yield* sel4ts_Work(1_000_000);
      });
      const stopper = m.registerProgram(function* (self: number) {
        yield* sel4ts_Work(200_000);
        yield* seL4_TCB_Suspend(self);
      });
      trace = attachSchedTrace(m);
      // A round-robin spinner at our priority: it runs one budget (2 ms), then we are first again.
      const s = yield* vka.createThread({ entry: spin, priority: 255, budgetUs: 2000, periodUs: 2000 });
      spinSC = objAt<SchedContext>(m, s.sc).paddr;
      let r = yield* yieldTo(s.sc);
      assert.equal(r.error, 0);
      assert.equal(r.length, 1);
      consumed.push(r.consumed);
      assert.equal(yield* seL4_TCB_Suspend(s.tcb), 0);
      // A thread that suspends itself: we come back as soon as it stops.
      const t = yield* vka.createThread({ entry: stopper, priority: 255, budgetUs: 2000, periodUs: 2000, suspended: true });
      yield* seL4_TCB_Resume(t.tcb);
      r = yield* yieldTo(t.sc);
      assert.equal(r.error, 0);
      consumed.push(r.consumed);
    },
  );
  // One whole 2 ms budget (less the timer precision, plus the interrupt entry), in us.
  const spun = totalTime(trace!.snapshot(), (x) => x.sc === spinSC);
  assert.equal(consumed[0], Math.floor(spun / 1000));
  assert.equal(consumed[0], Math.floor((2_000_000 - 1000 + 300) / 1000));
  assert.ok(consumed[1]! >= 200 && consumed[1]! < 300);
});

