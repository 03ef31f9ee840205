/**
 * TCB invocations other than the register ones: SetPriority / SetMCPriority /
 * SetSchedParams (MCP checks), Suspend / Resume, SetIPCBuffer, Configure
 * (THREADS0004), SetSpace (THREADS0005), SetTimeoutEndpoint, and the MCS rule
 * that the send phase of NBSendRecv cannot invoke a TCB. Every error path
 * checks the seL4_Error and its detail MRs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { IPCBUF_MSG } from '../src/kernel/kernel.js';
import { InvocationLabel, seL4_Error } from '../src/abi/constants.js';
import { lookupCap } from '../src/kernel/lookup.js';
import { CapType } from '../src/kernel/cap.js';
import { TCB, TCB_FAULT_HANDLER, TCB_TIMEOUT_HANDLER, ThreadState } from '../src/kernel/object/tcb.js';

const ROOT = s.seL4_CapInitThreadTCB;
const CNODE = s.seL4_CapInitThreadCNode;
const VSPACE = s.seL4_CapInitThreadVSpace;
const E = seL4_Error;

function tcbOf(env: RootEnv, cptr: number): TCB {
  const c = lookupCap(env.m.kernel, env.m.booted.rootTCB, 0, cptr);
  assert.ok(c !== null && c.type === CapType.Thread);
  return c.obj as TCB;
}

function* letRun(): Generator<unknown, void, unknown> {
  assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 0), 0);
  assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 255), 0);
}

function* idle(env: RootEnv, prio = 1, mcp?: number, passive = false): Generator<unknown, s.CreatedThread, unknown> {
  const o: s.ThreadOptions = { entry: env.m.registerProgram(function* () {}), priority: prio, suspended: true, passive };
  if (mcp !== undefined) o.mcp = mcp;
  return yield* env.vka.createThread(o);
}

/** The error of the last invocation and its first two MRs. */
function* err(g: Generator<unknown, number, unknown>): Generator<unknown, number[], unknown> {
  const e = yield* g;
  if (e === E.seL4_RangeError) return [e, s.seL4_GetMR(0), s.seL4_GetMR(1)];
  if (e === E.seL4_InvalidCapability || e === E.seL4_InvalidArgument) return [e, s.seL4_GetMR(0)];
  return [e];
}

