/**
 * Property test of the capability derivation tree: random sequences of
 * Retype / Copy / Mint / Mutate / Move / Rotate / Delete / Revoke on random
 * slots, issued by a TypeScript root task. The harness runs the kernel
 * invariant checker after every kernel entry; after every step this test also
 * checks, with its own code:
 *   - every invocation answers with a seL4 error code (never a host exception);
 *   - no cap names a dead (finalised) object;
 *   - every object lies inside the untyped it was retyped from, and below the
 *     watermark of its nearest untyped ancestor in the MDB;
 *   - a successful Revoke leaves no descendant;
 *   - objects never overlap each other; untyped regions nest or are disjoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runRoot } from './support/harness.js';
import * as s from '../src/user/index.js';
import type { Machine } from '../src/machine/machine.js';
import { TCB_CTABLE } from '../src/kernel/object/tcb.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { Slot } from '../src/kernel/slot.js';
import { Cap, CapType, capIsPhysical, capRegionBits } from '../src/kernel/cap.js';
import { isMDBParentOf } from '../src/kernel/mdb.js';
import type { Kernel } from '../src/kernel/kernel.js';

type Gen<T = void> = Generator<unknown, T, unknown>;
const CNODE = s.seL4_CapInitThreadCNode;
const W = 64;
const POOL = 16;
/** Objects the ops may create: [type, user size]. */
const TYPES: readonly [number, number][] = [
  [s.seL4_EndpointObject, 0],
  [s.seL4_NotificationObject, 0],
  [s.seL4_TCBObject, 0],
  [s.seL4_CapTableObject, 2],
  [s.seL4_UntypedObject, 8],
  [s.seL4_UntypedObject, 11],
  [s.seL4_RISCV_4K_Page, 0],
  [s.seL4_RISCV_PageTableObject, 0],
  [s.seL4_ReplyObject, 0],
  [s.seL4_SchedContextObject, 7],
];

type Op =
  | { k: 'retype'; ut: number; t: number; dest: number; n: number }
  | { k: 'copy'; dest: number; src: number; rights: number }
  | { k: 'mint'; dest: number; src: number; rights: number; badge: bigint }
  | { k: 'mutate'; dest: number; src: number; data: bigint }
  | { k: 'move'; dest: number; src: number }
  | { k: 'rotate'; dest: number; pivot: number; src: number; d1: bigint; d2: bigint }
  | { k: 'delete'; slot: number }
  | { k: 'revoke'; slot: number }
  | { k: 'copyInto'; cn: number; index: number; src: number }
  | { k: 'deleteIn'; cn: number; index: number };

/** Slots, biased towards the first few (where the untypeds and the first objects are). */
const slotArb = fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 3 }) }, { weight: 2, arbitrary: fc.nat({ max: POOL - 1 }) });
const wordArb = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 7n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
/** CNode cap data with a small guard, or anything. */
const dataArb = fc.oneof(fc.tuple(fc.bigInt({ min: 0n, max: 3n }), fc.integer({ min: 0, max: 3 })).map(([g, n]) => (g << 6n) | BigInt(n)), wordArb);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('retype' as const), ut: fc.oneof(fc.constant(0), fc.constant(1), slotArb), t: fc.nat({ max: TYPES.length - 1 }), dest: slotArb, n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('copy' as const), dest: slotArb, src: slotArb, rights: fc.nat({ max: 15 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('mint' as const), dest: slotArb, src: slotArb, rights: fc.nat({ max: 15 }), badge: wordArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('mutate' as const), dest: slotArb, src: slotArb, data: dataArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('move' as const), dest: slotArb, src: slotArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rotate' as const), dest: slotArb, pivot: slotArb, src: slotArb, d1: dataArb, d2: dataArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('delete' as const), slot: slotArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('revoke' as const), slot: slotArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('copyInto' as const), cn: slotArb, index: fc.nat({ max: 3 }), src: slotArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteIn' as const), cn: slotArb, index: fc.nat({ max: 3 }) }) },
);

