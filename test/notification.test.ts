/**
 * Notifications: Signal ORs badges into the word, Wait blocks (waiters queued
 * by priority), Poll (NBWait) never blocks, and notifications bound to a TCB
 * are delivered to it while it receives on an endpoint (sel4test BIND0001-4,
 * NBWAIT0001), with the BindNotification / UnbindNotification error rules.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { lookupCap } from '../src/kernel/lookup.js';
import { CapType } from '../src/kernel/cap.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';
import type { Reply } from '../src/kernel/object/reply.js';
import { seL4_Error } from '../src/abi/constants.js';

const CNODE = s.seL4_CapInitThreadCNode;
const ROOT = s.seL4_CapInitThreadTCB;
const ASYNC = 1;
const SYNC = 2;

function* mint(env: RootEnv, src: number, rights: number, badge: number | bigint): Generator<unknown, number, unknown> {
  const slot = env.vka.allocSlot();
  assert.equal(yield* s.seL4_CNode_Mint(CNODE, slot, 64, CNODE, src, 64, rights, badge), 0);
  return slot;
}

function* thread(env: RootEnv, prio: number, body: () => Generator<unknown, void, unknown>) {
  return yield* env.vka.createThread({ entry: env.m.registerProgram(body), priority: prio });
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

describe('Signal, Wait and Poll', () => {
  it('signals with no waiter OR their badges into the word; one Wait takes it all, a Poll then sees 0', () => {
    const words: bigint[] = [];
    runRoot(function* (env) {
      const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
      for (const b of [1n, 2n, 4n, 0x8000000000000000n, 2n]) yield* s.seL4_Signal(yield* mint(env, n, s.seL4_AllRights, b));
      const w = new s.WordOut();
      yield* s.seL4_Wait(n, w);
      words.push(w.value);
      yield* s.seL4_Poll(n, w);
      words.push(w.value);
    });
    assert.deepEqual(words, [0x8000000000000007n, 0n]);
  });

  it('NBWAIT0001 (notification part): Poll returns 0 at once when idle, the badge when signalled, then 0', () => {
    const words: bigint[] = [];
    runRoot(function* (env) {
      const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const b2 = yield* mint(env, n, s.seL4_AllRights, 2);
      const w = new s.WordOut();
      w.lo = 77;
      yield* s.seL4_Poll(n, w);
      words.push(w.value);
      yield* s.seL4_Signal(b2);
      yield* s.seL4_Poll(n, w);
      words.push(w.value);
      yield* s.seL4_Poll(n, w);
      words.push(w.value);
    });
    assert.deepEqual(words, [0n, 2n, 0n]);
  });

  it('waiters block, are queued by priority, and each signal wakes one with its badge', () => {
    const got: string[] = [];
    runRoot(function* (env) {
      const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
      for (const [name, prio] of [
        ['lo', 10],
        ['hi', 30],
        ['mid', 20],
      ] as const) {
        yield* thread(env, prio, function* () {
          const w = new s.WordOut();
          yield* s.seL4_Wait(n, w);
          got.push(`${name}:${w.number}`);
        });
        yield* letRun();
      }
      for (const b of [0x10, 0x20, 0x40]) yield* s.seL4_Signal(yield* mint(env, n, s.seL4_AllRights, b));
    });
    assert.deepEqual(got.sort(), ['hi:16', 'lo:64', 'mid:32']);
  });

  it('Signal needs Write (a Call on a read-only cap gets InvalidCapability); Wait needs Read', () => {
    const out: number[] = [];
    runRoot(function* (env) {
      const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const ro = yield* mint(env, n, s.seL4_CanRead, 0);
      yield* s.seL4_Signal(ro);
      const w = new s.WordOut();
      yield* s.seL4_Poll(n, w);
      out.push(w.number);
      const info = yield* s.seL4_Call(ro, s.seL4_MessageInfo_new(0, 0, 0, 0));
      out.push(s.seL4_MessageInfo_get_label(info), s.seL4_GetMR(0));
    });
    assert.deepEqual(out, [0, seL4_Error.seL4_InvalidCapability, 0]);
  });
});

describe('bound notifications (BIND00xx)', () => {
  it('BIND0001: a bound thread waiting on an endpoint receives both endpoint messages and notification signals', () => {
    const counts = { async: 0, sync: 0, other: 0 };
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const bn = yield* mint(env, n, s.seL4_AllRights, ASYNC);
      const bep = yield* mint(env, ep, s.seL4_AllRights, SYNC);
      assert.equal(yield* s.seL4_TCB_BindNotification(ROOT, n), 0);
      const RUNS = 10;
      yield* thread(env, 100, function* () {
        for (let i = 0; i < RUNS; i++) yield* s.seL4_Signal(bn);
      });
      yield* thread(env, 100, function* () {
        for (let i = 0; i < RUNS; i++) yield* s.seL4_Send(bep, s.seL4_MessageInfo_new(0, 0, 0, 0));
      });
      for (let i = 0; i < 2 * RUNS; i++) {
        const w = new s.WordOut();
        yield* s.seL4_Wait(ep, w);
        if (w.number === ASYNC) counts.async++;
        else if (w.number === SYNC) counts.sync++;
        else counts.other++;
      }
      assert.equal(yield* s.seL4_TCB_UnbindNotification(ROOT), 0);
    });
    assert.deepEqual(counts, { async: 10, sync: 10, other: 0 });
  });

  it('BIND0002: a bound thread waiting on its own notification receives its signals', () => {
    let n2 = 0;
    runRoot(function* (env) {
      const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const bn = yield* mint(env, n, s.seL4_AllRights, ASYNC);
      assert.equal(yield* s.seL4_TCB_BindNotification(ROOT, n), 0);
      yield* thread(env, 100, function* () {
        for (let i = 0; i < 10; i++) yield* s.seL4_Signal(bn);
      });
      for (let i = 0; i < 10; i++) {
        const w = new s.WordOut();
        yield* s.seL4_Wait(n, w);
        if (w.number === ASYNC) n2++;
      }
    });
    assert.equal(n2, 10);
  });

  for (const [name, waiterPrio, senderPrio] of [
    ['BIND0003', 10, 9],
    ['BIND0004', 9, 10],
  ] as const) {
    it(`${name}: bound thread waits on its notification (waiter ${waiterPrio}, signaller ${senderPrio}) and is woken`, () => {
      let woke = 0;
      runRoot(function* (env) {
        const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
        const entry = env.m.registerProgram(function* () {
          const w = new s.WordOut();
          yield* s.seL4_Wait(n, w);
          woke++;
        });
        const waiter = yield* env.vka.createThread({ entry, priority: waiterPrio, suspended: true });
        assert.equal(yield* s.seL4_TCB_BindNotification(waiter.tcb, n), 0);
        assert.equal(yield* s.seL4_TCB_Resume(waiter.tcb), 0);
        yield* thread(env, senderPrio, function* () {
          yield* s.seL4_Signal(n);
        });
      });
      assert.equal(woke, 1);
    });
  }

  it('a signal to a thread blocked in Recv on an endpoint wakes it with the badge in a0 and unlinks its reply object', () => {
    const seen: bigint[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const bn = yield* mint(env, n, s.seL4_AllRights, 0x5a);
      const entry = env.m.registerProgram(function* () {
        const w = new s.WordOut();
        yield* s.seL4_Recv(ep, w, reply);
        seen.push(w.value);
      });
      const t = yield* env.vka.createThread({ entry, priority: 100, suspended: true });
      assert.equal(yield* s.seL4_TCB_BindNotification(t.tcb, n), 0);
      assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
      yield* letRun();
      const k = tcbOf(env, t.tcb);
      const r = lookupCap(env.m.kernel, env.m.booted.rootTCB, 0, reply)!.obj as Reply;
      assert.equal(k.state, ThreadState.BlockedOnReceive);
      assert.equal(r.tcb, k);
      yield* s.seL4_Signal(bn);
      assert.equal(k.state, ThreadState.Running);
      assert.equal(r.tcb, null);
      assert.equal(k.getRegNumber(16 /* a0 */), 0x5a);
    });
    assert.deepEqual(seen, [0x5an]);
  });

  it('NBWAIT0001: NBRecv on an endpoint returns a pending bound notification first, then the queued message', () => {
    const got: number[][] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const bn = yield* mint(env, n, s.seL4_AllRights, 2);
      const bep = yield* mint(env, ep, s.seL4_AllRights, 1);
      assert.equal(yield* s.seL4_TCB_BindNotification(ROOT, n), 0);
      const w = new s.WordOut();
      yield* s.seL4_NBRecv(ep, w, reply);
      got.push([w.number]);
      yield* thread(env, 100, function* () {
        s.seL4_SetMR(0, 0xdeadbeef);
        yield* s.seL4_Send(bep, s.seL4_MessageInfo_new(0, 0, 0, 1));
      });
      yield* letRun(); // the sender is now queued on the endpoint
      yield* s.seL4_Signal(bn);
      yield* s.seL4_NBRecv(ep, w, reply);
      got.push([w.number]);
      const info = yield* s.seL4_NBRecv(ep, w, reply);
      got.push([w.number, s.seL4_MessageInfo_get_length(info), s.seL4_GetMR(0)]);
      yield* s.seL4_NBRecv(ep, w, reply);
      got.push([w.number]);
    });
    assert.deepEqual(got, [[0], [2], [1, 1, 0xdeadbeef], [0]]);
  });

  it('a signal to a bound thread that is in a Call (BlockedOnReply) stays pending in the notification', () => {
    const got: bigint[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      const n = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const bn = yield* mint(env, n, s.seL4_AllRights, 9);
      const entry = env.m.registerProgram(function* () {
        yield* s.seL4_Call(ep, s.seL4_MessageInfo_new(0, 0, 0, 0));
        const w = new s.WordOut();
        yield* s.seL4_Poll(n, w);
        got.push(w.value);
      });
      const t = yield* env.vka.createThread({ entry, priority: 100, suspended: true });
      assert.equal(yield* s.seL4_TCB_BindNotification(t.tcb, n), 0);
      assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
      yield* s.seL4_Recv(ep, null, reply);
      yield* s.seL4_Signal(bn);
      assert.equal(tcbOf(env, t.tcb).state, ThreadState.BlockedOnReply);
      yield* s.seL4_Send(reply, s.seL4_MessageInfo_new(0, 0, 0, 0));
    });
    assert.deepEqual(got, [9n]);
  });
});

