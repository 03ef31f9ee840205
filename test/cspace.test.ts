/**
 * CSpace addressing (seL4's resolveAddressBits, lookupSlotForCNodeOp and a
 * thread's own 64-bit lookups): guards, guard sizes, radices, depths,
 * multi-level CSpaces built with CNode_Mint, lookup failures as error replies
 * (FailedLookup with setMRs_lookup_failure's MRs) and as cap faults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { InvocationLabel as L, seL4_Error as E } from '../src/abi/constants.js';
import type { Machine } from '../src/machine/machine.js';
import { TCB, TCB_CTABLE, ThreadState } from '../src/kernel/object/tcb.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import { Cap, CapType } from '../src/kernel/cap.js';
import { root, invoke, expectError, CNODE, W } from './support/invoke.js';
import type { Gen, Result } from './support/invoke.js';

/** seL4_Fault_CapFault is label 1; its MRs: IP, Addr, InRecvPhase, LookupFailureType, BitsLeft, ... */
const CAP_FAULT = 1;
/** seL4_DebugCapIdentify tags (cap_tag_t). */
const TAG_NULL = 0;
const TAG_ENDPOINT = 4;
const TAG_NOTIFICATION = 6;
const TAG_CNODE = 10;





function capAt(m: Machine, i: number): Cap {
  return (m.booted.rootTCB.slots[TCB_CTABLE]!.cap.obj as CNode).slots[i]!.cap;
}
function cnodeAt(m: Machine, i: number): CNode {
  return capAt(m, i).obj as CNode;
}
/** A cptr word that may exceed 2^53 (libsel4 takes a full word). */
const cptr = (v: bigint): number => v as unknown as number;
/** seL4_CNode_CapData word: guard size in bits 0..5, guard from bit 6. */
const capData = (guard: bigint, guardSize: number): bigint => (guard << 6n) | BigInt(guardSize);

/** Receive one fault message on `ep`; returns its label and MRs. */
function* recvFault(ep: number, reply: number): Gen<Result> {
  const info = yield* s.seL4_Recv(ep, null, reply);
  const mrs: bigint[] = [];
  for (let i = 0; i < s.seL4_MessageInfo_get_length(info); i++) mrs.push(s.seL4_GetMRWord(i));
  return { err: s.seL4_MessageInfo_get_label(info), mrs };
}

/**
 * A CSpace with three levels, addressed through R, a copy of the root CNode
 * cap minted with no guard (12 bits per lookup instead of 64):
 *   root (radix 12, guard 0/0) [s2] -> L2 (radix 4, guard 5 of 3 bits) [9] -> L3 (radix 2, guard 1 of 1 bit)
 */
interface Levels {
  R: number;
  s2: number;
  l2: CNode;
  l3: CNode;
  /** cptr of L2 slot i at depth 19, through R. */
  l2At(i: number, guard?: number): number;
  /** cptr of L3 slot j at depth 22, through R. */
  l3At(j: number): number;
}

function* buildLevels(m: Machine, vka: s.Vka): Gen<Levels> {
  const R = vka.allocSlot();
  assert.equal(yield* s.seL4_CNode_Mint(CNODE, R, W, CNODE, CNODE, W, s.seL4_AllRights, capData(0n, 0)), E.seL4_NoError);
  assert.equal(capAt(m, R).guardSize, 0);
  const l2Obj = yield* vka.allocObject(s.seL4_CapTableObject, 4);
  const l3Obj = yield* vka.allocObject(s.seL4_CapTableObject, 2);
  const s2 = vka.allocSlot();
  assert.equal(yield* s.seL4_CNode_Mint(CNODE, s2, W, CNODE, l2Obj, W, s.seL4_AllRights, capData(5n, 3)), E.seL4_NoError);
  const l2At = (i: number, guard = 5) => (s2 << 7) | (guard << 4) | i;
  // Place L3 (guard 1 of 1 bit) in L2 slot 9, addressing L2's slot through R at depth 19.
  assert.equal(yield* s.seL4_CNode_Mint(R, l2At(9), 19, CNODE, l3Obj, W, s.seL4_AllRights, capData(1n, 1)), E.seL4_NoError);
  const l3At = (j: number) => (s2 << 10) | (5 << 7) | (9 << 3) | (1 << 2) | j;
  return { R, s2, l2: cnodeAt(m, l2Obj), l3: cnodeAt(m, l3Obj), l2At, l3At };
}

