/**
 * seL4_RISCV_Page_Map / Unmap / GetAddress (decodeRISCVFrameInvocation):
 * every check in seL4's order with its error code and detail MRs, and the
 * Sv39 PTE bytes makeUserPTE writes, read back from physical memory.
 */
import assert from 'node:assert/strict';
import { LEAF, R, V, W, X, errorMRs, pteFlags, ptePaddr, rawInvoke, rootCap, rootTest, walk } from './support/vspacehelp.js';
import {
  seL4_CapInitThreadASIDPool,
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadVSpace,
  seL4_CNode_Copy,
  seL4_CNode_Delete,
  seL4_CapASIDControl,
  seL4_UntypedObject,
  seL4_RISCV_ASIDControl_MakePool,
  seL4_RISCV_4K_Page,
  seL4_RISCV_ASIDPool_Assign,
  seL4_RISCV_Mega_Page,
  seL4_RISCV_Page_GetAddress,
  seL4_RISCV_Page_Map,
  seL4_RISCV_Page_Unmap,
  seL4_RISCV_PageTable_Map,
  seL4_RISCV_PageTableObject,
  seL4_AllRights,
  seL4_ReadWrite,
  sel4ts_Load,
  sel4ts_Store,
} from '../src/user/index.js';
import { InvocationLabel } from '../src/abi/constants.js';

const E = { NoError: 0, InvalidArgument: 1, InvalidCapability: 2, IllegalOperation: 3, AlignmentError: 5, FailedLookup: 6, TruncatedMessage: 7, DeleteFirst: 8 };
const CanRead = 2;
const CanWrite = 1;
const ExecuteNever = 1;
const MissingCapability = 2;
const InvalidRoot = 1;
/** A 1 GiB slot of the root task's VSpace with no page tables yet. */
const FREE = 0x10_0000_0000;
const USER_TOP = 0x3ffffff000;
const VS = seL4_CapInitThreadVSpace;

rootTest('Page_Map without page tables fails with FailedLookup (MissingCapability, bitsLeft) until tables exist', function* ({ m, vka }) {
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE, seL4_ReadWrite, 0), E.FailedLookup);
  assert.deepEqual(errorMRs(3), [0, MissingCapability, 30], 'not a source lookup; MissingCapability; 30 bits left at the root');
  const pt1 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt1, VS, FREE, 0), E.NoError);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE, seL4_ReadWrite, 0), E.FailedLookup);
  assert.deepEqual(errorMRs(3), [0, MissingCapability, 21]);
  const pt2 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt2, VS, FREE, 0), E.NoError);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE, seL4_ReadWrite, 0), E.NoError);
  // The PTE bytes: a leaf with V R W X U A D and the frame's PPN, in the last-level table.
  const root = rootCap(m, VS).paddr;
  const w = walk(m, root, FREE);
  assert.equal(w.level, 0);
  assert.equal(pteFlags(w.pte), LEAF | R | W | X);
  assert.equal(ptePaddr(w.pte), rootCap(m, frame).paddr);
  assert.equal(w.pte >> 54n, 0n, 'reserved high bits clear');
  // The table PTEs are V only, pointing at the tables.
  const rootPte = m.mem.read64(root + 8 * (FREE / 2 ** 30));
  assert.equal(pteFlags(rootPte), V);
  assert.equal(ptePaddr(rootPte), rootCap(m, pt1).paddr);
  const midPte = m.mem.read64(rootCap(m, pt1).paddr + 8 * 0);
  assert.equal(pteFlags(midPte), V);
  assert.equal(ptePaddr(midPte), rootCap(m, pt2).paddr);
  // And the mapping works: a store through it lands in the frame.
  yield* sel4ts_Store(FREE + 16, 0xabcdefn);
  assert.equal(m.mem.read64(rootCap(m, frame).paddr + 16), 0xabcdefn);
  assert.equal(yield* sel4ts_Load(FREE + 16), 0xabcdefn);
});

