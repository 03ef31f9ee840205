/**
 * Passive servers (MCS): a server without a scheduling context runs on its
 * caller's SC, donated by seL4_Call and returned by the reply (seL4 13.0.0
 * reply_push / reply_pop / reply_remove, schedContext_donate), and what
 * happens when the reply or the donation is taken away.
 * Mirrors sel4test SCHED_CONTEXT_0009 (deleting the reply returns the SC to
 * the caller), SCHED_CONTEXT_0010 (unbinding the SC from the server),
 * SCHED_CONTEXT_0011 (a call chain returns the SC along the chain) and the
 * MCS paper's shared-server priority-inversion scenario (Lyons et al.,
 * EuroSys 2018), solved with a passive server and timeout faults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import {
  seL4_Call,
  seL4_CNode_Delete,
  seL4_CNode_Mint,
  seL4_GetMR,
  seL4_GetMRWord,
  seL4_MessageInfo_get_label,
  seL4_MessageInfo_get_length,
  seL4_MessageInfo_new,
  seL4_NBSendRecv,
  seL4_NBSendWait,
  seL4_Recv,
  seL4_ReplyRecv,
  seL4_SchedContext_Bind,
  seL4_SchedContext_Consumed,
  seL4_SchedContext_Unbind,
  seL4_SchedContext_UnbindObject,
  seL4_SchedControl_ConfigureFlags,
  seL4_Send,
  seL4_SetMR,
  seL4_TCB_Resume,
  seL4_TCB_SetPriority,
  seL4_TCB_SetTimeoutEndpoint,
  seL4_Wait,
  seL4_Yield,
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadTCB,
  seL4_EndpointObject,
  seL4_ReplyObject,
  seL4_WordBits,
  sel4ts_Work,
  WordOut,
  CreatedThread,
} from '../src/user/index.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { SchedContext } from '../src/kernel/object/schedcontext.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';
import type { Machine } from '../src/machine/machine.js';
import { attachSchedTrace, SchedTrace, totalTime } from '../src/trace/sched.js';

function objAt<T>(m: Machine, cptr: number): T {
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  return root.slots[cptr]!.cap.obj as T;
}

const EMPTY = seL4_MessageInfo_new(0, 0, 0, 0);

/**
 * sel4test's create_passive_thread: start the thread on its own SC, wait for
 * it to announce itself on `init` (it then waits for clients), and take its
 * SC away. Returns the thread (its SC cap is kept for later use).
 */
function* createPassive(env: RootEnv, entry: number, priority: number, init: number, args: number[]): Generator<unknown, CreatedThread, unknown> {
  const t = yield* env.vka.createThread({ entry, priority, args });
  yield* seL4_Wait(init, null);
  assert.equal(yield* seL4_SchedContext_Unbind(t.sc), 0);
  return t;
}

