/**
 * Endpoint queues under MCS (seL4's tcbEPAppend): ordered by priority, FIFO
 * among equal priorities, re-sorted when a queued thread's priority changes;
 * and the badge of the sender's endpoint cap delivered to the receiver.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';

const ROOT = s.seL4_CapInitThreadTCB;

/** Start a thread at `prio` and let it run until it blocks (the root briefly drops below it). */
function* startAndBlock(env: RootEnv, prio: number, body: () => Generator<unknown, void, unknown>): Generator<unknown, number, unknown> {
  const entry = env.m.registerProgram(body);
  const t = yield* env.vka.createThread({ entry, priority: prio });
  assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 0), 0);
  assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 255), 0);
  return t.tcb;
}

describe('endpoint queues (MCS: priority order, FIFO within a priority)', () => {
  it('blocked senders are received highest priority first, FIFO among equals', () => {
    const order: number[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      const prios = [10, 30, 20, 30, 10];
      for (let id = 0; id < prios.length; id++) {
        yield* startAndBlock(env, prios[id]!, function* () {
          s.seL4_SetMR(0, id);
          yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
        });
      }
      for (let i = 0; i < prios.length; i++) {
        yield* s.seL4_Recv(ep, null, reply);
        order.push(s.seL4_GetMR(0));
      }
    });
    assert.deepEqual(order, [1, 3, 2, 0, 4]);
  });

  it('changing the priority of a queued sender moves it in the queue (reorderEP)', () => {
    const order: number[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      const tcbs: number[] = [];
      for (let id = 0; id < 4; id++) {
        tcbs.push(
          yield* startAndBlock(env, 10, function* () {
            s.seL4_SetMR(0, id);
            yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
          }),
        );
      }
      assert.equal(yield* s.seL4_TCB_SetPriority(tcbs[3]!, ROOT, 40), 0);
      assert.equal(yield* s.seL4_TCB_SetPriority(tcbs[0]!, ROOT, 5), 0);
      assert.equal(yield* s.seL4_TCB_SetPriority(tcbs[2]!, ROOT, 10), 0); // same priority: goes to the back
      for (let i = 0; i < 4; i++) {
        yield* s.seL4_Recv(ep, null, reply);
        order.push(s.seL4_GetMR(0));
      }
    });
    assert.deepEqual(order, [3, 1, 2, 0]);
  });

  it('a send goes to the highest-priority blocked receiver, FIFO among equals', () => {
    const got: string[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      for (const [name, prio] of [
        ['a', 10],
        ['b', 20],
        ['c', 20],
        ['d', 5],
      ] as const) {
        yield* startAndBlock(env, prio, function* () {
          yield* s.seL4_Wait(ep, null);
          got.push(`${name}:${s.seL4_GetMR(0)}`);
        });
      }
      for (let i = 0; i < 4; i++) {
        s.seL4_SetMR(0, i);
        yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
      }
    });
    // Which message each receiver got (they then run in scheduler order, not queue order).
    assert.deepEqual(got.sort(), ['a:2', 'b:0', 'c:1', 'd:3']);
  });
});

describe('badges', () => {
  it('the receiver gets the badge of the cap the sender used (all 64 bits; 0 for an unbadged cap)', () => {
    const badges: bigint[] = [];
    runRoot(function* (env) {
      const { vka } = env;
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* vka.allocObject(s.seL4_ReplyObject);
      const values = [0xfedcba9876543210n, 1n, 0xffffffffffffffffn];
      const caps: number[] = [ep];
      for (const b of values) {
        const slot = vka.allocSlot();
        assert.equal(yield* s.seL4_CNode_Mint(2, slot, 64, 2, ep, 64, s.seL4_AllRights, b), 0);
        caps.push(slot);
      }
      for (let i = 0; i < caps.length; i++) {
        const cap = caps[i]!;
        yield* startAndBlock(env, 100 - i, function* () {
          yield* s.seL4_Send(cap, s.seL4_MessageInfo_new(0, 0, 0, 0));
        });
      }
      const badge = new s.WordOut();
      for (let i = 0; i < caps.length; i++) {
        yield* s.seL4_Recv(ep, badge, reply);
        badges.push(badge.value);
      }
    });
    assert.deepEqual(badges, [0n, 0xfedcba9876543210n, 1n, 0xffffffffffffffffn]);
  });

  it('a badged cap cannot be re-badged (Mint: IllegalOperation); a Copy carries the original badge', () => {
    let badge = -1n;
    let mintErr = -1;
    runRoot(function* (env) {
      const { vka } = env;
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* vka.allocObject(s.seL4_ReplyObject);
      const b1 = vka.allocSlot();
      const b2 = vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Mint(2, b1, 64, 2, ep, 64, s.seL4_AllRights, 5), 0);
      mintErr = yield* s.seL4_CNode_Mint(2, b2, 64, 2, b1, 64, s.seL4_AllRights, 6);
      assert.equal(yield* s.seL4_CNode_Copy(2, b2, 64, 2, b1, 64, s.seL4_AllRights), 0);
      yield* startAndBlock(env, 100, function* () {
        yield* s.seL4_Send(b2, s.seL4_MessageInfo_new(0, 0, 0, 0));
      });
      const w = new s.WordOut();
      yield* s.seL4_Recv(ep, w, reply);
      badge = w.value;
    });
    assert.equal(mintErr, 3); // seL4_IllegalOperation
    assert.equal(badge, 5n);
  });
});
