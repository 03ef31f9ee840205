/**
 * ELF64 little-endian RISC-V executable parser (System V gABI + RISC-V psABI:
 * EM_RISCV = 243).
 *
 * `parseElf` returns what a loader needs: the entry point, the PT_LOAD
 * segments (with a copy of their file bytes) and the symbol table (so a loader
 * can patch variables, as Microkit's setvar does). Any malformed input raises
 * ElfError, and nothing else.
 *
 * Numbers: addresses, sizes and offsets are numbers. Entry, segment fields and
 * file offsets must be below 2^53 (else ElfError); symbol values above 2^53
 * (never a user address) are kept as the nearest double.
 */

export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfError';
  }
}

/** Segment permission bits (p_flags). */
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const EM_RISCV = 243;
export const ET_EXEC = 2;
export const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;

export interface ElfSegment {
  /** Virtual address of the first byte. */
  readonly vaddr: number;
  /** Size in memory (filesz bytes from the file, then zeros). */
  readonly memsz: number;
  /** Bytes taken from the file. */
  readonly filesz: number;
  /** PF_R | PF_W | PF_X bits. */
  readonly flags: number;
  /** Offset of the bytes in the file. */
  readonly offset: number;
  /** p_align. */
  readonly align: number;
  /** Copy of the file bytes (length filesz). */
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  readonly name: string;
  readonly value: number;
  readonly size: number;
  /** STT_* (low 4 bits of st_info): 0 NOTYPE, 1 OBJECT, 2 FUNC, ... */
  readonly type: number;
  /** STB_* (st_info >> 4): 0 LOCAL, 1 GLOBAL, 2 WEAK. */
  readonly bind: number;
  /** Section index (0 = undefined, 0xfff1 = absolute). */
  readonly shndx: number;
}

export interface ElfImage {
  readonly entry: number;
  /** e_flags (RISC-V: RVC and float ABI bits). */
  readonly flags: number;
  /** PT_LOAD segments in file order. */
  readonly segments: readonly ElfSegment[];
  /** Named symbols; a global/weak symbol wins over a local one of the same name. */
  readonly symbols: ReadonlyMap<string, ElfSymbol>;
}

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const STT_SECTION = 3;
const STT_FILE = 4;
const STB_LOCAL = 0;

/** Bounds-checked little-endian reader raising ElfError. */
class Reader {
  private readonly dv: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.length;
  }
  private check(off: number, len: number, what: string): void {
    if (off < 0 || off + len > this.bytes.length) throw new ElfError(`truncated file: ${what} at offset ${off} is outside the file`);
  }
  u8(off: number, what: string): number {
    this.check(off, 1, what);
    return this.dv.getUint8(off);
  }
  u16(off: number, what: string): number {
    this.check(off, 2, what);
    return this.dv.getUint16(off, true);
  }
  u32(off: number, what: string): number {
    this.check(off, 4, what);
    return this.dv.getUint32(off, true);
  }
  /** A u64 that must be below 2^53. */
  u64(off: number, what: string): number {
    const v = this.u64Loose(off, what);
    if (!Number.isSafeInteger(v)) throw new ElfError(`${what} does not fit in 53 bits`);
    return v;
  }
  /** A u64 as the nearest double. */
  u64Loose(off: number, what: string): number {
    this.check(off, 8, what);
    return this.dv.getUint32(off + 4, true) * 4294967296 + this.dv.getUint32(off, true);
  }
}