test('passive server: runs on the caller SC (donated by Call) and gives it back on reply', () => {
  let trace = null as SchedTrace | null;
  const seen: string[] = [];
  let ids = { server: -1, client: -1, clientSC: -1 };
  runRoot(function* (env) {
    const { m, vka } = env;
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const init = yield* vka.allocObject(seL4_EndpointObject);
    const ro = yield* vka.allocObject(seL4_ReplyObject);
    let S: TCB | null = null;
    let C: TCB | null = null;
    let CSC: SchedContext | null = null;
    const server = m.registerProgram(function* () {
      yield* seL4_NBSendRecv(init, EMPTY, ep, null, ro);
      for (;;) {
        seen.push(`server on ${S!.sc === CSC ? 'client SC' : 'other SC'}, client ${C!.sc === null ? 'has none' : 'has one'}`);
        yield* sel4ts_Work(200_000);
        seL4_SetMR(0, seL4_GetMR(0) + 1);
        yield* seL4_ReplyRecv(ep, seL4_MessageInfo_new(0, 0, 0, 1), null, ro);
      }
    });
    const client = m.registerProgram(function* () {
      for (let i = 0; i < 3; i++) {
        seL4_SetMR(0, 10 * i);
        yield* seL4_Call(ep, seL4_MessageInfo_new(0, 0, 0, 1));
        seen.push(`reply ${seL4_GetMR(0)}, client ${C!.sc === CSC ? 'has its SC' : 'lacks it'}`);
      }
    });
    const s = yield* createPassive(env, server, 200, init, []);
    S = objAt<TCB>(m, s.tcb);
    assert.equal(S.sc, null);
    assert.equal(S.state, ThreadState.BlockedOnReceive);
    trace = attachSchedTrace(m, { idle: false });
    const c = yield* vka.createThread({ entry: client, priority: 100, budgetUs: 10_000, periodUs: 10_000, suspended: true });
    C = objAt<TCB>(m, c.tcb);
    CSC = objAt<SchedContext>(m, c.sc);
    ids = { server: S.id, client: C.id, clientSC: CSC.paddr };
    yield* seL4_TCB_Resume(c.tcb);
    yield* seL4_Wait(init, null); // nothing comes: the clients and the server run
  }, {});
  assert.deepEqual(seen, [
    'server on client SC, client has none',
    'reply 1, client has its SC',
    'server on client SC, client has none',
    'reply 11, client has its SC',
    'server on client SC, client has none',
    'reply 21, client has its SC',
  ]);
  // Every server slice ran on the client's SC; the server never ran on its own.
  const s = trace!.slices.filter((x) => x.tid === ids.server);
  assert.equal(s.length, 3);
  assert.ok(s.every((x) => x.sc === ids.clientSC && x.reason === 'blocked'));
  assert.ok(totalTime(s) > 600_000);
});


/** A passive server that announces itself on `init`, then spins on whatever SC it is given. */
function spinningServer(m: Machine, state: { spins: number }) {
  return m.registerProgram(function* (init: number, ep: number, ro: number) {
    yield* seL4_NBSendRecv(init, EMPTY, ep, null, ro);
    for (;;) {
      state.spins++;
      yield* sel4ts_Work(50_000);
    }
  });
}

test('SCHED_CONTEXT_0009: deleting the reply cap returns the SC to the caller; the server stops', () => {
  const state = { spins: 0 };
  const checks: Record<string, unknown> = {};
  runRoot(function* (env) {
    const { m, vka } = env;
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const init = yield* vka.allocObject(seL4_EndpointObject);
    const ro = yield* vka.allocObject(seL4_ReplyObject);
    const client = m.registerProgram(function* () {
      yield* seL4_Call(ep, EMPTY);
    });
    const s = yield* createPassive(env, spinningServer(m, state), 200, init, [init, ep, ro]);
    // The client's SC: 1 ms every 5 ms, so that we (below the server) still run.
    const c = yield* vka.createThread({ entry: client, priority: 100, suspended: true });
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(env.bi.schedcontrol.start, c.sc, 1000, 5000, 0, 0, 0), 0);
    yield* seL4_TCB_Resume(c.tcb);
    yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 50);
    yield* sel4ts_Work(20_000_000);
    const S = objAt<TCB>(m, s.tcb);
    const C = objAt<TCB>(m, c.tcb);
    const CSC = objAt<SchedContext>(m, c.sc);
    checks.serverHadClientSC = S.sc === CSC;
    checks.clientBlocked = C.state === ThreadState.BlockedOnReply;
    checks.spinsBefore = state.spins;
    assert.equal(yield* seL4_CNode_Delete(seL4_CapInitThreadCNode, ro, seL4_WordBits), 0);
    const after = state.spins;
    checks.serverSCAfter = S.sc;
    checks.clientSCBack = C.sc === CSC;
    checks.clientState = C.state;
    yield* sel4ts_Work(20_000_000);
    checks.spinsLater = state.spins - after;
  });
  assert.equal(checks.serverHadClientSC, true);
  assert.equal(checks.clientBlocked, true);
  assert.ok((checks.spinsBefore as number) > 10);
  assert.equal(checks.serverSCAfter, null);
  assert.equal(checks.clientSCBack, true);
  // reply_remove unlinks the caller: it is Inactive until restarted.
  assert.equal(checks.clientState, ThreadState.Inactive);
  assert.equal(checks.spinsLater, 0);
});