describe('priorities and the maximum controlled priority', () => {
  it('SetPriority / SetMCPriority / SetSchedParams check against the authority MCP (RangeError MR0 = 0, MR1 = MCP)', () => {
    const r: Record<string, number[]> = {};
    let prio = -1;
    let mcp = -1;
    runRoot(function* (env) {
      const auth = yield* idle(env, 10, 50);
      const t = yield* idle(env);
      const sc = yield* env.vka.allocObject(s.seL4_SchedContextObject, 8);
      r.prioTooHigh = yield* err(s.seL4_TCB_SetPriority(t.tcb, auth.tcb, 51));
      r.prioAtMcp = yield* err(s.seL4_TCB_SetPriority(t.tcb, auth.tcb, 50));
      r.mcpTooHigh = yield* err(s.seL4_TCB_SetMCPriority(t.tcb, auth.tcb, 51));
      r.mcpOk = yield* err(s.seL4_TCB_SetMCPriority(t.tcb, auth.tcb, 40));
      r.paramsMcpTooHigh = yield* err(s.seL4_TCB_SetSchedParams(t.tcb, auth.tcb, 60, 10, sc, 0));
      r.paramsPrioTooHigh = yield* err(s.seL4_TCB_SetSchedParams(t.tcb, auth.tcb, 10, 51, sc, 0));
      r.authNotTcb = yield* err(s.seL4_TCB_SetPriority(t.tcb, CNODE, 1));
      r.authNotTcbMcp = yield* err(s.seL4_TCB_SetMCPriority(t.tcb, CNODE, 1));
      r.authNotTcbParams = yield* err(s.seL4_TCB_SetSchedParams(t.tcb, CNODE, 1, 1, sc, 0));
      const info = yield* s.seL4_Call(t.tcb, s.seL4_MessageInfo_new(InvocationLabel.TCBSetPriority, 0, 0, 1));
      r.noAuthority = [s.seL4_MessageInfo_get_label(info)];
      const k = tcbOf(env, t.tcb);
      prio = k.priority;
      mcp = k.mcp;
    });
    assert.deepEqual(r, {
      prioTooHigh: [E.seL4_RangeError, 0, 50],
      prioAtMcp: [0],
      mcpTooHigh: [E.seL4_RangeError, 0, 50],
      mcpOk: [0],
      paramsMcpTooHigh: [E.seL4_RangeError, 0, 50],
      paramsPrioTooHigh: [E.seL4_RangeError, 0, 50],
      authNotTcb: [E.seL4_InvalidCapability, 1],
      authNotTcbMcp: [E.seL4_InvalidCapability, 1],
      authNotTcbParams: [E.seL4_InvalidCapability, 1],
      noAuthority: [E.seL4_TruncatedMessage],
    });
    assert.deepEqual([prio, mcp], [50, 40]);
  });

  it('SetSchedParams: SC and fault-endpoint checks (InvalidCapability 2 / 3, IllegalOperation), then binds the SC', () => {
    const r: Record<string, number[]> = {};
    runRoot(function* (env) {
      const { vka } = env;
      const t = yield* idle(env, 1, undefined, true);
      const other = yield* idle(env, 1, undefined, true);
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
      const noGrant = vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Mint(CNODE, noGrant, 64, CNODE, ep, 64, s.seL4_ReadWrite, 0), 0);
      const sc = yield* vka.allocObject(s.seL4_SchedContextObject, 8);
      assert.equal(yield* s.seL4_SchedControl_ConfigureFlags(env.bi.schedcontrol.start, sc, 1000, 1000, 0, 0, 0), 0);
      const sc2 = yield* vka.allocObject(s.seL4_SchedContextObject, 8);
      r.scNotSc = yield* err(s.seL4_TCB_SetSchedParams(t.tcb, ROOT, 10, 10, ep, 0));
      r.fhNotEndpoint = yield* err(s.seL4_TCB_SetSchedParams(t.tcb, ROOT, 10, 10, 0, ntfn));
      r.fhNoGrant = yield* err(s.seL4_TCB_SetSchedParams(t.tcb, ROOT, 10, 10, 0, noGrant));
      r.nullScForSelf = yield* err(s.seL4_TCB_SetSchedParams(ROOT, ROOT, 255, 255, 0, 0));
      r.ok = yield* err(s.seL4_TCB_SetSchedParams(t.tcb, ROOT, 10, 10, sc, ep));
      r.alreadyHasSc = yield* err(s.seL4_TCB_SetSchedParams(t.tcb, ROOT, 10, 10, sc2, ep));
      r.scBoundElsewhere = yield* err(s.seL4_TCB_SetSchedParams(other.tcb, ROOT, 10, 10, sc, 0));
      const k = tcbOf(env, t.tcb);
      assert.equal(k.sc?.tcb, k);
      assert.equal(k.slots[TCB_FAULT_HANDLER]!.cap.type, CapType.Endpoint);
      // Passing the null cap unbinds the SC again.
      r.unbind = yield* err(s.seL4_TCB_SetSchedParams(t.tcb, ROOT, 10, 10, 0, 0));
      assert.equal(k.sc, null);
      assert.equal(k.slots[TCB_FAULT_HANDLER]!.cap.type, CapType.Null);
    });
    assert.deepEqual(r, {
      scNotSc: [E.seL4_InvalidCapability, 2],
      fhNotEndpoint: [E.seL4_InvalidCapability, 3],
      fhNoGrant: [E.seL4_InvalidCapability, 3],
      nullScForSelf: [E.seL4_IllegalOperation],
      ok: [0],
      alreadyHasSc: [E.seL4_IllegalOperation],
      scBoundElsewhere: [E.seL4_IllegalOperation],
      unbind: [0],
    });
  });

  it('SetSchedParams: an SC that is not released cannot be bound to a blocked thread (IllegalOperation)', () => {
    const r: number[] = [];
    runRoot(function* (env) {
      const { vka } = env;
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const t = yield* vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Wait(ep, null);
        }),
        priority: 100,
      });
      yield* letRun();
      assert.equal(yield* s.seL4_SchedContext_Unbind(t.sc), 0); // now blocked and passive
      const unconfigured = yield* vka.allocObject(s.seL4_SchedContextObject, 8);
      r.push(yield* s.seL4_TCB_SetSchedParams(t.tcb, ROOT, 100, 100, unconfigured, 0));
      r.push(yield* s.seL4_TCB_SetSchedParams(t.tcb, ROOT, 100, 100, t.sc, 0));
      assert.equal(tcbOf(env, t.tcb).sc !== null, true);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 0));
    });
    assert.deepEqual(r, [E.seL4_IllegalOperation, 0]);
  });

  it('raising a thread above the caller preempts the caller at once', () => {
    const log: string[] = [];
    runRoot(function* (env) {
      const t = yield* env.vka.createThread({
        entry: env.m.registerProgram(function* () {
          log.push('helper');
        }),
        priority: 10,
      });
      log.push('root before');
      assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 100), 0);
      assert.equal(yield* s.seL4_TCB_SetPriority(t.tcb, ROOT, 200), 0);
      log.push('root after');
    });
    assert.deepEqual(log, ['root before', 'helper', 'root after']);
  });
});