test('the root CNode: radix 12, guard 0 of 52 bits, so slots 0..4095 resolve at depth 64', () => {
  root(function* ({ m, vka }) {
    const c = capAt(m, CNODE);
    assert.equal(c.radix, 12);
    assert.equal(c.guardSize, 52);
    assert.equal(c.guard, 0n);
    assert.equal(yield* s.seL4_DebugCapIdentify(CNODE), TAG_CNODE);
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    assert.equal(yield* s.seL4_DebugCapIdentify(ep), TAG_ENDPOINT);
    // Any set bit above the 12 index bits breaks the 52-bit guard.
    for (const bit of [12, 30, 52, 63]) {
      const r = yield* invoke(CNODE, L.CNodeDelete, [(1n << BigInt(bit)) | BigInt(ep), W]);
      expectError(r, E.seL4_FailedLookup, [0, 4, W, 0, 52], `guard bit ${bit}`);
    }
    assert.equal(yield* s.seL4_DebugCapIdentify(ep), TAG_ENDPOINT, 'nothing was deleted');
    // Depth must consume the guard and the radix exactly: 64 here.
    expectError(yield* invoke(CNODE, L.CNodeDelete, [ep, 63]), E.seL4_FailedLookup, [0, 3, 63, 64], 'depth 63: the guard matches, guard + radix does not fit');
    expectError(yield* invoke(CNODE, L.CNodeDelete, [ep, 60]), E.seL4_FailedLookup, [0, 3, 60, 64], 'depth 60: the guard matches, guard + radix does not fit');
    expectError(yield* invoke(CNODE, L.CNodeDelete, [4095, 63]), E.seL4_FailedLookup, [0, 4, 63, 0, 52], 'depth 63: the guard is read from bits 62..11');
    expectError(yield* invoke(CNODE, L.CNodeDelete, [ep, 51]), E.seL4_FailedLookup, [0, 4, 51, 0, 52], 'depth 51: guard longer than the depth');
  });
});

test('seL4_CNode_CapData: guard size in bits 0..5, guard in bits 6.. masked to the guard size, guard + radix <= 64', () => {
  root(function* ({ m, vka }) {
    const cn = yield* vka.allocObject(s.seL4_CapTableObject, 3);
    const mintData = function* (data: s.Word): Gen<Cap | number> {
      const d = vka.allocSlot();
      const err = yield* s.seL4_CNode_Mint(CNODE, d, W, CNODE, cn, W, s.seL4_AllRights, data);
      return err === E.seL4_NoError ? capAt(m, d) : err;
    };
    let c = (yield* mintData(capData(0xffn, 3))) as Cap;
    assert.equal(c.guardSize, 3);
    assert.equal(c.guard, 7n, 'guard bits above the guard size are dropped');
    c = (yield* mintData(capData((1n << 58n) - 1n, 61))) as Cap;
    assert.equal(c.guardSize, 61);
    assert.equal(c.guard, (1n << 58n) - 1n, 'all 58 guard bits of the data word');
    assert.equal(c.radix, 3);
    assert.equal(yield* mintData(capData(0n, 62)), E.seL4_IllegalOperation, 'guard size 62 + radix 3 > 64');
    assert.equal(yield* mintData(63), E.seL4_IllegalOperation, 'guard size 63');
    c = (yield* mintData(0)) as Cap;
    assert.equal(c.guardSize, 0);
    assert.equal(c.guard, 0n);
    // The guard really is compared: a CNode cap with guard size 61 and all-ones guard.
    const g = vka.allocSlot();
    assert.equal(yield* s.seL4_CNode_Mint(CNODE, g, W, CNODE, cn, W, s.seL4_AllRights, capData((1n << 58n) - 1n, 61)), E.seL4_NoError);
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    // The guard is cptr bits 63..3: it matches when they hold 2^58 - 1 (bits 61..63 clear).
    const matching = ((1n << 58n) - 1n) << 3n;
    const allOnes = ((1n << 61n) - 1n) << 3n;
    assert.equal(yield* s.seL4_CNode_Copy(g, matching | 5n, W, CNODE, ep, W, s.seL4_AllRights), E.seL4_NoError);
    assert.equal(cnodeAt(m, cn).slots[5]!.cap.type, CapType.Endpoint);
    const r = yield* invoke(g, L.CNodeDelete, [allOnes | 5n, W]);
    expectError(r, E.seL4_FailedLookup, [0, 4, W, (1n << 58n) - 1n, 61], 'guard mismatch reports the CNode guard and its size');
  });
});

