/**
 * Round robin within a priority by budget, seL4_Yield (gives up the rest of
 * the head refill), periodic threads and timeslice accuracy, measured from
 * the scheduling trace (seL4 13.0.0 chargeBudget / endTimeslice / handleYield).
 * Mirrors sel4test SCHED0011 (scheduler accuracy), SCHED0012/0013/0014
 * (periodic threads and their ordering) and SCHED_CONTEXT_0006's use of
 * seL4_Yield between threads of one priority.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot } from './support/harness.js';
import {
  seL4_SchedControl_ConfigureFlags,
  seL4_TCB_Resume,
  seL4_TCB_Suspend,
  seL4_Wait,
  seL4_Yield,
  seL4_EndpointObject,
  sel4ts_Work,
} from '../src/user/index.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { SchedContext } from '../src/kernel/object/schedcontext.js';
import type { TCB } from '../src/kernel/object/tcb.js';
import type { Machine } from '../src/machine/machine.js';
import { attachSchedTrace, SchedTrace } from '../src/trace/sched.js';

function objAt<T>(m: Machine, cptr: number): T {
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  return root.slots[cptr]!.cap.obj as T;
}

/** A slice that ends at budget expiry: budget less the 1 us timer precision, plus the 300 ns interrupt entry. */
const slice = (budgetNs: number) => budgetNs - 1000 + 300;

test('round robin: threads of one priority take turns, each for its whole budget', () => {
  let trace = null as SchedTrace | null;
  const ids: number[] = [];
  runRoot(
    function* ({ m, vka }) {
      const spin = m.registerProgram(function* () {
        for (;;) yield* sel4ts_Work(10_000_000);
      });
      for (const us of [1000, 2000, 3000]) {
        const t = yield* vka.createThread({ entry: spin, priority: 100, budgetUs: us, periodUs: us });
        ids.push(objAt<TCB>(m, t.tcb).id);
      }
      trace = attachSchedTrace(m, { idle: false });
      yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
    },
    { untilNs: 40_000_000 },
  );
  const s = trace!.slices.filter((x) => ids.includes(x.tid));
  // Each resume queued its thread at the head, so the last created runs first.
  const [a, b, c] = ids as [number, number, number];
  const expect = [c, b, a, c, b, a, c, b, a];
  assert.deepEqual(
    s.slice(0, 9).map((x) => x.tid),
    expect,
  );
  const budget = new Map([
    [a, 1_000_000],
    [b, 2_000_000],
    [c, 3_000_000],
  ]);
  for (const x of s.slice(0, 9)) {
    assert.equal(x.end - x.start, slice(budget.get(x.tid)!));
    assert.equal(x.reason, 'budget');
  }
  // Back to back: no gaps between the turns.
  for (let i = 1; i < 9; i++) assert.equal(s[i]!.start, s[i - 1]!.end);
});

test('seL4_Yield on a round-robin SC: the rest of the budget goes, the next turn has it all again', () => {
  let trace = null as SchedTrace | null;
  let yielder = -1;
  let other = -1;
  let refillsAfterYield: Array<[number, number]> = [];
  runRoot(
    function* ({ m, vka }) {
      let sc: SchedContext | null = null;
      const y = m.registerProgram(function* () {
        yield* sel4ts_Work(500_000);
        yield* seL4_Yield();
        refillsAfterYield = sc!.refills.toArray();
        for (;;) yield* sel4ts_Work(10_000_000);
      });
      const spin = m.registerProgram(function* () {
        for (;;) yield* sel4ts_Work(10_000_000);
      });
      trace = attachSchedTrace(m, { idle: false });
      const o = yield* vka.createThread({ entry: spin, priority: 100, budgetUs: 2000, periodUs: 2000 });
      const t = yield* vka.createThread({ entry: y, priority: 100, budgetUs: 2000, periodUs: 2000 });
      sc = objAt<SchedContext>(m, t.sc);
      yielder = objAt<TCB>(m, t.tcb).id;
      other = objAt<TCB>(m, o.tcb).id;
      yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
    },
    { untilNs: 20_000_000 },
  );
  const s = trace!.slices.filter((x) => x.tid === yielder || x.tid === other);
  assert.equal(s[0]!.tid, yielder);
  assert.equal(s[0]!.reason, 'yield');
  // 500 us of work plus the Yield syscall (50 ns user, 400 ns kernel) and the thread start.
  assert.ok(s[0]!.end - s[0]!.start < 520_000 && s[0]!.end - s[0]!.start > 500_000);
  assert.equal(s[1]!.tid, other);
  assert.equal(s[1]!.end - s[1]!.start, slice(2_000_000));
  assert.equal(s[2]!.tid, yielder);
  assert.equal(s[2]!.end - s[2]!.start, slice(2_000_000));
  // Round robin: the head refill holds the whole budget again, the tail is empty.
  assert.equal(refillsAfterYield.length, 2);
  assert.equal(refillsAfterYield[0]![1], 2_000_000);
  assert.equal(refillsAfterYield[1]![1], 0);
});