interface Region {
  base: number;
  size: number;
}

function allSlots(k: Kernel): Slot[] {
  const out: Slot[] = [];
  for (const cn of k.cnodes) for (const x of cn.slots) out.push(x);
  for (const t of k.tcbs) for (const x of t.slots) out.push(x);
  return out;
}

function region(c: Cap): Region {
  return { base: c.paddr, size: 2 ** capRegionBits(c) };
}
function inside(a: Region, b: Region): boolean {
  return a.base >= b.base && a.base + a.size <= b.base + b.size;
}
function disjoint(a: Region, b: Region): boolean {
  return a.base + a.size <= b.base || b.base + b.size <= a.base;
}
/** Identity of the object a cap names (frames and page tables have no kernel object). */
function objectKey(c: Cap): unknown {
  return c.obj ?? `${CapType[c.type]}@${c.paddr}/${c.sizeBits}`;
}

/** The checks run after every step. */
function checkState(k: Kernel, origin: Map<unknown, Region>): void {
  const slots = allSlots(k).filter((x) => !x.isEmpty);
  const objects = new Map<unknown, Region>();
  const untypeds: Region[] = [];
  for (const x of slots) {
    const c = x.cap;
    // No cap names a dead object.
    if (c.obj !== null) assert.ok(c.obj.live, `${c} names a finalised object`);
    if (!capIsPhysical(c)) continue;
    const r = region(c);
    if (c.type === CapType.Untyped) untypeds.push(r);
    else objects.set(objectKey(c), r);
    // Objects lie inside the untyped they came from.
    const o = origin.get(c.type === CapType.Untyped ? `ut@${c.paddr}/${c.sizeBits}` : objectKey(c));
    if (o !== undefined) assert.ok(inside(r, o), `${c} outside the untyped it was retyped from`);
    // And below the watermark of the nearest untyped ancestor in the MDB.
    for (let p = x.mdbPrev; p !== null; p = p.mdbPrev) {
      if (p.cap.type !== CapType.Untyped || !isMDBParentOf(p, x)) continue;
      const pr = region(p.cap);
      assert.ok(inside(r, pr), `${c} outside its untyped ancestor ${p.cap}`);
      const copy = c.type === CapType.Untyped && r.base === pr.base && r.size === pr.size;
      if (!copy) assert.ok(r.base + r.size <= pr.base + p.cap.freeIndex, `${c} above the watermark of ${p.cap}`);
      break;
    }
  }
  // Distinct objects never overlap; untyped regions nest or are disjoint; objects sit wholly inside or outside an untyped.
  const objs = [...objects.values()].sort((a, b) => a.base - b.base);
  for (let i = 1; i < objs.length; i++) assert.ok(disjoint(objs[i - 1]!, objs[i]!), `objects overlap at 0x${objs[i]!.base.toString(16)}`);
  for (const u of untypeds) {
    for (const v of untypeds) assert.ok(disjoint(u, v) || inside(u, v) || inside(v, u), 'untyped regions overlap partially');
    for (const o of objs) assert.ok(disjoint(u, o) || inside(o, u), 'an object straddles an untyped boundary');
  }
}

function rootCNode(m: Machine): CNode {
  return m.booted.rootTCB.slots[TCB_CTABLE]!.cap.obj as CNode;
}

