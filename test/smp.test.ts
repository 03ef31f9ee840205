/**
 * Multicore (CONFIG_MAX_NUM_NODES > 1, MCS): one SchedControl cap per core,
 * threads run on their scheduling context's core, migration by binding,
 * donation and SchedControl_ConfigureFlags, remote wake-ups by reschedule
 * IPIs, stalling a thread another core runs, and the deterministic
 * interleaving of the cores. The invariant checker runs after every kernel
 * entry. Mirrors sel4test's SCHED_CONTEXT_SMP_00xx and MULTICORE000x tests by
 * intent (named in each test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RootEnv, runRoot, testMachine } from './support/harness.js';
import {
  seL4_Call,
  seL4_MessageInfo_new,
  seL4_MessageInfo_get_label,
  seL4_GetMR,
  seL4_NBSendRecv,
  seL4_NBWait,
  seL4_Recv,
  seL4_ReplyRecv,
  seL4_Send,
  seL4_Signal,
  seL4_Wait,
  seL4_Yield,
  seL4_SchedContext_Bind,
  seL4_SchedContext_Consumed,
  seL4_SchedContext_Unbind,
  seL4_SchedContext_YieldTo,
  seL4_SchedControl_ConfigureFlags,
  seL4_TCB_Resume,
  seL4_TCB_SetPriority,
  seL4_TCB_Suspend,
  seL4_CapInitThreadTCB,
  seL4_CapInitThreadSC,
  seL4_EndpointObject,
  seL4_NotificationObject,
  seL4_ReplyObject,
  seL4_SchedContextObject,
  sel4ts_Work,
  WordOut,
} from '../src/user/index.js';
import { seL4_Error } from '../src/abi/constants.js';
import { CapType } from '../src/kernel/cap.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { SchedContext } from '../src/kernel/object/schedcontext.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';
import type { Machine } from '../src/machine/machine.js';
import { attachSchedTrace, maxWindowUsage, SchedSlice, SchedTrace, totalTime } from '../src/trace/sched.js';
import { Machine as MachineClass } from '../src/machine/machine.js';
import { MicrokitSystem } from '../src/microkit/system.js';
import { violatedInvariants } from '../src/kernel/invariants/index.js';
import { tcbSchedDequeue, tcbSchedEnqueue } from '../src/kernel/sched/queues.js';
import { recordMachine, TraceRecorder } from '../src/trace/recorder.js';
import { Asm, a0, a1, a2, a3, s0, s1, zero, add, addi, bne } from './support/rv64asm.js';
import { CODE_BASE, li, programElf, setCall, syscall, SYS } from './support/sel4prog.js';
import { spawnElfThread } from '../src/user/elfloader.js';
import { checkSystemFile } from '../src/microkit/check.js';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const EMPTY = seL4_MessageInfo_new(0, 0, 0, 0);

function objAt<T>(m: Machine, cptr: number): T {
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  return root.slots[cptr]!.cap.obj as T;
}

/** The SchedControl cap of a core. */
function ctl(env: RootEnv, core: number): number {
  return env.bi.schedcontrol.start + core;
}

/** A program that counts while it runs: one count per `step` ns of work. */
function counter(m: Machine, state: { count: number }, step = 10_000): number {
  return m.registerProgram(function* () {
    for (;;) {
      state.count++;
      yield* sel4ts_Work(step);
    }
  });
}

test('boot with 4 cores: one SchedControl cap per core, one idle thread each, the root task on core 0', () => {
  const m = testMachine({ kernel: { numCores: 4 } });
  const k = m.kernel;
  const bi = m.booted.bootInfo;
  assert.equal(bi.schedcontrol.end - bi.schedcontrol.start, 4);
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  for (let c = 0; c < 4; c++) {
    const cap = root.slots[bi.schedcontrol.start + c]!.cap;
    assert.equal(cap.type, CapType.SchedControl);
    assert.equal(cap.word, c);
    const n = k.nodes[c]!;
    assert.equal(n.idleThread.affinity, c);
    assert.equal(n.idleSC!.core, c);
    assert.equal(n.curThread, c === 0 ? m.booted.rootTCB : n.idleThread);
  }
  assert.equal(new Set(k.nodes.map((n) => n.idleThread)).size, 4);
  assert.equal(m.booted.rootTCB.affinity, 0);
  assert.equal(m.numCores, 4);
});

test('configuration errors: numCores out of range, domains with several cores', () => {
  assert.throws(() => new MachineClass({ kernel: { numCores: 0 } }), /numCores must be 1\.\.32/);
  assert.throws(() => new MachineClass({ kernel: { numCores: 33 } }), /numCores must be 1\.\.32/);
  assert.throws(
    () => new MachineClass({ kernel: { numCores: 2, numDomains: 2, domainSchedule: [{ domain: 0, length: 1_000_000 }] } }),
    /domain scheduling with more than one core/,
  );
});

