import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseElf, ElfError, PF_R, PF_W, PF_X } from '../src/machine/elf.js';
import { Hart, TrapKind } from '../src/machine/hart.js';
import { PAGE_SIZE, PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X } from '../src/machine/sv39.js';
import { buildElf, type ElfSpec } from './support/elfbuild.js';
import * as A from './support/rv64asm.js';
import { Asm, a0, a1, zero } from './support/rv64asm.js';
import { TestVSpace, newMemory } from './support/sv39map.js';

const TEXT = 0x20_0000;
const DATA_VA = 0x20_1000;

function goodSpec(): ElfSpec {
  const code = new Asm(TEXT).i(A.auipc(a0, 1), A.ld(a1, a0, 8), A.ecall()).bytes();
  const data = new Uint8Array(16);
  new DataView(data.buffer).setBigUint64(8, 0x1111n, true);
  return {
    entry: TEXT,
    segments: [
      { vaddr: TEXT, data: code, flags: PF_R | PF_X },
      { vaddr: DATA_VA, data, memsz: 64, flags: PF_R | PF_W },
    ],
    symbols: [
      { name: '_start', value: TEXT, size: 12, type: 2 },
      { name: 'counter', value: DATA_VA + 8, size: 8 },
      { name: 'dup', value: 1, size: 0, bind: 0 },
      { name: 'dup', value: 2, size: 0, bind: 1 },
      { name: 'dup', value: 3, size: 0, bind: 0 },
    ],
    otherPhdrTypes: [4 /* PT_NOTE */, 0x6474e551 /* PT_GNU_STACK */],
  };
}

function expectElfError(bytes: Uint8Array, re: RegExp): void {
  assert.throws(
    () => parseElf(bytes),
    (e: unknown) => e instanceof ElfError && re.test(e.message),
    `expected ElfError matching ${re}`,
  );
}

test('parses entry, PT_LOAD segments and symbols of a good file', () => {
  const built = buildElf(goodSpec());
  const img = parseElf(built.bytes);
  assert.equal(img.entry, TEXT);
  assert.equal(img.segments.length, 2);
  const [text, data] = img.segments;
  assert.equal(text!.vaddr, TEXT);
  assert.equal(text!.filesz, 12);
  assert.equal(text!.memsz, 12);
  assert.equal(text!.flags, PF_R | PF_X);
  assert.equal(text!.offset, built.dataOffsets[0]);
  assert.deepEqual([...text!.data], [...built.bytes.subarray(built.dataOffsets[0]!, built.dataOffsets[0]! + 12)]);
  assert.equal(data!.vaddr, DATA_VA);
  assert.equal(data!.filesz, 16);
  assert.equal(data!.memsz, 64);
  assert.equal(data!.flags, PF_R | PF_W);
  assert.equal(data!.align, 0x1000);
  // Segment data is a copy: mutating it leaves the file alone.
  data!.data[0] = 0xaa;
  assert.equal(built.bytes[built.dataOffsets[1]!], 0);
  assert.deepEqual(img.symbols.get('counter'), { name: 'counter', value: DATA_VA + 8, size: 8, type: 1, bind: 1, shndx: 1 });
  assert.equal(img.symbols.get('_start')!.type, 2);
  assert.equal(img.symbols.get('dup')!.value, 2, 'a global symbol wins over locals of the same name');
  assert.equal(img.symbols.size, 3);
});

test('a file without section headers has no symbols; a subarray input works', () => {
  const spec = goodSpec();
  delete spec.symbols;
  const built = buildElf(spec);
  assert.equal(parseElf(built.bytes).symbols.size, 0);
  const padded = new Uint8Array(built.bytes.length + 16);
  padded.set(built.bytes, 16);
  assert.equal(parseElf(padded.subarray(16)).entry, TEXT);
});

