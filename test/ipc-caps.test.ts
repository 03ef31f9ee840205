/**
 * Capability transfer over IPC and endpoint rights (sel4test IPCRIGHTS0001-3):
 * Send needs Write, cap transfer needs Grant, at most one cap is transferred
 * into the receiver's seL4_SetCapReceivePath slot, and caps to the endpoint
 * the message travels on are unwrapped to their badges (capsUnwrapped bits,
 * badges in caps_or_badges).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { seL4_Error } from '../src/abi/constants.js';

const CNODE = s.seL4_CapInitThreadCNode;
/** seL4_DebugCapIdentify tags. */
const TAG_NULL = 0;
const TAG_ENDPOINT = 4;
const TAG_NOTIFICATION = 6;

function* mint(env: RootEnv, src: number, rights: number, badge: number | bigint): Generator<unknown, number, unknown> {
  const slot = env.vka.allocSlot();
  assert.equal(yield* s.seL4_CNode_Mint(CNODE, slot, 64, CNODE, src, 64, rights, badge), 0);
  return slot;
}

interface Received {
  info: number;
  badge: bigint;
  slotTag: number;
  badges: bigint[];
  mr0: number;
}

/**
 * Start a receiver at priority 100 that sets its receive path to a fresh
 * slot, Recvs once on `ep` and records what it got (and what its slot holds).
 * Returns a generator the root runs to wait until the receiver has recorded.
 */
function* receiver(env: RootEnv, ep: number, out: Received[], recvSlot?: number): Generator<unknown, () => Generator<unknown, void, unknown>, unknown> {
  const slot = recvSlot ?? env.vka.allocSlot();
  const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
  const done = yield* env.vka.allocObject(s.seL4_EndpointObject);
  const entry = env.m.registerProgram(function* () {
    s.seL4_SetCapReceivePath(CNODE, slot, 64);
    const w = new s.WordOut();
    const info = yield* s.seL4_Recv(ep, w, reply);
    const slotTag = yield* s.seL4_DebugCapIdentify(slot);
    out.push({ info, badge: w.value, slotTag, badges: [0, 1, 2].map((i) => s.seL4_GetBadge(i)), mr0: s.seL4_GetMR(0) });
    yield* s.seL4_Send(done, s.seL4_MessageInfo_new(0, 0, 0, 0));
  });
  yield* env.vka.createThread({ entry, priority: 100 });
  return function* () {
    yield* s.seL4_Wait(done, null);
  };
}

describe('endpoint rights (IPCRIGHTS)', () => {
  it('IPCRIGHTS0001: seL4_Send needs Write; without it the Send does nothing and a Call gets InvalidCapability (MR0 = 0)', () => {
    const out: Received[] = [];
    const callErrors: number[][] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      for (let rights = 0; rights < 16; rights++) {
        if ((rights & s.seL4_CanWrite) !== 0) continue;
        const cap = yield* mint(env, ep, rights, 0);
        const recorded = yield* receiver(env, ep, out);
        s.seL4_SetMR(0, 0xbad);
        yield* s.seL4_Send(cap, s.seL4_MessageInfo_new(0, 0, 0, 1));
        s.seL4_SetMR(0, 0xbad);
        const info = yield* s.seL4_Call(cap, s.seL4_MessageInfo_new(0, 0, 0, 1));
        callErrors.push([s.seL4_MessageInfo_get_label(info), s.seL4_MessageInfo_get_length(info), s.seL4_GetMR(0)]);
        s.seL4_SetMR(0, 42);
        yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
        yield* recorded();
      }
    });
    assert.equal(out.length, 8);
    // Only the Send on the writable cap arrived.
    for (const r of out) assert.deepEqual([s.seL4_MessageInfo_get_length(r.info), r.mr0], [1, 42]);
    assert.deepEqual(callErrors, new Array(8).fill([seL4_Error.seL4_InvalidCapability, 1, 0]));
  });

  it('IPCRIGHTS0003: a capability is transferred only if the sender cap has Grant', () => {
    const out: Received[] = [];
    const expectCap: boolean[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const other = yield* env.vka.allocObject(s.seL4_EndpointObject);
      for (let rights = 0; rights < 16; rights++) {
        if ((rights & s.seL4_CanWrite) === 0) continue;
        expectCap.push((rights & s.seL4_CanGrant) !== 0);
        const cap = yield* mint(env, ep, rights, 0);
        const recorded = yield* receiver(env, ep, out);
        s.seL4_SetCap(0, other);
        yield* s.seL4_Send(cap, s.seL4_MessageInfo_new(0, 0, 1, 0));
        yield* recorded();
      }
    });
    assert.equal(out.length, 8);
    out.forEach((r, i) => {
      const granted = expectCap[i]!;
      assert.equal(s.seL4_MessageInfo_get_extraCaps(r.info), granted ? 1 : 0, `rights case ${i}`);
      assert.equal(r.slotTag, granted ? TAG_ENDPOINT : TAG_NULL, `rights case ${i}`);
    });
  });

  it('IPCRIGHTS0003 (use): the transferred cap is a working copy of the sent one', () => {
    const got: number[] = [];
    runRoot(function* (env) {
      const { vka, m } = env;
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const back = yield* vka.allocObject(s.seL4_EndpointObject);
      const slot = vka.allocSlot();
      const entry = m.registerProgram(function* () {
        s.seL4_SetCapReceivePath(CNODE, slot, 64);
        yield* s.seL4_Wait(ep, null);
        s.seL4_SetMR(0, 0x600d);
        yield* s.seL4_Send(slot, s.seL4_MessageInfo_new(0, 0, 0, 1));
      });
      yield* vka.createThread({ entry, priority: 100 });
      s.seL4_SetCap(0, back);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 1, 0));
      yield* s.seL4_Wait(back, null);
      got.push(s.seL4_GetMR(0));
    });
    assert.deepEqual(got, [0x600d]);
  });
});