/** Parse an ELF64 LE RISC-V executable. Throws ElfError (only) on bad input. */
export function parseElf(bytes: Uint8Array): ElfImage {
  try {
    return parse(bytes);
  } catch (e) {
    if (e instanceof ElfError) throw e;
    // Defensive: every check above should have caught malformed input first.
    throw new ElfError(`malformed ELF file: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function parse(bytes: Uint8Array): ElfImage {
  if (!(bytes instanceof Uint8Array)) throw new ElfError('not an ELF file: input is not a byte array');
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError('not an ELF file (bad magic)');
  }
  if (bytes.length < EHDR_SIZE) throw new ElfError(`truncated ELF header (${bytes.length} bytes, need ${EHDR_SIZE})`);
  const r = new Reader(bytes);
  const cls = bytes[4];
  if (cls !== 2) throw new ElfError(`wrong ELF class ${cls} (need 2, ELFCLASS64)`);
  const data = bytes[5];
  if (data !== 1) throw new ElfError(`wrong ELF data encoding ${data} (need 1, little-endian)`);
  if (bytes[6] !== 1) throw new ElfError(`unsupported ELF version ${bytes[6]}`);
  const type = r.u16(16, 'e_type');
  const machine = r.u16(18, 'e_machine');
  if (machine !== EM_RISCV) throw new ElfError(`wrong machine ${machine} (need ${EM_RISCV}, EM_RISCV)`);
  if (type !== ET_EXEC) throw new ElfError(`not an executable: e_type ${type} (need ${ET_EXEC}, ET_EXEC)`);
  const entry = r.u64(24, 'e_entry');
  const phoff = r.u64(32, 'e_phoff');
  const shoff = r.u64(40, 'e_shoff');
  const flags = r.u32(48, 'e_flags');
  const phentsize = r.u16(54, 'e_phentsize');
  const phnum = r.u16(56, 'e_phnum');
  const shentsize = r.u16(58, 'e_shentsize');
  let shnum = r.u16(60, 'e_shnum');

  // Program headers.
  const segments: ElfSegment[] = [];
  if (phnum > 0) {
    if (phentsize !== PHDR_SIZE) throw new ElfError(`bad e_phentsize ${phentsize} (need ${PHDR_SIZE})`);
    if (phoff + phnum * PHDR_SIZE > bytes.length) throw new ElfError('program header table outside file');
  }
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * PHDR_SIZE;
    if (r.u32(p, 'p_type') !== PT_LOAD) continue;
    const pflags = r.u32(p + 4, 'p_flags');
    const offset = r.u64(p + 8, `segment ${i} p_offset`);
    const vaddr = r.u64(p + 16, `segment ${i} p_vaddr`);
    const filesz = r.u64(p + 32, `segment ${i} p_filesz`);
    const memsz = r.u64(p + 40, `segment ${i} p_memsz`);
    const align = r.u64Loose(p + 48, 'p_align');
    if (offset + filesz > bytes.length) {
      throw new ElfError(`segment ${i} outside file (offset ${offset} + filesz ${filesz} > file size ${bytes.length})`);
    }
    if (filesz > memsz) throw new ElfError(`segment ${i} has filesz ${filesz} > memsz ${memsz}`);
    if (!Number.isSafeInteger(vaddr + memsz)) throw new ElfError(`segment ${i} end address does not fit in 53 bits`);
    segments.push({
      vaddr,
      memsz,
      filesz,
      flags: pflags & (PF_R | PF_W | PF_X),
      offset,
      align,
      data: bytes.slice(offset, offset + filesz),
    });
  }
  // Overlap check in virtual memory (empty segments occupy nothing).
  const sorted = segments.filter((s) => s.memsz > 0).sort((a, b) => a.vaddr - b.vaddr);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (prev.vaddr + prev.memsz > cur.vaddr) {
      throw new ElfError(
        `overlapping segments: [0x${prev.vaddr.toString(16)}, 0x${(prev.vaddr + prev.memsz).toString(16)}) and ` +
          `[0x${cur.vaddr.toString(16)}, 0x${(cur.vaddr + cur.memsz).toString(16)})`,
      );
    }
  }

  // Section headers: only the symbol table and its string table are used.
  const symbols = new Map<string, ElfSymbol>();
  if (shoff !== 0) {
    if (shentsize !== SHDR_SIZE) throw new ElfError(`bad e_shentsize ${shentsize} (need ${SHDR_SIZE})`);
    if (shoff + SHDR_SIZE > bytes.length) throw new ElfError('section header table outside file');
    if (shnum === 0) shnum = r.u64(shoff + 32, 'extended section count'); // SHN_UNDEF's sh_size
    if (shoff + shnum * SHDR_SIZE > bytes.length) throw new ElfError('section header table outside file');
    for (let i = 0; i < shnum; i++) {
      const s = shoff + i * SHDR_SIZE;
      if (r.u32(s + 4, 'sh_type') !== SHT_SYMTAB) continue;
      readSymtab(r, shoff, shnum, s, symbols);
    }
  }

  return { entry, flags, segments, symbols };
}

function sectionData(r: Reader, s: number, what: string): { offset: number; size: number } {
  const type = r.u32(s + 4, 'sh_type');
  const offset = r.u64(s + 24, `${what} sh_offset`);
  const size = type === SHT_NOBITS ? 0 : r.u64(s + 32, `${what} sh_size`);
  if (offset + size > r.length) throw new ElfError(`${what} section outside file`);
  return { offset, size };
}

const decoder = new TextDecoder('utf-8');

function readSymtab(r: Reader, shoff: number, shnum: number, s: number, out: Map<string, ElfSymbol>): void {
  const tab = sectionData(r, s, 'symbol table');
  const entsize = r.u64(s + 56, 'symbol table sh_entsize');
  if (entsize !== SYM_SIZE) throw new ElfError(`bad symbol table entry size ${entsize} (need ${SYM_SIZE})`);
  const link = r.u32(s + 40, 'symbol table sh_link');
  if (link === 0 || link >= shnum) throw new ElfError(`symbol table links to bad string table section ${link}`);
  const str = sectionData(r, shoff + link * SHDR_SIZE, 'string table');
  const count = Math.floor(tab.size / SYM_SIZE);
  for (let i = 1; i < count; i++) {
    const e = tab.offset + i * SYM_SIZE;
    const nameOff = r.u32(e, 'st_name');
    const info = r.u8(e + 4, 'st_info');
    const shndx = r.u16(e + 6, 'st_shndx');
    const value = r.u64Loose(e + 8, 'st_value');
    const size = r.u64Loose(e + 16, 'st_size');
    const type = info & 0xf;
    const bind = info >> 4;
    if (nameOff === 0 || type === STT_SECTION || type === STT_FILE) continue;
    if (nameOff >= str.size) throw new ElfError(`symbol ${i} name offset ${nameOff} outside string table`);
    const start = str.offset + nameOff;
    const limit = str.offset + str.size;
    let end = start;
    while (end < limit && r.bytes[end] !== 0) end++;
    if (end === limit) throw new ElfError(`symbol ${i} name is not NUL-terminated`);
    const name = decoder.decode(r.bytes.subarray(start, end));
    const prev = out.get(name);
    if (prev !== undefined && !(prev.bind === STB_LOCAL && bind !== STB_LOCAL)) continue;
    out.set(name, { name, value, size, type, bind, shndx });
  }
}
