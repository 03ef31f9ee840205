/**
 * Fixed priorities (256 levels), the maximum controlled priority (MCP) and
 * priority changes of runnable threads (seL4 13.0.0 setPriority, checkPrio,
 * possibleSwitchTo, schedule).
 * Mirrors sel4test SCHED0004 (threads at all priorities run in order),
 * SCHED0005 (set priority / MCP, RangeError), SCHED0020 (raising a thread's
 * priority above ours runs it at once) and SCHED0002 (resuming ourselves).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot } from './support/harness.js';
import {
  seL4_GetMR,
  seL4_Send,
  seL4_MessageInfo_new,
  seL4_TCB_Resume,
  seL4_TCB_SetMCPriority,
  seL4_TCB_SetPriority,
  seL4_TCB_SetSchedParams,
  seL4_Wait,
  seL4_Yield,
  seL4_CapInitThreadTCB,
  seL4_EndpointObject,
} from '../src/user/index.js';
import { seL4_Error } from '../src/abi/constants.js';

test('SCHED0004: threads at every priority 0..254 run highest first', () => {
  const ran: number[] = [];
  runRoot(function* ({ m, vka }) {
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const prog = m.registerProgram(function* (prio: number) {
      ran.push(prio);
      if (prio === 0) yield* seL4_Send(ep, seL4_MessageInfo_new(0, 0, 0, 0));
    });
    for (let p = 0; p <= 254; p++) yield* vka.createThread({ entry: prog, priority: p, args: [p] });
    assert.deepEqual(ran, []);
    yield* seL4_Wait(ep, null);
    assert.equal(ran.length, 255);
  });
  assert.deepEqual(
    ran,
    Array.from({ length: 255 }, (_, i) => 254 - i),
  );
});

test('SCHED0005: SetPriority and SetMCPriority are bounded by the authority MCP (RangeError 0..mcp)', () => {
  const steps: string[] = [];
  runRoot(function* ({ m, vka }) {
    const HIGH = 253;
    let t1 = 0;
    let t2 = 0;
    const helper1 = m.registerProgram(function* () {
      steps.push('1: start');
      // Lowering ourselves below helper 2 lets it run now.
      assert.equal(yield* seL4_TCB_SetPriority(t1, t1, HIGH - 4), 0);
      steps.push('1: back');
      // Our MCP is still HIGH, so we can raise ourselves again.
      assert.equal(yield* seL4_TCB_SetPriority(t1, t1, HIGH), 0);
      assert.equal(yield* seL4_TCB_SetMCPriority(t1, t1, HIGH - 4), 0);
      assert.equal(yield* seL4_TCB_SetPriority(t1, t1, HIGH - 3), seL4_Error.seL4_RangeError);
      assert.equal(seL4_GetMR(0), 0);
      assert.equal(seL4_GetMR(1), HIGH - 4);
      assert.equal(yield* seL4_TCB_SetMCPriority(t1, t1, HIGH), seL4_Error.seL4_RangeError);
      assert.deepEqual([seL4_GetMR(0), seL4_GetMR(1)], [0, HIGH - 4]);
      steps.push('1: done');
    });
    const helper2 = m.registerProgram(function* () {
      steps.push('2: start');
      // Our MCP is HIGH - 2: raising thread 1 to HIGH - 1 fails, to HIGH - 2 works.
      assert.equal(yield* seL4_TCB_SetPriority(t1, t2, HIGH - 1), seL4_Error.seL4_RangeError);
      assert.deepEqual([seL4_GetMR(0), seL4_GetMR(1)], [0, HIGH - 2]);
      assert.equal(yield* seL4_TCB_SetPriority(t1, t2, HIGH - 2), 0);
      // Dropping below thread 1 lets it run.
      assert.equal(yield* seL4_TCB_SetPriority(t2, t2, HIGH - 3), 0);
      steps.push('2: done');
    });
    const a = yield* vka.createThread({ entry: helper1, priority: HIGH, mcp: HIGH, suspended: true });
    const b = yield* vka.createThread({ entry: helper2, priority: HIGH - 1, mcp: HIGH - 2, suspended: true });
    t1 = a.tcb;
    t2 = b.tcb;
    yield* seL4_TCB_Resume(a.tcb);
    yield* seL4_TCB_Resume(b.tcb);
    assert.deepEqual(steps, []);
    yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
  });
  assert.deepEqual(steps, ['1: start', '2: start', '1: back', '1: done', '2: done']);
});

test('SetSchedParams checks both MCP and priority against the authority', () => {
  runRoot(function* ({ m, vka }) {
    const nop = m.registerProgram(function* () {});
    const low = yield* vka.createThread({ entry: nop, priority: 10, mcp: 10, suspended: true });
    const t = yield* vka.createThread({ entry: nop, priority: 5, suspended: true });
    // Authority `low` has MCP 10.
    assert.equal(yield* seL4_TCB_SetSchedParams(t.tcb, low.tcb, 11, 5, t.sc, 0), seL4_Error.seL4_RangeError);
    assert.deepEqual([seL4_GetMR(0), seL4_GetMR(1)], [0, 10]);
    assert.equal(yield* seL4_TCB_SetSchedParams(t.tcb, low.tcb, 10, 11, t.sc, 0), seL4_Error.seL4_RangeError);
    assert.deepEqual([seL4_GetMR(0), seL4_GetMR(1)], [0, 10]);
    // seL4 refuses any SC cap while the TCB already has an SC (even the same one).
    assert.equal(yield* seL4_TCB_SetSchedParams(t.tcb, low.tcb, 10, 10, t.sc, 0), seL4_Error.seL4_IllegalOperation);
    assert.equal(yield* seL4_TCB_SetSchedParams(t.tcb, low.tcb, 10, 10, 0, 0), 0);
  });
});

test('SCHED0020: raising a thread above us runs it immediately; SCHED0002: resuming ourselves is harmless', () => {
  let state = 0;
  runRoot(function* ({ m, vka }) {
    assert.equal(yield* seL4_TCB_Resume(seL4_CapInitThreadTCB), 0);
    assert.equal(yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 200), 0);
    const helper = m.registerProgram(function* () {
      yield* seL4_Yield();
      state = 2;
    });
    const h = yield* vka.createThread({ entry: helper, priority: 200 });
    // Same priority: it is queued behind us.
    assert.equal(state, 0);
    assert.equal(yield* seL4_TCB_SetPriority(h.tcb, seL4_CapInitThreadTCB, 201), 0);
    assert.equal(state, 2);
  });
});
