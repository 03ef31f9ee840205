/**
 * SchedControl_ConfigureFlags: every error of seL4 13.0.0's
 * decodeSchedControl_ConfigureFlags with its MRs, and what a successful
 * configuration does to the scheduling context and its thread.
 * Mirrors sel4test SCHED_CONTEXT_0001 (configure and its errors) and
 * SCHED_CONTEXT_0002 (reconfiguring a paused, then a running thread).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot } from './support/harness.js';
import {
  seL4_Call,
  seL4_GetMR,
  seL4_MessageInfo_get_label,
  seL4_MessageInfo_new,
  seL4_SchedControl_ConfigureFlags,
  seL4_SetCap,
  seL4_SetMR,
  seL4_TCB_Resume,
  seL4_TCB_SetPriority,
  seL4_Yield,
  seL4_CapInitThreadTCB,
  seL4_SchedContextObject,
  seL4_TCBObject,
  sel4ts_Work,
  Word,
} from '../src/user/index.js';
import { InvocationLabel, seL4_Error } from '../src/abi/constants.js';
import type { SchedContext } from '../src/kernel/object/schedcontext.js';
import type { TCB } from '../src/kernel/object/tcb.js';
import type { Machine } from '../src/machine/machine.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import { MAX_PERIOD_US, MIN_BUDGET_US } from '../src/kernel/sched/refill.js';
import { attachSchedTrace, SchedTrace } from '../src/trace/sched.js';

/** The kernel object behind a cptr of the root task's CNode (white-box checks). */
function objAt<T>(m: Machine, cptr: number): T {
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  return root.slots[cptr]!.cap.obj as T;
}

/** An invocation marshalled by hand (to send too few MRs or caps). */
function* raw(service: number, label: number, mrs: Word[], caps: number[], length = mrs.length): Generator<unknown, number, unknown> {
  caps.forEach((c, i) => seL4_SetCap(i, c));
  mrs.forEach((v, i) => seL4_SetMR(i, v));
  const tag = yield* seL4_Call(service, seL4_MessageInfo_new(label, 0, caps.length, length));
  return seL4_MessageInfo_get_label(tag);
}

const WORD_MAX = (1n << 64n) - 1n;

test('SCHED_CONTEXT_0001: ConfigureFlags succeeds, and fails with the exact error and MRs', () => {
  runRoot(function* ({ m, bi, vka }) {
    const k = m.kernel;
    const ctrl = bi.schedcontrol.start;
    const scCap = yield* vka.allocObject(seL4_SchedContextObject, 8);
    const small = yield* vka.allocObject(seL4_SchedContextObject, 7);
    const tcbCap = yield* vka.allocObject(seL4_TCBObject);
    const sc = objAt<SchedContext>(m, scCap);

    // Success: budget == period makes a round-robin SC (period 0, two refills).
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, 5000, 5000, 0, 0, 0), seL4_Error.seL4_NoError);
    assert.equal(sc.refills.period, 0);
    assert.equal(sc.refills.budget, 5_000_000);
    assert.equal(sc.refills.maxRefills, 2);

    const range = (min: number, max: number) => {
      assert.equal(seL4_GetMR(0), min);
      assert.equal(seL4_GetMR(1), max);
    };
    // Not a scheduling context: InvalidCapability, MR0 = 1 (checked before the ranges).
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, tcbCap, 0, 0, 0, 0, 0), seL4_Error.seL4_InvalidCapability);
    assert.equal(seL4_GetMR(0), 1);
    // Budget 0, budget below MIN_BUDGET, period 0: RangeError [MIN_BUDGET_US, MAX_PERIOD_US].
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, 0, 5000, 0, 0, 0), seL4_Error.seL4_RangeError);
    range(MIN_BUDGET_US, MAX_PERIOD_US);
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, 0, 0, 0, 0, 0), seL4_Error.seL4_RangeError);
    range(20, MAX_PERIOD_US);
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, 19, 5000, 0, 0, 0), seL4_Error.seL4_RangeError);
    range(20, MAX_PERIOD_US);
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, 20, 19, 0, 0, 0), seL4_Error.seL4_RangeError);
    range(20, MAX_PERIOD_US);
    // Above MAX_PERIOD_US, including the largest word.
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, MAX_PERIOD_US + 1, MAX_PERIOD_US + 1, 0, 0, 0), seL4_Error.seL4_RangeError);
    range(20, MAX_PERIOD_US);
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, 1000, WORD_MAX, 0, 0, 0), seL4_Error.seL4_RangeError);
    range(20, MAX_PERIOD_US);
    // Budget above period: RangeError [MIN_BUDGET_US, period].
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, 5000, 1000, 0, 0, 0), seL4_Error.seL4_RangeError);
    range(20, 1000);
    // Extra refills: a 2^8 SC holds 10 refills, so at most 8 extra; a 2^7 SC none.
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, 1000, 10000, 9, 0, 0), seL4_Error.seL4_RangeError);
    range(0, 8);
    assert.equal(yield* raw(ctrl, InvocationLabel.SchedControlConfigureFlags, [1000, 10000, WORD_MAX, 0, 0], [scCap]), seL4_Error.seL4_RangeError);
    range(0, 8);
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, small, 1000, 10000, 1, 0, 0), seL4_Error.seL4_RangeError);
    range(0, 0);
    // The failed calls left the SC as it was.
    assert.equal(sc.refills.budget, 5_000_000);
    assert.equal(sc.refills.period, 0);

    // Truncated: no SC cap, or fewer than five MRs.
    assert.equal(yield* raw(ctrl, InvocationLabel.SchedControlConfigureFlags, [1000, 1000, 0, 0, 0], []), seL4_Error.seL4_TruncatedMessage);
    assert.equal(yield* raw(ctrl, InvocationLabel.SchedControlConfigureFlags, [1000, 1000, 0, 0], [scCap]), seL4_Error.seL4_TruncatedMessage);
    // Any other label on the SchedControl cap.
    assert.equal(yield* raw(ctrl, InvocationLabel.SchedContextBind, [], [scCap]), seL4_Error.seL4_IllegalOperation);

    // Sporadic flag, 64-bit badge and extra refills are kept.
    const badge = 0xdeadbeefcafef00dn;
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, 1000, 10000, 8, badge, 1), seL4_Error.seL4_NoError);
    assert.equal(sc.sporadic, true);
    assert.equal(sc.refills.sporadic, true);
    assert.equal((BigInt(sc.badgeHi) << 32n) | BigInt(sc.badgeLo), badge);
    assert.equal(sc.refills.maxRefills, 10);
    assert.equal(sc.refills.period, 10_000_000);
    assert.deepEqual(sc.refills.toArray(), [[k.curTime, 1_000_000]]);
    // budget == period ignores extra refills (round robin) and the flag is recomputed.
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, scCap, 20, 20, 8, 0, 0), seL4_Error.seL4_NoError);
    assert.equal(sc.refills.maxRefills, 2);
    assert.equal(sc.refills.budget, 20_000);
    assert.equal(sc.sporadic, false);
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, small, MAX_PERIOD_US, MAX_PERIOD_US, 0, 0, 0), seL4_Error.seL4_NoError);
  });
});

