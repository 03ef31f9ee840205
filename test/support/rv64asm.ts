/**
 * A tiny RV64IMAC encoder for tests: one function per instruction returning
 * its encoding (a 32-bit number, or a 16-bit number for the c_* forms), and
 * an `Asm` builder that lays them out with labels for branches and jumps.
 * Register arguments are numbers 0..31 (see the ABI names below).
 */

// ABI register names.
export const zero = 0, ra = 1, sp = 2, gp = 3, tp = 4;
export const t0 = 5, t1 = 6, t2 = 7, s0 = 8, s1 = 9;
export const a0 = 10, a1 = 11, a2 = 12, a3 = 13, a4 = 14, a5 = 15, a6 = 16, a7 = 17;
export const s2 = 18, s3 = 19, s4 = 20, s5 = 21, t3 = 28, t4 = 29, t5 = 30, t6 = 31;

function checkImm(imm: number, bits: number, what: string): void {
  const min = -(2 ** (bits - 1));
  const max = 2 ** (bits - 1) - 1;
  if (!Number.isInteger(imm) || imm < min || imm > max) throw new RangeError(`${what} immediate ${imm} out of range`);
}

export function rType(f7: number, rs2: number, rs1: number, f3: number, rd: number, op: number): number {
  return ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
}
export function iType(imm: number, rs1: number, f3: number, rd: number, op: number): number {
  checkImm(imm, 12, 'I-type');
  return (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
}
export function sType(imm: number, rs2: number, rs1: number, f3: number, op: number): number {
  checkImm(imm, 12, 'S-type');
  return ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | op) >>> 0;
}
export function bType(imm: number, rs2: number, rs1: number, f3: number): number {
  checkImm(imm, 13, 'B-type');
  if (imm & 1) throw new RangeError('odd branch offset');
  return (
    (((imm >> 12) & 1) << 31) |
    (((imm >> 5) & 0x3f) << 25) |
    (rs2 << 20) |
    (rs1 << 15) |
    (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) |
    (((imm >> 11) & 1) << 7) |
    0x63
  ) >>> 0;
}
export function uType(imm20: number, rd: number, op: number): number {
  return (((imm20 & 0xfffff) << 12) | (rd << 7) | op) >>> 0;
}
export function jType(imm: number, rd: number): number {
  checkImm(imm, 21, 'J-type');
  if (imm & 1) throw new RangeError('odd jump offset');
  return (
    (((imm >> 20) & 1) << 31) |
    (((imm >> 1) & 0x3ff) << 21) |
    (((imm >> 11) & 1) << 20) |
    (((imm >> 12) & 0xff) << 12) |
    (rd << 7) |
    0x6f
  ) >>> 0;
}