test('multi-level CSpace built with CNode_Mint: guards and radices consumed level by level at explicit depths', () => {
  root(function* ({ m, vka }) {
    const lv = yield* buildLevels(m, vka);
    assert.equal(lv.l2.slots[9]!.cap.type, CapType.CNode);
    assert.equal(lv.l2.slots[9]!.cap.obj, lv.l3);
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    // Copy into L3 slot 3 (depth 12 + 3 + 4 + 1 + 2 = 22) and back out again.
    assert.equal(yield* s.seL4_CNode_Copy(lv.R, lv.l3At(3), 22, CNODE, ep, W, s.seL4_AllRights), E.seL4_NoError);
    assert.equal(lv.l3.slots[3]!.cap.type, CapType.Endpoint);
    const back = vka.allocSlot();
    assert.equal(yield* s.seL4_CNode_Copy(CNODE, back, W, lv.R, lv.l3At(3), 22, s.seL4_AllRights), E.seL4_NoError);
    assert.equal(capAt(m, back).obj, capAt(m, ep).obj);
    // Depth 12 through R names the root slot holding L2's cap; depth 19 names L2's slots.
    assert.equal(yield* s.seL4_CNode_Copy(lv.R, lv.l2At(2), 19, lv.R, lv.s2, 12, s.seL4_AllRights), E.seL4_NoError);
    assert.equal(lv.l2.slots[2]!.cap.obj, lv.l2, 'L2 now holds a cap to itself');
    // The same slot through the 64-bit root: the root CNode consumes all 64 bits, so L2 is unreachable there.
    expectError(yield* invoke(CNODE, L.CNodeDelete, [lv.l2At(2), W]), E.seL4_FailedLookup, [0, 4, W, 0, 52], 'no second level below a 64-bit root');

    // Lookup failures at each level (destination lookups: MR0 = 0).
    const del = (index: s.Word, depth: number) => invoke(lv.R, L.CNodeDelete, [index, depth]);
    expectError(yield* del(lv.l2At(3, 4), 19), E.seL4_FailedLookup, [0, 4, 7, 5, 3], 'wrong L2 guard: bitsLeft 7, guardFound 5, bitsFound 3');
    expectError(yield* del(lv.s2 << 2, 14), E.seL4_FailedLookup, [0, 4, 2, 5, 3], 'L2 guard longer than the 2 bits left');
    expectError(yield* del((lv.s2 << 3) | 5, 15), E.seL4_FailedLookup, [0, 3, 3, 7], 'L2 guard matches, its radix does not fit: bitsLeft 3, bitsFound 7');
    expectError(yield* del((lv.l2At(9) << 1) | 1, 20), E.seL4_FailedLookup, [0, 3, 1, 3], 'L3 guard matches in 1 bit, radix does not fit');
    expectError(yield* del(lv.l2At(9) << 1, 20), E.seL4_FailedLookup, [0, 4, 1, 1, 1], 'L3 guard mismatch');
    // The walk stops at a non-CNode cap (here empty) with bits left: depth mismatch with bitsFound 0.
    expectError(yield* del(lv.l2At(4) << 1, 20), E.seL4_FailedLookup, [0, 3, 1, 0], 'stops at an empty L2 slot with 1 bit left');
    expectError(yield* del(lv.l3At(3) << 6, 28), E.seL4_FailedLookup, [0, 3, 6, 0], 'stops at the endpoint in L3 with 6 bits left');
    // Missing capability (source lookups: MR0 = 1, bitsLeft = the source depth).
    expectError(
      yield* invoke(CNODE, L.CNodeCopy, [vka.allocSlot(), W, lv.l3At(2), 22, s.seL4_AllRights], [lv.R]),
      E.seL4_FailedLookup,
      [1, 2, 22],
      'empty source slot in L3',
    );
    // Deleting at the right depth works at every level.
    assert.equal(yield* s.seL4_CNode_Delete(lv.R, lv.l3At(3), 22), E.seL4_NoError);
    assert.ok(lv.l3.slots[3]!.cap.isNull);
    assert.equal(yield* s.seL4_CNode_Delete(lv.R, lv.l2At(2), 19), E.seL4_NoError);
    assert.ok(lv.l2.slots[2]!.cap.isNull);
  });
});

