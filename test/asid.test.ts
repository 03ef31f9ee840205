/**
 * ASIDControl_MakePool and ASIDPool_Assign (decodeRISCVMMUInvocation):
 * untyped requirements, the 2^7 pools of the ASID table, the 2^9 ASIDs of a
 * pool (ASID 0 never handed out), and error codes in seL4's order
 * (sel4test VSPACE0002 intent).
 */
import assert from 'node:assert/strict';
import { allocDeviceObject, errorMRs, rawInvoke, rootCap, rootTest, sampledInvariants } from './support/vspacehelp.js';
import { checkInvariants } from '../src/kernel/invariants/index.js';
import {
  seL4_CapASIDControl,
  seL4_CapInitThreadASIDPool,
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadVSpace,
  seL4_EndpointObject,
  seL4_RISCV_4K_Page,
  seL4_RISCV_ASIDControl_MakePool,
  seL4_RISCV_ASIDPool_Assign,
  seL4_RISCV_PageTable_Map,
  seL4_RISCV_PageTableObject,
  seL4_UntypedObject,
  seL4_Untyped_Retype,
} from '../src/user/index.js';
import { CapType } from '../src/kernel/cap.js';
import { InvocationLabel } from '../src/abi/constants.js';

const E = { NoError: 0, InvalidCapability: 2, IllegalOperation: 3, TruncatedMessage: 7, DeleteFirst: 8, RevokeFirst: 9 };
const CN = seL4_CapInitThreadCNode;

rootTest('ASIDControl_MakePool: the untyped must be a 4 KiB, non-device untyped without children; the slot must be empty', function* ({ m, bi, vka }) {
  const big = yield* vka.allocObject(seL4_UntypedObject, 13);
  let slot = vka.allocSlot();
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, big, CN, slot, 64), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  const ep = yield* vka.allocObject(seL4_EndpointObject);
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, ep, CN, slot, 64), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  const dev = yield* allocDeviceObject(vka, bi, seL4_UntypedObject, 12, 12);
  assert.equal(rootCap(m, dev).isDevice, true);
  assert.equal(rootCap(m, dev).sizeBits, 12);
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, dev, CN, slot, 64), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  const parent = yield* vka.allocObject(seL4_UntypedObject, 12);
  const child = vka.allocSlot();
  assert.equal(yield* seL4_Untyped_Retype(parent, seL4_EndpointObject, 0, CN, 0, 0, child, 1), E.NoError);
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, parent, CN, slot, 64), E.RevokeFirst);
  const ut = yield* vka.allocObject(seL4_UntypedObject, 12);
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, ut, CN, ep, 64), E.DeleteFirst, 'destination occupied');
  let r = yield* rawInvoke(seL4_CapASIDControl, InvocationLabel.RISCVASIDControlMakePool, [slot], [ut, CN]);
  assert.equal(r[0], E.TruncatedMessage, 'one argument');
  r = yield* rawInvoke(seL4_CapASIDControl, InvocationLabel.RISCVASIDControlMakePool, [slot, 64], [ut]);
  assert.equal(r[0], E.TruncatedMessage, 'one cap');
  r = yield* rawInvoke(seL4_CapASIDControl, InvocationLabel.RISCVASIDPoolAssign, [], [ut]);
  assert.equal(r[0], E.IllegalOperation);
  // Success: an ASID pool cap, a child of the untyped, base = next free pool index << 9.
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, ut, CN, slot, 64), E.NoError);
  const pc = rootCap(m, slot);
  assert.equal(pc.type, CapType.ASIDPool);
  assert.equal(pc.paddr, rootCap(m, ut).paddr);
  assert.equal(pc.word, 1 << 9, 'pool 0 holds the root task; this is pool 1');
  assert.equal(rootCap(m, ut).freeIndex, 4096, 'the untyped is used up');
  // The untyped now has a child: a second pool from it is RevokeFirst.
  slot = vka.allocSlot();
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, ut, CN, slot, 64), E.RevokeFirst);
});

rootTest('ASIDControl_MakePool: 128 pools in all, then DeleteFirst (checked before the untyped)', function* ({ m, vka }) {
  for (let i = 1; i < 128; i++) {
    const ut = yield* vka.allocObject(seL4_UntypedObject, 12);
    const slot = vka.allocSlot();
    assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, ut, CN, slot, 64), E.NoError, `pool ${i}`);
    assert.equal(rootCap(m, slot).word, i << 9);
  }
  const ut = yield* vka.allocObject(seL4_UntypedObject, 12);
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, ut, CN, vka.allocSlot(), 64), E.DeleteFirst);
  const ep = yield* vka.allocObject(seL4_EndpointObject);
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, ep, CN, vka.allocSlot(), 64), E.DeleteFirst);
  assert.equal(m.kernel.asids.pools.every((p) => p !== null), true);
});

rootTest('ASIDPool_Assign: 512 ASIDs in a new pool, then DeleteFirst; pool 0 skips ASID 0 and the root task ASID 1', function* ({ m, vka }) {
  const ut = yield* vka.allocObject(seL4_UntypedObject, 12);
  const pool = vka.allocSlot();
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, ut, CN, pool, 64), E.NoError);
  for (let i = 0; i < 512; i++) {
    const vs = yield* vka.allocObject(seL4_RISCV_PageTableObject);
    assert.equal(yield* seL4_RISCV_ASIDPool_Assign(pool, vs), E.NoError);
    const c = rootCap(m, vs);
    assert.equal(c.mappedASID, 512 + i);
    assert.equal(c.isMapped, true);
    assert.equal(c.mappedAddr, 0);
  }
  const extra = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(pool, extra), E.DeleteFirst);
  // Pool 0: ASID 0 is never used and ASID 1 is the root task's.
  assert.equal(rootCap(m, seL4_CapInitThreadVSpace).mappedASID, 1);
  const vs = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, vs), E.NoError);
  assert.equal(rootCap(m, vs).mappedASID, 2);
  let last = 2;
  for (;;) {
    const v = yield* vka.allocObject(seL4_RISCV_PageTableObject);
    const err = yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, v);
    if (err !== E.NoError) {
      assert.equal(err, E.DeleteFirst);
      break;
    }
    last = rootCap(m, v).mappedASID;
  }
  assert.equal(last, 511, 'ASIDs 2..511: 510 of them');
  checkInvariants(m.kernel);
}, { checkInvariants: sampledInvariants(64) });

rootTest('VSPACE0002 / ASIDPool_Assign errors: an assigned root, a mapped table or a non-table is InvalidCapability 1', function* ({ vka }) {
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, seL4_CapInitThreadVSpace), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  const pt = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt, seL4_CapInitThreadVSpace, 0x10_0000_0000, 0), E.NoError);
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, pt), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, frame), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  const r = yield* rawInvoke(seL4_CapInitThreadASIDPool, InvocationLabel.RISCVASIDPoolAssign, [], []);
  assert.equal(r[0], E.TruncatedMessage);
  const r2 = yield* rawInvoke(seL4_CapInitThreadASIDPool, InvocationLabel.RISCVASIDControlMakePool, [0, 64], [frame, CN]);
  assert.equal(r2[0], E.IllegalOperation);
  // A fresh root still assigns fine.
  const vs = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, vs), E.NoError);
});