test('SCHED_CONTEXT_0010: unbinding the donated SC from the server stops it; the SC can go back to the client', () => {
  const state = { spins: 0 };
  const checks: Record<string, unknown> = {};
  runRoot(function* (env) {
    const { m, vka } = env;
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const init = yield* vka.allocObject(seL4_EndpointObject);
    const ro = yield* vka.allocObject(seL4_ReplyObject);
    const wait = yield* vka.allocObject(seL4_EndpointObject);
    // NBSendWait donates the SC to a passive receiver (not a Call: no reply).
    const client = m.registerProgram(function* () {
      yield* seL4_NBSendWait(ep, EMPTY, wait, null);
      checks.clientWoke = true;
    });
    const s = yield* createPassive(env, spinningServer(m, state), 200, init, [init, ep, ro]);
    const c = yield* vka.createThread({ entry: client, priority: 100, suspended: true });
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(env.bi.schedcontrol.start, c.sc, 1000, 5000, 0, 0, 0), 0);
    yield* seL4_TCB_Resume(c.tcb);
    yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 50);
    yield* sel4ts_Work(20_000_000);
    const S = objAt<TCB>(m, s.tcb);
    const C = objAt<TCB>(m, c.tcb);
    checks.donated = S.sc === objAt<SchedContext>(m, c.sc) && C.sc === null;
    assert.equal(yield* seL4_SchedContext_UnbindObject(c.sc, s.tcb), 0);
    const after = state.spins;
    yield* sel4ts_Work(20_000_000);
    checks.spinsLater = state.spins - after;
    // The client is blocked receiving: it can get the SC back once it is released.
    assert.equal(yield* seL4_SchedContext_Bind(c.sc, c.tcb), 0);
    yield* seL4_Send(wait, EMPTY);
    yield* sel4ts_Work(10_000_000);
  });
  assert.equal(checks.donated, true);
  assert.equal(checks.spinsLater, 0);
  assert.equal(checks.clientWoke, true);
});

test('SCHED_CONTEXT_0011: along a call chain, deleting replies returns the SC step by step', () => {
  const state = { spins: 0 };
  const checks: string[] = [];
  runRoot(function* (env) {
    const { m, vka } = env;
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const ep2 = yield* vka.allocObject(seL4_EndpointObject);
    const init = yield* vka.allocObject(seL4_EndpointObject);
    const proxyReply = yield* vka.allocObject(seL4_ReplyObject);
    const serverReply = yield* vka.allocObject(seL4_ReplyObject);
    const proxy = m.registerProgram(function* () {
      yield* seL4_NBSendRecv(init, EMPTY, ep, null, proxyReply);
      yield* seL4_Call(ep2, EMPTY);
    });
    const client = m.registerProgram(function* () {
      yield* seL4_Call(ep, EMPTY);
    });
    const s = yield* createPassive(env, spinningServer(m, state), 200, init, [init, ep2, serverReply]);
    const p = yield* createPassive(env, proxy, 150, init, []);
    const c = yield* vka.createThread({ entry: client, priority: 100, suspended: true });
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(env.bi.schedcontrol.start, c.sc, 1000, 5000, 0, 0, 0), 0);
    yield* seL4_TCB_Resume(c.tcb);
    yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 50);
    yield* sel4ts_Work(20_000_000);
    const [S, P, C] = [s, p, c].map((t) => objAt<TCB>(m, t.tcb)) as [TCB, TCB, TCB];
    const CSC = objAt<SchedContext>(m, c.sc);
    const who = () => [S, P, C].map((t) => (t.sc === CSC ? 'X' : '-')).join('');
    checks.push(`${who()} ${state.spins > 10}`);
    assert.equal(yield* seL4_CNode_Delete(seL4_CapInitThreadCNode, serverReply, seL4_WordBits), 0);
    checks.push(`${who()} proxy ${ThreadState[P.state]}`);
    const after = state.spins;
    yield* sel4ts_Work(10_000_000);
    checks.push(`server spun ${state.spins - after}`);
    assert.equal(yield* seL4_CNode_Delete(seL4_CapInitThreadCNode, proxyReply, seL4_WordBits), 0);
    checks.push(`${who()} client ${ThreadState[C.state]}`);
  });
  // SC order is server, proxy, client.
  assert.deepEqual(checks, ['X-- true', '-X- proxy Inactive', 'server spun 0', '--X client Inactive']);
});

