/**
 * CNode_CancelBadgedSends (sel4test CANCEL_BADGED_SENDS_0001/0002): only the
 * senders blocked with that badge are taken off the endpoint; those sending a
 * normal message are restarted (their syscall runs again), those sending a
 * fault become Inactive. Needs a cap with all rights; badge 0 is a no-op.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { seL4_Error } from '../src/abi/constants.js';
import { lookupCap } from '../src/kernel/lookup.js';
import { CapType } from '../src/kernel/cap.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';

const CNODE = s.seL4_CapInitThreadCNode;
const VSPACE = s.seL4_CapInitThreadVSpace;
const ROOT = s.seL4_CapInitThreadTCB;

function* mint(env: RootEnv, src: number, rights: number, badge: number): Generator<unknown, number, unknown> {
  const slot = env.vka.allocSlot();
  assert.equal(yield* s.seL4_CNode_Mint(CNODE, slot, 64, CNODE, src, 64, rights, badge), 0);
  return slot;
}

function* letRun(): Generator<unknown, void, unknown> {
  assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 0), 0);
  assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 255), 0);
}

function tcbOf(env: RootEnv, cptr: number): TCB {
  const c = lookupCap(env.m.kernel, env.m.booted.rootTCB, 0, cptr);
  assert.ok(c !== null && c.type === CapType.Thread);
  return c.obj as TCB;
}

describe('CNode_CancelBadgedSends', () => {
  it('CANCEL_BADGED_SENDS_0001: revoke + cancel aborts exactly the callers with that badge (their restarted Call fails)', () => {
    const N = 8;
    const done: number[] = new Array<number>(N).fill(-1);
    const history: string[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      const badged: number[] = [];
      for (let i = 0; i < N; i++) {
        const b = yield* mint(env, ep, s.seL4_AllRights, i + 200);
        const derived = env.vka.allocSlot();
        assert.equal(yield* s.seL4_CNode_Copy(CNODE, derived, 64, CNODE, b, 64, s.seL4_AllRights), 0);
        badged.push(b);
        yield* env.vka.createThread({
          entry: env.m.registerProgram(function* () {
            s.seL4_SetMR(0, i + 100);
            let tag = yield* s.seL4_Call(derived, s.seL4_MessageInfo_new(0, 0, 0, 1));
            assert.equal(s.seL4_MessageInfo_get_length(tag), 1);
            assert.equal(s.seL4_GetMR(0), 0xffff - (i + 100));
            done[i] = 0;
            s.seL4_SetMR(0, i + 100);
            tag = yield* s.seL4_Call(derived, s.seL4_MessageInfo_new(0, 0, 0, 1));
            assert.equal(s.seL4_MessageInfo_get_label(tag), seL4_Error.seL4_InvalidCapability);
            done[i] = 1;
          }),
          priority: 100,
        });
      }
      yield* letRun();
      for (let i = 0; i < N; i++) {
        const w = new s.WordOut();
        const tag = yield* s.seL4_Recv(ep, w, reply);
        assert.equal(s.seL4_MessageInfo_get_length(tag), 1);
        assert.equal(s.seL4_GetMR(0), w.number - 100);
        s.seL4_SetMR(0, 0xffff - s.seL4_GetMR(0));
        yield* s.seL4_Send(reply, s.seL4_MessageInfo_new(0, 0, 0, 1));
      }
      yield* letRun();
      assert.deepEqual(done, new Array(N).fill(0));
      for (let i = 0; i < N; i++) {
        assert.equal(yield* s.seL4_CNode_Revoke(CNODE, badged[i]!, 64), 0);
        assert.equal(yield* s.seL4_CNode_CancelBadgedSends(CNODE, badged[i]!, 64), 0);
        yield* letRun();
        history.push(done.join(''));
      }
    });
    assert.deepEqual(history, ['10000000', '11000000', '11100000', '11110000', '11111000', '11111100', '11111110', '11111111']);
  });

  it('senders with other badges stay queued; the cancelled ones send again when they next run', () => {
    const order: number[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      const caps = [yield* mint(env, ep, s.seL4_AllRights, 1), yield* mint(env, ep, s.seL4_AllRights, 2)];
      for (let i = 0; i < 4; i++) {
        const cap = caps[i % 2]!;
        yield* env.vka.createThread({
          entry: env.m.registerProgram(function* () {
            s.seL4_SetMR(0, i);
            yield* s.seL4_Send(cap, s.seL4_MessageInfo_new(0, 0, 0, 1));
          }),
          priority: 100 - i,
        });
        yield* letRun();
      }
      assert.equal(yield* s.seL4_CNode_CancelBadgedSends(CNODE, caps[0]!, 64), 0);
      // Badge-1 senders (0 and 2) were restarted; they re-send when they next run, after us.
      for (let i = 0; i < 2; i++) {
        yield* s.seL4_Recv(ep, null, reply);
        order.push(s.seL4_GetMR(0));
      }
      yield* letRun();
      for (let i = 0; i < 2; i++) {
        yield* s.seL4_Recv(ep, null, reply);
        order.push(s.seL4_GetMR(0));
      }
    });
    assert.deepEqual(order, [1, 3, 0, 2]);
  });

  it('a thread blocked sending a fault with that badge becomes Inactive instead of restarting', () => {
    runRoot(function* (env) {
      const fep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const badgedFep = yield* mint(env, fep, s.seL4_AllRights, 9);
      const t = yield* env.vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Call(0x100123, s.seL4_MessageInfo_new(0, 0, 0, 0)); // cap fault
        }),
        priority: 100,
        suspended: true,
      });
      assert.equal(yield* s.seL4_TCB_SetSpace(t.tcb, badgedFep, CNODE, 0, VSPACE, 0), 0);
      assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
      yield* letRun();
      const k = tcbOf(env, t.tcb);
      assert.equal(k.state, ThreadState.BlockedOnSend);
      assert.equal(yield* s.seL4_CNode_CancelBadgedSends(CNODE, badgedFep, 64), 0);
      assert.equal(k.state, ThreadState.Inactive);
    });
  });

  it('errors: a cap without all rights or not an endpoint is IllegalOperation; badge 0 cancels nothing', () => {
    const r: number[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const ntfn = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const noGrant = yield* mint(env, ep, s.seL4_NoRights | s.seL4_CanRead | s.seL4_CanWrite | s.seL4_CanGrant, 4);
      r.push(yield* s.seL4_CNode_CancelBadgedSends(CNODE, noGrant, 64));
      r.push(yield* s.seL4_CNode_CancelBadgedSends(CNODE, ntfn, 64));
      const t = yield* env.vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 0));
        }),
        priority: 100,
      });
      yield* letRun();
      r.push(yield* s.seL4_CNode_CancelBadgedSends(CNODE, ep, 64));
      r.push(tcbOf(env, t.tcb).state);
      yield* s.seL4_Wait(ep, null);
    });
    assert.deepEqual(r, [seL4_Error.seL4_IllegalOperation, seL4_Error.seL4_IllegalOperation, 0, ThreadState.BlockedOnSend]);
  });
});
