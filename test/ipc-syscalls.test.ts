/**
 * The IPC system calls (MCS): Send, NBSend, Recv, Call, ReplyRecv,
 * NBSendRecv, NBSendWait, Wait and NBRecv on endpoints, with every message
 * length 0..seL4_MsgMaxLength, as sel4test's IPC0001-IPC0004 and
 * IPC0025/IPC0026 do (sender priority 98..102 against a waiter at 100, each
 * started first in turn).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';
import { lookupCap } from '../src/kernel/lookup.js';
import { CapType } from '../src/kernel/cap.js';
import type { Machine } from '../src/machine/machine.js';

const MAX = 120;
type Body = () => Generator<unknown, void, unknown>;

/** Start a thread running `body` at `prio`; it Sends on `done` when body returns. */
function* spawn(env: RootEnv, done: number, prio: number, body: Body): Generator<unknown, s.CreatedThread, unknown> {
  const entry = env.m.registerProgram(function* helper() {
    yield* body();
    yield* s.seL4_Send(done, s.seL4_MessageInfo_new(0, 0, 0, 0));
  });
  return yield* env.vka.createThread({ entry, priority: prio });
}

function* sendFunc(ep: number, seed: number): Generator<unknown, void, unknown> {
  for (let len = 0; len <= MAX; len++) {
    for (let i = 0; i < len; i++) s.seL4_SetMR(i, seed++);
    yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, len));
  }
}

function* nbsendFunc(ep: number, seed: number): Generator<unknown, void, unknown> {
  for (let len = 0; len <= MAX; len++) {
    for (let i = 0; i < len; i++) s.seL4_SetMR(i, seed++);
    yield* s.seL4_NBSend(ep, s.seL4_MessageInfo_new(0, 0, 0, len));
  }
}

function checkMRs(info: number, len: number, seed: number): number {
  assert.equal(s.seL4_MessageInfo_get_length(info), len);
  for (let i = 0; i < len; i++) assert.equal(s.seL4_GetMR(i), seed++);
  return seed;
}

function* waitFunc(ep: number, seed: number, reply: number): Generator<unknown, void, unknown> {
  for (let len = 0; len <= MAX; len++) {
    const info = yield* s.seL4_Recv(ep, null, reply);
    seed = checkMRs(info, len, seed);
  }
}

function* callFunc(ep: number, seed: number): Generator<unknown, void, unknown> {
  for (let len = 0; len <= MAX; len++) {
    for (let i = 0; i < len; i++) s.seL4_SetMR(i, seed++);
    const info = yield* s.seL4_Call(ep, s.seL4_MessageInfo_new(0, 0, 0, len));
    seed = checkMRs(info, len, seed);
  }
}

/** IPC0002's server: NBSendRecv first (nothing to reply to), then ReplyRecv. */
function* replyRecvFunc(ep: number, seed: number, reply: number): Generator<unknown, void, unknown> {
  let tag = s.seL4_MessageInfo_new(0, 0, 0, 0);
  for (let len = 0; len <= MAX; len++) {
    tag =
      len === 0 ? yield* s.seL4_NBSendRecv(ep, tag, ep, null, reply) : yield* s.seL4_ReplyRecv(ep, tag, null, reply);
    seed = checkMRs(tag, len, seed);
    for (let i = 0; i < len; i++) s.seL4_SetMR(i, seed++);
  }
  yield* s.seL4_Send(reply, tag);
}

/** IPC0003's server: reply with a Send on the reply object, then Recv. */
function* replyThenRecvFunc(ep: number, seed: number, reply: number): Generator<unknown, void, unknown> {
  let tag = 0;
  for (let len = 0; len <= MAX; len++) {
    if (len > 0) yield* s.seL4_Send(reply, tag);
    tag = yield* s.seL4_Recv(ep, null, reply);
    seed = checkMRs(tag, len, seed);
    for (let i = 0; i < len; i++) s.seL4_SetMR(i, seed++);
  }
  yield* s.seL4_Send(reply, tag);
}

type PairFn = (ep: number, seed: number, reply: number, shouldWait: boolean) => Generator<unknown, void, unknown>;

/** sel4test's test_ipc_pair: every sender priority 98..102 against a waiter at 100, either started first. */
function ipcPair(fa: PairFn, fb: PairFn): void {
  let rounds = 0;
  runRoot(function* (env) {
    const { vka } = env;
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const done = yield* vka.allocObject(s.seL4_EndpointObject);
    const aReply = yield* vka.allocObject(s.seL4_ReplyObject);
    const bReply = yield* vka.allocObject(s.seL4_ReplyObject);
    let seed = 0xabbacafe;
    for (let senderPrio = 98; senderPrio <= 102; senderPrio++) {
      for (const senderFirst of [false, true]) {
        const wait = senderPrio < 100;
        const sd = seed;
        const a = () => fa(ep, sd, aReply, wait);
        const b = () => fb(ep, sd, bReply, wait);
        if (senderFirst) {
          yield* spawn(env, done, 100, b);
          yield* spawn(env, done, senderPrio, a);
        } else {
          yield* spawn(env, done, senderPrio, a);
          yield* spawn(env, done, 100, b);
        }
        yield* s.seL4_Wait(done, null);
        yield* s.seL4_Wait(done, null);
        seed += 0x71717171;
        rounds++;
      }
    }
  });
  // Both helpers of every round finished (a lost message would leave the root waiting).
  assert.equal(rounds, 10);
}