test('SCHED_CONTEXT_SMP_001: binding an SC configured on core 1 moves the thread to core 1, where it runs', () => {
  const ran: number[] = [];
  const checks: Record<string, unknown> = {};
  runRoot(
    function* (env) {
      const { m, vka } = env;
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const entry = m.registerProgram(function* (e: number) {
        ran.push(m.activeCore);
        yield* seL4_Send(e, EMPTY);
      });
      for (const [scCore, label] of [
        [0, 'local SC'],
        [1, 'remote SC'],
      ] as const) {
        const t = yield* vka.createThread({ entry, priority: 100, args: [ep], passive: true });
        const sc = yield* vka.allocObject(seL4_SchedContextObject, 8);
        assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctl(env, scCore), sc, 5000, 5000, 0, 0, 0), 0);
        assert.equal(yield* seL4_SchedContext_Bind(sc, t.tcb), seL4_Error.seL4_NoError, label);
        checks[`${label} affinity`] = objAt<TCB>(m, t.tcb).affinity;
        yield* seL4_Wait(ep, null);
      }
    },
    { kernel: { numCores: 2 } },
  );
  assert.deepEqual(ran, [0, 1]);
  assert.equal(checks['local SC affinity'], 0);
  assert.equal(checks['remote SC affinity'], 1);
});

test('two cores run two busy threads at once; one core shares its time between them', () => {
  function run(cores: number): { a: number; b: number; sliceCores: Set<number> } {
    const a = { count: 0 };
    const b = { count: 0 };
    let trace: SchedTrace | null = null;
    runRoot(
      function* (env) {
        const { m, vka } = env;
        trace = attachSchedTrace(m, { idle: false });
        yield* vka.createThread({ entry: counter(m, a), priority: 100, budgetUs: 1000, periodUs: 1000, core: 0 });
        yield* vka.createThread({ entry: counter(m, b), priority: 100, budgetUs: 1000, periodUs: 1000, core: cores - 1 });
        yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 1);
        yield* seL4_TCB_Suspend(seL4_CapInitThreadTCB);
      },
      { kernel: { numCores: cores }, untilNs: 20_000_000 },
    );
    return { a: a.count, b: b.count, sliceCores: new Set(trace!.snapshot().map((s: SchedSlice) => s.core)) };
  }
  const one = run(1);
  const two = run(2);
  // 20 ms at 10 us per count: about 2000 counts per core-worth of time.
  assert.ok(one.a + one.b > 1800 && one.a + one.b < 2000, `one core: ${one.a} + ${one.b}`);
  assert.ok(two.a > 1800 && two.b > 1800, `two cores: ${two.a}, ${two.b}`);
  assert.deepEqual([...two.sliceCores].sort(), [0, 1]);
  assert.deepEqual([...one.sliceCores], [0]);
});

test('SCHED_CONTEXT_SMP_005: a blocked thread on core 1 is woken by Signal, Send and a reply from core 0', () => {
  const state = { step: 0 };
  const times: Record<string, number> = {};
  runRoot(
    function* (env) {
      const { m, vka } = env;
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const ntfn = yield* vka.allocObject(seL4_NotificationObject);
      const ro = yield* vka.allocObject(seL4_ReplyObject);
      const helper = m.registerProgram(function* () {
        state.step = 1;
        yield* seL4_Wait(ntfn, null);
        times.woke1 = m.now;
        state.step = 2;
        yield* seL4_Wait(ep, null);
        times.woke2 = m.now;
        state.step = 3;
        yield* seL4_Call(ep, EMPTY);
        times.woke3 = m.now;
        state.step = 4;
        assert.equal(m.activeCore, 1);
      });
      const h = yield* vka.createThread({ entry: helper, priority: 100, budgetUs: 5000, periodUs: 5000, core: 1 });
      const H = objAt<TCB>(m, h.tcb);
      yield* sel4ts_Work(100_000);
      assert.equal(state.step, 1);
      assert.equal(H.state, ThreadState.BlockedOnNotification);
      times.signal = m.now;
      yield* seL4_Signal(ntfn);
      yield* sel4ts_Work(100_000);
      assert.equal(state.step, 2);
      times.send = m.now;
      yield* seL4_Send(ep, EMPTY);
      yield* sel4ts_Work(100_000);
      assert.equal(state.step, 3);
      yield* seL4_Recv(ep, null, ro);
      times.reply = m.now;
      yield* seL4_Send(ro, EMPTY);
      yield* sel4ts_Work(100_000);
      assert.equal(state.step, 4);
      assert.equal(H.affinity, 1);
    },
    { kernel: { numCores: 2 } },
  );
  assert.equal(state.step, 4);
  // Each wake-up happens on core 1 a few microseconds after the operation on core 0
  // (the syscall, the IPI entry on core 1, the helper's return from its syscall).
  for (const [from, to] of [
    ['signal', 'woke1'],
    ['send', 'woke2'],
    ['reply', 'woke3'],
  ] as const) {
    const d = times[to]! - times[from]!;
    assert.ok(d > 0 && d < 5_000, `${from} -> ${to}: ${d} ns`);
  }
});