describe('BindNotification / UnbindNotification errors', () => {
  it('returns IllegalOperation / TruncatedMessage exactly as seL4 decodes them', () => {
    const errs: Record<string, number> = {};
    runRoot(function* (env) {
      const { vka } = env;
      const n = yield* vka.allocObject(s.seL4_NotificationObject);
      const n2 = yield* vka.allocObject(s.seL4_NotificationObject);
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const writeOnly = yield* mint(env, n2, s.seL4_CanWrite, 0);
      const idle = env.m.registerProgram(function* () {});
      const t1 = yield* vka.createThread({ entry: idle, priority: 1, suspended: true });
      const t2 = yield* vka.createThread({ entry: idle, priority: 1, suspended: true });
      errs.unbindNone = yield* s.seL4_TCB_UnbindNotification(t1.tcb);
      errs.notANotification = yield* s.seL4_TCB_BindNotification(t1.tcb, ep);
      errs.noRead = yield* s.seL4_TCB_BindNotification(t1.tcb, writeOnly);
      // No extra cap at all.
      const info = yield* s.seL4_Call(t1.tcb, s.seL4_MessageInfo_new(14 /* TCBBindNotification */, 0, 0, 0));
      errs.truncated = s.seL4_MessageInfo_get_label(info);
      errs.ok = yield* s.seL4_TCB_BindNotification(t1.tcb, n);
      errs.alreadyBoundTCB = yield* s.seL4_TCB_BindNotification(t1.tcb, n2);
      errs.ntfnBoundElsewhere = yield* s.seL4_TCB_BindNotification(t2.tcb, n);
      // A notification with a waiter cannot be bound.
      yield* thread(env, 50, function* () {
        yield* s.seL4_Wait(n2, null);
      });
      yield* letRun();
      errs.ntfnHasWaiters = yield* s.seL4_TCB_BindNotification(t2.tcb, n2);
      errs.unbind = yield* s.seL4_TCB_UnbindNotification(t1.tcb);
      errs.rebindAfterUnbind = yield* s.seL4_TCB_BindNotification(t2.tcb, n);
      yield* s.seL4_Signal(n2);
    });
    assert.deepEqual(errs, {
      unbindNone: seL4_Error.seL4_IllegalOperation,
      notANotification: seL4_Error.seL4_IllegalOperation,
      noRead: seL4_Error.seL4_IllegalOperation,
      truncated: seL4_Error.seL4_TruncatedMessage,
      ok: 0,
      alreadyBoundTCB: seL4_Error.seL4_IllegalOperation,
      ntfnBoundElsewhere: seL4_Error.seL4_IllegalOperation,
      ntfnHasWaiters: seL4_Error.seL4_IllegalOperation,
      unbind: 0,
      rebindAfterUnbind: 0,
    });
  });
});
