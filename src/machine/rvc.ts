/**
 * The RV64C compressed instruction set, expanded to the 32-bit instructions
 * they stand for (RISC-V unprivileged spec, "C" Standard Extension, RV64
 * column of the RVC tables).
 *
 * The hart decodes a 16-bit parcel with one lookup in `rvcTable()`: entry c
 * holds the 32-bit equivalent of the compressed instruction c, or 0 when c is
 * illegal or reserved (all-zero parcel, reserved encodings, or an F/D
 * load/store: this machine has no floating point). HINT encodings (writes to
 * x0, c.nop variants) expand to the corresponding harmless instruction.
 */

// 32-bit instruction encoders (only what the expansions need).
function encR(funct7: number, rs2: number, rs1: number, funct3: number, rd: number, opcode: number): number {
  return ((funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) | 0;
}
function encI(imm: number, rs1: number, funct3: number, rd: number, opcode: number): number {
  return (((imm & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) | 0;
}
function encS(imm: number, rs2: number, rs1: number, funct3: number, opcode: number): number {
  return ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((imm & 0x1f) << 7) | opcode) | 0;
}
function encB(imm: number, rs2: number, rs1: number, funct3: number): number {
  return (
    (((imm >> 12) & 1) << 31) |
    (((imm >> 5) & 0x3f) << 25) |
    (rs2 << 20) |
    (rs1 << 15) |
    (funct3 << 12) |
    (((imm >> 1) & 0xf) << 8) |
    (((imm >> 11) & 1) << 7) |
    0x63
  ) | 0;
}
function encJ(imm: number, rd: number): number {
  return (
    (((imm >> 20) & 1) << 31) |
    (((imm >> 1) & 0x3ff) << 21) |
    (((imm >> 11) & 1) << 20) |
    (((imm >> 12) & 0xff) << 12) |
    (rd << 7) |
    0x6f
  ) | 0;
}

const OP_LOAD = 0x03;
const OP_IMM = 0x13;
const OP_IMM_32 = 0x1b;
const OP_STORE = 0x23;
const OP = 0x33;
const OP_LUI = 0x37;
const OP_32 = 0x3b;
const OP_JALR = 0x67;
const EBREAK = 0x00100073;

/** Bit field c[hi:lo] shifted down. */
function bits(c: number, hi: number, lo: number): number {
  return (c >>> lo) & ((1 << (hi - lo + 1)) - 1);
}
/** Sign-extend the low `width` bits of v. */
function sext(v: number, width: number): number {
  const s = 32 - width;
  return (v << s) >> s;
}

/** Expand one 16-bit parcel (low two bits != 0b11). Returns 0 if illegal. */
export function expandCompressed(c: number): number {
  c &= 0xffff;
  const funct3 = c >>> 13;
  const rdFull = bits(c, 11, 7);
  const rs2Full = bits(c, 6, 2);
  const rdP = 8 + bits(c, 4, 2); // rd' / rs2' (bits 4:2)
  const rs1P = 8 + bits(c, 9, 7); // rs1' / rd' (bits 9:7)
  const imm6 = sext((bits(c, 12, 12) << 5) | bits(c, 6, 2), 6);
  const shamt = (bits(c, 12, 12) << 5) | bits(c, 6, 2);

  switch (c & 3) {
    case 0:
      switch (funct3) {
        case 0: {
          // c.addi4spn
          const imm = (bits(c, 12, 11) << 4) | (bits(c, 10, 7) << 6) | (bits(c, 6, 6) << 2) | (bits(c, 5, 5) << 3);
          if (imm === 0) return 0; // includes the all-zero illegal parcel
          return encI(imm, 2, 0, rdP, OP_IMM);
        }
        case 2: {
          // c.lw
          const imm = (bits(c, 12, 10) << 3) | (bits(c, 6, 6) << 2) | (bits(c, 5, 5) << 6);
          return encI(imm, rs1P, 2, rdP, OP_LOAD);
        }
        case 3: {
          // c.ld
          const imm = (bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6);
          return encI(imm, rs1P, 3, rdP, OP_LOAD);
        }
        case 6: {
          // c.sw
          const imm = (bits(c, 12, 10) << 3) | (bits(c, 6, 6) << 2) | (bits(c, 5, 5) << 6);
          return encS(imm, rdP, rs1P, 2, OP_STORE);
        }
        case 7: {
          // c.sd
          const imm = (bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6);
          return encS(imm, rdP, rs1P, 3, OP_STORE);
        }
        default:
          return 0; // c.fld, c.fsd, reserved
      }
    case 1:
      switch (funct3) {
        case 0: // c.addi / c.nop
          return encI(imm6, rdFull, 0, rdFull, OP_IMM);
        case 1: // c.addiw
          if (rdFull === 0) return 0;
          return encI(imm6, rdFull, 0, rdFull, OP_IMM_32);
        case 2: // c.li
          return encI(imm6, 0, 0, rdFull, OP_IMM);
        case 3: {
          if (rdFull === 2) {
            // c.addi16sp
            const imm = sext(
              (bits(c, 12, 12) << 9) | (bits(c, 6, 6) << 4) | (bits(c, 5, 5) << 6) | (bits(c, 4, 3) << 7) | (bits(c, 2, 2) << 5),
              10,
            );
            if (imm === 0) return 0;
            return encI(imm, 2, 0, 2, OP_IMM);
          }
          // c.lui
          if (imm6 === 0) return 0;
          return ((imm6 << 12) & 0xfffff000) | (rdFull << 7) | OP_LUI;
        }
        case 4: {
          const funct2 = bits(c, 11, 10);
          if (funct2 === 0) return encI(shamt, rs1P, 5, rs1P, OP_IMM); // c.srli
          if (funct2 === 1) return encI(0x400 | shamt, rs1P, 5, rs1P, OP_IMM); // c.srai
          if (funct2 === 2) return encI(imm6, rs1P, 7, rs1P, OP_IMM); // c.andi
          const op = bits(c, 6, 5);
          if (bits(c, 12, 12) === 0) {
            if (op === 0) return encR(0x20, rdP, rs1P, 0, rs1P, OP); // c.sub
            if (op === 1) return encR(0, rdP, rs1P, 4, rs1P, OP); // c.xor
            if (op === 2) return encR(0, rdP, rs1P, 6, rs1P, OP); // c.or
            return encR(0, rdP, rs1P, 7, rs1P, OP); // c.and
          }
          if (op === 0) return encR(0x20, rdP, rs1P, 0, rs1P, OP_32); // c.subw
          if (op === 1) return encR(0, rdP, rs1P, 0, rs1P, OP_32); // c.addw
          return 0; // reserved
        }
        case 5: {
          // c.j
          const imm = sext(
            (bits(c, 12, 12) << 11) |
              (bits(c, 11, 11) << 4) |
              (bits(c, 10, 9) << 8) |
              (bits(c, 8, 8) << 10) |
              (bits(c, 7, 7) << 6) |
              (bits(c, 6, 6) << 7) |
              (bits(c, 5, 3) << 1) |
              (bits(c, 2, 2) << 5),
            12,
          );
          return encJ(imm, 0);
        }
        default: {
          // c.beqz (6) / c.bnez (7)
          const imm = sext(
            (bits(c, 12, 12) << 8) | (bits(c, 11, 10) << 3) | (bits(c, 6, 5) << 6) | (bits(c, 4, 3) << 1) | (bits(c, 2, 2) << 5),
            9,
          );
          return encB(imm, 0, rs1P, funct3 === 6 ? 0 : 1);
        }
      }
    case 2:
      switch (funct3) {
        case 0: // c.slli
          return encI(shamt, rdFull, 1, rdFull, OP_IMM);
        case 2: {
          // c.lwsp
          if (rdFull === 0) return 0;
          const imm = (bits(c, 12, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6);
          return encI(imm, 2, 2, rdFull, OP_LOAD);
        }
        case 3: {
          // c.ldsp
          if (rdFull === 0) return 0;
          const imm = (bits(c, 12, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6);
          return encI(imm, 2, 3, rdFull, OP_LOAD);
        }
        case 4:
          if (bits(c, 12, 12) === 0) {
            if (rs2Full === 0) {
              if (rdFull === 0) return 0; // reserved
              return encI(0, rdFull, 0, 0, OP_JALR); // c.jr
            }
            return encR(0, rs2Full, 0, 0, rdFull, OP); // c.mv
          }
          if (rs2Full === 0) {
            if (rdFull === 0) return EBREAK; // c.ebreak
            return encI(0, rdFull, 0, 1, OP_JALR); // c.jalr
          }
          return encR(0, rs2Full, rdFull, 0, rdFull, OP); // c.add
        case 6: {
          // c.swsp
          const imm = (bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6);
          return encS(imm, rs2Full, 2, 2, OP_STORE);
        }
        case 7: {
          // c.sdsp
          const imm = (bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6);
          return encS(imm, rs2Full, 2, 3, OP_STORE);
        }
        default:
          return 0; // c.fldsp, c.fsdsp
      }
    default:
      return 0; // not a compressed parcel
  }
}

let table: Int32Array | null = null;

/** The 64 Ki-entry expansion table (built on first use, ~0.3 MB). */
export function rvcTable(): Int32Array {
  if (table === null) {
    const t = new Int32Array(65536);
    for (let c = 0; c < 65536; c++) {
      if ((c & 3) !== 3) t[c] = expandCompressed(c);
    }
    table = t;
  }
  return table;
}