type ServerMode = 'active' | 'passive' | 'passive+timeout';

interface InversionResult {
  highResponse: number;
  lowReply: bigint;
  lowDone: number;
  faults: Array<{ label: number; length: number; data: number; badge: number }>;
}

/**
 * The MCS paper's shared-server scenario: a low-priority client L asks a
 * shared server S (priority ceiling 200) for 10 ms of work; L's budget is
 * 1 ms every 20 ms. A high-priority client H (2 ms every 5 ms) arrives about
 * 5 ms later and asks for 0.5 ms. H's response time is counted from its
 * arrival (the release of its refill), as it cannot preempt the server.
 */
function sharedServer(mode: ServerMode): InversionResult {
  const out: InversionResult = { highResponse: -1, lowReply: -1n, lowDone: -1, faults: [] };
  const LOW_DATA = 0x10;
  const SERVER_BADGE = 0x5e;
  runRoot(
    function* (env) {
      const { m, vka, bi } = env;
      const ctrl = bi.schedcontrol.start;
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const init = yield* vka.allocObject(seL4_EndpointObject);
      const tfep = yield* vka.allocObject(seL4_EndpointObject);
      const ro = yield* vka.allocObject(seL4_ReplyObject);
      const handlerReply = yield* vka.allocObject(seL4_ReplyObject);
      const shared = { aborted: false };
      const server = m.registerProgram(function* () {
        yield* seL4_NBSendRecv(init, EMPTY, ep, null, ro);
        for (;;) {
          let left = seL4_GetMR(0) * 1000;
          shared.aborted = false;
          while (left > 0 && !shared.aborted) {
            const step = Math.min(left, 50_000);
            yield* sel4ts_Work(step);
            left -= step;
          }
          if (shared.aborted) {
            // Reset by the timeout handler: announce ourselves again and wait for a client.
            yield* seL4_NBSendRecv(init, EMPTY, ep, null, ro);
            continue;
          }
          seL4_SetMR(0, 0);
          yield* seL4_ReplyRecv(ep, seL4_MessageInfo_new(0, 0, 0, 1), null, ro);
        }
      });
      let serverThread: CreatedThread | null = null;
      const handler = m.registerProgram(function* () {
        const badge = new WordOut();
        for (;;) {
          const info = yield* seL4_Recv(tfep, badge, handlerReply);
          out.faults.push({
            label: seL4_MessageInfo_get_label(info),
            length: seL4_MessageInfo_get_length(info),
            data: seL4_GetMR(0),
            badge: badge.lo,
          });
          // Answer the client on the server's behalf with an error...
          seL4_SetMR(0, (1n << 64n) - 1n);
          yield* seL4_Send(ro, seL4_MessageInfo_new(0, 0, 0, 1));
          // ...and reset the server on its own SC: restart it (timeout reply, label 0),
          // wait for it to announce itself, then make it passive again.
          shared.aborted = true;
          assert.equal(yield* seL4_SchedContext_Bind(serverThread!.sc, serverThread!.tcb), 0);
          yield* seL4_Send(handlerReply, EMPTY);
          yield* seL4_Wait(init, null);
          assert.equal(yield* seL4_SchedContext_Unbind(serverThread!.sc), 0);
        }
      });
      const low = m.registerProgram(function* () {
        seL4_SetMR(0, 10_000);
        yield* seL4_Call(ep, seL4_MessageInfo_new(0, 0, 0, 1));
        out.lowReply = seL4_GetMRWord(0);
        out.lowDone = m.now;
      });
      let highSC: SchedContext | null = null;
      const high = m.registerProgram(function* () {
        // Give up this period: H arrives (its refill is released) one period after it began.
        const arrival = highSC!.refills.headTime + 5_000_000;
        yield* seL4_Yield();
        seL4_SetMR(0, 500);
        yield* seL4_Call(ep, seL4_MessageInfo_new(0, 0, 0, 1));
        out.highResponse = m.now - arrival;
      });
      if (mode === 'active') {
        serverThread = yield* vka.createThread({ entry: server, priority: 200, budgetUs: 50_000, periodUs: 50_000 });
        yield* seL4_Wait(init, null);
      } else {
        serverThread = yield* createPassive(env, server, 200, init, []);
      }
      if (mode === 'passive+timeout') {
        const badged = vka.allocSlot();
        assert.equal(yield* seL4_CNode_Mint(seL4_CapInitThreadCNode, badged, 64, seL4_CapInitThreadCNode, tfep, 64, 15, SERVER_BADGE), 0);
        assert.equal(yield* seL4_TCB_SetTimeoutEndpoint(serverThread.tcb, badged), 0);
        yield* vka.createThread({ entry: handler, priority: 250, budgetUs: 1000, periodUs: 1000 });
      }
      const h = yield* vka.createThread({ entry: high, priority: 150, suspended: true });
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, h.sc, 2000, 5000, 0, 0, 0), 0);
      highSC = objAt<SchedContext>(m, h.sc);
      const l = yield* vka.createThread({ entry: low, priority: 100, suspended: true });
      assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, l.sc, 1000, 20_000, 0, LOW_DATA, 0), 0);
      yield* seL4_TCB_Resume(h.tcb);
      yield* seL4_TCB_Resume(l.tcb);
      yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
    },
    { untilNs: 1_000_000_000 },
  );
  return out;
}

