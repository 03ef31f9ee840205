/**
 * Builds small ELF64 LE RISC-V executables in memory for tests: an ELF
 * header, program headers for the given segments, the segment bytes, and
 * optionally a .symtab/.strtab pair. Fields can be overridden afterwards with
 * the returned layout offsets to make broken files.
 */

export interface SegmentSpec {
  vaddr: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  memsz?: number;
  /** PF_R = 4, PF_W = 2, PF_X = 1. */
  flags: number;
}

export interface SymbolSpec {
  name: string;
  value: number;
  size: number;
  /** STT_*; default 1 (OBJECT). */
  type?: number;
  /** STB_*; default 1 (GLOBAL). */
  bind?: number;
  /** Default 1 (some section). */
  shndx?: number;
}

export interface ElfSpec {
  entry: number;
  segments: SegmentSpec[];
  symbols?: SymbolSpec[];
  /** Extra program headers of other types (e.g. PT_NOTE = 4) with no data. */
  otherPhdrTypes?: number[];
}

export interface BuiltElf {
  bytes: Uint8Array;
  phoff: number;
  /** File offset of each segment's data. */
  dataOffsets: number[];
  shoff: number;
  symtabOffset: number;
  strtabOffset: number;
}

const EHDR = 64;
const PHDR = 56;
const SHDR = 64;
const SYM = 24;

function align(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

export function buildElf(spec: ElfSpec): BuiltElf {
  const phnum = spec.segments.length + (spec.otherPhdrTypes?.length ?? 0);
  const phoff = EHDR;
  let pos = phoff + phnum * PHDR;
  const dataOffsets: number[] = [];
  for (const s of spec.segments) {
    pos = align(pos, 8);
    dataOffsets.push(pos);
    pos += s.data.length;
  }
  // Symbol table: null symbol + one per spec symbol; strtab: "\0name\0..."
  const symbols = spec.symbols ?? [];
  const enc = new TextEncoder();
  const names = symbols.map((s) => enc.encode(s.name));
  const strtabSize = 1 + names.reduce((n, b) => n + b.length + 1, 0);
  const hasSyms = symbols.length > 0;
  pos = align(pos, 8);
  const symtabOffset = pos;
  if (hasSyms) pos += (symbols.length + 1) * SYM;
  const strtabOffset = pos;
  if (hasSyms) pos += strtabSize;
  pos = align(pos, 8);
  const shoff = hasSyms ? pos : 0;
  const shnum = hasSyms ? 3 : 0; // null, .symtab, .strtab
  if (hasSyms) pos += shnum * SHDR;

  const bytes = new Uint8Array(pos);
  const dv = new DataView(bytes.buffer);
  const u64 = (off: number, v: number) => {
    dv.setUint32(off, v % 4294967296, true);
    dv.setUint32(off + 4, Math.floor(v / 4294967296), true);
  };
  // ELF header
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 243, true); // EM_RISCV
  dv.setUint32(20, 1, true);
  u64(24, spec.entry);
  u64(32, phnum > 0 ? phoff : 0);
  u64(40, shoff);
  dv.setUint32(48, 0x5, true); // RVC | double-float ABI bits (informational)
  dv.setUint16(52, EHDR, true);
  dv.setUint16(54, PHDR, true);
  dv.setUint16(56, phnum, true);
  dv.setUint16(58, SHDR, true);
  dv.setUint16(60, shnum, true);
  dv.setUint16(62, hasSyms ? 2 : 0, true);
  // Program headers
  spec.segments.forEach((s, i) => {
    const p = phoff + i * PHDR;
    dv.setUint32(p, 1, true); // PT_LOAD
    dv.setUint32(p + 4, s.flags, true);
    u64(p + 8, dataOffsets[i]!);
    u64(p + 16, s.vaddr);
    u64(p + 24, s.vaddr);
    u64(p + 32, s.data.length);
    u64(p + 40, s.memsz ?? s.data.length);
    u64(p + 48, 0x1000);
    bytes.set(s.data, dataOffsets[i]!);
  });
  (spec.otherPhdrTypes ?? []).forEach((t, k) => {
    const p = phoff + (spec.segments.length + k) * PHDR;
    dv.setUint32(p, t, true);
  });
  if (hasSyms) {
    let strPos = 1;
    symbols.forEach((s, i) => {
      const e = symtabOffset + (i + 1) * SYM;
      dv.setUint32(e, strPos, true);
      bytes[e + 4] = ((s.bind ?? 1) << 4) | (s.type ?? 1);
      dv.setUint16(e + 6, s.shndx ?? 1, true);
      u64(e + 8, s.value);
      u64(e + 16, s.size);
      bytes.set(names[i]!, strtabOffset + strPos);
      strPos += names[i]!.length + 1;
    });
    // Section 1: .symtab
    const s1 = shoff + SHDR;
    dv.setUint32(s1 + 4, 2, true); // SHT_SYMTAB
    u64(s1 + 24, symtabOffset);
    u64(s1 + 32, (symbols.length + 1) * SYM);
    dv.setUint32(s1 + 40, 2, true); // sh_link -> .strtab
    dv.setUint32(s1 + 44, 1, true);
    u64(s1 + 56, SYM);
    // Section 2: .strtab
    const s2 = shoff + 2 * SHDR;
    dv.setUint32(s2 + 4, 3, true); // SHT_STRTAB
    u64(s2 + 24, strtabOffset);
    u64(s2 + 32, strtabSize);
  }
  return { bytes, phoff, dataOffsets, shoff, symtabOffset, strtabOffset };
}