// RV64I
export const lui = (rd: number, imm20: number) => uType(imm20, rd, 0x37);
export const auipc = (rd: number, imm20: number) => uType(imm20, rd, 0x17);
export const jal = (rd: number, off: number) => jType(off, rd);
export const jalr = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 0, rd, 0x67);
export const beq = (rs1: number, rs2: number, off: number) => bType(off, rs2, rs1, 0);
export const bne = (rs1: number, rs2: number, off: number) => bType(off, rs2, rs1, 1);
export const blt = (rs1: number, rs2: number, off: number) => bType(off, rs2, rs1, 4);
export const bge = (rs1: number, rs2: number, off: number) => bType(off, rs2, rs1, 5);
export const bltu = (rs1: number, rs2: number, off: number) => bType(off, rs2, rs1, 6);
export const bgeu = (rs1: number, rs2: number, off: number) => bType(off, rs2, rs1, 7);
export const lb = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 0, rd, 0x03);
export const lh = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 1, rd, 0x03);
export const lw = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 2, rd, 0x03);
export const ld = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 3, rd, 0x03);
export const lbu = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 4, rd, 0x03);
export const lhu = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 5, rd, 0x03);
export const lwu = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 6, rd, 0x03);
export const sb = (rs2: number, rs1: number, imm = 0) => sType(imm, rs2, rs1, 0, 0x23);
export const sh = (rs2: number, rs1: number, imm = 0) => sType(imm, rs2, rs1, 1, 0x23);
export const sw = (rs2: number, rs1: number, imm = 0) => sType(imm, rs2, rs1, 2, 0x23);
export const sd = (rs2: number, rs1: number, imm = 0) => sType(imm, rs2, rs1, 3, 0x23);
export const addi = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 0, rd, 0x13);
export const slti = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 2, rd, 0x13);
export const sltiu = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 3, rd, 0x13);
export const xori = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 4, rd, 0x13);
export const ori = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 6, rd, 0x13);
export const andi = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 7, rd, 0x13);
export const slli = (rd: number, rs1: number, sh: number) => (rType(0, 0, rs1, 1, rd, 0x13) | ((sh & 63) << 20)) >>> 0;
export const srli = (rd: number, rs1: number, sh: number) => (rType(0, 0, rs1, 5, rd, 0x13) | ((sh & 63) << 20)) >>> 0;
export const srai = (rd: number, rs1: number, sh: number) => (rType(0x20, 0, rs1, 5, rd, 0x13) | ((sh & 63) << 20)) >>> 0;
export const add = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 0, rd, 0x33);
export const sub = (rd: number, rs1: number, rs2: number) => rType(0x20, rs2, rs1, 0, rd, 0x33);
export const sll = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 1, rd, 0x33);
export const slt = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 2, rd, 0x33);
export const sltu = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 3, rd, 0x33);
export const xor = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 4, rd, 0x33);
export const srl = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 5, rd, 0x33);
export const sra = (rd: number, rs1: number, rs2: number) => rType(0x20, rs2, rs1, 5, rd, 0x33);
export const or = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 6, rd, 0x33);
export const and = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 7, rd, 0x33);
export const addiw = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 0, rd, 0x1b);
export const slliw = (rd: number, rs1: number, sh: number) => rType(0, sh & 31, rs1, 1, rd, 0x1b);
export const srliw = (rd: number, rs1: number, sh: number) => rType(0, sh & 31, rs1, 5, rd, 0x1b);
export const sraiw = (rd: number, rs1: number, sh: number) => rType(0x20, sh & 31, rs1, 5, rd, 0x1b);
export const addw = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 0, rd, 0x3b);
export const subw = (rd: number, rs1: number, rs2: number) => rType(0x20, rs2, rs1, 0, rd, 0x3b);
export const sllw = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 1, rd, 0x3b);
export const srlw = (rd: number, rs1: number, rs2: number) => rType(0, rs2, rs1, 5, rd, 0x3b);
export const sraw = (rd: number, rs1: number, rs2: number) => rType(0x20, rs2, rs1, 5, rd, 0x3b);
export const fence = () => 0x0ff0000f;
export const fence_i = () => 0x0000100f;
export const ecall = () => 0x00000073;
export const ebreak = () => 0x00100073;

// M
export const mul = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 0, rd, 0x33);
export const mulh = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 1, rd, 0x33);
export const mulhsu = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 2, rd, 0x33);
export const mulhu = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 3, rd, 0x33);
export const div = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 4, rd, 0x33);
export const divu = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 5, rd, 0x33);
export const rem = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 6, rd, 0x33);
export const remu = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 7, rd, 0x33);
export const mulw = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 0, rd, 0x3b);
export const divw = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 4, rd, 0x3b);
export const divuw = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 5, rd, 0x3b);
export const remw = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 6, rd, 0x3b);
export const remuw = (rd: number, rs1: number, rs2: number) => rType(1, rs2, rs1, 7, rd, 0x3b);