test('MULTICORE0001: suspending a thread that runs on another core stops it at once; resuming starts it again', () => {
  const c = { count: 0 };
  const seen: number[] = [];
  runRoot(
    function* (env) {
      const { m, vka } = env;
      const t = yield* vka.createThread({ entry: counter(m, c), priority: 100, budgetUs: 1000, periodUs: 1000, core: 1 });
      const T = objAt<TCB>(m, t.tcb);
      yield* sel4ts_Work(1_000_000);
      seen.push(c.count);
      assert.equal(m.kernel.nodes[1]!.curThread, T);
      assert.equal(yield* seL4_TCB_Suspend(t.tcb), 0);
      // Core 1 stopped running it before Suspend returned.
      assert.equal(m.kernel.nodes[1]!.curThread, m.kernel.nodes[1]!.idleThread);
      assert.equal(T.state, ThreadState.Inactive);
      const stopped = c.count;
      yield* sel4ts_Work(1_000_000);
      seen.push(c.count - stopped);
      assert.equal(yield* seL4_TCB_Resume(t.tcb), 0);
      yield* sel4ts_Work(1_000_000);
      seen.push(c.count - stopped);
      assert.equal(yield* seL4_TCB_Suspend(t.tcb), 0);
    },
    { kernel: { numCores: 2 } },
  );
  assert.ok(seen[0]! > 50, `ran before: ${seen[0]}`);
  assert.ok(seen[1]! <= 1, `ran while suspended: ${seen[1]}`);
  assert.ok(seen[2]! > 50, `ran after resume: ${seen[2]}`);
});

test('MULTICORE0002: a running thread moves to every core by SchedControl_ConfigureFlags and runs on each', () => {
  const c = { count: 0 };
  const perCore: number[] = [];
  let trace: SchedTrace | null = null;
  let tid = -1;
  runRoot(
    function* (env) {
      const { m, vka } = env;
      trace = attachSchedTrace(m, { idle: false });
      // Half of each millisecond, so that the root task still runs when they share core 0.
      const t = yield* vka.createThread({ entry: counter(m, c), priority: 100, budgetUs: 500, periodUs: 1000, core: 1 });
      const T = objAt<TCB>(m, t.tcb);
      tid = T.id;
      for (const core of [2, 3, 0]) {
        const before = c.count;
        if (core === 0) yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 50);
        assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctl(env, core), t.sc, 500, 1000, 0, 0, 0), 0);
        assert.equal(T.affinity, core);
        assert.equal(objAt<SchedContext>(m, t.sc).core, core);
        // At least one whole period: a budget used up on the old core is refilled on the new one.
        yield* sel4ts_Work(1_500_000);
        perCore.push(c.count - before);
      }
      yield* seL4_TCB_Suspend(t.tcb);
    },
    { kernel: { numCores: 4 } },
  );
  assert.equal(perCore.length, 3);
  for (const n of perCore) assert.ok(n > 20, `counts per core: ${perCore.join(', ')}`);
  const cores = new Set(trace!.snapshot().filter((s) => s.tid === tid).map((s) => s.core));
  assert.deepEqual([...cores].sort(), [0, 1, 2, 3]);
});

test('SCHED_CONTEXT_SMP_006 (intent): a passive server runs on the core of each caller SC it is given', () => {
  const serverCores: number[] = [];
  const replies: number[] = [];
  runRoot(
    function* (env) {
      const { m, vka } = env;
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const init = yield* vka.allocObject(seL4_EndpointObject);
      const done = yield* vka.allocObject(seL4_NotificationObject);
      const ro = yield* vka.allocObject(seL4_ReplyObject);
      const server = m.registerProgram(function* () {
        yield* seL4_NBSendRecv(init, EMPTY, ep, null, ro);
        for (;;) {
          serverCores.push(m.activeCore);
          yield* sel4ts_Work(20_000);
          yield* seL4_ReplyRecv(ep, EMPTY, null, ro);
        }
      });
      const client = m.registerProgram(function* (core: number) {
        yield* seL4_Call(ep, EMPTY);
        replies.push(core * 10 + m.activeCore);
        yield* seL4_Signal(done);
      });
      const s = yield* vka.createThread({ entry: server, priority: 200 });
      yield* seL4_Wait(init, null);
      assert.equal(yield* seL4_SchedContext_Unbind(s.sc), 0);
      const S = objAt<TCB>(m, s.tcb);
      for (const core of [1, 0, 2]) {
        yield* vka.createThread({ entry: client, priority: 100, args: [core], core });
        yield* seL4_Wait(done, null);
      }
      // The server is passive again, blocked on the endpoint, on the last caller's core.
      assert.equal(S.sc, null);
      assert.equal(S.state, ThreadState.BlockedOnReceive);
      assert.equal(S.affinity, 2);
    },
    { kernel: { numCores: 3 } },
  );
  assert.deepEqual(serverCores, [1, 0, 2]);
  assert.deepEqual(replies, [11, 0, 22]);
});