test('Untyped_Retype finds its destination CNode through nodeIndex / nodeDepth', () => {
  root(function* ({ m, vka }) {
    const lv = yield* buildLevels(m, vka);
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 12);
    // Through R at depth 12: the slot holding L2's cap.
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_EndpointObject, 0, lv.R, lv.s2, 12, 2, 1), E.seL4_NoError);
    assert.equal(lv.l2.slots[2]!.cap.type, CapType.Endpoint);
    // Through the 64-bit root at depth 64.
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_EndpointObject, 0, CNODE, lv.s2, W, 3, 2), E.seL4_NoError);
    assert.equal(lv.l2.slots[3]!.cap.type, CapType.Endpoint);
    assert.equal(lv.l2.slots[4]!.cap.type, CapType.Endpoint);
    // Depth 0: the root cap itself is the destination (here L2's cap given as the root).
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_NotificationObject, 0, lv.s2, 0, 0, 5, 1), E.seL4_NoError);
    assert.equal(lv.l2.slots[5]!.cap.type, CapType.Notification);
    // Through three levels: L3 is in L2 slot 9.
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_EndpointObject, 0, lv.R, lv.l2At(9), 19, 0, 4), E.seL4_NoError);
    for (let j = 0; j < 4; j++) assert.equal(lv.l3.slots[j]!.cap.type, CapType.Endpoint);

    // A destination slot that is not a CNode: FailedLookup, missing capability with bitsLeft = nodeDepth.
    const r = yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, lv.l2At(2), 19, 0, 1], [lv.R]);
    expectError(r, E.seL4_FailedLookup, [0, 2, 19], 'destination is an endpoint');
    expectError(
      yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, vka.allocSlot(), W, 0, 1], [CNODE]),
      E.seL4_FailedLookup,
      [0, 2, W],
      'destination slot empty',
    );
    // Lookup failures of the destination path are reported as such (not as a source).
    expectError(yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, lv.l2At(9, 4), 19, 0, 1], [lv.R]), E.seL4_FailedLookup, [0, 4, 7, 5, 3], 'guard mismatch on the way');
    expectError(yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, lv.s2, 65, 0, 1], [lv.R]), E.seL4_RangeError, [1, 64], 'depth 65');
    expectError(yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, lv.s2, 12, 0, 1], [ut]), E.seL4_FailedLookup, [0, 1], 'root not a CNode');
    expectError(yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, 0, 0, 0, 1], [ut]), E.seL4_FailedLookup, [0, 2, 0], 'depth 0 and a root that is not a CNode');
    // Offsets are bounded by L2's 16 slots.
    expectError(yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, lv.s2, 12, 16, 1], [lv.R]), E.seL4_RangeError, [0, 15], 'offset past L2');
    expectError(yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, lv.s2, 12, 14, 3], [lv.R]), E.seL4_RangeError, [1, 2], 'window past L2');
  });
});

