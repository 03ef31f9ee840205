/**
 * seL4_RISCV_PageTable_Map / Unmap (decodeRISCVPageTableInvocation) and what
 * deleting page tables and VSpace roots does to mappings (seL4's
 * unmapPageTable, deleteASID; sel4test VSPACE0001, PT0001 intents).
 */
import assert from 'node:assert/strict';
import { LEAF, R, V, W, X, errorMRs, pteFlags, ptePaddr, rawInvoke, rootCap, rootTest, walk, allocDeviceObject } from './support/vspacehelp.js';
import {
  seL4_CapInitThreadASIDPool,
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadVSpace,
  seL4_CNode_Copy,
  seL4_CNode_Delete,
  seL4_RISCV_4K_Page,
  seL4_RISCV_Giga_Page,
  seL4_RISCV_Mega_Page,
  seL4_RISCV_ASIDPool_Assign,
  seL4_RISCV_Page_Map,
  seL4_RISCV_Page_Unmap,
  seL4_RISCV_PageTable_Map,
  seL4_RISCV_PageTable_Unmap,
  seL4_RISCV_PageTableObject,
  seL4_AllRights,
  seL4_ReadWrite,
} from '../src/user/index.js';
import { InvocationLabel } from '../src/abi/constants.js';

const E = { NoError: 0, InvalidArgument: 1, InvalidCapability: 2, IllegalOperation: 3, FailedLookup: 6, TruncatedMessage: 7, DeleteFirst: 8, RevokeFirst: 9 };
const FREE = 0x10_0000_0000;
const GiB = 2 ** 30;
const MiB2 = 2 ** 21;
const USER_TOP = 0x3ffffff000;
const VS = seL4_CapInitThreadVSpace;

rootTest('PageTable_Map: two levels of tables, then DeleteFirst once only pages could go there', function* ({ m, vka }) {
  const pt = [0, 1, 2].map(() => 0);
  for (let i = 0; i < 3; i++) pt[i] = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  // An unaligned address is fine: the mapped address is truncated to the slot.
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt[0]!, VS, FREE + 0x1234, 0), E.NoError);
  assert.equal(rootCap(m, pt[0]!).mappedAddr, FREE);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt[1]!, VS, FREE + MiB2 * 3 + 5, 0), E.NoError);
  assert.equal(rootCap(m, pt[1]!).mappedAddr, FREE + MiB2 * 3);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt[2]!, VS, FREE + MiB2 * 3, 0), E.DeleteFirst, 'a third level does not exist');
  // The table PTEs are V with the table's PPN (the A, D, U, X, W, R bits clear).
  const root = rootCap(m, VS).paddr;
  const top = m.mem.read64(root + 8 * (FREE / GiB));
  assert.equal(pteFlags(top), V);
  assert.equal(ptePaddr(top), rootCap(m, pt[0]!).paddr);
  const mid = m.mem.read64(rootCap(m, pt[0]!).paddr + 8 * 3);
  assert.equal(pteFlags(mid), V);
  assert.equal(ptePaddr(mid), rootCap(m, pt[1]!).paddr);
  // A mapped page table cap cannot be mapped again.
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt[1]!, VS, FREE + MiB2 * 9, 0), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [0]);
});

rootTest('PageTable_Map: DeleteFirst over a 2 MiB or 1 GiB page; argument and cap errors', function* ({ m, bi, vka }) {
  const l1 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(l1, VS, FREE, 0), E.NoError);
  const big = yield* vka.allocObject(seL4_RISCV_Mega_Page);
  assert.equal(yield* seL4_RISCV_Page_Map(big, VS, FREE + MiB2, seL4_ReadWrite, 0), E.NoError);
  const pt = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt, VS, FREE + MiB2, 0), E.DeleteFirst);
  const giga = yield* allocDeviceObject(vka, bi, seL4_RISCV_Giga_Page, 30);
  assert.equal(yield* seL4_RISCV_Page_Map(giga, VS, FREE + GiB, seL4_ReadWrite, 0), E.NoError);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt, VS, FREE + GiB + MiB2, 0), E.DeleteFirst);
  // A 1 GiB leaf sits in the root table itself.
  const w = walk(m, rootCap(m, VS).paddr, FREE + GiB);
  assert.equal(w.level, 2);
  assert.equal(pteFlags(w.pte), LEAF | R | W | X);
  assert.equal(ptePaddr(w.pte), rootCap(m, giga).paddr);
  // Argument checks, in seL4's order.
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt, VS, USER_TOP, 0), E.InvalidArgument);
  assert.deepEqual(errorMRs(1), [0]);
  const unassigned = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt, unassigned, FREE + 2 * GiB, 0), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt, big, FREE + 2 * GiB, 0), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt, l1, FREE + 2 * GiB, 0), E.InvalidCapability, 'a non-root table');
  assert.deepEqual(errorMRs(1), [1]);
  let r = yield* rawInvoke(pt, InvocationLabel.RISCVPageTableMap, [FREE + 2 * GiB], [VS]);
  assert.equal(r[0], E.TruncatedMessage);
  r = yield* rawInvoke(pt, InvocationLabel.RISCVPageTableMap, [FREE + 2 * GiB, 0], []);
  assert.equal(r[0], E.TruncatedMessage);
  r = yield* rawInvoke(pt, InvocationLabel.RISCVPageMap, [FREE + 2 * GiB, 3, 0], [VS]);
  assert.equal(r[0], E.IllegalOperation);
});