test('SCHED_CONTEXT_SMP_004: a remote thread out of budget runs again once its SC is reconfigured', () => {
  const checks: Record<string, unknown> = {};
  runRoot(
    function* (env) {
      const { m, vka } = env;
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const helper = m.registerProgram(function* () {
        yield* sel4ts_Work(40_000); // twice the 20 us budget below
        yield* seL4_Send(ep, EMPTY);
      });
      const t = yield* vka.createThread({ entry: helper, priority: 100, suspended: true });
      // 20 us every 2^31 us, on core 1.
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctl(env, 1), t.sc, 20, 2 ** 31, 0, 0, 0), 0);
      yield* seL4_TCB_Resume(t.tcb);
      yield* sel4ts_Work(200_000);
      const sender = new WordOut();
      sender.lo = 99;
      yield* seL4_NBWait(ep, sender);
      checks.before = sender.lo;
      checks.released = objAt<TCB>(m, t.tcb).inReleaseQueue;
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctl(env, 1), t.sc, 2 ** 31, 2 ** 31, 0, 0, 0), 0);
      yield* seL4_Wait(ep, null);
      checks.after = true;
    },
    { kernel: { numCores: 2 } },
  );
  assert.equal(checks.before, 0);
  assert.equal(checks.released, true);
  assert.equal(checks.after, true);
});

test('SchedContext_YieldTo a thread on another core queues it there and returns at once', () => {
  const checks: Record<string, unknown> = {};
  runRoot(
    function* (env) {
      const { m, vka } = env;
      const c = { count: 0 };
      const t = yield* vka.createThread({ entry: counter(m, c), priority: 100, budgetUs: 1000, periodUs: 1000, core: 1 });
      yield* sel4ts_Work(100_000);
      const [err] = yield* seL4_SchedContext_YieldTo(t.sc);
      assert.equal(err, 0);
      checks.yieldTo = objAt<TCB>(m, seL4_CapInitThreadTCB).yieldTo;
      const [err2] = yield* seL4_SchedContext_Consumed(t.sc);
      checks.consumedErr = err2;
      yield* seL4_TCB_Suspend(t.tcb);
    },
    { kernel: { numCores: 2 } },
  );
  assert.equal(checks.yieldTo, null);
  assert.equal(checks.consumedErr, 0);
});

test('a thread another core runs can be read, changed and its SC unbound: the kernel stalls that core first', () => {
  const c = { count: 0 };
  const checks: Record<string, unknown> = {};
  runRoot(
    function* (env) {
      const { m, vka } = env;
      const t = yield* vka.createThread({ entry: counter(m, c), priority: 100, budgetUs: 1000, periodUs: 1000, core: 1 });
      const T = objAt<TCB>(m, t.tcb);
      yield* sel4ts_Work(200_000);
      assert.equal(m.kernel.nodes[1]!.curThread, T);
      // A priority change: stall, requeue, core 1 picks it again.
      assert.equal(yield* seL4_TCB_SetPriority(t.tcb, seL4_CapInitThreadTCB, 120), 0);
      yield* sel4ts_Work(200_000);
      checks.running = m.kernel.nodes[1]!.curThread === T;
      checks.priority = T.priority;
      // Unbinding its SC stops it for good.
      assert.equal(yield* seL4_SchedContext_Unbind(t.sc), 0);
      checks.idle = m.kernel.nodes[1]!.curThread === m.kernel.nodes[1]!.idleThread;
      const after = c.count;
      yield* sel4ts_Work(200_000);
      checks.ranAfterUnbind = c.count - after;
      // Rebinding an SC of core 0 brings it to core 0 (below the root task's priority it waits).
      const sc = yield* vka.allocObject(seL4_SchedContextObject, 8);
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctl(env, 0), sc, 1000, 1000, 0, 0, 0), 0);
      assert.equal(yield* seL4_SchedContext_Bind(sc, t.tcb), 0);
      checks.affinity = T.affinity;
      checks.queued = T.inReadyQueue;
      yield* seL4_Yield();
      yield* seL4_TCB_Suspend(t.tcb);
    },
    { kernel: { numCores: 2 } },
  );
  assert.equal(checks.running, true);
  assert.equal(checks.priority, 120);
  assert.equal(checks.idle, true);
  assert.equal(checks.ranAfterUnbind, 0);
  assert.equal(checks.affinity, 0);
  assert.equal(checks.queued, true);
});