test('CSPACE0001 full cspace resolution: 64 CNodes of radix 1 resolve one bit each', () => {
  root(function* ({ m, vka }) {
    yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 50);
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const cnodes: number[] = [];
    for (let i = 0; i < W; i++) cnodes.push(yield* vka.allocObject(s.seL4_CapTableObject, 1));
    // CNode i goes into slot (i - 1) % 2 of CNode i - 1; each level consumes one bit from the top.
    let epPos = 0n;
    let slot = 0;
    for (let i = 1; i < W; i++) {
      assert.equal(yield* s.seL4_CNode_Copy(cnodes[i - 1]!, slot, 1, CNODE, cnodes[i]!, W, s.seL4_AllRights), E.seL4_NoError);
      epPos |= BigInt(slot) << BigInt(W - i);
      slot ^= 1;
    }
    assert.equal(yield* s.seL4_CNode_Copy(cnodes[W - 1]!, slot, 1, CNODE, ep, W, s.seL4_AllRights), E.seL4_NoError);
    epPos |= BigInt(slot);

    const READY = 0x12374153;
    const SUCCESS = 0x12374151;
    const labels: number[] = [];
    const prog = m.registerProgram(function* () {
      s.seL4_SetMR(0, READY);
      yield* s.seL4_Call(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
      // Now in the new CSpace: every other cptr resolves to an empty slot.
      for (let i = 0n; i < 64n; i++) {
        const info = yield* s.seL4_Call(cptr(i), s.seL4_MessageInfo_new(0, 0, 0, 0));
        labels.push(s.seL4_MessageInfo_get_label(info));
      }
      for (let i = 0n; i < 64n; i++) {
        const info = yield* s.seL4_Call(cptr(epPos ^ (1n << i)), s.seL4_MessageInfo_new(0, 0, 0, 0));
        labels.push(s.seL4_MessageInfo_get_label(info));
      }
      s.seL4_SetMR(0, SUCCESS);
      yield* s.seL4_Send(cptr(epPos), s.seL4_MessageInfo_new(0, 0, 0, 1));
    });
    const reply = yield* vka.allocObject(s.seL4_ReplyObject);
    const t = yield* vka.createThread({ entry: prog, priority: 100 });
    let info = yield* s.seL4_Recv(ep, null, reply);
    assert.equal(s.seL4_GetMR(0), READY);
    assert.equal(yield* s.seL4_TCB_SetSpace(t.tcb, 0, cnodes[0]!, 0, s.seL4_CapInitThreadVSpace, 0), E.seL4_NoError);
    yield* s.seL4_Send(reply, s.seL4_MessageInfo_new(0, 0, 0, 0));
    info = yield* s.seL4_Recv(ep, null, reply);
    assert.equal(s.seL4_MessageInfo_get_length(info), 1);
    assert.equal(s.seL4_GetMR(0), SUCCESS);
    assert.equal(labels.length, 128);
    assert.ok(labels.every((l) => l === E.seL4_InvalidCapability), 'every other cptr names an empty slot: InvalidCapability');
  });
});

