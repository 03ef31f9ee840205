/**
 * One frame in two address spaces: TypeScript threads in different VSpaces
 * see each other's stores (sel4test FRAMEEXPORTS intent), revoking the
 * original frame cap unmaps every derived copy in every VSpace and deleting a
 * mapped copy unmaps it (FRAMEDIPC0003), with the resulting VM faults
 * delivered to a fault handler (PAGEFAULT000x with TypeScript threads).
 */
import assert from 'node:assert/strict';
import { mapIn, newVSpace, pteFlags, ptePaddr, rootCap, rootTest, threadIn, walk, LEAF, R, W, X } from './support/vspacehelp.js';
import {
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadVSpace,
  seL4_CNode_Copy,
  seL4_CNode_Delete,
  seL4_CNode_Revoke,
  seL4_EndpointObject,
  seL4_NotificationObject,
  seL4_ReplyObject,
  seL4_RISCV_4K_Page,
  seL4_AllRights,
  seL4_Recv,
  seL4_ReplyRecv,
  seL4_Signal,
  seL4_Wait,
  seL4_GetMR,
  seL4_MessageInfo_new,
  seL4_MessageInfo_get_label,
  seL4_MessageInfo_get_length,
  sel4ts_Load,
  sel4ts_Store,
} from '../src/user/index.js';

const seL4_Fault_VMFault = 6;
const CanRead = 2;
const SHARED_A = 0x2000_0000; // in the root task's VSpace
const SHARED_B = 0x5555_5000; // in the second VSpace
const IPC_B = 0x7000_0000;

rootTest('FRAMEEXPORTS: a frame mapped in two VSpaces is shared by TypeScript threads in both', function* ({ m, vka }) {
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  const copy = vka.allocSlot();
  assert.equal(yield* seL4_CNode_Copy(seL4_CapInitThreadCNode, copy, 64, seL4_CapInitThreadCNode, frame, 64, seL4_AllRights), 0);
  const vs = yield* newVSpace(vka);
  yield* mapIn(vka, frame, seL4_CapInitThreadVSpace, SHARED_A);
  yield* mapIn(vka, copy, vs, SHARED_B);
  // Both PTEs name the same physical page.
  const pa = walk(m, rootCap(m, seL4_CapInitThreadVSpace).paddr, SHARED_A).pte;
  const pb = walk(m, rootCap(m, vs).paddr, SHARED_B).pte;
  assert.equal(ptePaddr(pa), ptePaddr(pb));
  assert.equal(pteFlags(pb), LEAF | R | W | X);
  const go = yield* vka.allocObject(seL4_NotificationObject);
  const back = yield* vka.allocObject(seL4_NotificationObject);
  let seen = -1n;
  const other = m.registerProgram(function* (goN: number, backN: number) {
    yield* seL4_Wait(goN, null);
    seen = yield* sel4ts_Load(SHARED_B + 0x100);
    yield* sel4ts_Store(SHARED_B + 0x108, 0xbeefn);
    yield* seL4_Signal(backN);
  });
  yield* threadIn(vka, vs, other, { priority: 100, ipcVaddr: IPC_B, args: [go, back] });
  yield* sel4ts_Store(SHARED_A + 0x100, 0x1234_5678_9abcn);
  yield* seL4_Signal(go);
  yield* seL4_Wait(back, null);
  assert.equal(seen, 0x1234_5678_9abcn, 'B read what A wrote');
  assert.equal(yield* sel4ts_Load(SHARED_A + 0x108), 0xbeefn, 'A reads what B wrote');
});