rootTest('PageTable_Unmap: a VSpace root or a non-final cap is RevokeFirst; unmapping clears the parent PTE and the table', function* ({ m, vka }) {
  assert.equal(yield* seL4_RISCV_PageTable_Unmap(VS), E.RevokeFirst, 'the root of a VSpace');
  const l1 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  const l2 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(l1, VS, FREE, 0), E.NoError);
  assert.equal(yield* seL4_RISCV_PageTable_Map(l2, VS, FREE, 0), E.NoError);
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE + 0x5000, seL4_ReadWrite, 0), E.NoError);
  const copy = vka.allocSlot();
  assert.equal(yield* seL4_CNode_Copy(seL4_CapInitThreadCNode, copy, 64, seL4_CapInitThreadCNode, l2, 64, seL4_AllRights), E.NoError);
  assert.equal(yield* seL4_RISCV_PageTable_Unmap(l2), E.RevokeFirst, 'another cap to the table exists');
  assert.equal(yield* seL4_CNode_Delete(seL4_CapInitThreadCNode, copy, 64), E.NoError);
  const root = rootCap(m, VS).paddr;
  const l2paddr = rootCap(m, l2).paddr;
  assert.notEqual(m.mem.read64(l2paddr + 8 * 5), 0n);
  assert.equal(yield* seL4_RISCV_PageTable_Unmap(l2), E.NoError);
  assert.equal(m.mem.read64(rootCap(m, l1).paddr), 0n, 'the level-1 PTE is gone');
  assert.equal(m.mem.read64(l2paddr + 8 * 5), 0n, 'the table was cleared');
  assert.equal(rootCap(m, l2).isMapped, false);
  assert.equal(walk(m, root, FREE + 0x5000).level, 1, 'the walk now stops one level up');
  // The frame cap still believes it is mapped; unmapping it finds nothing and succeeds.
  assert.equal(rootCap(m, frame).isMapped, true);
  assert.equal(yield* seL4_RISCV_Page_Unmap(frame), E.NoError);
  assert.equal(rootCap(m, frame).isMapped, false);
  assert.equal(yield* seL4_RISCV_PageTable_Unmap(l2), E.NoError, 'an unmapped table');
  // Mapped again elsewhere it starts empty.
  assert.equal(yield* seL4_RISCV_PageTable_Map(l2, VS, FREE + MiB2, 0), E.NoError);
});

rootTest('deleting a page table cap unmaps the table (PT0001 intent)', function* ({ m, vka }) {
  const l1 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  const l2 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(l1, VS, FREE, 0), E.NoError);
  assert.equal(yield* seL4_RISCV_PageTable_Map(l2, VS, FREE, 0), E.NoError);
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE, seL4_ReadWrite, 0), E.NoError);
  assert.equal(yield* seL4_CNode_Delete(seL4_CapInitThreadCNode, l2, 64), E.NoError);
  assert.equal(m.mem.read64(rootCap(m, l1).paddr), 0n);
  assert.equal(yield* seL4_RISCV_Page_Unmap(frame), E.NoError);
  // A new table and the same frame map again.
  const l2b = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(l2b, VS, FREE, 0), E.NoError);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE, seL4_ReadWrite, 0), E.NoError);
  assert.equal(ptePaddr(walk(m, rootCap(m, VS).paddr, FREE).pte), rootCap(m, frame).paddr);
});

rootTest('VSPACE0001: unmapping a page after deleting its VSpace root succeeds; the ASID is freed', function* ({ m, vka }) {
  const vs = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, vs), E.NoError);
  const asid = rootCap(m, vs).mappedASID;
  assert.ok(asid > 0);
  const pts = [yield* vka.allocObject(seL4_RISCV_PageTableObject), yield* vka.allocObject(seL4_RISCV_PageTableObject)];
  for (const pt of pts) assert.equal(yield* seL4_RISCV_PageTable_Map(pt, vs, 0x1000_0000, 0), E.NoError);
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, vs, 0x1000_0000, seL4_ReadWrite, 0), E.NoError);
  assert.equal(yield* seL4_CNode_Delete(seL4_CapInitThreadCNode, vs, 64), E.NoError);
  const pool = m.kernel.asids.pools[asid >>> 9]!;
  assert.equal(pool.entries[asid & 511], -1, 'deleteASID cleared the pool entry');
  assert.equal(yield* seL4_RISCV_Page_Unmap(frame), E.NoError);
  assert.equal(yield* seL4_RISCV_PageTable_Unmap(pts[1]!), E.NoError);
  // The freed ASID is handed out again.
  const vs2 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, vs2), E.NoError);
  assert.equal(rootCap(m, vs2).mappedASID, asid);
});