describe('Suspend and Resume', () => {
  it('Suspend takes a blocked receiver off the endpoint; Resume restarts its Recv, which then gets the next message', () => {
    const got: number[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const t = yield* env.vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Wait(ep, null);
          got.push(s.seL4_GetMR(0));
        }),
        priority: 100,
      });
      yield* letRun();
      const k = tcbOf(env, t.tcb);
      assert.equal(k.state, ThreadState.BlockedOnReceive);
      assert.equal(yield* s.seL4_TCB_Suspend(t.tcb), 0);
      assert.equal(k.state, ThreadState.Inactive);
      s.seL4_SetMR(0, 1);
      yield* s.seL4_NBSend(ep, s.seL4_MessageInfo_new(0, 0, 0, 1)); // nobody waiting: dropped
      assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
      assert.equal(k.state, ThreadState.Restart);
      assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0); // not stopped: no effect
      assert.equal(k.state, ThreadState.Restart);
      yield* letRun();
      assert.equal(k.state, ThreadState.BlockedOnReceive);
      s.seL4_SetMR(0, 2);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
    });
    assert.deepEqual(got, [2]);
  });

  it(
    'a Running thread that is suspended and resumed continues after its last syscall (updateRestartPC: FaultIP := NextIP)',
    () => {
      let extra = -1;
      runRoot(function* (env) {
        const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
        const park = yield* env.vka.allocObject(s.seL4_NotificationObject);
        const badged = env.vka.allocSlot();
        assert.equal(yield* s.seL4_CNode_Mint(CNODE, badged, 64, CNODE, n, 64, s.seL4_AllRights, 1), 0);
        const t = yield* env.vka.createThread({
          entry: env.m.registerProgram(function* () {
            yield* s.seL4_Signal(badged); // wakes the root, which preempts us right after the Signal
            yield* s.seL4_Wait(park, null);
          }),
          priority: 100,
        });
        yield* s.seL4_Wait(n, null);
        const k = tcbOf(env, t.tcb);
        assert.equal(k.state, ThreadState.Running);
        assert.equal(yield* s.seL4_TCB_Suspend(t.tcb), 0);
        assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
        yield* letRun();
        const w = new s.WordOut();
        yield* s.seL4_Poll(n, w);
        extra = w.number; // a re-executed Signal would show up here
      });
      assert.equal(extra, 0);
    },
  );
});