/** A fixed 3-core scenario with ping-pong IPC, notifications and busy threads; returns its trace. */
function scenario(): { slices: SchedSlice[]; clocks: number[]; console: string } {
  let trace: SchedTrace | null = null;
  const { m } = runRoot(
    function* (env) {
      const { m, vka } = env;
      trace = attachSchedTrace(m);
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const ntfn = yield* vka.allocObject(seL4_NotificationObject);
      const ro = yield* vka.allocObject(seL4_ReplyObject);
      const server = m.registerProgram(function* () {
        yield* seL4_Recv(ep, null, ro);
        for (;;) {
          yield* sel4ts_Work(3_000);
          yield* seL4_ReplyRecv(ep, EMPTY, null, ro);
        }
      });
      const client = m.registerProgram(function* () {
        for (let i = 0; i < 50; i++) {
          yield* seL4_Call(ep, EMPTY);
          if (i % 10 === 0) yield* seL4_Signal(ntfn);
        }
      });
      const waiter = m.registerProgram(function* () {
        for (;;) {
          yield* seL4_Wait(ntfn, null);
          yield* sel4ts_Work(7_000);
        }
      });
      yield* vka.createThread({ entry: server, priority: 150, budgetUs: 500, periodUs: 1000, core: 1 });
      yield* vka.createThread({ entry: waiter, priority: 120, budgetUs: 200, periodUs: 1000, core: 2 });
      yield* vka.createThread({ entry: counter(m, { count: 0 }, 5_000), priority: 90, budgetUs: 300, periodUs: 700, core: 2 });
      yield* vka.createThread({ entry: client, priority: 100, budgetUs: 1000, periodUs: 2000, core: 0 });
      yield* seL4_TCB_Suspend(seL4_CapInitThreadTCB);
    },
    {
      kernel: { numCores: 3 },
      untilNs: 5_000_000,
    },
  );
  // TCB ids and default names count up across machines: number them from this machine's first.
  const slices = trace!.snapshot();
  const base = Math.min(...slices.map((x) => x.tid));
  const norm = slices.map((x) => ({ ...x, tid: x.tid - base, thread: x.idle ? x.thread : x.thread === 'rootserver' ? x.thread : 'tcb' }));
  return { slices: norm, clocks: [...m.clocks], console: m.console };
}

test('deterministic interleaving: the same 3-core scenario gives the same schedule and clocks twice', () => {
  const a = scenario();
  const b = scenario();
  // A real interleaving: all three cores ran threads, with many switches.
  assert.deepEqual([...new Set(a.slices.filter((x) => !x.idle).map((x) => x.core))].sort(), [0, 1, 2]);
  assert.ok(a.slices.length > 100, `${a.slices.length} slices`);
  assert.deepEqual(a.clocks, b.clocks);
  assert.deepEqual(JSON.stringify(a.slices), JSON.stringify(b.slices));
});

test('budget enforcement per core: a thread with budget B per period P on any core never gets more than B in a P window', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1 }),
      fc.integer({ min: 100, max: 900 }),
      fc.integer({ min: 1000, max: 3000 }),
      (core, budgetUs, periodUs) => {
        let trace: SchedTrace | null = null;
        let tid = -1;
        runRoot(
          function* (env) {
            const { m, vka } = env;
            trace = attachSchedTrace(m, { idle: false });
            const t = yield* vka.createThread({ entry: counter(m, { count: 0 }, 7_000), priority: 100, budgetUs, periodUs, core });
            tid = objAt<TCB>(m, t.tcb).id;
            // A lower-priority thread on the same core takes whatever time is left.
            yield* vka.createThread({ entry: counter(m, { count: 0 }, 3_000), priority: 90, budgetUs: 1000, periodUs: 1000, core });
            yield* seL4_TCB_Suspend(seL4_CapInitThreadTCB);
          },
          { kernel: { numCores: 2 }, untilNs: 30_000_000 },
        );
        const slices = trace!.snapshot();
        const mine = slices.filter((s) => s.tid === tid);
        assert.ok(mine.every((s) => s.core === core));
        assert.ok(totalTime(mine) > 0);
        const { used } = maxWindowUsage(mine, periodUs * 1000);
        // Kernel entries are charged after the fact: allow one entry (+ MIN_BUDGET slack as in sched-budget).
        assert.ok(used <= budgetUs * 1000 + 10_000, `used ${used} ns of ${budgetUs} us per ${periodUs} us on core ${core}`);
      },
    ),
    { numRuns: 12, seed: 4 },
  );
});