rootTest('Page_Map: misaligned vaddr is AlignmentError; vaddr + size - 1 >= seL4_UserTop is InvalidArgument 0', function* ({ vka }) {
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  const big = yield* vka.allocObject(seL4_RISCV_Mega_Page);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE + 8, seL4_ReadWrite, 0), E.AlignmentError);
  assert.equal(yield* seL4_RISCV_Page_Map(big, VS, FREE + 4096, seL4_ReadWrite, 0), E.AlignmentError);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, USER_TOP, seL4_ReadWrite, 0), E.InvalidArgument);
  assert.deepEqual(errorMRs(1), [0]);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, 0xffff_ffc0_0000_0000n, seL4_ReadWrite, 0), E.InvalidArgument);
  // A 2 MiB frame whose last byte would reach seL4_UserTop.
  assert.equal(yield* seL4_RISCV_Page_Map(big, VS, 0x3fffe00000, seL4_ReadWrite, 0), E.InvalidArgument);
  assert.deepEqual(errorMRs(1), [0]);
  // The range check is done on the 64-bit sum, as C does: it wraps past 2^64,
  // passes, and the alignment check then fails.
  assert.equal(yield* seL4_RISCV_Page_Map(big, VS, 0xffff_ffff_ffff_f000n, seL4_ReadWrite, 0), E.AlignmentError);
  // The range check comes before the alignment check.
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, USER_TOP + 8, seL4_ReadWrite, 0), E.InvalidArgument);
});

rootTest('Page_Map: bad VSpace caps are InvalidCapability 1; an ASID without a VSpace is FailedLookup', function* ({ m, vka }) {
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  const unassigned = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, unassigned, FREE, seL4_ReadWrite, 0), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  const other = yield* vka.allocObject(seL4_RISCV_4K_Page);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, other, FREE, seL4_ReadWrite, 0), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  // A mapped non-root page table: its ASID names another root.
  const pt = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pt, VS, FREE, 0), E.NoError);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, pt, FREE, seL4_ReadWrite, 0), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  // Deleting one of two caps to an assigned VSpace keeps its ASID.
  const vs = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  const copy = vka.allocSlot();
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, vs), E.NoError);
  assert.equal(yield* seL4_CNode_Copy(seL4_CapInitThreadCNode, copy, 64, seL4_CapInitThreadCNode, vs, 64, seL4_AllRights), E.NoError);
  assert.equal(yield* seL4_CNode_Delete(seL4_CapInitThreadCNode, vs, 64), E.NoError);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, copy, 0x1000, seL4_ReadWrite, 0), E.FailedLookup);
  assert.deepEqual(errorMRs(3), [0, MissingCapability, 30], 'still a VSpace: only its tables are missing');
  // A VSpace whose ASID pool was deleted: findVSpaceForASID fails (InvalidRoot).
  const ut = yield* vka.allocObject(seL4_UntypedObject, 12);
  const pool = vka.allocSlot();
  assert.equal(yield* seL4_RISCV_ASIDControl_MakePool(seL4_CapASIDControl, ut, seL4_CapInitThreadCNode, pool, 64), E.NoError);
  const orphan = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(pool, orphan), E.NoError);
  assert.equal(yield* seL4_CNode_Delete(seL4_CapInitThreadCNode, pool, 64), E.NoError);
  assert.equal(rootCap(m, orphan).isMapped, true, 'the cap still says mapped');
  assert.equal(yield* seL4_RISCV_Page_Map(frame, orphan, 0x1000, seL4_ReadWrite, 0), E.FailedLookup);
  assert.deepEqual(errorMRs(2), [0, InvalidRoot]);
});

rootTest('Page_Map: missing arguments or VSpace cap is TruncatedMessage; other labels are IllegalOperation', function* ({ vka }) {
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  let r = yield* rawInvoke(frame, InvocationLabel.RISCVPageMap, [FREE, seL4_ReadWrite], [VS]);
  assert.equal(r[0], E.TruncatedMessage);
  r = yield* rawInvoke(frame, InvocationLabel.RISCVPageMap, [FREE, seL4_ReadWrite, 0], []);
  assert.equal(r[0], E.TruncatedMessage);
  r = yield* rawInvoke(frame, InvocationLabel.RISCVPageTableMap, [FREE, 0], [VS]);
  assert.equal(r[0], E.IllegalOperation);
  r = yield* rawInvoke(frame, InvocationLabel.RISCVASIDPoolAssign, [], [VS]);
  assert.equal(r[0], E.IllegalOperation);
});