test("a thread's lookup stops at the first non-CNode cap: the remaining cptr bits are ignored", () => {
  root(function* ({ m, vka }) {
    yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 50);
    const lv = yield* buildLevels(m, vka);
    const ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
    const b1 = vka.allocSlot();
    assert.equal(yield* s.seL4_CNode_Mint(CNODE, b1, W, CNODE, ntfn, W, s.seL4_AllRights, 1), E.seL4_NoError);
    // A badge-2 copy of the notification in L2 slot 7.
    assert.equal(yield* s.seL4_CNode_Mint(lv.R, lv.l2At(7), 19, CNODE, ntfn, W, s.seL4_AllRights, 2), E.seL4_NoError);
    const tags: number[] = [];
    const prog = m.registerProgram(function* () {
      // CSpace root R: the top 12 bits index the root CNode, the rest is ignored at a non-CNode cap.
      yield* s.seL4_Signal(cptr((BigInt(b1) << 52n) | 0xdead_beefn));
      yield* s.seL4_Signal(cptr((BigInt(lv.s2) << 52n) | (5n << 49n) | (7n << 45n) | 0x1234n));
      // The walk goes on into L2 (a CNode cap), whose guard 5 does not match: lookup failure.
      tags.push(yield* s.seL4_DebugCapIdentify(cptr(BigInt(lv.s2) << 52n)));
      tags.push(yield* s.seL4_DebugCapIdentify(cptr((BigInt(lv.s2) << 52n) | (5n << 49n) | (7n << 45n))));
      tags.push(yield* s.seL4_DebugCapIdentify(cptr((BigInt(lv.s2) << 52n) | (5n << 49n) | (8n << 45n) | 0xffffn)));
      tags.push(yield* s.seL4_DebugCapIdentify(b1)); // the top 12 bits are 0: root slot 0, empty
    });
    const t = yield* vka.createThread({ entry: prog, priority: 100, suspended: true });
    assert.equal(yield* s.seL4_TCB_SetSpace(t.tcb, 0, lv.R, 0, s.seL4_CapInitThreadVSpace, 0), E.seL4_NoError);
    const tcb = capAt(m, t.tcb).obj as TCB;
    assert.equal(tcb.slots[TCB_CTABLE]!.cap.guardSize, 0);
    assert.equal(yield* s.seL4_TCB_Resume(t.tcb), E.seL4_NoError);
    const badge = new s.WordOut();
    yield* s.seL4_Wait(ntfn, badge);
    assert.equal(badge.value, 3n, 'both signals arrived (badges 1 | 2)');
    assert.deepEqual(tags, [TAG_NULL, TAG_NOTIFICATION, TAG_NULL, TAG_NULL]);
  });
});

test('invoking an unresolvable cptr with seL4_Call is a CapFault (or suspends the caller without a fault handler), not an error reply', () => {
  root(function* ({ m, vka }) {
    yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 50);
    const fault = yield* vka.allocObject(s.seL4_EndpointObject);
    const reply = yield* vka.allocObject(s.seL4_ReplyObject);
    const progress: string[] = [];
    let emptyLabel = -1;
    let emptyMR0 = -1;
    const prog = m.registerProgram(function* (name: number) {
      const empty = vka.allocSlot();
      // An empty slot resolves: the invocation fails with InvalidCapability (cap index 0).
      const info = yield* s.seL4_Call(empty, s.seL4_MessageInfo_new(0, 0, 0, 0));
      emptyLabel = s.seL4_MessageInfo_get_label(info);
      emptyMR0 = s.seL4_GetMR(0);
      // NBSend does not block, so a failed lookup raises no fault.
      yield* s.seL4_NBSend(4096, s.seL4_MessageInfo_new(0, 0, 0, 0));
      progress.push(`${name} after NBSend`);
      yield* s.seL4_Call(4096, s.seL4_MessageInfo_new(0, 0, 0, 0));
      progress.push(`${name} after Call`);
    });
    const t = yield* vka.createThread({ entry: prog, priority: 100, faultEP: fault, args: [1] });
    const f = yield* recvFault(fault, reply);
    assert.equal(emptyLabel, E.seL4_InvalidCapability);
    assert.equal(emptyMR0, 0);
    assert.deepEqual(progress, ['1 after NBSend']);
    assert.equal(f.err, CAP_FAULT);
    assert.deepEqual(f.mrs.slice(1), [4096n, 0n, 4n, 64n, 0n, 52n], 'Addr, InRecvPhase, guard mismatch, bitsLeft, guardFound, bitsFound');
    assert.equal(f.mrs.length, 7);
    assert.equal((capAt(m, t.tcb).obj as TCB).state, ThreadState.BlockedOnReply);
    // Replying restarts the faulting Call; with the cptr still bad it faults again.
    yield* s.seL4_Send(reply, s.seL4_MessageInfo_new(0, 0, 0, 0));
    const again = yield* recvFault(fault, reply);
    assert.equal(again.err, CAP_FAULT);
    assert.equal(again.mrs[1], 4096n);
    assert.deepEqual(progress, ['1 after NBSend'], 'the Call never returned');

    // Without a fault handler the thread is made inactive.
    const u = yield* vka.createThread({ entry: prog, priority: 100, args: [2] });
    assert.deepEqual(progress, ['1 after NBSend', '2 after NBSend']);
    assert.equal((capAt(m, u.tcb).obj as TCB).state, ThreadState.Inactive);
  });
});