function* runOps(m: Machine, pool: number, ops: readonly Op[]): Gen<void> {
  const k = m.kernel;
  const cn = rootCNode(m);
  const P = (i: number) => pool + i;
  const capOf = (i: number) => cn.slots[P(i)]!.cap;
  const origin = new Map<unknown, Region>();
  checkState(k, origin);
  for (const op of ops) {
    let err = 0;
    switch (op.k) {
      case 'retype': {
        const ut = capOf(op.ut);
        // Only invoke caps of the expected type (an endpoint would be an IPC).
        if (ut.type !== CapType.Untyped) continue;
        const utRegion = region(ut);
        const [type, size] = TYPES[op.t]!;
        const n = Math.min(op.n, POOL - op.dest);
        err = yield* s.seL4_Untyped_Retype(P(op.ut), type, size, CNODE, 0, 0, P(op.dest), n);
        if (err === 0) {
          for (let i = 0; i < n; i++) {
            const c = capOf(op.dest + i);
            assert.ok(inside(region(c), utRegion), 'new object inside its untyped');
            origin.set(c.type === CapType.Untyped ? `ut@${c.paddr}/${c.sizeBits}` : objectKey(c), utRegion);
          }
        }
        break;
      }
      case 'copy':
        err = yield* s.seL4_CNode_Copy(CNODE, P(op.dest), W, CNODE, P(op.src), W, op.rights);
        break;
      case 'mint':
        err = yield* s.seL4_CNode_Mint(CNODE, P(op.dest), W, CNODE, P(op.src), W, op.rights, op.badge);
        break;
      case 'mutate':
        err = yield* s.seL4_CNode_Mutate(CNODE, P(op.dest), W, CNODE, P(op.src), W, op.data);
        break;
      case 'move':
        err = yield* s.seL4_CNode_Move(CNODE, P(op.dest), W, CNODE, P(op.src), W);
        break;
      case 'rotate':
        err = yield* s.seL4_CNode_Rotate(CNODE, P(op.dest), W, op.d1, CNODE, P(op.pivot), W, op.d2, CNODE, P(op.src), W);
        break;
      case 'delete':
        err = yield* s.seL4_CNode_Delete(CNODE, P(op.slot), W);
        assert.equal(err, 0, 'Delete of a root CNode slot always succeeds');
        assert.ok(capOf(op.slot).isNull);
        break;
      case 'revoke':
        err = yield* s.seL4_CNode_Revoke(CNODE, P(op.slot), W);
        assert.equal(err, 0);
        {
          const x = cn.slots[P(op.slot)]!;
          assert.ok(x.mdbNext === null || !isMDBParentOf(x, x.mdbNext), 'Revoke left a descendant');
        }
        break;
      case 'copyInto': {
        const c = capOf(op.cn);
        if (c.type !== CapType.CNode) continue;
        err = yield* s.seL4_CNode_Copy(P(op.cn), op.index, c.radix + c.guardSize, CNODE, P(op.src), W, s.seL4_AllRights);
        break;
      }
      case 'deleteIn': {
        const c = capOf(op.cn);
        if (c.type !== CapType.CNode) continue;
        err = yield* s.seL4_CNode_Delete(P(op.cn), op.index, c.radix + c.guardSize);
        break;
      }
    }
    assert.ok(Number.isInteger(err) && err >= 0 && err <= 10, `${op.k}: seL4 error code ${err}`);
    checkState(k, origin);
  }
}

test('CDT property: random retype/copy/mint/mutate/move/rotate/delete/revoke keep the capability derivation tree sound', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' }), (ops) => {
      let finished = false;
      runRoot(function* ({ m, vka }) {
        const pool = vka.allocSlot();
        for (let i = 1; i < POOL; i++) vka.allocSlot();
        // Two untypeds to start from, in pool slots 0 and 1.
        const u0 = yield* vka.allocObject(s.seL4_UntypedObject, 14);
        const u1 = yield* vka.allocObject(s.seL4_UntypedObject, 12);
        assert.equal(yield* s.seL4_CNode_Move(CNODE, pool, W, CNODE, u0, W), 0);
        assert.equal(yield* s.seL4_CNode_Move(CNODE, pool + 1, W, CNODE, u1, W), 0);
        yield* runOps(m, pool, ops);
        finished = true;
      });
      assert.ok(finished, 'the root task ran all steps');
    }),
    { numRuns: 60 },
  );
});