// ------------------------------------------------------------------ Microkit

const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');

/**
 * examples/ppc-passive.system with the client on core 1 (cpu="1") and,
 * unless `passive`, the server active on core 0.
 *
 * A passive server with a caller on another core races with the monitor:
 * all PDs start together, and a PPC that arrives before the monitor has
 * taken the server's SC away is served on the server's own SC, which the
 * monitor then unbinds mid-call. sel4ts reproduces that race faithfully,
 * so the cross-core PPC test uses an active server.
 */
function ppcOnTwoCores(passive = true): string {
  let xml = readFileSync(join(EXAMPLES, 'ppc-passive.system'), 'utf8');
  xml = xml.replace('<protection_domain name="client" priority="100">', '<protection_domain name="client" priority="100" cpu="1">');
  if (!passive) xml = xml.replace(' passive="true"', '');
  return xml;
}

test('Microkit on 2 cores: each PD runs on its cpu; PPCs and notifications cross cores', async () => {
  const file = join(EXAMPLES, 'ppc-passive.system');
  const one = await MicrokitSystem.load({ file, xml: ppcOnTwoCores(false), invariants: true, cores: 1 }).catch(() => null);
  assert.equal(one, null, 'cpu="1" is rejected on one core');
  const single = await MicrokitSystem.load({ file, xml: ppcOnTwoCores(false).replace(' cpu="1"', ''), invariants: true });
  single.run({ untilNs: 1e9 });
  const sys = await MicrokitSystem.load({ file, xml: ppcOnTwoCores(false), invariants: true, cores: 2 });
  const trace = attachSchedTrace(sys.machine, { idle: false });
  const r = sys.run({ untilNs: 1e9 });
  assert.equal(sys.buildError, null);
  assert.equal(r.reason, 'quiescent');
  // The same conversation as on one core: five lines in order; then the
  // client's last line and the server's notification line are printed at the
  // same time on two cores (seL4_DebugPutChar by character), so their
  // characters interleave.
  const head = (text: string) => text.split('\n').slice(0, 5).join('\n');
  const tail = (text: string) => [...text.split('\n').slice(5).join('\n')].sort().join('');
  assert.equal(head(sys.machine.console), head(single.machine.console));
  assert.equal(tail(sys.machine.console), tail(single.machine.console));
  assert.ok(single.machine.console.endsWith('client: done\n'));
  assert.notEqual(sys.machine.console, single.machine.console);
  const slices = trace.snapshot();
  const client = sys.tcbOf('client')!;
  const server = sys.tcbOf('server')!;
  assert.equal(client.affinity, 1);
  assert.equal(server.affinity, 0);
  assert.deepEqual([...new Set(slices.filter((s) => s.tid === client.id).map((s) => s.core))], [1]);
  assert.deepEqual([...new Set(slices.filter((s) => s.tid === server.id).map((s) => s.core))], [0]);
});

test('Microkit: cpu must be below the number of cores', () => {
  assert.throws(() => checkSystemFile(join(EXAMPLES, 'ppc-passive.system'), ppcOnTwoCores()), /cpu core must be less than 1, got 1/);
  const sys = checkSystemFile(join(EXAMPLES, 'ppc-passive.system'), ppcOnTwoCores(), new Set(), 2);
  assert.equal(sys.protectionDomains.find((p) => p.name === 'client')!.cpu, 1);
});

test('trace recorder on 3 cores: slices carry their core, never overlap on a core, and every core is covered', () => {
  let rec: TraceRecorder | null = null;
  const { m } = runRoot(
    function* (env) {
      const { m, vka } = env;
      rec = recordMachine(m, { title: 'smp' });
      yield* vka.createThread({ entry: counter(m, { count: 0 }), priority: 100, budgetUs: 300, periodUs: 1000, core: 1 });
      yield* vka.createThread({ entry: counter(m, { count: 0 }), priority: 100, budgetUs: 600, periodUs: 1000, core: 2 });
      yield* seL4_TCB_Suspend(seL4_CapInitThreadTCB);
    },
    { kernel: { numCores: 3 }, untilNs: 3_000_000 },
  );
  const trace = rec!.finish();
  assert.equal(trace.meta.numCores, 3);
  for (let c = 0; c < 3; c++) {
    const mine = trace.slices.filter((s) => s.core === c).sort((a, b) => a.start - b.start);
    assert.ok(mine.length > 0, `core ${c} has slices`);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.start >= mine[i - 1]!.end, `core ${c} slices overlap`);
    // Contiguous from the start of recording to the core's clock.
    assert.equal(mine[mine.length - 1]!.end, m.clocks[c]);
  }
  assert.ok(trace.slices.every((s) => typeof s.core === 'number'));
  const last = trace.snapshots[trace.snapshots.length - 1]!;
  assert.equal(last.cores!.length, 3);
  assert.ok(trace.events.some((e) => e.kind === 'switch' && e.d['core'] === 2));
});