test('MCS paper: shared-server priority inversion, bounded by the low client budget with a passive server', (t) => {
  const active = sharedServer('active');
  const passive = sharedServer('passive');
  const solved = sharedServer('passive+timeout');
  t.diagnostic(`H response (ns): active ${active.highResponse}, passive ${passive.highResponse}, passive+timeout ${solved.highResponse}`);
  // Active server (own budget): H waits for all of L's 10 ms request to finish.
  assert.ok(active.highResponse > 4_000_000, `active: ${active.highResponse}`);
  assert.equal(active.lowReply, 0n);
  // Passive server without a timeout handler: L's request runs only on L's budget
  // (1 ms per 20 ms), so H waits even longer: the inversion is bounded, not removed.
  assert.ok(passive.highResponse > 100_000_000, `passive: ${passive.highResponse}`);
  assert.equal(passive.lowReply, 0n);
  assert.ok(passive.lowDone > 180_000_000, 'L was served at its own rate');
  // Passive server with a timeout handler: when L's budget runs out inside the server
  // the handler aborts L's request and resets the server, so H is served at once.
  assert.ok(solved.highResponse < 600_000, `solved: ${solved.highResponse}`);
  assert.equal(solved.lowReply, (1n << 64n) - 1n);
  // One timeout fault: label seL4_Fault_Timeout (5), length 2, data = L's SC badge, sent
  // to the server's timeout endpoint (badge of that endpoint cap).
  assert.deepEqual(
    solved.faults.map((f) => [f.label, f.length, f.data, f.badge]),
    [[5, 2, 0x10, 0x5e]],
  );
});