describe('SetIPCBuffer, Configure, SetSpace, SetTimeoutEndpoint', () => {
  it('SetIPCBuffer: unaligned is AlignmentError, a non-frame cap IllegalOperation, no cap TruncatedMessage; a new buffer is used', () => {
    const r: Record<string, number[]> = {};
    let mr5 = -1n;
    runRoot(function* (env) {
      const { vka } = env;
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const [frame, vaddr] = yield* vka.allocMappedFrame();
      const bufFrame = vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Copy(CNODE, bufFrame, 64, CNODE, frame, 64, s.seL4_AllRights), 0);
      let done = false;
      const t = yield* vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Wait(ep, null);
          done = true;
        }),
        priority: 100,
        suspended: true,
      });
      r.unaligned = yield* err(s.seL4_TCB_SetIPCBuffer(t.tcb, vaddr + 8, bufFrame));
      r.unaligned512 = yield* err(s.seL4_TCB_SetIPCBuffer(t.tcb, vaddr + 512, bufFrame));
      r.notFrame = yield* err(s.seL4_TCB_SetIPCBuffer(t.tcb, vaddr, ep));
      const info = yield* s.seL4_Call(t.tcb, s.seL4_MessageInfo_new(InvocationLabel.TCBSetIPCBuffer, 0, 0, 1));
      r.noCap = [s.seL4_MessageInfo_get_label(info)];
      r.ok = yield* err(s.seL4_TCB_SetIPCBuffer(t.tcb, vaddr + 1024, bufFrame));
      assert.equal(tcbOf(env, t.tcb).ipcBuffer, vaddr + 1024);
      assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
      for (let i = 0; i < 6; i++) s.seL4_SetMR(i, 500 + i);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 6));
      yield* letRun();
      assert.ok(done);
      mr5 = yield* s.sel4ts_Load(vaddr + 1024 + IPCBUF_MSG + 8 * 5);
    });
    assert.deepEqual(r, {
      unaligned: [E.seL4_AlignmentError],
      unaligned512: [E.seL4_AlignmentError],
      notFrame: [E.seL4_IllegalOperation],
      noCap: [E.seL4_TruncatedMessage],
      ok: [0],
    });
    assert.equal(mr5, 505n);
  });

  it('THREADS0004 / THREADS0005: Configure and SetSpace with a null CSpace (or a bad VSpace) fail with IllegalOperation', () => {
    const r: Record<string, number[]> = {};
    runRoot(function* (env) {
      const t = yield* idle(env);
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const ntfn = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const [frame, vaddr] = yield* env.vka.allocMappedFrame();
      r.configureNullCSpace = yield* err(s.seL4_TCB_Configure(t.tcb, s.seL4_CapNull, 0, VSPACE, 0, 0, 0));
      r.configureBadVSpace = yield* err(s.seL4_TCB_Configure(t.tcb, CNODE, 0, ep, 0, 0, 0));
      r.configureUnalignedBuffer = yield* err(s.seL4_TCB_Configure(t.tcb, CNODE, 0, VSPACE, 0, vaddr + 16, frame));
      r.setSpaceNullCSpace = yield* err(s.seL4_TCB_SetSpace(t.tcb, 0, s.seL4_CapNull, 0, VSPACE, 0));
      r.setSpaceBadVSpace = yield* err(s.seL4_TCB_SetSpace(t.tcb, 0, CNODE, 0, CNODE, 0));
      r.setSpaceBadFaultEP = yield* err(s.seL4_TCB_SetSpace(t.tcb, ntfn, CNODE, 0, VSPACE, 0));
      r.setSpaceOk = yield* err(s.seL4_TCB_SetSpace(t.tcb, ep, CNODE, 0, VSPACE, 0));
      assert.equal(tcbOf(env, t.tcb).slots[TCB_FAULT_HANDLER]!.cap.type, CapType.Endpoint);
      r.configureOk = yield* err(s.seL4_TCB_Configure(t.tcb, CNODE, 0, VSPACE, 0, 0, 0));
      assert.equal(tcbOf(env, t.tcb).ipcBuffer, 0);
      const info = yield* s.seL4_Call(t.tcb, s.seL4_MessageInfo_new(InvocationLabel.TCBConfigure, 0, 0, 3));
      r.configureTruncated = [s.seL4_MessageInfo_get_label(info)];
    });
    assert.deepEqual(r, {
      configureNullCSpace: [E.seL4_IllegalOperation],
      configureBadVSpace: [E.seL4_IllegalOperation],
      configureUnalignedBuffer: [E.seL4_AlignmentError],
      setSpaceNullCSpace: [E.seL4_IllegalOperation],
      setSpaceBadVSpace: [E.seL4_IllegalOperation],
      setSpaceBadFaultEP: [E.seL4_InvalidCapability, 1],
      setSpaceOk: [0],
      configureOk: [0],
      configureTruncated: [E.seL4_TruncatedMessage],
    });
  });

  it('SetTimeoutEndpoint installs an endpoint with Grant (InvalidCapability 1 otherwise); the null cap clears it', () => {
    const r: Record<string, number[]> = {};
    runRoot(function* (env) {
      const t = yield* idle(env);
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const ntfn = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const k = tcbOf(env, t.tcb);
      r.notEndpoint = yield* err(s.seL4_TCB_SetTimeoutEndpoint(t.tcb, ntfn));
      r.ok = yield* err(s.seL4_TCB_SetTimeoutEndpoint(t.tcb, ep));
      assert.equal(k.slots[TCB_TIMEOUT_HANDLER]!.cap.type, CapType.Endpoint);
      r.clear = yield* err(s.seL4_TCB_SetTimeoutEndpoint(t.tcb, s.seL4_CapNull));
      assert.equal(k.slots[TCB_TIMEOUT_HANDLER]!.cap.type, CapType.Null);
    });
    assert.deepEqual(r, { notEndpoint: [E.seL4_InvalidCapability, 1], ok: [0], clear: [0] });
  });

  it('an unknown label on a TCB cap is IllegalOperation', () => {
    let label = -1;
    runRoot(function* (env) {
      const t = yield* idle(env);
      const info = yield* s.seL4_Call(t.tcb, s.seL4_MessageInfo_new(InvocationLabel.CNodeRevoke, 0, 0, 0));
      label = s.seL4_MessageInfo_get_label(info);
    });
    assert.equal(label, E.seL4_IllegalOperation);
  });

  it('MCS: the send phase of NBSendRecv cannot invoke a TCB (the Suspend is not performed); the receive still happens', () => {
    let got = -1;
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      const victim = yield* env.vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Wait(ep, null);
        }),
        priority: 100,
      });
      const entry = env.m.registerProgram(function* () {
        yield* s.seL4_NBSendRecv(victim.tcb, s.seL4_MessageInfo_new(InvocationLabel.TCBSuspend, 0, 0, 0), ep, null, reply);
        got = s.seL4_GetMR(0);
      });
      yield* env.vka.createThread({ entry, priority: 90 });
      yield* letRun();
      assert.equal(tcbOf(env, victim.tcb).state, ThreadState.BlockedOnReceive);
      s.seL4_SetMR(0, 77);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
      s.seL4_SetMR(0, 78);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
    });
    assert.equal(got, 78);
  });
});
