/**
 * SchedContext_Bind, Unbind, UnbindObject and Consumed (seL4 13.0.0
 * src/object/schedcontext.c), success and every error path.
 * Mirrors sel4test SCHED_CONTEXT_0003 (bind/unbind errors), SCHED_CONTEXT0007
 * (starting a passive thread by binding), SCHED_CONTEXT_0005 (deleting the SC
 * stops its thread) and SCHED0010 (a thread without a usable SC does not run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot } from './support/harness.js';
import {
  seL4_Call,
  seL4_CNode_Delete,
  seL4_GetMR,
  seL4_MessageInfo_get_label,
  seL4_MessageInfo_new,
  seL4_Wait,
  seL4_SchedContext_Bind,
  seL4_SchedContext_Consumed,
  seL4_SchedContext_Unbind,
  seL4_SchedContext_UnbindObject,
  seL4_SchedControl_ConfigureFlags,
  seL4_SetCap,
  seL4_TCB_Resume,
  seL4_TCB_SetPriority,
  seL4_Yield,
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadSC,
  seL4_CapInitThreadTCB,
  seL4_EndpointObject,
  seL4_NotificationObject,
  seL4_SchedContextObject,
  seL4_TCBObject,
  seL4_WordBits,
  sel4ts_Work,
} from '../src/user/index.js';
import { InvocationLabel, seL4_Error } from '../src/abi/constants.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { SchedContext } from '../src/kernel/object/schedcontext.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';
import type { Machine } from '../src/machine/machine.js';
import { attachSchedTrace, SchedTrace, totalTime } from '../src/trace/sched.js';

function objAt<T>(m: Machine, cptr: number): T {
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  return root.slots[cptr]!.cap.obj as T;
}

function* raw(service: number, label: number, caps: number[]): Generator<unknown, number, unknown> {
  caps.forEach((c, i) => seL4_SetCap(i, c));
  const tag = yield* seL4_Call(service, seL4_MessageInfo_new(label, 0, caps.length, 0));
  return seL4_MessageInfo_get_label(tag);
}

test('SCHED_CONTEXT_0003: Bind and UnbindObject errors', () => {
  runRoot(function* ({ m, vka }) {
    const E = seL4_Error;
    const tcb = yield* vka.allocObject(seL4_TCBObject);
    const sc = yield* vka.allocObject(seL4_SchedContextObject, 8);
    const other = yield* vka.allocObject(seL4_SchedContextObject, 8);
    const ntfn = yield* vka.allocObject(seL4_NotificationObject);
    const ntfn2 = yield* vka.allocObject(seL4_NotificationObject);
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const S = objAt<SchedContext>(m, sc);
    const T = objAt<TCB>(m, tcb);

    // Neither a TCB nor a notification: InvalidCapability, MR0 = 1.
    assert.equal(yield* seL4_SchedContext_Bind(sc, ep), E.seL4_InvalidCapability);
    assert.equal(seL4_GetMR(0), 1);
    assert.equal(yield* seL4_SchedContext_Bind(sc, tcb), E.seL4_NoError);
    assert.equal(S.tcb, T);
    assert.equal(T.sc, S);
    // The SC already has a TCB; the TCB already has an SC.
    assert.equal(yield* seL4_SchedContext_Bind(sc, tcb), E.seL4_IllegalOperation);
    assert.equal(yield* seL4_SchedContext_Bind(other, tcb), E.seL4_IllegalOperation);
    // seL4 13.0.0 checks only the notification side for a notification, so an SC
    // can be bound to a TCB and a notification at once (older sel4test expected an error).
    assert.equal(yield* seL4_SchedContext_Bind(sc, ntfn), E.seL4_NoError);
    assert.equal(yield* seL4_SchedContext_UnbindObject(sc, ntfn), E.seL4_NoError);
    assert.equal(yield* seL4_SchedContext_UnbindObject(sc, tcb), E.seL4_NoError);
    assert.equal(S.tcb, null);
    assert.equal(T.sc, null);

    assert.equal(yield* seL4_SchedContext_Bind(sc, ntfn), E.seL4_NoError);
    // The SC already has a notification; the notification already has an SC.
    assert.equal(yield* seL4_SchedContext_Bind(sc, ntfn), E.seL4_IllegalOperation);
    assert.equal(yield* seL4_SchedContext_Bind(sc, ntfn2), E.seL4_IllegalOperation);
    assert.equal(yield* seL4_SchedContext_Bind(other, ntfn), E.seL4_IllegalOperation);
    assert.equal(yield* seL4_SchedContext_UnbindObject(sc, ntfn), E.seL4_NoError);

    // UnbindObject of something else: InvalidCapability 1; of an object not bound: IllegalOperation.
    assert.equal(yield* seL4_SchedContext_UnbindObject(sc, ep), E.seL4_InvalidCapability);
    assert.equal(seL4_GetMR(0), 1);
    assert.equal(yield* seL4_SchedContext_UnbindObject(sc, ntfn), E.seL4_IllegalOperation);
    assert.equal(yield* seL4_SchedContext_UnbindObject(sc, tcb), E.seL4_IllegalOperation);

    // The current thread's SC cannot be taken away.
    assert.equal(yield* seL4_SchedContext_UnbindObject(seL4_CapInitThreadSC, seL4_CapInitThreadTCB), E.seL4_IllegalOperation);
    assert.equal(yield* seL4_SchedContext_Unbind(seL4_CapInitThreadSC), E.seL4_IllegalOperation);
    // Truncated (no cap) and unknown labels.
    assert.equal(yield* raw(sc, InvocationLabel.SchedContextBind, []), E.seL4_TruncatedMessage);
    assert.equal(yield* raw(sc, InvocationLabel.SchedContextUnbindObject, []), E.seL4_TruncatedMessage);
    assert.equal(yield* raw(sc, InvocationLabel.SchedControlConfigureFlags, [tcb]), E.seL4_IllegalOperation);
    assert.equal(yield* raw(sc, InvocationLabel.TCBSuspend, []), E.seL4_IllegalOperation);
    // Unbind of an SC bound to nothing is fine.
    assert.equal(yield* seL4_SchedContext_Unbind(sc), E.seL4_NoError);
  });
});

test('SchedContext_Bind: a blocked thread needs a released SC', () => {
  const { m } = runRoot(function* ({ m, bi, vka }) {
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const waiter = m.registerProgram(function* () {
      yield* seL4_Wait(ep, null);
    });
    const w = yield* vka.createThread({ entry: waiter, priority: 200 });
    const W = objAt<TCB>(m, w.tcb);
    // Drop below it so that it runs and blocks.
    assert.equal(yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 100), 0);
    assert.equal(W.state, ThreadState.BlockedOnReceive);
    assert.equal(yield* seL4_SchedContext_Unbind(w.sc), 0);
    assert.equal(W.sc, null);
    // An SC that was never configured has no refills, so it is not released.
    const fresh = yield* vka.allocObject(seL4_SchedContextObject, 8);
    assert.equal(yield* seL4_SchedContext_Bind(fresh, w.tcb), seL4_Error.seL4_IllegalOperation);
    // An SC whose budget is used up until its next period is not released either.
    const spent = objAt<SchedContext>(m, w.sc);
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, w.sc, 1000, 100_000, 0, 0, 0), 0);
    spent.refills.refillBudgetCheck(1_000_000); // white box: as if it had just used its budget
    assert.equal(yield* seL4_SchedContext_Bind(w.sc, w.tcb), seL4_Error.seL4_IllegalOperation);
    // Configured afresh (round robin), it is released.
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, w.sc, 1000, 1000, 0, 0, 0), 0);
    assert.equal(yield* seL4_SchedContext_Bind(w.sc, w.tcb), 0);
    assert.equal(W.sc, spent);
    // The unconfigured SC can be bound to a thread that is not blocked.
    const idle = yield* vka.allocObject(seL4_TCBObject);
    assert.equal(yield* seL4_SchedContext_Bind(fresh, idle), 0);
  });
  assert.ok(m.now > 0);
});

test('SCHED_CONTEXT0007: a passive thread starts when an SC is bound (resume then bind, bind then resume)', () => {
  const done: string[] = [];
  runRoot(function* ({ m, vka }) {
    const prog = m.registerProgram(function* (tag: number) {
      done.push(`ran ${tag}`);
    });
    // Resume first: runnable but no SC, so it does not run.
    const a = yield* vka.createThread({ entry: prog, priority: 254, args: [1], suspended: true });
    assert.equal(yield* seL4_SchedContext_Unbind(a.sc), 0);
    assert.equal(yield* seL4_TCB_Resume(a.tcb), 0);
    const A = objAt<TCB>(m, a.tcb);
    assert.equal(A.state, ThreadState.Restart);
    assert.equal(A.inReadyQueue, false);
    assert.deepEqual(done, []);
    // Binding makes it schedulable (queued); it runs once we drop below it.
    assert.equal(yield* seL4_SchedContext_Bind(a.sc, a.tcb), 0);
    assert.equal(A.inReadyQueue, true);
    yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 253);
    assert.deepEqual(done, ['ran 1']);
    // Bind first, then resume.
    const b = yield* vka.createThread({ entry: prog, priority: 254, args: [2], suspended: true });
    assert.equal(yield* seL4_SchedContext_Unbind(b.sc), 0);
    assert.equal(yield* seL4_SchedContext_Bind(b.sc, b.tcb), 0);
    assert.deepEqual(done, ['ran 1']);
    assert.equal(yield* seL4_TCB_Resume(b.tcb), 0);
    assert.deepEqual(done, ['ran 1', 'ran 2']);
  });
});

test('SCHED_CONTEXT_0005 / SCHED0010: deleting the SC stops its thread; no SC, no running', () => {
  let trace = null as SchedTrace | null;
  let spinner = -1;
  let deletedAt = 0;
  runRoot(
    function* ({ m, vka }) {
      const spin = m.registerProgram(function* () {
        for (;;) yield* sel4ts_Work(100_000);
      });
      const s = yield* vka.createThread({ entry: spin, priority: 100, budgetUs: 1000, periodUs: 1000 });
      spinner = objAt<TCB>(m, s.tcb).id;
      trace = attachSchedTrace(m);
      yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 100);
      yield* seL4_Yield(); // the spinner runs one budget
      assert.equal(yield* seL4_CNode_Delete(seL4_CapInitThreadCNode, s.sc, seL4_WordBits), 0);
      deletedAt = m.now;
      const S = objAt<TCB>(m, s.tcb);
      assert.equal(S.sc, null);
      assert.equal(S.inReadyQueue, false);
      // Yield: nothing else can run now.
      for (let i = 0; i < 3; i++) yield* seL4_Yield();
    },
    { untilNs: 50_000_000 },
  );
  const mine = trace!.snapshot().filter((s) => s.tid === spinner);
  assert.ok(mine.length >= 1);
  assert.ok(mine.every((s) => s.end <= deletedAt));
});

test('SchedContext_Consumed reports the time charged in us and restarts the count', () => {
  let trace = null as SchedTrace | null;
  let worker = -1;
  let workerSC = -1;
  const got: number[] = [];
  const lengths: number[] = [];
  runRoot(function* ({ m, vka }) {
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const work = m.registerProgram(function* () {
      yield* sel4ts_Work(2_345_678);
      yield* seL4_Wait(ep, null);
    });
    trace = attachSchedTrace(m);
    const w = yield* vka.createThread({ entry: work, priority: 100, budgetUs: 10_000, periodUs: 10_000 });
    worker = objAt<TCB>(m, w.tcb).id;
    workerSC = objAt<SchedContext>(m, w.sc).paddr;
    yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 50); // worker runs, blocks
    yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 255);
    const [e1, c1] = yield* seL4_SchedContext_Consumed(w.sc);
    got.push(e1, c1);
    lengths.push(totalTime(trace.snapshot(), (s) => s.sc === workerSC && s.tid === worker));
    const [e2, c2] = yield* seL4_SchedContext_Consumed(w.sc);
    got.push(e2, c2);
  });
  assert.equal(got[0], 0);
  // Everything the worker ran (work, syscall entries) was charged to its SC, in ns; reported in us.
  assert.ok(lengths[0]! > 2_345_678);
  assert.equal(got[1], Math.floor(lengths[0]! / 1000));
  assert.equal(got[2], 0);
  assert.equal(got[3], 0);
});