test('seL4_Yield on a sporadic SC: the thread waits for its next period', () => {
  let trace = null as SchedTrace | null;
  let yielder = -1;
  runRoot(
    function* ({ m, bi, vka }) {
      const y = m.registerProgram(function* () {
        for (;;) {
          yield* sel4ts_Work(100_000);
          yield* seL4_Yield();
        }
      });
      const spin = m.registerProgram(function* () {
        for (;;) yield* sel4ts_Work(10_000_000);
      });
      yield* vka.createThread({ entry: spin, priority: 50, budgetUs: 5000, periodUs: 5000 });
      const t = yield* vka.createThread({ entry: y, priority: 100, suspended: true });
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, t.sc, 1000, 10_000, 0, 0, 1), 0);
      yielder = objAt<TCB>(m, t.tcb).id;
      trace = attachSchedTrace(m, { idle: false });
      yield* seL4_TCB_Resume(t.tcb);
      yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
    },
    { untilNs: 60_000_000 },
  );
  const s = trace!.slices.filter((x) => x.tid === yielder);
  assert.ok(s.length >= 5);
  for (const x of s) assert.equal(x.reason, 'yield');
  // One run per period: a refill counts as ready up to one kernel WCET (10 us) early.
  for (let i = 1; i < s.length; i++) {
    const gap = s[i]!.start - s[i - 1]!.start;
    assert.ok(gap >= 10_000_000 - 10_000 && gap <= 10_000_000 + 10_000, `gap ${gap}`);
  }
});

test('SCHED0011: a thread with a 100 ms timeslice at our priority runs for that long when we yield', () => {
  const waits: number[] = [];
  runRoot(function* ({ m, vka }) {
    const spin = m.registerProgram(function* () {
      for (;;) yield* sel4ts_Work(1_000_000_000);
    });
    const h = yield* vka.createThread({ entry: spin, priority: 255, budgetUs: 100_000, periodUs: 100_000 });
    yield* seL4_Yield();
    for (let i = 0; i < 5; i++) {
      const start = m.now;
      yield* seL4_Yield();
      waits.push(m.now - start);
    }
    yield* seL4_TCB_Suspend(h.tcb);
  });
  // sel4test allows +-2 ms; here it is exact: the helper's slice and our Yield's kernel entry.
  for (const w of waits) assert.ok(Math.abs(w - 100_000_000) < 2_000_000, `waited ${w}`);
  assert.equal(new Set(waits).size, 1);
});

test('SCHED0012-0014: periodic threads run in proportion to budget / period', () => {
  const counters = [0, 0, 0];
  runRoot(
    function* ({ m, vka }) {
      const periodic = m.registerProgram(function* (id: number) {
        for (;;) {
          counters[id]!++;
          yield* seL4_Yield();
        }
      });
      yield* vka.createThread({ entry: periodic, priority: 200, budgetUs: 1000, periodUs: 10_000, args: [0] });
      yield* vka.createThread({ entry: periodic, priority: 200, budgetUs: 1000, periodUs: 20_000, args: [1] });
      yield* vka.createThread({ entry: periodic, priority: 200, budgetUs: 1000, periodUs: 80_000, args: [2] });
      yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
    },
    { untilNs: 800_000_000 },
  );
  // 800 ms: 80, 40 and 10 periods (+1 for the first release at time ~0).
  assert.ok(counters[2]! >= 10 && counters[2]! <= 11, `c2 ${counters[2]}`);
  assert.ok(counters[0]! >= (counters[2]! - 1) * 8, `c0 ${counters[0]}`);
  assert.ok(counters[1]! >= (counters[2]! - 1) * 4, `c1 ${counters[1]}`);
  assert.ok(counters[0]! <= 81 && counters[1]! <= 41);
});

