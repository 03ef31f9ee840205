/**
 * Budget enforcement, measured from the machine's scheduling trace: a thread
 * whose SC has budget B per period P never runs for more than B + MIN_BUDGET
 * in any window of length P (seL4 13.0.0 sporadic servers: refill_budget_check,
 * refill_unblock_check, the MIN_BUDGET rule of checkBudget and the kernel
 * WCET slack of refill_ready). Random budgets, periods, extra refills,
 * sporadic flag and workloads (work, blocking on an endpoint, seL4_Yield),
 * with a higher-priority thread preempting it at random.
 *
 * Limit (as in seL4): a sporadic-flagged SC only gets refill_unblock_check
 * when its thread unblocks, not when it is switched back in after being
 * preempted while runnable, so its refills keep their old times and the
 * bound can be exceeded after such a preemption. Sporadic SCs are therefore
 * tested without preemption, constant-bandwidth SCs with it; the last test
 * shows the sporadic case exceeding the bound.
 * Related sel4test tests: SCHED0011-SCHED0016 (periodic threads, budget
 * overrun, resume cannot exceed the budget).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runRoot } from './support/harness.js';
import {
  seL4_MessageInfo_new,
  seL4_SchedControl_ConfigureFlags,
  seL4_NBSend,
  seL4_Send,
  seL4_TCB_Resume,
  seL4_Wait,
  seL4_Yield,
  seL4_EndpointObject,
  sel4ts_Work,
} from '../src/user/index.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { SchedContext } from '../src/kernel/object/schedcontext.js';
import type { Machine } from '../src/machine/machine.js';
import { MIN_BUDGET } from '../src/kernel/sched/refill.js';
import { attachSchedTrace, maxWindowUsage, SchedTrace, totalTime } from '../src/trace/sched.js';

function objAt<T>(m: Machine, cptr: number): T {
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  return root.slots[cptr]!.cap.obj as T;
}

type Op = { kind: 'work'; ns: number } | { kind: 'block' } | { kind: 'yield' };

interface Params {
  budgetUs: number;
  periodUs: number;
  sporadic: boolean;
  extraRefills: number;
  ops: Op[];
  kickNs: number;
  interferer: { budgetUs: number; periodUs: number; ops: Op[] } | null;
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1_000, max: 3_000_000 }).map((ns) => ({ kind: 'work' as const, ns })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'block' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'yield' as const }) },
);

const scArb = fc
  .record({ budgetUs: fc.integer({ min: 20, max: 2_000 }), extraUs: fc.integer({ min: 1, max: 8_000 }) })
  .map(({ budgetUs, extraUs }) => ({ budgetUs, periodUs: budgetUs + extraUs }));

function paramsArb(sporadic: boolean, withInterferer: boolean): fc.Arbitrary<Params> {
  return fc.record({
    sc: scArb,
    extraRefills: fc.integer({ min: 0, max: 8 }),
    ops: fc.array(opArb, { minLength: 1, maxLength: 12 }),
    kickNs: fc.integer({ min: 1_000, max: 2_000_000 }),
    interferer: withInterferer
      ? fc.record({ sc: scArb, ops: fc.array(opArb.filter((o) => o.kind !== 'block'), { minLength: 1, maxLength: 6 }) })
          .map(({ sc, ops }) => ({ ...sc, ops }))
      : fc.constant(null),
  }).map(({ sc, extraRefills, ops, kickNs, interferer }) => ({ ...sc, sporadic, extraRefills, ops, kickNs, interferer }));
}

interface Measured {
  used: number;
  from: number;
  total: number;
  duration: number;
}

/** Run the workload on a fresh machine and measure the SC's worst window of one period. */
function measure(p: Params): Measured {
  let trace = null as SchedTrace | null;
  let sc = -1;
  const periodNs = p.periodUs * 1000;
  const duration = Math.min(Math.max(30 * periodNs, 40_000_000), 150_000_000);
  runRoot(
    function* ({ m, bi, vka }) {
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const ctrl = bi.schedcontrol.start;
      const loop = (ops: Op[]) =>
        m.registerProgram(function* () {
          for (;;) {
            for (const op of ops) {
              if (op.kind === 'work') yield* sel4ts_Work(op.ns);
              else if (op.kind === 'yield') yield* seL4_Yield();
              else yield* seL4_Wait(ep, null);
            }
          }
        });
      // The kicker wakes the measured thread when it blocks, after some work of its own.
      const kicker = m.registerProgram(function* () {
        for (;;) {
          yield* sel4ts_Work(p.kickNs);
          yield* seL4_Send(ep, seL4_MessageInfo_new(0, 0, 0, 0));
        }
      });
      yield* vka.createThread({ entry: kicker, priority: 150, budgetUs: 1000, periodUs: 1000 });
      const t = yield* vka.createThread({ entry: loop(p.ops), priority: 200, suspended: true });
      const flags = p.sporadic ? 1 : 0;
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, t.sc, p.budgetUs, p.periodUs, p.extraRefills, 0, flags), 0);
      sc = objAt<SchedContext>(m, t.sc).paddr;
      const threads = [t.tcb];
      if (p.interferer !== null) {
        const i = yield* vka.createThread({ entry: loop(p.interferer.ops), priority: 250, suspended: true });
        const { budgetUs, periodUs } = p.interferer;
        assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, i.sc, budgetUs, periodUs, 0, 0, 0), 0);
        threads.push(i.tcb);
      }
      trace = attachSchedTrace(m, { idle: false });
      for (const tcb of threads) yield* seL4_TCB_Resume(tcb);
      // The root waits for good; the machine stops after `duration`.
      yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
    },
    { untilNs: duration },
  );
  const slices = trace!.slices;
  const mine = (s: { sc: number | null }) => s.sc === sc;
  const w = maxWindowUsage(slices, periodNs, mine);
  return { used: w.used, from: w.from, total: totalTime(slices, mine), duration };
}