rootTest('revoking the original frame cap unmaps its copies in every VSpace; a touch then faults (FRAMEDIPC0003, PAGEFAULT0001)', function* ({ m, vka }) {
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  const vs2 = yield* newVSpace(vka);
  const vs3 = yield* newVSpace(vka);
  const c2 = vka.allocSlot();
  const c3 = vka.allocSlot();
  assert.equal(yield* seL4_CNode_Copy(seL4_CapInitThreadCNode, c2, 64, seL4_CapInitThreadCNode, frame, 64, seL4_AllRights), 0);
  assert.equal(yield* seL4_CNode_Copy(seL4_CapInitThreadCNode, c3, 64, seL4_CapInitThreadCNode, frame, 64, CanRead), 0);
  yield* mapIn(vka, frame, seL4_CapInitThreadVSpace, SHARED_A);
  yield* mapIn(vka, c2, vs2, SHARED_B);
  yield* mapIn(vka, c3, vs3, SHARED_B, seL4_AllRights);
  const r2 = rootCap(m, vs2).paddr;
  const r3 = rootCap(m, vs3).paddr;
  assert.equal(pteFlags(walk(m, r3, SHARED_B).pte), LEAF | R | X, 'the read-only copy maps read-only');
  assert.equal(yield* seL4_CNode_Revoke(seL4_CapInitThreadCNode, frame, 64), 0);
  assert.equal(walk(m, r2, SHARED_B).pte, 0n, 'copy in VSpace 2 unmapped');
  assert.equal(walk(m, r3, SHARED_B).pte, 0n, 'copy in VSpace 3 unmapped');
  assert.ok(rootCap(m, c2).isNull && rootCap(m, c3).isNull);
  assert.notEqual(walk(m, rootCap(m, seL4_CapInitThreadVSpace).paddr, SHARED_A).pte, 0n, 'the original keeps its own mapping');
  // A thread of VSpace 2 touching the old address now faults to its handler.
  const faultEP = yield* vka.allocObject(seL4_EndpointObject);
  const reply = yield* vka.allocObject(seL4_ReplyObject);
  const toucher = m.registerProgram(function* () {
    yield* sel4ts_Load(SHARED_B + 0x20);
  });
  yield* threadIn(vka, vs2, toucher, { priority: 100, ipcVaddr: IPC_B, faultEP });
  const info = yield* seL4_Recv(faultEP, null, reply);
  assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_VMFault);
  assert.equal(seL4_MessageInfo_get_length(info), 4);
  assert.equal(seL4_GetMR(1), SHARED_B + 0x20);
  assert.equal(seL4_GetMR(2), 0);
  assert.equal(seL4_GetMR(3), 5, 'FSR: load');
});

rootTest('deleting a mapped frame cap unmaps it; faults of a TypeScript thread are read 5 / write 7 and restart after mapping (PAGEFAULT0001/0002)', function* ({ m, vka }) {
  const vs = yield* newVSpace(vka);
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  const copy = vka.allocSlot();
  assert.equal(yield* seL4_CNode_Copy(seL4_CapInitThreadCNode, copy, 64, seL4_CapInitThreadCNode, frame, 64, seL4_AllRights), 0);
  yield* mapIn(vka, copy, vs, SHARED_B, CanRead);
  assert.equal(yield* seL4_CNode_Delete(seL4_CapInitThreadCNode, copy, 64), 0);
  assert.equal(walk(m, rootCap(m, vs).paddr, SHARED_B).pte, 0n);
  const faultEP = yield* vka.allocObject(seL4_EndpointObject);
  const reply = yield* vka.allocObject(seL4_ReplyObject);
  const done = yield* vka.allocObject(seL4_NotificationObject);
  let loaded = -1n;
  const prog = m.registerProgram(function* (doneN: number) {
    loaded = yield* sel4ts_Load(SHARED_B + 8);
    yield* sel4ts_Store(SHARED_B + 8, 77);
    yield* seL4_Signal(doneN);
  });
  yield* threadIn(vka, vs, prog, { priority: 100, ipcVaddr: IPC_B, faultEP, args: [done] });
  let info = yield* seL4_Recv(faultEP, null, reply);
  assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_VMFault);
  assert.deepEqual([seL4_GetMR(1), seL4_GetMR(2), seL4_GetMR(3)], [SHARED_B + 8, 0, 5]);
  // Map read-only: the load completes, the store faults with FSR 7.
  const c2 = vka.allocSlot();
  assert.equal(yield* seL4_CNode_Copy(seL4_CapInitThreadCNode, c2, 64, seL4_CapInitThreadCNode, frame, 64, seL4_AllRights), 0);
  yield* mapIn(vka, c2, vs, SHARED_B, CanRead);
  info = yield* seL4_ReplyRecv(faultEP, seL4_MessageInfo_new(0, 0, 0, 0), null, reply);
  assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_VMFault);
  assert.deepEqual([seL4_GetMR(1), seL4_GetMR(2), seL4_GetMR(3)], [SHARED_B + 8, 0, 7]);
  assert.equal(loaded, 0n);
  yield* mapIn(vka, c2, vs, SHARED_B, seL4_AllRights);
  yield* seL4_ReplyRecv(done, seL4_MessageInfo_new(0, 0, 0, 0), null, reply);
  assert.equal(m.mem.read64(rootCap(m, frame).paddr + 8), 77n);
});