test('bad files raise ElfError with a clear message', () => {
  const good = () => buildElf(goodSpec());
  const dvOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

  expectElfError(new Uint8Array(0), /not an ELF/);
  expectElfError(new Uint8Array([0x7f, 0x45]), /not an ELF/);
  expectElfError(new TextEncoder().encode('#!/bin/sh\necho hello\n'), /not an ELF/);
  expectElfError(good().bytes.subarray(0, 40), /truncated ELF header/);
  expectElfError(undefined as unknown as Uint8Array, /not an ELF/);

  let b = good().bytes;
  b[4] = 1;
  expectElfError(b, /wrong ELF class/);
  b = good().bytes;
  b[5] = 2;
  expectElfError(b, /little-endian/);
  b = good().bytes;
  dvOf(b).setUint16(18, 62, true); // EM_X86_64
  expectElfError(b, /wrong machine 62/);
  b = good().bytes;
  dvOf(b).setUint16(16, 3, true); // ET_DYN
  expectElfError(b, /not an executable/);
  b = good().bytes;
  dvOf(b).setUint16(54, 32, true);
  expectElfError(b, /e_phentsize/);

  // Program header table past the end of the file.
  b = good().bytes;
  dvOf(b).setUint32(32, b.length - 10, true);
  expectElfError(b, /program header table outside file/);

  // Segment bytes past the end of the file.
  let g = good();
  dvOf(g.bytes).setUint32(g.phoff + 32, g.bytes.length, true); // filesz of segment 0
  dvOf(g.bytes).setUint32(g.phoff + 40, g.bytes.length, true);
  expectElfError(g.bytes, /segment 0 outside file/);
  g = good();
  dvOf(g.bytes).setUint32(g.phoff + 8, g.bytes.length - 4, true); // offset of segment 0
  expectElfError(g.bytes, /segment 0 outside file/);

  // filesz > memsz.
  g = good();
  dvOf(g.bytes).setUint32(g.phoff + 56 + 40, 8, true);
  expectElfError(g.bytes, /filesz 16 > memsz 8/);

  // Overlapping segments.
  const spec = goodSpec();
  spec.segments[1]!.vaddr = TEXT + 8;
  expectElfError(buildElf(spec).bytes, /overlapping segments/);

  // Addresses that do not fit in 53 bits.
  g = good();
  dvOf(g.bytes).setUint32(28, 0xffffffff, true); // e_entry high word
  expectElfError(g.bytes, /e_entry does not fit/);
  g = good();
  dvOf(g.bytes).setUint32(g.phoff + 56 + 20, 0x001fffff, true); // vaddr just below 2^53, + memsz overflows
  dvOf(g.bytes).setUint32(g.phoff + 56 + 16, 0xfffffff0, true);
  expectElfError(g.bytes, /end address does not fit/);

  // Section header table and symbol table problems.
  g = good();
  dvOf(g.bytes).setUint32(40, g.bytes.length - 8, true);
  expectElfError(g.bytes, /section header table outside file/);
  g = good();
  dvOf(g.bytes).setUint16(58, 40, true);
  expectElfError(g.bytes, /e_shentsize/);
  g = good();
  dvOf(g.bytes).setUint32(g.shoff + 64 + 56, 16, true); // symtab entsize
  expectElfError(g.bytes, /symbol table entry size/);
  g = good();
  dvOf(g.bytes).setUint32(g.shoff + 64 + 40, 7, true); // sh_link
  expectElfError(g.bytes, /bad string table section 7/);
  g = good();
  dvOf(g.bytes).setUint32(g.shoff + 64 + 32, 100000, true); // symtab size
  expectElfError(g.bytes, /symbol table section outside file/);
  g = good();
  dvOf(g.bytes).setUint32(g.symtabOffset + 24, 5000, true); // st_name of symbol 1
  expectElfError(g.bytes, /name offset 5000 outside string table/);
  g = good();
  const strSize = dvOf(g.bytes).getUint32(g.shoff + 128 + 32, true);
  g.bytes[g.strtabOffset + strSize - 1] = 0x41; // last name loses its NUL
  expectElfError(g.bytes, /not NUL-terminated/);
});

test('mutated and truncated files raise only ElfError (property)', () => {
  const base = buildElf(goodSpec()).bytes;
  fc.assert(
    fc.property(
      fc.nat({ max: base.length }),
      fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      (len, flips) => {
        const b = base.slice(0, len);
        for (const [i, v] of flips) if (i < b.length) b[i] = v;
        try {
          parseElf(b);
        } catch (e) {
          assert.ok(e instanceof ElfError, `unexpected ${String(e)}`);
          // Every rejection comes from an explicit check, not from the catch-all.
          assert.ok(!e.message.startsWith('malformed ELF file'), e.message);
        }
      },
    ),
    { numRuns: 5000 },
  );
});

test('load an ELF over Sv39, patch a variable via its symbol, run it', () => {
  const img = parseElf(buildElf(goodSpec()).bytes);
  const mem = newMemory();
  const vs = new TestVSpace(mem);
  for (const seg of img.segments) {
    const flags =
      PTE_V | PTE_U | PTE_A | PTE_D | (seg.flags & PF_R ? PTE_R : 0) | (seg.flags & PF_W ? PTE_W : 0) | (seg.flags & PF_X ? PTE_X : 0);
    for (let off = 0; off < seg.memsz; off += PAGE_SIZE) {
      const frame = vs.mapNew(seg.vaddr + off, flags); // zeroed: covers the bss part
      const n = Math.max(0, Math.min(PAGE_SIZE, seg.filesz - off));
      if (n > 0) mem.bytes(frame, n).set(seg.data.subarray(off, off + n));
    }
  }
  // setvar: write 0x2a into `counter` through the page tables.
  const hart = new Hart(mem);
  hart.satpRoot = vs.root;
  const sym = img.symbols.get('counter')!;
  const frameOfData = Number(mem.read64(vs.slot(sym.value, 0)) >> 10n) * PAGE_SIZE;
  mem.write64(frameOfData + (sym.value % PAGE_SIZE), 0x2an);
  hart.pc = BigInt(img.entry);
  assert.equal(hart.run(100), TrapKind.Ecall);
  assert.equal(hart.getReg(a1), 0x2an);
  assert.equal(hart.getReg(zero), 0n);
});