const stats = { runs: 0, worstExcess: -Infinity, reached: 0 };

function checkBound(p: Params): void {
  const r = measure(p);
  const B = p.budgetUs * 1000;
  stats.runs++;
  stats.worstExcess = Math.max(stats.worstExcess, r.used - B);
  if (r.used >= B - MIN_BUDGET) stats.reached++;
  assert.ok(r.total > 0, 'the measured thread ran');
  assert.ok(
    r.used <= B + MIN_BUDGET,
    `ran ${r.used} ns in the window of ${p.periodUs} us from ${r.from}; budget ${B} ns (+${MIN_BUDGET}) ${JSON.stringify(p)}`,
  );
}

test('budget enforcement: a sporadic SC never runs more than B + MIN_BUDGET in any window of P (no preemption)', (t) => {
  stats.runs = 0;
  stats.worstExcess = -Infinity;
  stats.reached = 0;
  fc.assert(fc.property(paramsArb(true, false), checkBound), { numRuns: 40, seed: 0x5e14 });
  t.diagnostic(`sporadic: ${stats.runs} runs, worst used - B = ${stats.worstExcess} ns, bound reached (>= B - MIN_BUDGET) in ${stats.reached}`);
});

test('budget enforcement: a constant-bandwidth SC never runs more than B + MIN_BUDGET in any window of P, preempted at random', (t) => {
  stats.runs = 0;
  stats.worstExcess = -Infinity;
  stats.reached = 0;
  fc.assert(fc.property(paramsArb(false, true), checkBound), { numRuns: 40, seed: 0xcb01 });
  t.diagnostic(`constant bandwidth: ${stats.runs} runs, worst used - B = ${stats.worstExcess} ns, bound reached in ${stats.reached}`);
});

/**
 * A thread runs half its budget, wakes a higher-priority thread that runs
 * until just before the end of the period, then runs as long as it can.
 * Returns the most it ran in any window of one period.
 */
function preemptedWhileRunnable(sporadic: boolean): number {
  let trace = null as SchedTrace | null;
  let sc = -1;
  const B = 1000;
  const P = 10_000;
  runRoot(
    function* ({ m, bi, vka }) {
      const epI = yield* vka.allocObject(seL4_EndpointObject);
      const measured = m.registerProgram(function* () {
        yield* sel4ts_Work(500_000);
        yield* seL4_NBSend(epI, seL4_MessageInfo_new(0, 0, 0, 0));
        for (;;) yield* sel4ts_Work(10_000_000);
      });
      const interferer = m.registerProgram(function* () {
        yield* seL4_Wait(epI, null);
        yield* sel4ts_Work(9_400_000);
        yield* seL4_Wait(epI, null);
      });
      const i = yield* vka.createThread({ entry: interferer, priority: 250, budgetUs: 20_000, periodUs: 20_000 });
      void i;
      const t = yield* vka.createThread({ entry: measured, priority: 200, suspended: true });
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, t.sc, B, P, 2, 0, sporadic ? 1 : 0), 0);
      sc = objAt<SchedContext>(m, t.sc).paddr;
      trace = attachSchedTrace(m, { idle: false });
      yield* seL4_TCB_Resume(t.tcb);
      yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
    },
    { untilNs: 60_000_000 },
  );
  return maxWindowUsage(trace!.slices, P * 1000, (s) => s.sc === sc).used;
}

test('budget enforcement limit: a sporadic SC preempted while runnable can exceed B in a window of P (as in seL4); a constant-bandwidth SC cannot', (t) => {
  const sporadic = preemptedWhileRunnable(true);
  const cb = preemptedWhileRunnable(false);
  t.diagnostic(`worst window: sporadic ${sporadic} ns, constant bandwidth ${cb} ns (B = 1000000 ns)`);
  // The refills keep the time of the preempted head, so its replenishments come early:
  // half a budget before the preemption and the following refills all fall in one period.
  assert.ok(sporadic > 1_000_000 + MIN_BUDGET, `sporadic ${sporadic}`);
  assert.ok(cb <= 1_000_000 + MIN_BUDGET, `constant bandwidth ${cb}`);
});