test('examples/multicore.system: three workers on cores 1-3 finish in a third of the one-core time', async () => {
  const file = join(EXAMPLES, 'multicore.system');
  const four = await MicrokitSystem.load({ file, invariants: true, cores: 4 });
  const r4 = four.run({ untilNs: 1e9 });
  assert.equal(four.buildError, null);
  assert.equal(r4.reason, 'quiescent');
  const lines = four.machine.console.trim().split('\n');
  assert.equal(lines[0], 'collector: waiting for 3 workers');
  assert.equal(lines[lines.length - 1], 'collector: all workers done');
  assert.equal(lines.filter((l) => / finished round \d$/.test(l)).length, 9);
  for (const w of ['worker1', 'worker2', 'worker3']) assert.equal(four.tcbOf(w)!.affinity, Number(w.slice(6)));
  // The same system with every PD on core 0.
  const xml = readFileSync(file, 'utf8').replace(/cpu="[123]"/g, 'cpu="0"');
  const one = await MicrokitSystem.load({ file, xml, invariants: true });
  const r1 = one.run({ untilNs: 1e9 });
  assert.equal(r1.reason, 'quiescent');
  assert.ok(one.machine.console.includes('collector: all workers done'));
  assert.ok(r4.now > 6e6 && r4.now < 7e6, `4 cores: ${r4.now} ns`);
  assert.ok(r1.now > 18e6 && r1.now < 19e6, `1 core: ${r1.now} ns`);
});

// ------------------------------------------------------------------ RISC-V ELF threads on several cores

/** An ELF program: sum n..1 into a2 (3 instructions per step), then Send the sum with label `id` and Wait for good. */
function summer(n: number, id: number): Uint8Array {
  const asm = new Asm(CODE_BASE);
  asm.i(addi(s0, a0, 0), addi(s1, a1, 0), li(a3, n), li(a2, 0));
  asm.label('loop');
  asm.i(add(a2, a2, a3), addi(a3, a3, -1));
  asm.to('loop', (off) => bne(a3, zero, off));
  setCall(asm, s0, id, 1);
  syscall(asm, SYS.Send);
  asm.i(addi(a0, s1, 0));
  syscall(asm, SYS.Wait);
  return programElf(asm);
}

test('RISC-V ELF threads on cores 1 and 2 compute at the same time on the emulated harts', () => {
  const N = 200_000; // 3 instructions per step at 1 ns each: about 0.6 ms of computation per thread
  const got: { label: number; sum: number; at: number }[] = [];
  runRoot(
    function* ({ m, vka }) {
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const ntfn = yield* vka.allocObject(seL4_NotificationObject);
      const reply = yield* vka.allocObject(seL4_ReplyObject);
      const start = m.now;
      for (const core of [1, 2]) {
        yield* spawnElfThread(vka, summer(N, core), { priority: 100, args: [ep, ntfn], budgetUs: 1000, periodUs: 1000, core });
      }
      for (let i = 0; i < 2; i++) {
        const info = yield* seL4_Recv(ep, null, reply);
        got.push({ label: seL4_MessageInfo_get_label(info), sum: seL4_GetMR(0), at: m.now - start });
      }
    },
    { kernel: { numCores: 3 } },
  );
  const sum = (N * (N + 1)) / 2;
  assert.deepEqual(got.map((g) => g.sum), [sum, sum]);
  assert.deepEqual(got.map((g) => g.label).sort(), [1, 2]);
  // Both finish after about 0.6 ms: in parallel, not one after the other (1.2 ms).
  for (const g of got) assert.ok(g.at > 550_000 && g.at < 800_000, `finished at ${g.at} ns`);
});

test('a thread that reconfigures its own SC with core 1\'s SchedControl continues on core 1', () => {
  const seen: number[] = [];
  runRoot(
    function* ({ m, bi }) {
      seen.push(m.activeCore);
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start + 1, seL4_CapInitThreadSC, 5000, 5000, 0, 0, 0), 0);
      // The ConfigureFlags call returned on core 1: the root task migrated with its SC.
      seen.push(m.activeCore, m.booted.rootTCB.affinity);
      assert.equal(m.kernel.nodes[0]!.curThread, m.kernel.nodes[0]!.idleThread);
      yield* sel4ts_Work(10_000);
      seen.push(m.activeCore);
    },
    { kernel: { numCores: 2 } },
  );
  assert.deepEqual(seen, [0, 1, 1, 1]);
});

// ------------------------------------------------------------------ per-core invariants catch corruptions

/**
 * A 2-core state: on core 1 a busy thread runs, a lower-priority one is
 * ready and a third waits on a notification; core 0 is idle (the root task
 * suspended itself). Returns the kernel and the three threads.
 */