describe('transferCaps', () => {
  it('caps to the endpoint used are unwrapped: capsUnwrapped bits and badges in caps_or_badges, no slot used', () => {
    const out: Received[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const b7 = yield* mint(env, ep, s.seL4_AllRights, 7);
      const b9 = yield* mint(env, ep, s.seL4_AllRights, 0x900000009n);
      const recorded = yield* receiver(env, ep, out);
      s.seL4_SetCap(0, b7);
      s.seL4_SetCap(1, ep);
      s.seL4_SetCap(2, b9);
      yield* s.seL4_Send(b7, s.seL4_MessageInfo_new(0, 0, 3, 0));
      yield* recorded();
    });
    assert.equal(out.length, 1);
    const r = out[0]!;
    assert.equal(r.badge, 7n);
    assert.equal(s.seL4_MessageInfo_get_extraCaps(r.info), 3);
    assert.equal(s.seL4_MessageInfo_get_capsUnwrapped(r.info), 0b111);
    assert.deepEqual(r.badges, [7n, 0n, 0x900000009n]);
    assert.equal(r.slotTag, TAG_NULL);
  });

  it('mixed: unwrapped, transferred, unwrapped (extraCaps 3, capsUnwrapped 0b101, one cap in the slot)', () => {
    const out: Received[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const ntfn = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const b3 = yield* mint(env, ep, s.seL4_AllRights, 3);
      const recorded = yield* receiver(env, ep, out);
      s.seL4_SetCap(0, b3);
      s.seL4_SetCap(1, ntfn);
      s.seL4_SetCap(2, ep);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 3, 0));
      yield* recorded();
    });
    const r = out[0]!;
    assert.equal(s.seL4_MessageInfo_get_extraCaps(r.info), 3);
    assert.equal(s.seL4_MessageInfo_get_capsUnwrapped(r.info), 0b101);
    assert.equal(r.badges[0], 3n);
    assert.equal(r.badges[2], 0n);
    assert.equal(r.slotTag, TAG_NOTIFICATION);
  });

  it('only one cap is transferred per message: the second stops the transfer (extraCaps 1)', () => {
    const out: Received[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const n1 = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const n2 = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const recorded = yield* receiver(env, ep, out);
      s.seL4_SetCap(0, n1);
      s.seL4_SetCap(1, n2);
      s.seL4_SetCap(2, ep);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 3, 0));
      yield* recorded();
    });
    const r = out[0]!;
    assert.equal(s.seL4_MessageInfo_get_extraCaps(r.info), 1);
    assert.equal(s.seL4_MessageInfo_get_capsUnwrapped(r.info), 0);
    assert.equal(r.slotTag, TAG_NOTIFICATION);
  });

  it('an occupied receive slot takes no cap, but the message and unwrapped badges still arrive', () => {
    const out: Received[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const ntfn = yield* env.vka.allocObject(s.seL4_NotificationObject);
      const b5 = yield* mint(env, ep, s.seL4_AllRights, 5);
      const occupied = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const recorded = yield* receiver(env, ep, out, occupied);
      s.seL4_SetCap(0, b5);
      s.seL4_SetCap(1, ntfn);
      s.seL4_SetMR(0, 1);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 2, 1));
      yield* recorded();
    });
    const r = out[0]!;
    assert.equal(s.seL4_MessageInfo_get_length(r.info), 1);
    assert.equal(s.seL4_MessageInfo_get_extraCaps(r.info), 1);
    assert.equal(s.seL4_MessageInfo_get_capsUnwrapped(r.info), 1);
    assert.equal(r.badges[0], 5n);
    assert.equal(r.slotTag, TAG_ENDPOINT); // still the endpoint that was there
  });

  it('an empty slot named as an extra cap transfers nothing (deriveCap gives the null cap)', () => {
    const out: Received[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const empty = env.vka.allocSlot();
      const recorded = yield* receiver(env, ep, out);
      s.seL4_SetCap(0, empty);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 1, 0));
      yield* recorded();
    });
    assert.equal(s.seL4_MessageInfo_get_extraCaps(out[0]!.info), 0);
    assert.equal(out[0]!.slotTag, TAG_NULL);
  });
});
