import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Access,
  FaultKind,
  TranslateResult,
  Tlb,
  translate,
  translateHiLo,
  faultCause,
  pteNew,
  pteLo,
  pteHi,
  ptePPN,
  ptePPNHiLo,
  pteFlags,
  pteIsLeaf,
  pteIsTable,
  vpn0,
  vpn1,
  vpn2,
  ptIndex,
  levelPageBits,
  isCanonicalHiLo,
  PTE_V,
  PTE_R,
  PTE_W,
  PTE_X,
  PTE_U,
  PTE_G,
  PTE_A,
  PTE_D,
  PAGE_SIZE,
  MEGA_PAGE_SIZE,
  GIGA_PAGE_SIZE,
} from '../src/machine/sv39.js';
import { TestVSpace, newMemory, RAM_BASE, URW, URX, UR, URWX } from './support/sv39map.js';

function setup() {
  const mem = newMemory();
  const vs = new TestVSpace(mem);
  return { mem, vs, out: new TranslateResult() };
}

test('PTE helpers: pteNew / pteLo / pteHi / ptePPN / pteFlags agree', () => {
  const pte = pteNew(0x80123, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D);
  assert.equal(pte, (0x80123n << 10n) | 0xd7n);
  assert.equal(ptePPN(pte), 0x80123);
  assert.equal(pteFlags(pte), 0xd7);
  assert.equal(BigInt(pteLo(0x80123, 0xd7)) | (BigInt(pteHi(0x80123)) << 32n), pte);
  assert.equal(ptePPNHiLo(pteHi(0x80123), pteLo(0x80123, 0xd7)), 0x80123);
  // Largest PPN (44 bits) round trips.
  const big = 2 ** 44 - 1;
  assert.equal(ptePPN(pteNew(big, PTE_V)), big);
  assert.equal(pteNew(big, 0) >> 54n, 0n);
  assert.ok(pteIsTable(PTE_V));
  assert.ok(!pteIsTable(PTE_V | PTE_R));
  assert.ok(pteIsLeaf(PTE_V | PTE_X));
  assert.ok(!pteIsLeaf(PTE_R | PTE_X));
});

test('PTE helpers round trip (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 44 - 1 }), fc.integer({ min: 0, max: 0x3ff }), (ppn, flags) => {
      const pte = pteNew(ppn, flags);
      assert.equal(ptePPN(pte), ppn);
      assert.equal(pteFlags(pte), flags);
      assert.equal(ptePPNHiLo(pteHi(ppn), pteLo(ppn, flags)), ppn);
    }),
  );
});

test('VPN helpers: spec numbering and seL4 numbering', () => {
  const va = (5 * 2 ** 30) + (7 * 2 ** 21) + (9 * 2 ** 12) + 0x123;
  assert.equal(vpn2(va), 5);
  assert.equal(vpn1(va), 7);
  assert.equal(vpn0(va), 9);
  assert.equal(ptIndex(va, 0), 5);
  assert.equal(ptIndex(va, 1), 7);
  assert.equal(ptIndex(va, 2), 9);
  assert.equal(levelPageBits(0), 30);
  assert.equal(levelPageBits(1), 21);
  assert.equal(levelPageBits(2), 12);
  // Upper-half addresses given as negative numbers.
  assert.equal(vpn2(-(2 ** 38)), 256);
  assert.equal(vpn2(-1), 511);
});