test('SCHED_CONTEXT_0002: reconfiguring a paused and a running thread', () => {
  let trace = null as SchedTrace | null;
  let helperId = -1;
  let helperSC = -1;
  const marks: number[] = [];
  const { m } = runRoot(
    function* ({ m, bi, vka }) {
      const spin = m.registerProgram(function* () {
        for (;;) yield* sel4ts_Work(1_000_000);
      });
      const h = yield* vka.createThread({ entry: spin, priority: 100, budgetUs: 1000, periodUs: 1000, suspended: true });
      const sc = objAt<SchedContext>(m, h.sc);
      helperId = objAt<TCB>(m, h.tcb).id;
      helperSC = sc.paddr;
      // Reconfigure the paused thread, then start it at our priority so Yield lets it run.
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, h.sc, 5000, 5000, 0, 0, 0), 0);
      assert.equal(yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 100), 0);
      trace = attachSchedTrace(m);
      assert.equal(yield* seL4_TCB_Resume(h.tcb), 0);
      marks.push(m.now);
      yield* seL4_Yield();
      // Reconfigure it while it is runnable (round robin, 10 ms).
      marks.push(m.now);
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, h.sc, 10000, 10000, 0, 0, 0), 0);
      yield* seL4_Yield();
      marks.push(m.now);
      // Less, and sporadic with a longer period: refill_update keeps its bandwidth.
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, h.sc, 3000, 30000, 2, 0, 1), 0);
      assert.equal(sc.refills.period, 30_000_000);
      assert.equal(sc.refills.budget, 3_000_000);
      yield* seL4_Yield();
      marks.push(m.now);
      yield* seL4_Yield();
      marks.push(m.now);
    },
    { untilNs: 200_000_000 },
  );
  assert.ok(trace !== null);
  const slices = trace!.snapshot().filter((s) => s.tid === helperId);
  // Each Yield of the root gives the helper one whole budget: 5 ms, then 10 ms, then 3 ms
  // (less the 1 us timer precision, plus the 300 ns interrupt entry).
  const lengths = slices.slice(0, 3).map((s) => s.end - s.start);
  assert.deepEqual(lengths, [5_000_000 - 1000 + 300, 10_000_000 - 1000 + 300, 3_000_000 - 1000 + 300]);
  assert.deepEqual(
    slices.slice(0, 3).map((s) => s.reason),
    ['budget', 'budget', 'budget'],
  );
  assert.ok(slices.every((s) => s.sc === helperSC));
  // After the 3 ms budget the sporadic SC waits for its refill 30 ms after the slice began:
  // the root's next Yield finds nothing else to run, so it returns at once.
  const third = slices[2]!;
  assert.ok(marks[4]! - marks[3]! < 100_000, 'root ran again without waiting for the helper');
  const fourth = slices[3];
  if (fourth !== undefined) assert.ok(fourth.start >= third.start + 30_000_000 - 10_000 - 1000);
  assert.ok(m.now > 0);
});

