/**
 * The scheduling trace (src/trace/sched.ts): slices built from the kernel's
 * 'switch' events, with the reason each one ended, cover the simulated time
 * without gaps or overlaps; the measuring helpers agree with brute force.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runRoot } from './support/harness.js';
import {
  seL4_Call,
  seL4_MessageInfo_new,
  seL4_Recv,
  seL4_ReplyRecv,
  seL4_Send,
  seL4_Wait,
  seL4_Yield,
  seL4_EndpointObject,
  seL4_ReplyObject,
  seL4_SchedControl_ConfigureFlags,
  seL4_TCB_Resume,
  seL4_TCB_SetTimeoutEndpoint,
  sel4ts_UserException,
  sel4ts_Work,
} from '../src/user/index.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { TCB } from '../src/kernel/object/tcb.js';
import type { Machine } from '../src/machine/machine.js';
import { attachSchedTrace, maxWindowUsage, SchedSlice, SchedTrace, timeIn } from '../src/trace/sched.js';

function objAt<T>(m: Machine, cptr: number): T {
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  return root.slots[cptr]!.cap.obj as T;
}

test('slice reasons: blocked, preempted, budget, yield, fault, exit', () => {
  let trace = null as SchedTrace | null;
  const id: Record<string, number> = {};
  const events: string[] = [];
  runRoot(
    function* ({ m, bi, vka }) {
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const tfep = yield* vka.allocObject(seL4_EndpointObject);
      const ro = yield* vka.allocObject(seL4_ReplyObject);
      const prog = (f: () => Generator<unknown, void, unknown>) => m.registerProgram(f);
      const blocker = prog(function* () {
        yield* seL4_Wait(ep, null); // blocked
      });
      const yielder = prog(function* () {
        yield* sel4ts_Work(10_000);
        yield* seL4_Yield(); // yield
        yield* sel4ts_Work(10_000); // then exits: exit
      });
      const spinner = prog(function* () {
        yield* sel4ts_Work(2_500_000); // two of them, 1 ms round robin each: budget, then exit
      });
      const faulter = prog(function* () {
        yield* sel4ts_UserException(2); // no fault handler: fault
      });
      const timeouter = prog(function* () {
        for (;;) yield* sel4ts_Work(1_000_000); // timeout fault
      });
      const make = function* (name: string, entry: number, priority: number) {
        const t = yield* vka.createThread({ entry, priority, budgetUs: 1000, periodUs: 1000, suspended: true });
        id[name] = objAt<TCB>(m, t.tcb).id;
        return t;
      };
      const b = yield* make('blocker', blocker, 100);
      const y = yield* make('yielder', yielder, 100);
      const s = yield* make('spinner', spinner, 90);
      const s2 = yield* make('spinner2', spinner, 90);
      const f = yield* make('faulter', faulter, 100);
      const to = yield* make('timeouter', timeouter, 80);
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, to.sc, 500, 5000, 0, 0, 0), 0);
      assert.equal(yield* seL4_TCB_SetTimeoutEndpoint(to.tcb, tfep), 0);
      trace = attachSchedTrace(m, { idle: false });
      for (const t of [b, y, s, s2, f, to]) yield* seL4_TCB_Resume(t.tcb);
      // The root waits for the timeout fault, then lets everyone else finish.
      yield* seL4_Recv(tfep, null, ro);
      events.push('timeout fault received');
    },
    { untilNs: 50_000_000 },
  );
  const reasons = (name: string) => trace!.slices.filter((x) => x.tid === id[name]).map((x) => x.reason);
  assert.deepEqual(reasons('blocker'), ['blocked']);
  assert.deepEqual(reasons('yielder'), ['yield', 'exit']);
  assert.deepEqual(reasons('faulter'), ['fault']);
  assert.deepEqual(reasons('spinner'), ['budget', 'budget', 'exit']);
  assert.deepEqual(reasons('spinner2'), ['budget', 'budget', 'exit']);
  assert.deepEqual(reasons('timeouter'), ['fault']);
  assert.deepEqual(events, ['timeout fault received']);
  // The root blocked on the timeout endpoint, then its program returned.
  assert.deepEqual(
    trace!.slices.filter((x) => x.thread === 'rootserver').map((x) => x.reason),
    ['blocked', 'exit'],
  );
});

test('a released higher-priority thread preempts: reason preempted; slices tile time on core 0', () => {
  let trace = null as SchedTrace | null;
  let low = -1;
  let high = -1;
  let start = 0;
  runRoot(
    function* ({ m, bi, vka }) {
      const lowProg = m.registerProgram(function* () {
        yield* sel4ts_Work(3_000_000);
      });
      const highProg = m.registerProgram(function* () {
        yield* seL4_Yield(); // released again one period (2 ms) later
        yield* sel4ts_Work(100_000);
      });
      trace = attachSchedTrace(m);
      start = m.now;
      const h = yield* vka.createThread({ entry: highProg, priority: 150, suspended: true });
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, h.sc, 1000, 2000, 0, 0, 0), 0);
      const l = yield* vka.createThread({ entry: lowProg, priority: 10, budgetUs: 10_000, periodUs: 10_000 });
      yield* seL4_TCB_Resume(h.tcb);
      low = objAt<TCB>(m, l.tcb).id;
      high = objAt<TCB>(m, h.tcb).id;
      yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
    },
    { untilNs: 30_000_000 },
  );
  const all = trace!.snapshot();
  // Contiguous, ordered, one core, and covering [attach, now] exactly (idle included).
  assert.equal(all[0]!.start, start);
  for (let i = 1; i < all.length; i++) assert.equal(all[i]!.start, all[i - 1]!.end);
  assert.ok(all.every((s) => s.core === 0 && s.end >= s.start));
  const seq = all.filter((s) => s.tid === low || s.tid === high).map((s) => `${s.tid === low ? 'low' : 'high'}:${s.reason}`);
  assert.deepEqual(seq, ['high:yield', 'low:preempted', 'high:exit', 'low:exit']);
});

test('maxWindowUsage and timeIn agree with brute force on random slices', () => {
  const slicesArb = fc
    .array(fc.record({ gap: fc.integer({ min: 0, max: 50 }), len: fc.integer({ min: 0, max: 50 }), mine: fc.boolean() }), {
      minLength: 1,
      maxLength: 30,
    })
    .map((xs) => {
      let t = 0;
      const out: SchedSlice[] = [];
      for (const x of xs) {
        t += x.gap;
        out.push({ thread: x.mine ? 'a' : 'b', tid: x.mine ? 1 : 2, sc: x.mine ? 1 : 2, priority: 0, domain: 0, core: 0, start: t, end: t + x.len, reason: 'preempted', idle: false });
        t += x.len;
      }
      return out;
    });
  fc.assert(
    fc.property(slicesArb, fc.integer({ min: 1, max: 120 }), (slices, w) => {
      const mine = (s: SchedSlice) => s.sc === 1;
      const got = maxWindowUsage(slices, w, mine).used;
      const end = slices[slices.length - 1]!.end;
      let best = 0;
      for (let from = -w; from <= end; from++) best = Math.max(best, timeIn(slices, from, from + w, mine));
      assert.equal(got, best);
    }),
    { numRuns: 300 },
  );
});