test('4 KiB page translates with offset, reports leaf details', () => {
  const { mem, vs, out } = setup();
  const frame = vs.allocPage();
  const slot = vs.map(0x10000, frame, URW);
  assert.ok(translate(mem, vs.root, 0x10abc, Access.Read, out));
  assert.equal(out.paddr, frame + 0xabc);
  assert.equal(out.pageSize, PAGE_SIZE);
  assert.equal(out.level, 0);
  assert.equal(out.pteAddr, slot);
  assert.equal(out.pte, Number(pteNew(frame / PAGE_SIZE, URW)));
  assert.equal(out.faultKind, FaultKind.None);
  assert.ok(translate(mem, vs.root, 0x10fff, Access.Write, out));
  assert.equal(out.paddr, frame + 0xfff);
  // The neighbouring page is unmapped.
  assert.ok(!translate(mem, vs.root, 0x11000, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.Invalid);
});

test('2 MiB superpage', () => {
  const { mem, vs, out } = setup();
  const phys = vs.allocAligned(MEGA_PAGE_SIZE, MEGA_PAGE_SIZE);
  vs.map(0x40_0000, phys, URW, 1);
  assert.ok(translate(mem, vs.root, 0x40_0000 + 0x1f_f123, Access.Write, out));
  assert.equal(out.paddr, phys + 0x1f_f123);
  assert.equal(out.pageSize, MEGA_PAGE_SIZE);
  assert.equal(out.level, 1);
});

test('1 GiB superpage', () => {
  const { mem, vs, out } = setup();
  vs.map(0x4000_0000, RAM_BASE, URW, 2); // RAM_BASE is 1 GiB aligned
  assert.ok(translate(mem, vs.root, 0x4000_0000 + 0x12_3456, Access.Read, out));
  assert.equal(out.paddr, RAM_BASE + 0x12_3456);
  assert.equal(out.pageSize, GIGA_PAGE_SIZE);
  assert.equal(out.level, 2);
});

test('misaligned superpages fault', () => {
  const { mem, vs, out } = setup();
  vs.map(0x40_0000, RAM_BASE + PAGE_SIZE, URW, 1); // 2 MiB leaf, PPN not 2 MiB aligned
  assert.ok(!translate(mem, vs.root, 0x40_0000, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.MisalignedSuperpage);
  vs.map(0x4000_0000, RAM_BASE + MEGA_PAGE_SIZE, URW, 2); // 1 GiB leaf, only 2 MiB aligned
  assert.ok(!translate(mem, vs.root, 0x4000_0000, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.MisalignedSuperpage);
  assert.equal(faultCause(out.faultKind, Access.Read), 13);
});

test('permissions: R, W, X checked per access type; X does not grant reads', () => {
  const { mem, vs, out } = setup();
  const f = vs.allocPage();
  vs.map(0x1000, f, UR);
  vs.map(0x2000, f, URX);
  vs.map(0x3000, f, PTE_V | PTE_X | PTE_U | PTE_A | PTE_D); // execute-only
  vs.map(0x4000, f, URWX);
  const cases: [number, Access, boolean][] = [
    [0x1000, Access.Read, true],
    [0x1000, Access.Write, false],
    [0x1000, Access.Execute, false],
    [0x2000, Access.Read, true],
    [0x2000, Access.Write, false],
    [0x2000, Access.Execute, true],
    [0x3000, Access.Read, false],
    [0x3000, Access.Write, false],
    [0x3000, Access.Execute, true],
    [0x4000, Access.Read, true],
    [0x4000, Access.Write, true],
    [0x4000, Access.Execute, true],
  ];
  for (const [va, acc, ok] of cases) {
    assert.equal(translate(mem, vs.root, va, acc, out), ok, `va 0x${va.toString(16)} access ${acc}`);
    if (!ok) {
      assert.equal(out.faultKind, FaultKind.Permission);
      assert.equal(faultCause(out.faultKind, acc), acc === Access.Read ? 13 : acc === Access.Write ? 15 : 12);
    }
  }
});

test('user accesses need U=1 (kernel mappings are invisible)', () => {
  const { mem, vs, out } = setup();
  vs.map(0x1000, vs.allocPage(), PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G);
  for (const acc of [Access.Read, Access.Write, Access.Execute]) {
    assert.ok(!translate(mem, vs.root, 0x1000, acc, out));
    assert.equal(out.faultKind, FaultKind.NotUser);
  }
  // G has no effect on a user mapping.
  vs.map(0x2000, vs.allocPage(), URW | PTE_G);
  assert.ok(translate(mem, vs.root, 0x2000, Access.Write, out));
});

test('reserved encodings fault: W without R, high bits, non-leaf D/A/U', () => {
  const { mem, vs, out } = setup();
  const f = vs.allocPage();
  vs.map(0x1000, f, PTE_V | PTE_W | PTE_U | PTE_A | PTE_D);
  vs.map(0x2000, f, PTE_V | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
  for (const va of [0x1000, 0x2000]) {
    for (const acc of [Access.Read, Access.Write, Access.Execute]) {
      assert.ok(!translate(mem, vs.root, va, acc, out));
      assert.equal(out.faultKind, FaultKind.Reserved);
    }
  }
  // Bits 63..54 (reserved, PBMT, N) must be zero.
  for (const bit of [54n, 61n, 62n, 63n]) {
    const s = vs.map(0x3000, f, URW);
    mem.write64(s, mem.read64(s) | (1n << bit));
    assert.ok(!translate(mem, vs.root, 0x3000, Access.Read, out), `bit ${bit}`);
    assert.equal(out.faultKind, FaultKind.Reserved);
  }
  // D, A or U set in a table pointer.
  for (const flag of [PTE_D, PTE_A, PTE_U]) {
    const { mem: m2, vs: v2, out: o2 } = setup();
    v2.map(0x5000, v2.allocPage(), URW);
    const rootSlot = v2.root + vpn2(0x5000) * 8;
    m2.write32(rootSlot, m2.read32(rootSlot) | flag);
    assert.ok(!translate(m2, v2.root, 0x5000, Access.Read, o2));
    assert.equal(o2.faultKind, FaultKind.Reserved);
  }
});

test('invalid PTEs: V=0 at each level, table pointer at the last level', () => {
  const { mem, vs, out } = setup();
  // Nothing mapped: root entry invalid.
  assert.ok(!translate(mem, vs.root, 0x1000, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.Invalid);
  assert.equal(out.pteAddr, vs.root + vpn2(0x1000) * 8);
  // Tables exist but the leaf is invalid.
  const s = vs.slot(0x1000, 0);
  assert.ok(!translate(mem, vs.root, 0x1000, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.Invalid);
  assert.equal(out.pteAddr, s);
  // A leaf with all permission bits but V=0.
  vs.map(0x1000, vs.allocPage(), URW & ~PTE_V);
  assert.ok(!translate(mem, vs.root, 0x1000, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.Invalid);
  // A "table pointer" (V only) in a level-0 table.
  vs.map(0x2000, vs.allocPage(), PTE_V);
  assert.ok(!translate(mem, vs.root, 0x2000, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.Invalid);
});

test('A=0 faults every access, D=0 faults writes only (no Svadu)', () => {
  const { mem, vs, out } = setup();
  const f = vs.allocPage();
  vs.map(0x1000, f, URWX & ~PTE_A);
  for (const acc of [Access.Read, Access.Write, Access.Execute]) {
    assert.ok(!translate(mem, vs.root, 0x1000, acc, out));
    assert.equal(out.faultKind, FaultKind.NotAccessed);
  }
  vs.map(0x2000, f, URWX & ~PTE_D);
  assert.ok(translate(mem, vs.root, 0x2000, Access.Read, out));
  assert.ok(translate(mem, vs.root, 0x2000, Access.Execute, out));
  assert.ok(!translate(mem, vs.root, 0x2000, Access.Write, out));
  assert.equal(out.faultKind, FaultKind.NotDirty);
  assert.equal(faultCause(out.faultKind, Access.Write), 15);
  // The walk never sets A or D.
  assert.equal(pteFlags(mem.read64(vs.slot(0x2000, 0))) & PTE_D, 0);
});

test('non-canonical addresses fault; upper-half canonical addresses translate', () => {
  const { mem, vs, out } = setup();
  const f = vs.allocPage();
  // Highest lower-half page and lowest upper-half page.
  vs.map(2 ** 38 - PAGE_SIZE, f, URW);
  vs.map(-(2 ** 38), f, URW);
  assert.ok(translate(mem, vs.root, 2 ** 38 - 1, Access.Read, out));
  assert.equal(out.paddr, f + 0xfff);
  for (const va of [2 ** 38, 2 ** 39, 2 ** 52, 2 ** 63, -(2 ** 38) - 1, 0.5, NaN, 2 ** 64]) {
    assert.ok(!translate(mem, vs.root, va, Access.Read, out), `va ${va}`);
    assert.equal(out.faultKind, FaultKind.NonCanonical);
    assert.equal(faultCause(out.faultKind, Access.Read), 13);
  }
  // 0xffffffc0_00000010 as a negative number, an unsigned number and hi/lo.
  assert.ok(translate(mem, vs.root, -(2 ** 38) + 0x10, Access.Write, out));
  assert.equal(out.paddr, f + 0x10);
  // Unsigned numbers above 2^53 are only exact when their low bits are zero.
  assert.ok(translate(mem, vs.root, 2 ** 64 - 2 ** 38 + 0x800, Access.Write, out));
  assert.equal(out.paddr, f + 0x800);
  assert.ok(translateHiLo(mem, vs.root, 0xffffffc0, 0x10, Access.Write, out));
  assert.equal(out.paddr, f + 0x10);
  // Bit 38 set but bits 63..39 clear, and vice versa.
  assert.ok(!translateHiLo(mem, vs.root, 0x40, 0, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.NonCanonical);
  assert.ok(!translateHiLo(mem, vs.root, 0xffffff80, 0, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.NonCanonical);
  assert.ok(!translateHiLo(mem, vs.root, 0x80000000, 0, Access.Read, out));
  assert.ok(isCanonicalHiLo(0x3f, 0xffffffff));
  assert.ok(isCanonicalHiLo(-1, 0));
  assert.ok(!isCanonicalHiLo(0x7f, 0));
});

test('no root: every access page faults', () => {
  const { mem, out } = setup();
  assert.ok(!translate(mem, -1, 0x1000, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.NoRoot);
  assert.equal(faultCause(out.faultKind, Access.Execute), 12);
});

test('page tables outside RAM give access faults of the access type', () => {
  const { mem, vs, out } = setup();
  for (const acc of [Access.Read, Access.Write, Access.Execute]) {
    assert.ok(!translate(mem, 0x1000_0000, 0x1000, acc, out)); // a device page
    assert.equal(out.faultKind, FaultKind.PteAccess);
    assert.equal(faultCause(out.faultKind, acc), acc === Access.Read ? 5 : acc === Access.Write ? 7 : 1);
  }
  // A table pointer to a hole in the physical address map.
  const rootSlot = vs.root + vpn2(0x1000) * 8;
  vs.writePte(rootSlot, 0x4000, PTE_V);
  assert.ok(!translate(mem, vs.root, 0x1000, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.PteAccess);
  // A leaf may point anywhere: translation succeeds, the access decides.
  vs.map(0x4000_0000, 0x1000_0000, URW);
  assert.ok(translate(mem, vs.root, 0x4000_0008, Access.Write, out));
  assert.equal(out.paddr, 0x1000_0008);
});

test('translation is deterministic over random 4 KiB mappings (property)', () => {
  const { mem, vs, out } = setup();
  const mapped = new Map<number, number>();
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 26 - 1 }), fc.integer({ min: 0, max: 4095 }), (page, off) => {
      let frame = mapped.get(page);
      if (frame === undefined && mapped.size < 200) {
        frame = vs.allocPage();
        vs.map(page * PAGE_SIZE, frame, URW);
        mapped.set(page, frame);
      }
      const ok = translate(mem, vs.root, page * PAGE_SIZE + off, Access.Read, out);
      assert.equal(ok, frame !== undefined);
      if (frame !== undefined) assert.equal(out.paddr, frame + off);
    }),
    { numRuns: 500 },
  );
});

test('TLB caches per access type until flush()', () => {
  const { mem, vs, out } = setup();
  const tlb = new Tlb(64);
  const f = vs.allocPage();
  vs.map(0x7000, f, UR);
  assert.ok(tlb.translate(mem, vs.root, 0x7010, Access.Read, out));
  assert.equal(out.paddr, f + 0x10);
  // A cached read does not allow writes.
  assert.ok(!tlb.translate(mem, vs.root, 0x7010, Access.Write, out));
  assert.equal(out.faultKind, FaultKind.Permission);
  // Unmap without flush: the stale translation is still used (like hardware without sfence).
  vs.unmap(0x7000);
  assert.ok(tlb.translate(mem, vs.root, 0x7020, Access.Read, out));
  assert.equal(out.paddr, f + 0x20);
  tlb.flush();
  assert.ok(!tlb.translate(mem, vs.root, 0x7020, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.Invalid);
  // Upper-half and non-canonical addresses through the TLB.
  vs.map(-(2 ** 38), f, URW);
  assert.ok(tlb.translateHiLo(mem, vs.root, 0xffffffc0, 0x44, Access.Write, out));
  assert.equal(out.paddr, f + 0x44);
  assert.ok(tlb.translateHiLo(mem, vs.root, 0xffffffc0, 0x48, Access.Write, out)); // hit
  assert.equal(out.paddr, f + 0x48);
  assert.ok(!tlb.translate(mem, vs.root, 2 ** 40, Access.Read, out));
  assert.equal(out.faultKind, FaultKind.NonCanonical);
  // Region index: RAM page -> 0, device page -> -1.
  vs.map(0x9000, 0x1000_0000, URW);
  assert.ok(tlb.translate(mem, vs.root, 0x9000, Access.Read, out));
  const slot = tlb.lookup(0x9, Access.Read);
  assert.ok(slot >= 0);
  assert.equal(tlb.region[slot], -1);
  assert.equal(tlb.region[tlb.lookup(-(2 ** 26), Access.Write)], 0);
});
