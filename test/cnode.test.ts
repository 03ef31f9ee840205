/**
 * CNode invocations (seL4's decodeCNodeInvocation): Copy, Mint, Move, Mutate,
 * Rotate, Delete, Revoke, CancelBadgedSends, with every error path and the
 * mapping-database effects (revocable / firstBadged, isFinalCapability).
 * Test titles name the sel4test test whose intent they mirror.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { InvocationLabel as L, seL4_Error as E, seL4_CanGrant, seL4_CanRead, seL4_CanWrite, seL4_NoRights } from '../src/abi/constants.js';
import type { Machine } from '../src/machine/machine.js';
import { TCB, TCB_CTABLE, ThreadState } from '../src/kernel/object/tcb.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { Slot } from '../src/kernel/slot.js';
import { Cap, CapType, VMRights } from '../src/kernel/cap.js';
import { isMDBParentOf } from '../src/kernel/mdb.js';
import { root, invoke, expectError, CNODE, W } from './support/invoke.js';
import type { Gen, Result } from './support/invoke.js';






function rootSlot(m: Machine, i: number): Slot {
  return (m.booted.rootTCB.slots[TCB_CTABLE]!.cap.obj as CNode).slots[i]!;
}
function capAt(m: Machine, i: number): Cap {
  return rootSlot(m, i).cap;
}
function tcbAt(m: Machine, i: number): TCB {
  return capAt(m, i).obj as TCB;
}

// Thin wrappers over the invocation stubs, addressing the root CNode with depth 64.
const copy = (dest: number, src: number, rights = s.seL4_AllRights) => s.seL4_CNode_Copy(CNODE, dest, W, CNODE, src, W, rights);
const mint = (dest: number, src: number, rights: number, badge: s.Word) => s.seL4_CNode_Mint(CNODE, dest, W, CNODE, src, W, rights, badge);
const move = (dest: number, src: number) => s.seL4_CNode_Move(CNODE, dest, W, CNODE, src, W);
const mutate = (dest: number, src: number, data: s.Word) => s.seL4_CNode_Mutate(CNODE, dest, W, CNODE, src, W, data);
const del = (slot: number) => s.seL4_CNode_Delete(CNODE, slot, W);
const revoke = (slot: number) => s.seL4_CNode_Revoke(CNODE, slot, W);
const rotate = (dest: number, destBadge: s.Word, pivot: number, pivotBadge: s.Word, src: number) =>
  s.seL4_CNode_Rotate(CNODE, dest, W, destBadge, CNODE, pivot, W, pivotBadge, CNODE, src, W);

test('CNODEOP0001 Copy: success, DeleteFirst for an occupied destination, FailedLookup for an empty source', () => {
  root(function* ({ m, vka }) {
    const src = yield* vka.allocObject(s.seL4_TCBObject);
    const dest = vka.allocSlot();
    assert.equal(yield* copy(dest, src), E.seL4_NoError);
    assert.equal(capAt(m, dest).type, CapType.Thread);
    assert.equal(capAt(m, dest).obj, capAt(m, src).obj, 'the copy names the same TCB');
    assert.ok(isMDBParentOf(rootSlot(m, src), rootSlot(m, dest)), 'the copy is an MDB child of its source');

    const other = yield* vka.allocObject(s.seL4_TCBObject);
    assert.equal(yield* copy(other, src), E.seL4_DeleteFirst, 'occupied destination');
    assert.equal(capAt(m, other).obj !== capAt(m, src).obj, true, 'the occupied destination is untouched');

    const empty = vka.allocSlot();
    // The destination is checked before the source is looked up.
    assert.equal(yield* copy(other, empty), E.seL4_DeleteFirst, 'empty source, occupied destination');
    const r = yield* invoke(CNODE, L.CNodeCopy, [vka.allocSlot(), W, empty, W, s.seL4_AllRights], [CNODE]);
    expectError(r, E.seL4_FailedLookup, [1, 2, W], 'empty source: missing capability, bitsLeft = srcDepth');
  });
});

test('CNODEOP0002 Delete: deletes a cap; deleting an empty slot succeeds', () => {
  root(function* ({ m, vka }) {
    const slot = yield* vka.allocObject(s.seL4_TCBObject);
    const tcb = tcbAt(m, slot);
    assert.equal(yield* del(slot), E.seL4_NoError);
    assert.ok(capAt(m, slot).isNull);
    assert.equal(tcb.live, false, 'the last cap was deleted: the TCB is finalised');
    assert.equal(m.kernel.tcbs.has(tcb), false);
    const empty = vka.allocSlot();
    assert.equal(yield* del(empty), E.seL4_NoError);
    assert.ok(capAt(m, empty).isNull);
  });
});

test('CNODEOP0003 Mint: badges endpoints and notifications with all 64 bits; re-minting a badged cap is IllegalOperation', () => {
  root(function* ({ m, vka }) {
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
    const badgedEp = vka.allocSlot();
    const badgedNtfn = vka.allocSlot();
    const all = (1n << 64n) - 1n;
    assert.equal(yield* mint(badgedEp, ep, s.seL4_AllRights, all), E.seL4_NoError);
    assert.equal(capAt(m, badgedEp).badge, all, 'a 64-bit badge keeps all its bits');
    assert.equal(yield* mint(badgedNtfn, ntfn, s.seL4_AllRights, 0x8000_0000_0000_0001n), E.seL4_NoError);
    assert.equal(capAt(m, badgedNtfn).badge, 0x8000_0000_0000_0001n);
    // A badged cap differs from its source's badge: it is revocable and first of its badge.
    assert.equal(rootSlot(m, badgedEp).revocable, true);
    assert.equal(rootSlot(m, badgedEp).firstBadged, true);

    // Signalling through the badged notification delivers the badge.
    yield* s.seL4_Signal(badgedNtfn);
    const badge = new s.WordOut();
    yield* s.seL4_Wait(ntfn, badge);
    assert.equal(badge.value, 0x8000_0000_0000_0001n);

    // Re-minting a badged cap (even with badge 0) yields a null cap: IllegalOperation.
    for (const b of [0, 7]) {
      const d = vka.allocSlot();
      const r = yield* invoke(CNODE, L.CNodeMint, [d, W, badgedEp, W, s.seL4_AllRights, b], [CNODE]);
      expectError(r, E.seL4_IllegalOperation, [], `re-mint of a badged endpoint with badge ${b}`);
      assert.ok(capAt(m, d).isNull);
      assert.equal(yield* mint(d, badgedNtfn, s.seL4_AllRights, b), E.seL4_IllegalOperation, 're-mint of a badged notification');
    }
    // Minting badge 0 from an unbadged cap gives an unbadged copy, which is not revocable.
    const plain = vka.allocSlot();
    assert.equal(yield* mint(plain, ep, s.seL4_AllRights, 0), E.seL4_NoError);
    assert.equal(capAt(m, plain).badge, 0n);
    assert.equal(rootSlot(m, plain).revocable, false);
    // The unbadged copy can still be badged by a later Mint.
    const later = vka.allocSlot();
    assert.equal(yield* mint(later, plain, s.seL4_AllRights, 9), E.seL4_NoError);
    assert.equal(capAt(m, later).badge, 9n);
    // Mint of a cap type without cap data (a TCB) ignores the data word.
    const tcb = yield* vka.allocObject(s.seL4_TCBObject);
    const tcbCopy = vka.allocSlot();
    assert.equal(yield* mint(tcbCopy, tcb, s.seL4_AllRights, 1234), E.seL4_NoError);
    assert.equal(capAt(m, tcbCopy).obj, capAt(m, tcb).obj);
    // Mint with a message of 5 words is truncated (the badge is argument 5).
    const r = yield* invoke(CNODE, L.CNodeMint, [vka.allocSlot(), W, ep, W, s.seL4_AllRights], [CNODE]);
    expectError(r, E.seL4_TruncatedMessage, [], 'Mint without the badge word');
  });
});

test('CNODEOP0004 Move: keeps the MDB position; empty source FailedLookup; occupied destination DeleteFirst', () => {
  root(function* ({ m, vka }) {
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const child = vka.allocSlot();
    assert.equal(yield* mint(child, ep, s.seL4_AllRights, 5), E.seL4_NoError);
    const moved = vka.allocSlot();
    const before = capAt(m, child);
    assert.equal(yield* move(moved, child), E.seL4_NoError);
    assert.ok(capAt(m, child).isNull, 'the source is empty after a move');
    assert.equal(capAt(m, moved), before, 'the cap moves unchanged');
    assert.equal(rootSlot(m, moved).revocable, true, 'MDB flags move with the cap');
    assert.equal(rootSlot(m, moved).firstBadged, true);
    assert.ok(isMDBParentOf(rootSlot(m, ep), rootSlot(m, moved)), 'the moved cap is still the endpoint cap\'s child');
    // Revoking the original deletes the moved child.
    assert.equal(yield* revoke(ep), E.seL4_NoError);
    assert.ok(capAt(m, moved).isNull);

    const e1 = vka.allocSlot();
    const e2 = vka.allocSlot();
    const r = yield* invoke(CNODE, L.CNodeMove, [e2, W, e1, W], [CNODE]);
    expectError(r, E.seL4_FailedLookup, [1, 2, W], 'move from an empty slot');
    assert.ok(capAt(m, e2).isNull);

    const a = yield* vka.allocObject(s.seL4_TCBObject);
    const b = yield* vka.allocObject(s.seL4_TCBObject);
    const ca = capAt(m, a);
    const cb = capAt(m, b);
    assert.equal(yield* move(b, a), E.seL4_DeleteFirst);
    assert.equal(capAt(m, a), ca);
    assert.equal(capAt(m, b), cb);
    // Moving a cap onto its own slot: the destination is occupied.
    assert.equal(yield* move(a, a), E.seL4_DeleteFirst);
  });
});

test('CNODEOP0005 Mutate: moves a cap, may set a CNode guard, cannot re-badge', () => {
  root(function* ({ m, vka }) {
    const tcb = yield* vka.allocObject(s.seL4_TCBObject);
    const dest = vka.allocSlot();
    const obj = capAt(m, tcb).obj;
    assert.equal(yield* mutate(dest, tcb, 0), E.seL4_NoError);
    assert.ok(capAt(m, tcb).isNull);
    assert.equal(capAt(m, dest).obj, obj);

    // Occupied destination and empty source.
    const t2 = yield* vka.allocObject(s.seL4_TCBObject);
    assert.equal(yield* mutate(dest, t2, 0), E.seL4_DeleteFirst);
    assert.ok(!capAt(m, t2).isNull);
    const e1 = vka.allocSlot();
    const e2 = vka.allocSlot();
    expectError(yield* invoke(CNODE, L.CNodeMutate, [e2, W, e1, W, 0], [CNODE]), E.seL4_FailedLookup, [1, 2, W], 'mutate an empty slot');
    assert.ok(capAt(m, e1).isNull && capAt(m, e2).isNull);

    // Endpoint and notification caps cannot be mutated: updateCapData(preserve = true) gives a null cap.
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
    const badged = vka.allocSlot();
    assert.equal(yield* mint(badged, ep, s.seL4_AllRights, 3), E.seL4_NoError);
    for (const [src, data] of [[ep, 0], [ep, 5], [badged, 4], [ntfn, 1]] as const) {
      const d = vka.allocSlot();
      expectError(yield* invoke(CNODE, L.CNodeMutate, [d, W, src, W, data], [CNODE]), E.seL4_IllegalOperation, [], `mutate ${src}`);
      assert.ok(capAt(m, d).isNull);
      assert.ok(!capAt(m, src).isNull, 'the source stays');
    }
    assert.equal(capAt(m, badged).badge, 3n);

    // A CNode cap can be mutated: the data word sets guard size (bits 0..5) and guard (bits 6..).
    const cn = yield* vka.allocObject(s.seL4_CapTableObject, 4);
    const guarded = vka.allocSlot();
    assert.equal(yield* mutate(guarded, cn, (0b101n << 6n) | 3n), E.seL4_NoError);
    assert.equal(capAt(m, guarded).guardSize, 3);
    assert.equal(capAt(m, guarded).guard, 5n);
    assert.equal(capAt(m, guarded).radix, 4);
    // guardSize + radix > 64 makes the mutated cap null.
    const bad = vka.allocSlot();
    assert.equal(yield* mutate(bad, guarded, 61), E.seL4_IllegalOperation);
    assert.equal(capAt(m, guarded).guardSize, 3, 'the source is unchanged');
    assert.equal(yield* mutate(bad, guarded, 60), E.seL4_NoError, 'guardSize 60 + radix 4 = 64 is allowed');
    expectError(yield* invoke(CNODE, L.CNodeMutate, [vka.allocSlot(), W, bad, W], [CNODE]), E.seL4_TruncatedMessage, [], 'Mutate without data');
  });
});

test('CNODEOP0006 CancelBadgedSends: needs all rights and an endpoint; cancels only senders with the badge', () => {
  root(function* ({ m, vka }) {
    yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 50);
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    assert.equal(yield* s.seL4_CNode_CancelBadgedSends(CNODE, ep, W), E.seL4_NoError, 'unbadged endpoint: nothing to do');
    const empty = vka.allocSlot();
    expectError(yield* invoke(CNODE, L.CNodeCancelBadgedSends, [empty, W]), E.seL4_IllegalOperation, [], 'empty slot');
    const ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
    assert.equal(yield* s.seL4_CNode_CancelBadgedSends(CNODE, ntfn, W), E.seL4_IllegalOperation, 'notification');
    for (const rights of [0x7, 0xb, 0xd, 0xe]) {
      const weak = vka.allocSlot();
      assert.equal(yield* copy(weak, ep, rights), E.seL4_NoError);
      assert.equal(yield* s.seL4_CNode_CancelBadgedSends(CNODE, weak, W), E.seL4_IllegalOperation, `rights 0x${rights.toString(16)}`);
    }

    // Two senders blocked with badges 1 and 2 (each through its own copy of a badged cap).
    const b1 = vka.allocSlot();
    const b2 = vka.allocSlot();
    assert.equal(yield* mint(b1, ep, s.seL4_AllRights, 1), E.seL4_NoError);
    assert.equal(yield* mint(b2, ep, s.seL4_AllRights, 2), E.seL4_NoError);
    const use1 = vka.allocSlot();
    const use2 = vka.allocSlot();
    assert.equal(yield* copy(use1, b1), E.seL4_NoError);
    assert.equal(yield* copy(use2, b2), E.seL4_NoError);
    const returned: number[] = [];
    const sender = m.registerProgram(function* (slot: number, id: number) {
      s.seL4_SetMR(0, id);
      yield* s.seL4_Send(slot, s.seL4_MessageInfo_new(0, 0, 0, 1));
      returned.push(id);
    });
    const t1 = yield* vka.createThread({ entry: sender, priority: 100, args: [use1, 1] });
    const t2 = yield* vka.createThread({ entry: sender, priority: 100, args: [use2, 2] });
    assert.equal(tcbAt(m, t1.tcb).state, ThreadState.BlockedOnSend);
    assert.equal(tcbAt(m, t2.tcb).state, ThreadState.BlockedOnSend);

    // The usual protocol: delete the badged caps the senders use, then cancel their sends.
    assert.equal(yield* del(use1), E.seL4_NoError);
    assert.equal(tcbAt(m, t1.tcb).state, ThreadState.BlockedOnSend, 'deleting a non-final cap leaves the sender blocked');
    assert.equal(yield* s.seL4_CNode_CancelBadgedSends(CNODE, b1, W), E.seL4_NoError);
    // Sender 1 restarted, re-issued its Send on the now empty slot (InvalidCapability, no reply to a Send) and went on.
    assert.deepEqual(returned, [1]);
    assert.equal(tcbAt(m, t2.tcb).state, ThreadState.BlockedOnSend, 'the other badge is untouched');
    const badge = new s.WordOut();
    const reply = yield* vka.allocObject(s.seL4_ReplyObject);
    const info = yield* s.seL4_Recv(ep, badge, reply);
    assert.equal(badge.value, 2n);
    assert.equal(s.seL4_GetMR(0), 2);
    assert.equal(s.seL4_MessageInfo_get_length(info), 1);
    assert.deepEqual(returned, [1, 2]);
  });
});

test('CNODEOP0007 Revoke: deletes every descendant and keeps the revoked cap', () => {
  root(function* ({ m, vka }) {
    const tcb = yield* vka.allocObject(s.seL4_TCBObject);
    const c1 = vka.allocSlot();
    const c2 = vka.allocSlot();
    const c11 = vka.allocSlot();
    assert.equal(yield* copy(c1, tcb), E.seL4_NoError);
    assert.equal(yield* copy(c2, tcb), E.seL4_NoError);
    assert.equal(yield* copy(c11, c1), E.seL4_NoError);
    const obj = capAt(m, tcb).obj as TCB;
    assert.equal(yield* revoke(tcb), E.seL4_NoError);
    for (const x of [c1, c2, c11]) assert.ok(capAt(m, x).isNull, `descendant ${x} deleted`);
    assert.ok(!capAt(m, tcb).isNull, 'the revoked cap itself stays');
    assert.equal(obj.live, true, 'the object lives on: the revoked cap still names it');
    const empty = vka.allocSlot();
    assert.equal(yield* revoke(empty), E.seL4_NoError, 'revoking an empty slot');
    assert.ok(capAt(m, empty).isNull);

    // Revoking an untyped deletes the objects retyped from it.
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 12);
    const objs = vka.allocSlot();
    vka.allocSlot();
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_EndpointObject, 0, CNODE, 0, 0, objs, 2), E.seL4_NoError);
    const eps = [capAt(m, objs).obj!, capAt(m, objs + 1).obj!];
    assert.equal(yield* revoke(ut), E.seL4_NoError);
    assert.ok(capAt(m, objs).isNull && capAt(m, objs + 1).isNull);
    for (const e of eps) assert.equal(e.live, false);
  });
});

test('CNODEOP0007 Revoke of badged endpoint caps follows firstBadged', () => {
  root(function* ({ m, vka }) {
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const b1 = vka.allocSlot();
    const b1c = vka.allocSlot();
    const b2 = vka.allocSlot();
    assert.equal(yield* mint(b1, ep, s.seL4_AllRights, 5), E.seL4_NoError);
    assert.equal(yield* copy(b1c, b1), E.seL4_NoError);
    // A second Mint of the same badge: a sibling, first of its own badge group.
    assert.equal(yield* mint(b2, ep, s.seL4_AllRights, 5), E.seL4_NoError);
    assert.equal(rootSlot(m, b1c).revocable, false, 'a same-badge copy is not revocable');
    assert.equal(rootSlot(m, b1c).firstBadged, false);
    assert.ok(isMDBParentOf(rootSlot(m, b1), rootSlot(m, b1c)));
    // MDB order is ep, b2, b1, b1c: b1 follows b2 but is firstBadged, so it is not b2's child.
    assert.equal(rootSlot(m, b2).mdbNext, rootSlot(m, b1));
    assert.equal(yield* revoke(b2), E.seL4_NoError);
    assert.ok(!capAt(m, b1).isNull && !capAt(m, b1c).isNull, 'revoking b2 leaves the other badge group');
    assert.equal(yield* revoke(b1), E.seL4_NoError);
    assert.ok(capAt(m, b1c).isNull, 'revoking b1 deletes its same-badge copy');
    assert.ok(!capAt(m, b2).isNull);

    // Deleting a firstBadged cap passes firstBadged on to the next cap (emptySlot).
    assert.equal(yield* copy(b1c, b1), E.seL4_NoError);
    assert.equal(yield* del(b1), E.seL4_NoError);
    assert.equal(rootSlot(m, b1c).firstBadged, true);
    assert.equal(yield* revoke(b2), E.seL4_NoError);
    assert.ok(!capAt(m, b1c).isNull, 'the orphaned copy now starts its own badge group');

    // Revoking the unbadged original deletes every badged descendant.
    assert.equal(yield* revoke(ep), E.seL4_NoError);
    assert.ok(capAt(m, b1c).isNull && capAt(m, b2).isNull);
    assert.equal(rootSlot(m, ep).mdbNext, null);
  });
});

test('CNODEOP0008 Rotate: move through a pivot, swap when dest == src, pivot == src/dest is IllegalOperation', () => {
  root(function* ({ m, vka }) {
    const tcbCap = function* () {
      return yield* vka.allocObject(s.seL4_TCBObject);
    };
    let src = yield* tcbCap();
    let pivot = yield* tcbCap();
    let dest = vka.allocSlot();
    const srcObj = capAt(m, src).obj;
    const pivotObj = capAt(m, pivot).obj;
    assert.equal(yield* rotate(dest, 0, pivot, 0, src), E.seL4_NoError);
    assert.ok(capAt(m, src).isNull);
    assert.equal(capAt(m, pivot).obj, srcObj, 'src moves to pivot');
    assert.equal(capAt(m, dest).obj, pivotObj, 'pivot moves to dest');
    assert.ok(rootSlot(m, src).mdbNext === null && rootSlot(m, src).mdbPrev === null);

    // Destination occupied.
    src = yield* tcbCap();
    pivot = yield* tcbCap();
    dest = yield* tcbCap();
    assert.equal(yield* rotate(dest, 0, pivot, 0, src), E.seL4_DeleteFirst);
    assert.ok(!capAt(m, src).isNull && !capAt(m, pivot).isNull && !capAt(m, dest).isNull);

    // Swap: dest == src.
    const a = yield* tcbCap();
    const b = yield* tcbCap();
    const aObj = capAt(m, a).obj;
    const bObj = capAt(m, b).obj;
    assert.equal(yield* rotate(a, 0, b, 0, a), E.seL4_NoError);
    assert.equal(capAt(m, a).obj, bObj);
    assert.equal(capAt(m, b).obj, aObj);

    // Pivot == src and pivot == dest.
    src = yield* tcbCap();
    dest = vka.allocSlot();
    expectError(yield* invoke(CNODE, L.CNodeRotate, [dest, W, 0, src, W, 0, src, W], [CNODE, CNODE]), E.seL4_IllegalOperation, [], 'pivot == src');
    assert.ok(!capAt(m, src).isNull && capAt(m, dest).isNull);
    pivot = yield* tcbCap();
    assert.equal(yield* rotate(pivot, 0, pivot, 0, src), E.seL4_IllegalOperation, 'pivot == dest');

    // Empty source, then empty pivot (reported as not-source, with the pivot depth).
    const e1 = vka.allocSlot();
    const e2 = vka.allocSlot();
    const e3 = vka.allocSlot();
    expectError(yield* invoke(CNODE, L.CNodeRotate, [e3, W, 0, e2, W, 0, e1, W], [CNODE, CNODE]), E.seL4_FailedLookup, [1, 2, W], 'empty src');
    expectError(yield* invoke(CNODE, L.CNodeRotate, [e3, W, 0, e2, W, 0, src, W], [CNODE, CNODE]), E.seL4_FailedLookup, [0, 2, W], 'empty pivot');
    assert.ok(capAt(m, e1).isNull && capAt(m, e2).isNull && capAt(m, e3).isNull);

    // Endpoint caps cannot be rotated (their cap data would re-badge them).
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    assert.equal(yield* rotate(e3, 0, pivot, 0, ep), E.seL4_IllegalOperation, 'endpoint as source');
    assert.equal(yield* rotate(e3, 0, ep, 0, src), E.seL4_IllegalOperation, 'endpoint as pivot');
    assert.ok(!capAt(m, ep).isNull && capAt(m, e3).isNull);

    // CNode caps take their new guard from the badge words.
    const cn1 = yield* vka.allocObject(s.seL4_CapTableObject, 2);
    const cn2 = yield* vka.allocObject(s.seL4_CapTableObject, 3);
    const o1 = capAt(m, cn1).obj;
    const o2 = capAt(m, cn2).obj;
    assert.equal(yield* rotate(e3, (1n << 6n) | 1n, cn2, (3n << 6n) | 2n, cn1), E.seL4_NoError);
    assert.equal(capAt(m, cn2).obj, o1);
    assert.equal(capAt(m, cn2).guardSize, 2, 'the moved source takes the source data (argument 5)');
    assert.equal(capAt(m, cn2).guard, 3n);
    assert.equal(capAt(m, e3).obj, o2);
    assert.equal(capAt(m, e3).guardSize, 1, 'the moved pivot takes the pivot data (argument 2)');
    assert.equal(capAt(m, e3).guard, 1n);
  });
});

test('Copy and Mint mask rights: endpoint, notification and frame VM rights never grow', () => {
  root(function* ({ m, vka }) {
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
    const frame = yield* vka.allocObject(s.seL4_RISCV_4K_Page);
    const rightsAfter = function* (src: number, rights: number): Gen<number> {
      const d = vka.allocSlot();
      assert.equal(yield* copy(d, src, rights), E.seL4_NoError);
      return capAt(m, d).rights;
    };
    assert.equal(capAt(m, ep).rights, 0xf);
    for (const r of [0, 1, 2, 4, 8, 0x5, 0xf, 0xff]) assert.equal(yield* rightsAfter(ep, r), r & 0xf, `endpoint rights 0x${r.toString(16)}`);
    assert.equal(capAt(m, ntfn).rights, 0x3, 'a notification has read and write only');
    for (const r of [0, 1, 2, 0xf]) assert.equal(yield* rightsAfter(ntfn, r), r & 0x3, `notification rights 0x${r.toString(16)}`);
    // Rights never grow: a write-only copy copied again with all rights stays write-only.
    const wo = vka.allocSlot();
    assert.equal(yield* copy(wo, ep, seL4_CanWrite), E.seL4_NoError);
    assert.equal(yield* rightsAfter(wo, s.seL4_AllRights), seL4_CanWrite);
    // Invoking an endpoint cap without write right is InvalidCapability (cap index 0).
    const ro = vka.allocSlot();
    assert.equal(yield* copy(ro, ep, seL4_CanRead), E.seL4_NoError);
    expectError(yield* invoke(ro, 0, []), E.seL4_InvalidCapability, [0], 'Call on a receive-only endpoint cap');

    // Frames: RISC-V maskVMRights.
    assert.equal(capAt(m, frame).rights, VMRights.ReadWrite);
    assert.equal(yield* rightsAfter(frame, s.seL4_AllRights), VMRights.ReadWrite);
    assert.equal(yield* rightsAfter(frame, s.seL4_ReadWrite), VMRights.ReadWrite);
    assert.equal(yield* rightsAfter(frame, seL4_CanRead), VMRights.ReadOnly);
    assert.equal(yield* rightsAfter(frame, seL4_CanWrite), VMRights.KernelOnly, 'write-only is not a VM right');
    assert.equal(yield* rightsAfter(frame, seL4_NoRights), VMRights.KernelOnly);
    const rof = vka.allocSlot();
    assert.equal(yield* copy(rof, frame, seL4_CanRead), E.seL4_NoError);
    assert.equal(yield* rightsAfter(rof, s.seL4_AllRights), VMRights.ReadOnly, 'read-only stays read-only');
    assert.equal(yield* rightsAfter(rof, seL4_CanWrite), VMRights.KernelOnly);
    // Mint masks rights the same way and badges at the same time.
    const mb = vka.allocSlot();
    assert.equal(yield* mint(mb, ep, seL4_CanWrite | seL4_CanGrant, 77), E.seL4_NoError);
    assert.equal(capAt(m, mb).rights, seL4_CanWrite | seL4_CanGrant);
    assert.equal(capAt(m, mb).badge, 77n);

    // Copying a mapped frame gives an unmapped cap to the same frame.
    const [mapped] = yield* vka.allocMappedFrame();
    assert.equal(capAt(m, mapped).isMapped, true);
    const fc = vka.allocSlot();
    assert.equal(yield* copy(fc, mapped), E.seL4_NoError);
    assert.equal(capAt(m, fc).isMapped, false);
    assert.equal(capAt(m, fc).paddr, capAt(m, mapped).paddr);
    const [err, paddr] = yield* s.seL4_RISCV_Page_GetAddress(fc);
    assert.equal(err, E.seL4_NoError);
    assert.equal(paddr, capAt(m, mapped).paddr);
  });
});

test('Copy of non-derivable caps: IRQControl and an unmapped PageTable are IllegalOperation, an untyped with children RevokeFirst', () => {
  root(function* ({ m, vka }) {
    const d = vka.allocSlot();
    expectError(yield* invoke(CNODE, L.CNodeCopy, [d, W, s.seL4_CapIRQControl, W, s.seL4_AllRights], [CNODE]), E.seL4_IllegalOperation, [], 'IRQControl');
    assert.equal(yield* mint(d, s.seL4_CapIRQControl, s.seL4_AllRights, 0), E.seL4_IllegalOperation, 'Mint of IRQControl');
    // Move does not derive: the IRQControl cap may be moved.
    assert.equal(yield* move(d, s.seL4_CapIRQControl), E.seL4_NoError);
    assert.equal(capAt(m, d).type, CapType.IRQControl);
    assert.equal(yield* move(s.seL4_CapIRQControl, d), E.seL4_NoError);

    const pt = yield* vka.allocObject(s.seL4_RISCV_PageTableObject);
    assert.equal(yield* copy(d, pt), E.seL4_IllegalOperation, 'unmapped page table');
    assert.ok(capAt(m, d).isNull);
    // A mapped page table (the root VSpace) may be copied.
    assert.equal(yield* copy(d, s.seL4_CapInitThreadVSpace), E.seL4_NoError);
    assert.equal(capAt(m, d).type, CapType.PageTable);
    assert.equal(yield* del(d), E.seL4_NoError);

    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 10);
    assert.equal(yield* copy(d, ut), E.seL4_NoError, 'an untyped without children may be copied');
    assert.equal(rootSlot(m, d).revocable, true, 'untyped copies are revocable');
    assert.equal(yield* del(d), E.seL4_NoError);
    const obj = vka.allocSlot();
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_EndpointObject, 0, CNODE, 0, 0, obj, 1), E.seL4_NoError);
    expectError(yield* invoke(CNODE, L.CNodeCopy, [d, W, ut, W, s.seL4_AllRights], [CNODE]), E.seL4_RevokeFirst, [], 'untyped with children');
    assert.equal(yield* mint(d, ut, s.seL4_AllRights, 0), E.seL4_RevokeFirst);
    assert.equal(yield* move(d, ut), E.seL4_NoError, 'Move does not need an untyped without children');

    // MCS: reply caps name Reply objects and derive like other caps (seL4 nulls them only without MCS).
    const reply = yield* vka.allocObject(s.seL4_ReplyObject);
    const rc = vka.allocSlot();
    assert.equal(yield* copy(rc, reply), E.seL4_NoError);
    assert.equal(capAt(m, rc).type, CapType.Reply);
    assert.equal(capAt(m, rc).obj, capAt(m, reply).obj);
    // Domain, SchedControl, ASIDControl and ASID pool caps are copied as they are.
    for (const c of [s.seL4_CapDomain, m.booted.bootInfo.schedcontrol.start, s.seL4_CapASIDControl, s.seL4_CapInitThreadASIDPool]) {
      const x = vka.allocSlot();
      assert.equal(yield* copy(x, c), E.seL4_NoError, `copy of slot ${c}`);
      assert.equal(capAt(m, x).type, capAt(m, c).type);
    }
  });
});

test('TruncatedMessage for every CNode method called with too few words or caps', () => {
  root(function* ({ m, vka }) {
    const tcb = yield* vka.allocObject(s.seL4_TCBObject);
    const d = vka.allocSlot();
    const full: Record<number, [number, number]> = {
      // label: [words needed, caps needed]
      [L.CNodeRevoke]: [2, 0],
      [L.CNodeDelete]: [2, 0],
      [L.CNodeCancelBadgedSends]: [2, 0],
      [L.CNodeCopy]: [5, 1],
      [L.CNodeMint]: [6, 1],
      [L.CNodeMove]: [4, 1],
      [L.CNodeMutate]: [5, 1],
      [L.CNodeRotate]: [8, 2],
    };
    const args = [d, W, tcb, W, 0, 0, tcb, W];
    for (const [label, [words, caps]] of Object.entries(full).map(([l, v]) => [Number(l), v] as const)) {
      for (let n = 0; n < words; n++) {
        const r = yield* invoke(CNODE, label, args.slice(0, n), new Array<number>(caps).fill(CNODE));
        expectError(r, E.seL4_TruncatedMessage, [], `label ${label} with ${n} words`);
      }
      for (let c = 0; c < caps; c++) {
        const r = yield* invoke(CNODE, label, args.slice(0, words), new Array<number>(c).fill(CNODE));
        expectError(r, E.seL4_TruncatedMessage, [], `label ${label} with ${c} caps`);
      }
    }
    assert.ok(capAt(m, d).isNull, 'nothing was created');
    assert.ok(!capAt(m, tcb).isNull, 'nothing was deleted');
  });
});

test('FailedLookup tells whether the source (MR0 = 1) or the destination (MR0 = 0) failed', () => {
  root(function* ({ m, vka }) {
    const tcb = yield* vka.allocObject(s.seL4_TCBObject);
    const d = vka.allocSlot();
    // Destination cptr outside the root CNode: guard mismatch at the root (52 guard bits, guard 0).
    expectError(
      yield* invoke(CNODE, L.CNodeCopy, [4096, W, tcb, W, s.seL4_AllRights], [CNODE]),
      E.seL4_FailedLookup,
      [0, 4, W, 0, 52],
      'destination guard mismatch: bitsLeft 64, guardFound 0, bitsFound 52',
    );
    expectError(
      yield* invoke(CNODE, L.CNodeCopy, [d, W, 1n << 63n, W, s.seL4_AllRights], [CNODE]),
      E.seL4_FailedLookup,
      [1, 4, W, 0, 52],
      'source guard mismatch',
    );
    // A source root that is not a CNode: invalid root (no further MRs).
    expectError(yield* invoke(CNODE, L.CNodeCopy, [d, W, tcb, W, s.seL4_AllRights], [tcb]), E.seL4_FailedLookup, [1, 1], 'source root a TCB');
    // An empty extra-cap slot is a null cap: invalid root as well.
    expectError(yield* invoke(CNODE, L.CNodeMove, [d, W, tcb, W], [vka.allocSlot()]), E.seL4_FailedLookup, [1, 1], 'source root empty');
    // Depth mismatch on the destination: depth 12 leaves the 52-bit guard unmatched.
    expectError(yield* invoke(CNODE, L.CNodeDelete, [d, 12]), E.seL4_FailedLookup, [0, 4, 12, 0, 52], 'depth 12 < guard 52');
    // Depth out of range is a RangeError [1, 64], for destination and source alike.
    for (const depth of [0, 65, 1000, 2n ** 64n - 1n]) {
      expectError(yield* invoke(CNODE, L.CNodeDelete, [d, depth]), E.seL4_RangeError, [1, 64], `dest depth ${depth}`);
      expectError(yield* invoke(CNODE, L.CNodeCopy, [d, W, tcb, depth, 0xf], [CNODE]), E.seL4_RangeError, [1, 64], `src depth ${depth}`);
    }
    // Rotate looks the source up before the pivot; the pivot counts as a source (MR0 = 1).
    expectError(
      yield* invoke(CNODE, L.CNodeRotate, [d, W, 0, 4096, W, 0, 4096, 0], [CNODE, CNODE]),
      E.seL4_RangeError,
      [1, 64],
      'bad source depth reported before the pivot',
    );
    expectError(
      yield* invoke(CNODE, L.CNodeRotate, [d, W, 0, 4096, W, 0, tcb, W], [CNODE, CNODE]),
      E.seL4_FailedLookup,
      [1, 4, W, 0, 52],
      'pivot lookup failure is a source failure',
    );
    assert.ok(capAt(m, d).isNull);
  });
});

test('isFinalCapability: deleting the last endpoint cap cancels the IPC of threads blocked on it', () => {
  root(function* ({ m, vka }) {
    yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 50);
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const fault = yield* vka.allocObject(s.seL4_EndpointObject);
    const reply = yield* vka.allocObject(s.seL4_ReplyObject);
    const theirReply = yield* vka.allocObject(s.seL4_ReplyObject);
    const ep2 = vka.allocSlot();
    assert.equal(yield* copy(ep2, ep), E.seL4_NoError);
    const receiver = m.registerProgram(function* () {
      yield* s.seL4_Recv(ep, null, theirReply);
    });
    const t = yield* vka.createThread({ entry: receiver, priority: 100, faultEP: fault });
    const tcb = tcbAt(m, t.tcb);
    assert.equal(tcb.state, ThreadState.BlockedOnReceive);
    // Not final: another cap names the endpoint.
    assert.equal(yield* del(ep2), E.seL4_NoError);
    assert.equal(tcb.state, ThreadState.BlockedOnReceive, 'a non-final delete leaves the receiver blocked');
    const epObj = capAt(m, ep).obj!;
    // Final: the endpoint is finalised and its queue cancelled; the receiver restarts,
    // re-issues its Recv on the now empty slot and takes a cap fault.
    assert.equal(yield* del(ep), E.seL4_NoError);
    assert.equal(epObj.live, false);
    const badge = new s.WordOut();
    const info = yield* s.seL4_Recv(fault, badge, reply);
    assert.equal(s.seL4_MessageInfo_get_label(info), 1, 'CapFault');
    assert.equal(s.seL4_GetMR(1), ep, 'MR1: the cptr');
    assert.equal(s.seL4_GetMR(2), 1, 'MR2: in receive phase');
    assert.equal(s.seL4_GetMR(3), 2, 'MR3: missing capability');
    assert.equal(s.seL4_GetMR(4), 0, 'MR4: bitsLeft 0');
    assert.equal(s.seL4_MessageInfo_get_length(info), 5);
  });
});

test('deleting the last cap to a CNode deletes the caps inside it', () => {
  root(function* ({ m, vka }) {
    const cn = yield* vka.allocObject(s.seL4_CapTableObject, 3);
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const tcb = yield* vka.allocObject(s.seL4_TCBObject);
    // Put a copy of the endpoint and the only cap to a TCB inside the CNode.
    assert.equal(yield* s.seL4_CNode_Copy(cn, 1, 3, CNODE, ep, W, s.seL4_AllRights), E.seL4_NoError);
    assert.equal(yield* s.seL4_CNode_Move(cn, 2, 3, CNODE, tcb, W), E.seL4_NoError);
    const node = capAt(m, cn).obj as CNode;
    const tcbObj = node.slots[2]!.cap.obj as TCB;
    assert.ok(node.slots[1]!.cap.type === CapType.Endpoint);
    assert.equal(yield* del(cn), E.seL4_NoError);
    assert.equal(node.live, false);
    assert.equal(m.kernel.cnodes.has(node), false);
    assert.equal(tcbObj.live, false, 'the TCB whose only cap was inside is finalised');
    assert.equal(capAt(m, ep).obj!.live, true, 'the endpoint still has a cap');
    assert.equal(rootSlot(m, ep).mdbNext, null, 'the copy inside the CNode left the MDB');
  });
});

test('a large CNode (radix 16, slots created on first use) addresses, revokes and deletes like a small one', () => {
  root(function* ({ m, vka }) {
    const cn = yield* vka.allocObject(s.seL4_CapTableObject, 16);
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const node = capAt(m, cn).obj as CNode;
    assert.equal(node.size, 1 << 16);
    assert.equal([...node.allocatedSlots()].length, 0, 'no slot records before use');
    // Copy into the last slot, addressed through the big CNode (depth 16).
    assert.equal(yield* s.seL4_CNode_Copy(cn, 0xffff, 16, CNODE, ep, W, s.seL4_AllRights), E.seL4_NoError);
    assert.equal(node.slot(0xffff).cap.type, CapType.Endpoint);
    expectError(yield* invoke(cn, L.CNodeCopy, [0xffff, 16, ep, W, s.seL4_AllRights], [CNODE]), E.seL4_DeleteFirst, [], 'occupied');
    // Only `depth` bits are resolved: 0x10000 at depth 16 is slot 0; at depth 17 one bit is left over.
    assert.equal(yield* s.seL4_CNode_Delete(cn, 0x10000, 16), E.seL4_NoError);
    expectError(yield* invoke(cn, L.CNodeDelete, [0x1ffff, 17]), E.seL4_FailedLookup, [0, 3, 1, 0], 'depth beyond the radix');
    // Revoking the original deletes the copy in the big CNode.
    assert.equal(yield* s.seL4_CNode_Revoke(CNODE, ep, W), E.seL4_NoError);
    assert.equal(node.slot(0xffff).isEmpty, true);
    assert.equal(yield* s.seL4_CNode_Copy(cn, 7, 16, CNODE, ep, W, s.seL4_AllRights), E.seL4_NoError);
    assert.equal(yield* del(cn), E.seL4_NoError);
    assert.equal(node.live, false);
    assert.equal(rootSlot(m, ep).mdbNext, null, 'the copy inside the deleted CNode left the MDB');
  });
});

test('labels outside CNodeRevoke..CNodeRotate are IllegalOperation on a CNode cap', () => {
  root(function* ({ vka }) {
    const d = vka.allocSlot();
    for (const label of [0, L.UntypedRetype, L.TCBSuspend, L.CNodeRevoke - 1, L.CNodeRotate + 1, L.RISCVPageMap, 1000]) {
      expectError(yield* invoke(CNODE, label, [d, W, 0, 0, 0, 0, 0, 0], [CNODE, CNODE]), E.seL4_IllegalOperation, [], `label ${label}`);
    }
  });
});