describe('IPC system calls (sel4test IPC00xx)', () => {
  it('IPC0001: seL4_Send + seL4_Recv, lengths 0..120', () => {
    ipcPair(
      (ep, seed) => sendFunc(ep, seed),
      (ep, seed, reply) => waitFunc(ep, seed, reply),
    );
  });

  it('IPC0002: seL4_Call + seL4_ReplyRecv (first receive with seL4_NBSendRecv)', () => {
    ipcPair(
      (ep, seed) => callFunc(ep, seed),
      (ep, seed, reply) => replyRecvFunc(ep, seed, reply),
    );
  });

  it('IPC0003: seL4_Call + reply by seL4_Send on the reply object + seL4_Recv', () => {
    ipcPair(
      (ep, seed) => callFunc(ep, seed),
      (ep, seed, reply) => replyThenRecvFunc(ep, seed, reply),
    );
  });

  it('IPC0004: seL4_NBSend is delivered only to a waiting receiver', () => {
    ipcPair(
      (ep, seed) => nbsendFunc(ep, seed),
      function* (ep, seed, reply, shouldWait) {
        if (shouldWait) yield* waitFunc(ep, seed, reply);
      },
    );
  });

  it('IPC0025: seL4_NBSendRecv + seL4_NBSendRecv ping-pong completes', () => {
    const nbsendrecv: PairFn = function* (ep, _seed, reply) {
      for (let len = 0; len <= MAX; len++) {
        yield* s.seL4_NBSendRecv(ep, s.seL4_MessageInfo_new(0, 0, 0, MAX), ep, null, reply);
      }
      yield* s.seL4_NBSend(ep, s.seL4_MessageInfo_new(0, 0, 0, MAX));
    };
    ipcPair(nbsendrecv, nbsendrecv);
  });
});

describe('seL4_NBRecv, seL4_Wait, seL4_NBSendWait', () => {
  it('NBWAIT0001 (endpoint part): seL4_NBRecv with nothing queued returns badge 0 at once; with a sender, its message', () => {
    const got: [number, number, number][] = [];
    runRoot(function* (env) {
      const { vka, m } = env;
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* vka.allocObject(s.seL4_ReplyObject);
      const badged = vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Mint(2, badged, 64, 2, ep, 64, s.seL4_AllRights, 1), 0);
      const badge = new s.WordOut();
      let info = yield* s.seL4_NBRecv(ep, badge, reply);
      assert.equal(badge.number, 0);
      const entry = m.registerProgram(function* sender() {
        s.seL4_SetMR(0, 0xdeadbeef);
        yield* s.seL4_Send(badged, s.seL4_MessageInfo_new(0, 0, 0, 1));
      });
      yield* vka.createThread({ entry, priority: 254 });
      // Let the sender run and block: lower our priority below it.
      assert.equal(yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 253), 0);
      info = yield* s.seL4_NBRecv(ep, badge, reply);
      got.push([badge.number, s.seL4_MessageInfo_get_length(info), s.seL4_GetMR(0)]);
      info = yield* s.seL4_NBRecv(ep, badge, reply);
      got.push([badge.number, 0, 0]);
    });
    assert.deepEqual(got, [
      [1, 1, 0xdeadbeef],
      [0, 0, 0],
    ]);
  });

  it('seL4_NBSendWait replies through the reply object, then waits without one (a Call to it cannot be replied to)', () => {
    const log: string[] = [];
    let clientTcb = 0;
    const { m } = runRoot(function* (env) {
      const { vka, m } = env;
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* vka.allocObject(s.seL4_ReplyObject);
      const server = m.registerProgram(function* server() {
        let info = yield* s.seL4_Recv(ep, null, reply);
        log.push(`server got ${s.seL4_GetMR(0)}`);
        s.seL4_SetMR(0, s.seL4_GetMR(0) + 1);
        info = yield* s.seL4_NBSendWait(reply, s.seL4_MessageInfo_new(0, 0, 0, 1), ep, null);
        log.push(`server got ${s.seL4_GetMR(0)} length ${s.seL4_MessageInfo_get_length(info)}`);
      });
      const client = m.registerProgram(function* client() {
        s.seL4_SetMR(0, 41);
        yield* s.seL4_Call(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
        log.push(`client got ${s.seL4_GetMR(0)}`);
        s.seL4_SetMR(0, 7);
        yield* s.seL4_Call(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
        log.push('client resumed (must not happen)');
      });
      yield* vka.createThread({ entry: server, priority: 100 });
      clientTcb = (yield* vka.createThread({ entry: client, priority: 90 })).tcb;
    });
    assert.deepEqual(log, ['server got 41', 'client got 42', 'server got 7 length 1']);
    // The second Call found a receiver without a reply object: the caller is left Inactive.
    assert.equal(tcbOf(m, clientTcb).state, ThreadState.Inactive);
  });
});

/** The kernel TCB object a root-task cptr names. */
function tcbOf(m: Machine, cptr: number): TCB {
  const c = lookupCap(m.kernel, m.booted.rootTCB, 0, cptr);
  assert.ok(c !== null && c.type === CapType.Thread);
  return c.obj as TCB;
}

describe('seL4_Yield', () => {
  it('gives up the rest of the budget: equal-priority round-robin threads alternate', () => {
    const log: string[] = [];
    runRoot(function* (env) {
      for (const name of ['a', 'b']) {
        yield* env.vka.createThread({
          entry: env.m.registerProgram(function* () {
            for (let i = 0; i < 3; i++) {
              log.push(`${name}${i}`);
              yield* s.seL4_Yield();
            }
          }),
          priority: 100,
        });
      }
    });
    // b was started last, so it is at the head of the ready queue and runs first.
    assert.deepEqual(log, ['b0', 'a0', 'b1', 'a1', 'b2', 'a2']);
  });
});