rootTest('Page_Map of a mapped frame: same vaddr remaps with new rights; another vaddr is InvalidArgument 0; another ASID is InvalidCapability 1', function* ({ m, vka }) {
  const pts = [yield* vka.allocObject(seL4_RISCV_PageTableObject), yield* vka.allocObject(seL4_RISCV_PageTableObject)];
  assert.equal(yield* seL4_RISCV_PageTable_Map(pts[0]!, VS, FREE, 0), E.NoError);
  assert.equal(yield* seL4_RISCV_PageTable_Map(pts[1]!, VS, FREE, 0), E.NoError);
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  const root = rootCap(m, VS).paddr;
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE, seL4_ReadWrite, 0), E.NoError);
  assert.equal(pteFlags(walk(m, root, FREE).pte), LEAF | R | W | X);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE, CanRead, ExecuteNever), E.NoError);
  assert.equal(pteFlags(walk(m, root, FREE).pte), LEAF | R, 'remapped read-only, execute-never');
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE + 4096, seL4_ReadWrite, 0), E.InvalidArgument);
  assert.deepEqual(errorMRs(1), [0]);
  const vs2 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, vs2), E.NoError);
  // The table walk comes first: without tables in vs2 it is FailedLookup.
  assert.equal(yield* seL4_RISCV_Page_Map(frame, vs2, FREE, seL4_ReadWrite, 0), E.FailedLookup);
  for (let i = 0; i < 2; i++) {
    const pt = yield* vka.allocObject(seL4_RISCV_PageTableObject);
    assert.equal(yield* seL4_RISCV_PageTable_Map(pt, vs2, FREE, 0), E.NoError);
  }
  assert.equal(yield* seL4_RISCV_Page_Map(frame, vs2, FREE, seL4_ReadWrite, 0), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [1]);
  // Another frame over the mapped one: DeleteFirst.
  const other = yield* vka.allocObject(seL4_RISCV_4K_Page);
  assert.equal(yield* seL4_RISCV_Page_Map(other, VS, FREE, seL4_ReadWrite, 0), E.DeleteFirst);
  // After Unmap the PTE is zero and the frame may go anywhere.
  assert.equal(yield* seL4_RISCV_Page_Unmap(frame), E.NoError);
  assert.equal(walk(m, root, FREE).pte, 0n);
  assert.equal(rootCap(m, frame).isMapped, false);
  assert.equal(yield* seL4_RISCV_Page_Unmap(frame), E.NoError, 'unmapping an unmapped frame is fine');
  assert.equal(yield* seL4_RISCV_Page_Map(other, VS, FREE, seL4_ReadWrite, 0), E.NoError);
  assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE + 4096, seL4_ReadWrite, 0), E.NoError);
});

rootTest('Page_Map rights: the cap rights masked by the rights word decide R/W; no rights and execute-never write an invalid PTE', function* ({ m, vka }) {
  const pts = [yield* vka.allocObject(seL4_RISCV_PageTableObject), yield* vka.allocObject(seL4_RISCV_PageTableObject)];
  for (const pt of pts) assert.equal(yield* seL4_RISCV_PageTable_Map(pt, VS, FREE, 0), E.NoError);
  const root = rootCap(m, VS).paddr;
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  const cases: [rights: number, attr: number, flags: number][] = [
    [seL4_AllRights, 0, LEAF | R | W | X],
    [seL4_ReadWrite, ExecuteNever, LEAF | R | W],
    [CanRead, 0, LEAF | R | X],
    [CanWrite, 0, LEAF | X], // write without read: VMKernelOnly, execute only
    [0, 0, LEAF | X],
    [0, ExecuteNever, 0], // nothing granted: invalid PTE
  ];
  for (const [rights, attr, flags] of cases) {
    assert.equal(yield* seL4_RISCV_Page_Map(frame, VS, FREE, rights, attr), E.NoError);
    const pte = walk(m, root, FREE).pte;
    assert.equal(pteFlags(pte), flags, `rights ${rights} attr ${attr}`);
    if (flags !== 0) assert.equal(ptePaddr(pte), rootCap(m, frame).paddr);
    else assert.equal(pte, 0n);
  }
  // A read-only copy of the frame cap can never map writable.
  const ro = vka.allocSlot();
  assert.equal(yield* seL4_CNode_Copy(seL4_CapInitThreadCNode, ro, 64, seL4_CapInitThreadCNode, frame, 64, CanRead), E.NoError);
  assert.equal(yield* seL4_RISCV_Page_Map(ro, VS, FREE + 4096, seL4_AllRights, 0), E.NoError);
  assert.equal(pteFlags(walk(m, root, FREE + 4096).pte), LEAF | R | X);
});

rootTest('Page_GetAddress returns the frame physical address in MR0 (the PPN of its PTE)', function* ({ m, vka }) {
  const [frame, vaddr] = yield* vka.allocMappedFrame();
  const [err, paddr] = yield* seL4_RISCV_Page_GetAddress(frame);
  assert.equal(err, E.NoError);
  assert.equal(paddr, rootCap(m, frame).paddr);
  assert.equal(ptePaddr(walk(m, rootCap(m, VS).paddr, vaddr).pte), paddr);
  const big = yield* vka.allocObject(seL4_RISCV_Mega_Page);
  const [err2, p2] = yield* seL4_RISCV_Page_GetAddress(big);
  assert.equal(err2, E.NoError);
  assert.equal(p2 % 2 ** 21, 0);
});
