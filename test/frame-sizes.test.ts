/**
 * 4 KiB, 2 MiB and 1 GiB frames (seL4_RISCV_4K_Page, Mega_Page, Giga_Page):
 * where the leaf PTE lands in the Sv39 tables, the bytes it holds, and
 * sel4test FRAMEEXPORTS0001's touch test (16 samples across the frame,
 * mapped, remapped at the same address, then unmapped).
 */
import assert from 'node:assert/strict';
import { allocDeviceObject, errorMRs, LEAF, R, W, X, pteFlags, ptePaddr, rootCap, rootTest, walk } from './support/vspacehelp.js';
import {
  seL4_CapInitThreadVSpace,
  seL4_RISCV_4K_Page,
  seL4_RISCV_Giga_Page,
  seL4_RISCV_Mega_Page,
  seL4_RISCV_Page_Map,
  seL4_RISCV_Page_Unmap,
  seL4_RISCV_PageTable_Map,
  seL4_RISCV_PageTableObject,
  seL4_AllRights,
  seL4_ReadWrite,
  sel4ts_Load,
  sel4ts_Store,
} from '../src/user/index.js';
import { Access, TranslateResult, translate } from '../src/machine/sv39.js';

const VS = seL4_CapInitThreadVSpace;
const BASE = 0x20_0000_0000; // a free 1 GiB-aligned region of the root VSpace
const GiB = 2 ** 30;

/** touch_data: 16 samples at size/16 steps hold `old`, then `next`. */
function* touch(vaddr: number, sizeBits: number, old: number, next: number): Generator<unknown, void, unknown> {
  for (let i = 0; i < 16; i++) {
    const off = (2 ** sizeBits / 16) * i;
    assert.equal(yield* sel4ts_Load(vaddr + off, 1), BigInt(old), `byte at +0x${off.toString(16)}`);
    yield* sel4ts_Store(vaddr + off, next, 1);
    assert.equal(yield* sel4ts_Load(vaddr + off, 1), BigInt(next));
  }
}

rootTest('FRAMEEXPORTS0001: 4 KiB and 2 MiB frames map, are touched, remap at the same address and keep their bytes', function* ({ m, vka }) {
  const root = rootCap(m, VS).paddr;
  const l1 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(l1, VS, BASE, 0), 0);
  // 2 MiB: a leaf in the level-1 table.
  const mega = yield* vka.allocObject(seL4_RISCV_Mega_Page);
  const v2 = BASE + 2 * 2 ** 21;
  assert.equal(yield* seL4_RISCV_Page_Map(mega, VS, v2, seL4_ReadWrite, 0), 0);
  let w = walk(m, root, v2 + 0x12345);
  assert.equal(w.level, 1);
  assert.equal(pteFlags(w.pte), LEAF | R | W | X);
  assert.equal(ptePaddr(w.pte), rootCap(m, mega).paddr);
  assert.equal(rootCap(m, mega).paddr % 2 ** 21, 0, 'the frame is 2 MiB aligned');
  yield* touch(v2, 21, 0, 0x55);
  assert.equal(m.mem.read8(rootCap(m, mega).paddr + 2 ** 21 / 16), 0x55, 'the bytes are in the frame');
  assert.equal(yield* seL4_RISCV_Page_Map(mega, VS, v2, seL4_AllRights, 0), 0);
  yield* touch(v2, 21, 0x55, 0x56);
  // A 2 MiB frame where a level-2 table already covers the range: the walk
  // goes one level too far, FailedLookup with 12 bits left.
  const l2 = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  assert.equal(yield* seL4_RISCV_PageTable_Map(l2, VS, BASE, 0), 0);
  const mega2 = yield* vka.allocObject(seL4_RISCV_Mega_Page);
  assert.equal(yield* seL4_RISCV_Page_Map(mega2, VS, BASE, seL4_ReadWrite, 0), 6);
  assert.deepEqual(errorMRs(3), [0, 2, 12]);
  // 4 KiB: a leaf in the level-2 table.
  const small = yield* vka.allocObject(seL4_RISCV_4K_Page);
  assert.equal(yield* seL4_RISCV_Page_Map(small, VS, BASE + 0x3000, seL4_ReadWrite, 0), 0);
  w = walk(m, root, BASE + 0x3000);
  assert.equal(w.level, 0);
  assert.equal(ptePaddr(w.pte), rootCap(m, small).paddr);
  yield* touch(BASE + 0x3000, 12, 0, 0x77);
  assert.equal(yield* seL4_RISCV_Page_Map(small, VS, BASE + 0x3000, seL4_AllRights, 0), 0);
  yield* touch(BASE + 0x3000, 12, 0x77, 0x78);
  assert.equal(yield* seL4_RISCV_Page_Unmap(small), 0);
  assert.equal(yield* seL4_RISCV_Page_Unmap(mega), 0);
  assert.equal(walk(m, root, v2).pte, 0n);
});

rootTest('a 1 GiB (device) frame is a leaf in the root table and translates every offset', function* ({ m, bi, vka }) {
  const giga = yield* allocDeviceObject(vka, bi, seL4_RISCV_Giga_Page, 30);
  const cap = rootCap(m, giga);
  assert.equal(cap.sizeBits, 30);
  assert.equal(cap.isDevice, true);
  assert.equal(yield* seL4_RISCV_Page_Map(giga, VS, BASE + 0x1000_0000, seL4_ReadWrite, 0), 5, 'AlignmentError below 1 GiB alignment');
  assert.equal(yield* seL4_RISCV_Page_Map(giga, VS, BASE + GiB, seL4_ReadWrite, 0), 0);
  const root = rootCap(m, VS).paddr;
  const w = walk(m, root, BASE + GiB);
  assert.equal(w.level, 2);
  assert.equal(w.at, root + 8 * ((BASE + GiB) / GiB));
  assert.equal(pteFlags(w.pte), LEAF | R | W | X);
  assert.equal(ptePaddr(w.pte), cap.paddr);
  const tr = new TranslateResult();
  for (const off of [0, 0x1234_5678, GiB - 8]) {
    assert.ok(translate(m.mem, root, BASE + GiB + off, Access.Write, tr));
    assert.equal(tr.paddr, cap.paddr + off);
  }
  assert.equal(yield* seL4_RISCV_Page_Unmap(giga), 0);
  assert.equal(m.mem.read64(w.at), 0n);
});