test('cap faults describe every lookup failure: bad extra caps, receive phase, depth mismatch in a thread CSpace', () => {
  root(function* ({ m, vka }) {
    yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 50);
    const fault = yield* vka.allocObject(s.seL4_EndpointObject);
    const reply = yield* vka.allocObject(s.seL4_ReplyObject);
    // A CNode cap needing 54 bits (guard 50 + radix 4) in root slot big: unreachable with 52 bits left.
    const cn = yield* vka.allocObject(s.seL4_CapTableObject, 4);
    const big = vka.allocSlot();
    assert.equal(yield* s.seL4_CNode_Mint(CNODE, big, W, CNODE, cn, W, s.seL4_AllRights, capData(0n, 50)), E.seL4_NoError);
    const R = vka.allocSlot();
    assert.equal(yield* s.seL4_CNode_Mint(CNODE, R, W, CNODE, CNODE, W, s.seL4_AllRights, 0n), E.seL4_NoError);
    assert.equal(capAt(m, R).guardSize, 0, 'cap data 0 sets guard size 0');
    let step = 0;
    const prog = m.registerProgram(function* () {
      step = 1;
      // An extra cap that does not resolve: CapFault naming that cptr (not the invoked one).
      s.seL4_SetCap(0, 4096 + 7);
      yield* s.seL4_Call(CNODE, s.seL4_MessageInfo_new(L.CNodeCopy, 0, 1, 5));
    });
    yield* vka.createThread({ entry: prog, priority: 100, faultEP: fault });
    let f = yield* recvFault(fault, reply);
    assert.equal(step, 1);
    assert.equal(f.err, CAP_FAULT);
    assert.deepEqual(f.mrs.slice(1), [4096n + 7n, 0n, 4n, 64n, 0n, 52n]);

    // Receive phase: Recv on a cptr that does not resolve.
    const recvProg = m.registerProgram(function* () {
      yield* s.seL4_Recv(4096, null, 0);
    });
    yield* vka.createThread({ entry: recvProg, priority: 100, faultEP: fault });
    f = yield* recvFault(fault, reply);
    assert.deepEqual(f.mrs.slice(1), [4096n, 1n, 4n, 64n, 0n, 52n], 'InRecvPhase = 1');
    // Recv on a resolvable cap that is not an endpoint or notification: missing capability, bitsLeft 0.
    const recvTcb = m.registerProgram(function* () {
      yield* s.seL4_Recv(s.seL4_CapInitThreadTCB, null, 0);
    });
    yield* vka.createThread({ entry: recvTcb, priority: 100, faultEP: fault });
    f = yield* recvFault(fault, reply);
    assert.deepEqual(f.mrs.slice(1), [1n, 1n, 2n, 0n]);
    assert.equal(f.mrs.length, 5);

    // Depth mismatch inside a thread's CSpace rooted at R (12 bits): slot `big` needs 54 of the 52 bits left.
    const deep = m.registerProgram(function* () {
      yield* s.seL4_Call(cptr(BigInt(big) << 52n), s.seL4_MessageInfo_new(0, 0, 0, 0));
    });
    const d = yield* vka.createThread({ entry: deep, priority: 100, suspended: true });
    assert.equal(yield* s.seL4_TCB_SetSpace(d.tcb, fault, R, 0, s.seL4_CapInitThreadVSpace, 0), E.seL4_NoError);
    assert.equal(yield* s.seL4_TCB_Resume(d.tcb), E.seL4_NoError);
    f = yield* recvFault(fault, reply);
    assert.equal(f.err, CAP_FAULT);
    assert.deepEqual(f.mrs.slice(1), [BigInt(big) << 52n, 0n, 3n, 52n, 54n], 'depth mismatch: bitsLeft 52, bitsFound 54');
    assert.equal(f.mrs.length, 6);
  });
});