function twoCoreState(): { k: Machine['kernel']; running: TCB; ready: TCB; blocked: TCB } {
  let ids: number[] = [];
  const { m } = runRoot(
    function* (env) {
      const { m, vka } = env;
      const ntfn = yield* vka.allocObject(seL4_NotificationObject);
      const waiter = m.registerProgram(function* () {
        yield* seL4_Wait(ntfn, null);
      });
      const a = yield* vka.createThread({ entry: counter(m, { count: 0 }), priority: 120, core: 1 });
      const b = yield* vka.createThread({ entry: counter(m, { count: 0 }), priority: 110, core: 1 });
      const c = yield* vka.createThread({ entry: waiter, priority: 130, core: 1 });
      ids = [a.tcb, b.tcb, c.tcb].map((x) => objAt<TCB>(m, x).id);
      yield* seL4_TCB_Suspend(seL4_CapInitThreadTCB);
    },
    { kernel: { numCores: 2 }, untilNs: 2_000_000 },
  );
  const byId = (id: number) => [...m.kernel.tcbs].find((t) => t.id === id)!;
  const [running, ready, blocked] = ids.map(byId) as [TCB, TCB, TCB];
  assert.equal(m.kernel.nodes[1]!.curThread, running);
  assert.equal(ready.inReadyQueue, true);
  assert.equal(blocked.state, ThreadState.BlockedOnNotification);
  assert.deepEqual(violatedInvariants(m.kernel), []);
  return { k: m.kernel, running, ready, blocked };
}

function expectViolation(k: Machine['kernel'], name: string): void {
  const bad = violatedInvariants(k);
  assert.ok(bad.some((v) => v.startsWith(`${name}:`)), `${name} among ${JSON.stringify(bad)}`);
}

test('per-core invariants: a thread whose affinity is not its SC\'s core', () => {
  const { k, blocked } = twoCoreState();
  blocked.affinity = 0;
  expectViolation(k, 'schedContexts');
});

test('per-core invariants: a ready thread queued on one core but belonging to the other', () => {
  const { k, ready } = twoCoreState();
  tcbSchedDequeue(k, ready);
  k.enterCore(0);
  ready.affinity = 0;
  tcbSchedEnqueue(k, ready); // into core 0's queue
  ready.affinity = 1; // but it belongs to core 1
  k.ipiPending = 0;
  expectViolation(k, 'readyQueues');
});

test('per-core invariants: a core\'s current thread with another affinity, and an idle core with a ready thread', () => {
  const a = twoCoreState();
  a.running.affinity = 0;
  a.running.sc!.core = 0;
  expectViolation(a.k, 'currentThread');
  const b = twoCoreState();
  const n1 = b.k.nodes[1]!;
  b.k.enterCore(1);
  tcbSchedEnqueue(b.k, b.running);
  n1.curThread = n1.idleThread;
  n1.curSC = n1.idleSC;
  expectViolation(b.k, 'idleThread');
});

test('a failing ConfigureFlags or Bind with another core\'s SC migrates nothing; the thread keeps running on its core', () => {
  const checks: Record<string, unknown> = {};
  runRoot(
    function* (env) {
      const { m, vka } = env;
      const t = yield* vka.createThread({ entry: counter(m, { count: 0 }), priority: 100, budgetUs: 1000, periodUs: 1000, core: 1 });
      const T = objAt<TCB>(m, t.tcb);
      yield* sel4ts_Work(100_000);
      // Budget below MIN_BUDGET: RangeError, the thread stays on core 1 and keeps running there.
      checks.range = yield* seL4_SchedControl_ConfigureFlags(ctl(env, 0), t.sc, 1, 1000, 0, 0, 0);
      checks.affinityAfterRange = T.affinity;
      checks.stillRunning = m.kernel.nodes[1]!.curThread === T;
      // A core-0 SC cannot be bound to a thread that already has one.
      const sc = yield* vka.allocObject(seL4_SchedContextObject, 8);
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctl(env, 0), sc, 1000, 1000, 0, 0, 0), 0);
      checks.bind = yield* seL4_SchedContext_Bind(sc, t.tcb);
      checks.affinityAfterBind = T.affinity;
      checks.stillRunning2 = m.kernel.nodes[1]!.curThread === T;
      yield* seL4_TCB_Suspend(t.tcb);
    },
    { kernel: { numCores: 2 } },
  );
  assert.equal(checks.range, seL4_Error.seL4_RangeError);
  assert.equal(checks.affinityAfterRange, 1);
  assert.equal(checks.stillRunning, true);
  assert.equal(checks.bind, seL4_Error.seL4_IllegalOperation);
  assert.equal(checks.affinityAfterBind, 1);
  assert.equal(checks.stillRunning2, true);
});