// A (aq = rl = 0); width 'w' or 'd'
function amoType(f5: number, w: 'w' | 'd', rd: number, rs1: number, rs2: number): number {
  return rType(f5 << 2, rs2, rs1, w === 'w' ? 2 : 3, rd, 0x2f);
}
export const lr = (w: 'w' | 'd', rd: number, rs1: number) => amoType(0x02, w, rd, rs1, 0);
export const sc = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => amoType(0x03, w, rd, rs1, rs2);
export const amoswap = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => amoType(0x01, w, rd, rs1, rs2);
export const amoadd = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => amoType(0x00, w, rd, rs1, rs2);
export const amoxor = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => amoType(0x04, w, rd, rs1, rs2);
export const amoand = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => amoType(0x0c, w, rd, rs1, rs2);
export const amoor = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => amoType(0x08, w, rd, rs1, rs2);
export const amomin = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => amoType(0x10, w, rd, rs1, rs2);
export const amomax = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => amoType(0x14, w, rd, rs1, rs2);
export const amominu = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => amoType(0x18, w, rd, rs1, rs2);
export const amomaxu = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => amoType(0x1c, w, rd, rs1, rs2);

// Zicsr
export const csrrs = (rd: number, csr: number, rs1: number) => ((csr << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x73) >>> 0;
export const csrrw = (rd: number, csr: number, rs1: number) => ((csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73) >>> 0;
export const csrrc = (rd: number, csr: number, rs1: number) => ((csr << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x73) >>> 0;
export const csrrsi = (rd: number, csr: number, uimm: number) => ((csr << 20) | (uimm << 15) | (6 << 12) | (rd << 7) | 0x73) >>> 0;
export const csrr = (rd: number, csr: number) => csrrs(rd, csr, 0);
export const rdcycle = (rd: number) => csrr(rd, 0xc00);
export const rdtime = (rd: number) => csrr(rd, 0xc01);
export const rdinstret = (rd: number) => csrr(rd, 0xc02);

// Pseudo-instructions
export const nop = () => addi(0, 0, 0);
export const mv = (rd: number, rs: number) => addi(rd, rs, 0);
export const li12 = (rd: number, imm: number) => addi(rd, 0, imm);

/** lui + addiw loading a sign-extended 32-bit constant (two instructions). */
export function li32(rd: number, v: number): number[] {
  v |= 0;
  const lo = (v << 20) >> 20;
  const hi = ((v - lo) >>> 12) & 0xfffff;
  return [lui(rd, hi), addiw(rd, rd, lo)];
}

// ---------------------------------------------------------------------------
// Compressed (RV64C) encoders: return 16-bit parcels.
// ---------------------------------------------------------------------------

function cReg(r: number): number {
  if (r < 8 || r > 15) throw new RangeError(`register x${r} is not encodable in a compressed 3-bit field`);
  return r - 8;
}
const b = (v: number, hi: number, lo: number) => (v >> lo) & ((1 << (hi - lo + 1)) - 1);

export const c_nop = () => 0x0001;
export const c_addi = (rd: number, imm: number) => (0x1 | (b(imm, 5, 5) << 12) | (rd << 7) | (b(imm, 4, 0) << 2)) & 0xffff;
export const c_addiw = (rd: number, imm: number) => (0x2001 | (b(imm, 5, 5) << 12) | (rd << 7) | (b(imm, 4, 0) << 2)) & 0xffff;
export const c_li = (rd: number, imm: number) => (0x4001 | (b(imm, 5, 5) << 12) | (rd << 7) | (b(imm, 4, 0) << 2)) & 0xffff;
export const c_lui = (rd: number, imm6: number) => (0x6001 | (b(imm6, 5, 5) << 12) | (rd << 7) | (b(imm6, 4, 0) << 2)) & 0xffff;
export const c_addi16sp = (imm: number) =>
  (0x6101 | (b(imm, 9, 9) << 12) | (b(imm, 4, 4) << 6) | (b(imm, 6, 6) << 5) | (b(imm, 8, 7) << 3) | (b(imm, 5, 5) << 2)) & 0xffff;
export const c_addi4spn = (rd: number, uimm: number) =>
  ((b(uimm, 5, 4) << 11) | (b(uimm, 9, 6) << 7) | (b(uimm, 2, 2) << 6) | (b(uimm, 3, 3) << 5) | (cReg(rd) << 2)) & 0xffff;
export const c_srli = (rd: number, sh: number) => 0x8001 | (b(sh, 5, 5) << 12) | (cReg(rd) << 7) | (b(sh, 4, 0) << 2);
export const c_srai = (rd: number, sh: number) => 0x8401 | (b(sh, 5, 5) << 12) | (cReg(rd) << 7) | (b(sh, 4, 0) << 2);
export const c_andi = (rd: number, imm: number) => 0x8801 | (b(imm, 5, 5) << 12) | (cReg(rd) << 7) | (b(imm, 4, 0) << 2);
export const c_sub = (rd: number, rs2: number) => 0x8c01 | (cReg(rd) << 7) | (0 << 5) | (cReg(rs2) << 2);
export const c_xor = (rd: number, rs2: number) => 0x8c01 | (cReg(rd) << 7) | (1 << 5) | (cReg(rs2) << 2);
export const c_or = (rd: number, rs2: number) => 0x8c01 | (cReg(rd) << 7) | (2 << 5) | (cReg(rs2) << 2);
export const c_and = (rd: number, rs2: number) => 0x8c01 | (cReg(rd) << 7) | (3 << 5) | (cReg(rs2) << 2);
export const c_subw = (rd: number, rs2: number) => 0x9c01 | (cReg(rd) << 7) | (0 << 5) | (cReg(rs2) << 2);
export const c_addw = (rd: number, rs2: number) => 0x9c01 | (cReg(rd) << 7) | (1 << 5) | (cReg(rs2) << 2);
export const c_j = (off: number) =>
  0xa001 |
  (b(off, 11, 11) << 12) |
  (b(off, 4, 4) << 11) |
  (b(off, 9, 8) << 9) |
  (b(off, 10, 10) << 8) |
  (b(off, 6, 6) << 7) |
  (b(off, 7, 7) << 6) |
  (b(off, 3, 1) << 3) |
  (b(off, 5, 5) << 2);
function cBranch(base: number, rs1: number, off: number): number {
  return (
    base |
    (b(off, 8, 8) << 12) |
    (b(off, 4, 3) << 10) |
    (cReg(rs1) << 7) |
    (b(off, 7, 6) << 5) |
    (b(off, 2, 1) << 3) |
    (b(off, 5, 5) << 2)
  );
}
export const c_beqz = (rs1: number, off: number) => cBranch(0xc001, rs1, off);
export const c_bnez = (rs1: number, off: number) => cBranch(0xe001, rs1, off);
export const c_slli = (rd: number, sh: number) => 0x0002 | (b(sh, 5, 5) << 12) | (rd << 7) | (b(sh, 4, 0) << 2);
export const c_lwsp = (rd: number, off: number) => 0x4002 | (b(off, 5, 5) << 12) | (rd << 7) | (b(off, 4, 2) << 4) | (b(off, 7, 6) << 2);
export const c_ldsp = (rd: number, off: number) => 0x6002 | (b(off, 5, 5) << 12) | (rd << 7) | (b(off, 4, 3) << 5) | (b(off, 8, 6) << 2);
export const c_swsp = (rs2: number, off: number) => 0xc002 | (b(off, 5, 2) << 9) | (b(off, 7, 6) << 7) | (rs2 << 2);
export const c_sdsp = (rs2: number, off: number) => 0xe002 | (b(off, 5, 3) << 10) | (b(off, 8, 6) << 7) | (rs2 << 2);
export const c_jr = (rs1: number) => 0x8002 | (rs1 << 7);
export const c_mv = (rd: number, rs2: number) => 0x8002 | (rd << 7) | (rs2 << 2);
export const c_ebreak = () => 0x9002;
export const c_jalr = (rs1: number) => 0x9002 | (rs1 << 7);
export const c_add = (rd: number, rs2: number) => 0x9002 | (rd << 7) | (rs2 << 2);
export const c_lw = (rd: number, rs1: number, off: number) =>
  0x4000 | (b(off, 5, 3) << 10) | (cReg(rs1) << 7) | (b(off, 2, 2) << 6) | (b(off, 6, 6) << 5) | (cReg(rd) << 2);
export const c_ld = (rd: number, rs1: number, off: number) =>
  0x6000 | (b(off, 5, 3) << 10) | (cReg(rs1) << 7) | (b(off, 7, 6) << 5) | (cReg(rd) << 2);
export const c_sw = (rs2: number, rs1: number, off: number) =>
  0xc000 | (b(off, 5, 3) << 10) | (cReg(rs1) << 7) | (b(off, 2, 2) << 6) | (b(off, 6, 6) << 5) | (cReg(rs2) << 2);
export const c_sd = (rs2: number, rs1: number, off: number) =>
  0xe000 | (b(off, 5, 3) << 10) | (cReg(rs1) << 7) | (b(off, 7, 6) << 5) | (cReg(rs2) << 2);

// ---------------------------------------------------------------------------
// Layout.
// ---------------------------------------------------------------------------

type Item =
  | { kind: 'i'; v: number }
  | { kind: 'c'; v: number }
  | { kind: 'b'; v: number }
  | { kind: 'ref'; size: 2 | 4; make: (off: number) => number; label: string };

/**
 * Lays out instructions at a base address. `i` appends a 32-bit instruction,
 * `c` a 16-bit one; `to(label, off => encoding)` appends a 32-bit instruction
 * whose pc-relative offset to `label` is filled in by `bytes()`, and `cto`
 * its 16-bit counterpart.
 */
export class Asm {
  private readonly items: Item[] = [];
  private readonly labels = new Map<string, number>();
  private size = 0;

  constructor(readonly base = 0) {}

  /** Address of the next instruction. */
  get here(): number {
    return this.base + this.size;
  }
  label(name: string): this {
    this.labels.set(name, this.size);
    return this;
  }
  addr(name: string): number {
    const off = this.labels.get(name);
    if (off === undefined) throw new Error(`unknown label ${name}`);
    return this.base + off;
  }
  i(...words: (number | number[])[]): this {
    for (const w of words.flat()) {
      this.items.push({ kind: 'i', v: w >>> 0 });
      this.size += 4;
    }
    return this;
  }
  c(...halves: number[]): this {
    for (const h of halves) {
      this.items.push({ kind: 'c', v: h & 0xffff });
      this.size += 2;
    }
    return this;
  }
  to(label: string, make: (off: number) => number): this {
    this.items.push({ kind: 'ref', size: 4, make, label });
    this.size += 4;
    return this;
  }
  cto(label: string, make: (off: number) => number): this {
    this.items.push({ kind: 'ref', size: 2, make, label });
    this.size += 2;
    return this;
  }
  /** Raw data bytes (e.g. a 32-bit instruction split across a page boundary). */
  data(bytes: ArrayLike<number>): this {
    for (let k = 0; k < bytes.length; k++) {
      this.items.push({ kind: 'b', v: bytes[k]! & 0xff });
      this.size += 1;
    }
    return this;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    const dv = new DataView(out.buffer);
    let pos = 0;
    for (const it of this.items) {
      if (it.kind === 'i') {
        dv.setUint32(pos, it.v, true);
        pos += 4;
      } else if (it.kind === 'c') {
        dv.setUint16(pos, it.v, true);
        pos += 2;
      } else if (it.kind === 'b') {
        out[pos] = it.v;
        pos += 1;
      } else {
        const target = this.labels.get(it.label);
        if (target === undefined) throw new Error(`unknown label ${it.label}`);
        const v = it.make(target - pos);
        if (it.size === 4) dv.setUint32(pos, v >>> 0, true);
        else dv.setUint16(pos, v & 0xffff, true);
        pos += it.size;
      }
    }
    return out;
  }
}

/** Bytes of a list of 32-bit instructions. */
export function words(...ws: (number | number[])[]): Uint8Array {
  return new Asm().i(...ws).bytes();
}
