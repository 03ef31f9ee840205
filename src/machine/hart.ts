/**
 * A RISC-V 64 user-mode hart: RV64IMAC + Zicsr user counters + Zifencei.
 *
 * It runs user code of one thread at a time over the Sv39 page tables the
 * kernel keeps in PhysicalMemory, and stops on the first trap (or when its
 * instruction budget is used up) so the kernel can handle it the way seL4
 * handles a trap from user mode.
 *
 * Representation. The 32 integer registers are an Int32Array of 64 words:
 * x[2*i] is the low and x[2*i + 1] the high 32 bits of register i (int32 bit
 * patterns). x0 is always (0, 0). 64-bit operations are done on the halves
 * with int32 arithmetic (carries by unsigned compares, products with
 * Math.imul and 16-bit limbs, see int64.ts), so the instruction loop never
 * allocates. Inside `run` the pc is a number: canonical Sv39 addresses are in
 * [-2^38, 2^38) as signed values, exact in a double; between runs it lives in
 * `pcReg` as (lo, hi).
 *
 * Memory. Every fetch, load, store and AMO is translated with sv39.ts
 * (translateHiLo) through a software TLB (`tlb`, flushed explicitly by the
 * kernel) and then reaches RAM through the regions of PhysicalMemory or, for
 * physical addresses inside a device region, the MmioBus. An address in
 * neither raises an access fault (cause 1/5/7).
 *
 * Choices where the spec leaves freedom (documented behaviour):
 * - Misaligned loads and stores are performed (as qemu does), also across a
 *   page boundary; both pages are checked before a store writes anything.
 *   A fault on the second page reports the address of the first byte in it.
 *   Misaligned LR/SC/AMOs trap: cause 4 for LR, 6 for SC and AMOs.
 * - MMIO accesses must be naturally aligned and must not be LR/SC/AMOs, else
 *   access fault. Instruction fetch from a device is an access fault.
 * - With C, every jump target is 2-byte aligned, so cause 0 never occurs.
 * - A 32-bit instruction straddling two pages that faults on the second page
 *   reports tval = pc + 2.
 * - Illegal instruction: tval = the instruction bits (16 or 32 bits).
 *   Breakpoint (ebreak, c.ebreak): tval = pc. ecall: tval = 0, and the pc
 *   still points at the ecall (the kernel advances it by 4).
 * - CSRs: only cycle (0xC00), time (0xC01) and instret (0xC02) exist, read
 *   only; any other CSR, or a write to these, is illegal. No F/D: their
 *   opcodes and compressed forms are illegal; so are sret/mret/wfi/sfence.vma
 *   (U-mode).
 * - LR/SC: one reservation on the physical address and size of the last LR;
 *   every SC clears it, and so does any trap (as a kernel's trap path
 *   would). Budget exhaustion keeps it.
 * - instret counts completed instructions; a trapping instruction does not
 *   retire (ecall included).
 *
 * `run` is not re-entrant: MMIO callbacks must not flush the TLB, change
 * satpRoot or touch the registers of the running hart.
 */

import type { PhysicalMemory } from './memory.js';
import {
  Access,
  Tlb,
  TranslateResult,
  translateHiLo,
  faultCause,
  accessFaultCause,
  pageFaultCause,
  CAUSE_BREAKPOINT,
  CAUSE_FETCH_PAGE_FAULT,
  CAUSE_FETCH_ACCESS,
  CAUSE_ILLEGAL_INSTRUCTION,
  CAUSE_MISALIGNED_LOAD,
  CAUSE_MISALIGNED_STORE,
  CAUSE_USER_ECALL,
  PAGE_SIZE,
} from './sv39.js';
import { rvcTable } from './rvc.js';
import { I64, mul64, mulHigh64, divremS64, divremU64 } from './int64.js';

/** Why `run` returned. */
export enum TrapKind {
  /** The instruction budget was used up; no trap. */
  None = 0,
  /** ecall from U-mode (cause 8). */
  Ecall = 1,
  /** Page fault or access fault (causes 1, 5, 7, 12, 13, 15): seL4's VM fault. */
  MemoryFault = 2,
  /** Illegal instruction, breakpoint or misaligned access (causes 2, 3, 4, 6): seL4's user exception. */
  Exception = 3,
}

/**
 * Device side of the physical bus. `size` is the access width in bytes;
 * accesses are naturally aligned. Values of 1, 2 and 4 bytes are unsigned
 * numbers; 8-byte values are bigints when written, and may be a bigint or a
 * number below 2^53 when read.
 */
export interface MmioBus {
  read(paddr: number, size: 1 | 2 | 4 | 8): bigint | number;
  write(paddr: number, size: 1 | 2 | 4 | 8, value: bigint | number): void;
}

const TWO_32 = 4294967296;

// Result codes of dataAccess (non-negative results are host offsets into RAM).
const ACC_MMIO = -1;
const ACC_TRAP = -2;
const ACC_SPLIT = -3;

const CSR_CYCLE = 0xc00;
const CSR_TIME = 0xc01;
const CSR_INSTRET = 0xc02;

/** 64-bit value of a number in [-2^63, 2^64) given as an integer (exact below 2^53). */
function hiOf(v: number): number {
  return Math.floor(v / TWO_32) | 0;
}

export class Hart {
  readonly mem: PhysicalMemory;
  /** Devices behind the physical address map (null: device accesses fault). */
  mmio: MmioBus | null;
  /** Integer registers: x[2*i] = low, x[2*i + 1] = high 32 bits of register i. */
  readonly x = new Int32Array(64);
  /** Program counter between runs: [0] = low, [1] = high 32 bits. */
  readonly pcReg = new Int32Array(2);
  /** The software TLB; the kernel calls tlb.flush() on unmap / sfence. */
  readonly tlb: Tlb;

  /** scause of the last trap. */
  cause = 0;
  /** stval of the last trap, as (hi, lo) int32 bit patterns. */
  tvalLo = 0;
  tvalHi = 0;
  /** What the last `run` stopped on. */
  trapKind: TrapKind = TrapKind.None;
  /** Instructions retired since creation (exact below 2^53). */
  instret = 0;
  /** The machine's time counter (rdtime), a non-negative integer below 2^53. */
  readTime: () => number = () => 0;
  /** The cycle counter (rdcycle); null means "same as instret". */
  readCycle: (() => number) | null = null;

  private root = -1;
  private readonly ramDv: DataView[];
  private readonly ramBase: number[];
  private readonly rvc: Int32Array;
  private readonly tr = new TranslateResult();
  private readonly devBase: number[];
  private readonly devEnd: number[];

  // LR/SC reservation: physical address and size, -1 when none.
  private resPaddr = -1;
  private resSize = 0;

  // Results of the memory helpers (read right after the call).
  private vLo = 0;
  private vHi = 0;
  private aDv: DataView;
  private aPaddr = 0;
  // Fetch page cache filled by fetchSlow: virtual page base, view, host offset of the page.
  private fVBase = NaN;
  private fDv: DataView;
  private fHost = 0;
  private trapped = false;

  constructor(mem: PhysicalMemory, mmio: MmioBus | null = null, tlbSize = 256) {
    this.mem = mem;
    this.mmio = mmio;
    this.tlb = new Tlb(tlbSize);
    this.ramDv = mem.ram.map((r) => r.dv);
    this.ramBase = mem.ram.map((r) => r.base);
    this.devBase = mem.devices.map((d) => d.base);
    this.devEnd = mem.devices.map((d) => d.base + d.size);
    this.rvc = rvcTable();
    const dummy = new DataView(new ArrayBuffer(8));
    this.aDv = dummy;
    this.fDv = dummy;
  }

  /** Physical address of the Sv39 root table, or -1 for none (every access faults). Setting it flushes the TLB. */
  get satpRoot(): number {
    return this.root;
  }
  set satpRoot(root: number) {
    if (root !== this.root) {
      this.root = root;
      this.tlb.flush();
    }
  }

  // -------------------------------------------------------------------------
  // Register access.
  // -------------------------------------------------------------------------

  getReg(i: number): bigint {
    return (BigInt(this.x[2 * i + 1]! >>> 0) << 32n) | BigInt(this.x[2 * i]! >>> 0);
  }
  setReg(i: number, v: bigint): void {
    if (i === 0) return;
    this.x[2 * i] = Number(BigInt.asUintN(32, v));
    this.x[2 * i + 1] = Number(BigInt.asUintN(32, v >> 32n));
  }
  /** Low 32 bits of register i as an unsigned number. */
  getRegLo32(i: number): number {
    return this.x[2 * i]! >>> 0;
  }
  /** High 32 bits of register i as an unsigned number. */
  getRegHi32(i: number): number {
    return this.x[2 * i + 1]! >>> 0;
  }
  setRegHiLo(i: number, hi: number, lo: number): void {
    if (i === 0) return;
    this.x[2 * i] = lo;
    this.x[2 * i + 1] = hi;
  }

  get pc(): bigint {
    return (BigInt(this.pcReg[1]! >>> 0) << 32n) | BigInt(this.pcReg[0]! >>> 0);
  }
  set pc(v: bigint) {
    this.pcReg[0] = Number(BigInt.asUintN(32, v));
    this.pcReg[1] = Number(BigInt.asUintN(32, v >> 32n));
  }
  getPcLo32(): number {
    return this.pcReg[0]! >>> 0;
  }
  getPcHi32(): number {
    return this.pcReg[1]! >>> 0;
  }
  setPcHiLo(hi: number, lo: number): void {
    this.pcReg[0] = lo;
    this.pcReg[1] = hi;
  }

  /** stval of the last trap as a bigint. */
  get tval(): bigint {
    return (BigInt(this.tvalHi >>> 0) << 32n) | BigInt(this.tvalLo >>> 0);
  }
  getTvalLo32(): number {
    return this.tvalLo >>> 0;
  }
  getTvalHi32(): number {
    return this.tvalHi >>> 0;
  }

  /** Drop the LR reservation (the kernel calls this when it switches threads). */
  clearReservation(): void {
    this.resPaddr = -1;
  }

  // -------------------------------------------------------------------------
  // Execution.
  // -------------------------------------------------------------------------

  /**
   * Run until a trap or until maxInstructions instructions have retired.
   * Returns TrapKind.None when the budget ran out (pc = next instruction),
   * otherwise the trap kind with cause/tval set and pc at the trapping
   * instruction.
   */
  run(maxInstructions: number): TrapKind {
    this.trapKind = TrapKind.None;
    this.trapped = false;
    const x = this.x;
    const rvc = this.rvc;
    const pcHi0 = this.pcReg[1]!;
    const pcLo0 = this.pcReg[0]! & ~1; // like sepc, the pc has no bit 0 with C
    this.pcReg[0] = pcLo0;
    if (pcHi0 >> 6 !== 0 && pcHi0 >> 6 !== -1) {
      this.raise(CAUSE_FETCH_PAGE_FAULT, pcHi0, pcLo0, TrapKind.MemoryFault);
      return this.trapKind;
    }
    let pc = pcHi0 * TWO_32 + (pcLo0 >>> 0);
    let n = 0;
    let fV = NaN;
    let fDv = this.fDv;
    let fHost = 0;

    loop: while (n < maxInstructions) {
      // ---- fetch ----
      let inst: number;
      const off = pc - fV;
      if (off >= 0 && off <= PAGE_SIZE - 4) {
        inst = fDv.getInt32(fHost + off, true);
      } else {
        inst = this.fetchSlow(pc);
        if (this.trapped) break;
        fV = this.fVBase;
        fDv = this.fDv;
        fHost = this.fHost;
      }
      let raw = inst;
      let next: number;
      if ((inst & 3) !== 3) {
        raw = inst & 0xffff;
        inst = rvc[raw]!;
        if (inst === 0) {
          this.illegal(raw);
          break;
        }
        next = pc + 2;
      } else {
        next = pc + 4;
      }

      // ---- execute ----
      const rd2 = (inst >>> 6) & 62; // 2 * rd
      const rs1 = (inst >>> 14) & 62; // 2 * rs1
      const rs2 = (inst >>> 19) & 62; // 2 * rs2
      // Dispatch on opcode bits 6..2 (a dense 0..31 range); bits 1..0 are 0b11
      // for every 32-bit instruction and every expansion of a compressed one.
      switch ((inst >>> 2) & 31) {
        case 0x13 >> 2: {
          // OP-IMM
          const imm = inst >> 20;
          const al = x[rs1]!;
          const ah = x[rs1 + 1]!;
          let lo: number;
          let hi: number;
          switch ((inst >>> 12) & 7) {
            case 0: // addi
              lo = (al + imm) | 0;
              hi = (ah + (imm >> 31) + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
              break;
            case 1: {
              // slli
              if (inst >>> 26 !== 0) {
                this.illegal(raw);
                break loop;
              }
              const s = (inst >>> 20) & 63;
              if (s === 0) {
                lo = al;
                hi = ah;
              } else if (s < 32) {
                hi = (ah << s) | (al >>> (32 - s));
                lo = al << s;
              } else {
                hi = al << (s - 32);
                lo = 0;
              }
              break;
            }
            case 2: {
              // slti
              const ih = imm >> 31;
              lo = ah < ih || (ah === ih && al >>> 0 < imm >>> 0) ? 1 : 0;
              hi = 0;
              break;
            }
            case 3: {
              // sltiu (the immediate is sign-extended, then compared unsigned)
              const ih = (imm >> 31) >>> 0;
              const uh = ah >>> 0;
              lo = uh < ih || (uh === ih && al >>> 0 < imm >>> 0) ? 1 : 0;
              hi = 0;
              break;
            }
            case 4: // xori
              lo = al ^ imm;
              hi = ah ^ (imm >> 31);
              break;
            case 5: {
              const f6 = inst >>> 26;
              const s = (inst >>> 20) & 63;
              if (f6 === 0) {
                // srli
                if (s === 0) {
                  lo = al;
                  hi = ah;
                } else if (s < 32) {
                  lo = (al >>> s) | (ah << (32 - s));
                  hi = (ah >>> s) | 0;
                } else {
                  lo = (ah >>> (s - 32)) | 0;
                  hi = 0;
                }
              } else if (f6 === 0x10) {
                // srai
                if (s === 0) {
                  lo = al;
                  hi = ah;
                } else if (s < 32) {
                  lo = (al >>> s) | (ah << (32 - s));
                  hi = ah >> s;
                } else {
                  lo = ah >> (s - 32);
                  hi = ah >> 31;
                }
              } else {
                this.illegal(raw);
                break loop;
              }
              break;
            }
            case 6: // ori
              lo = al | imm;
              hi = ah | (imm >> 31);
              break;
            default: // andi
              lo = al & imm;
              hi = ah & (imm >> 31);
              break;
          }
          if (rd2 !== 0) {
            x[rd2] = lo;
            x[rd2 + 1] = hi;
          }
          break;
        }

        case 0x33 >> 2: {
          // OP
          const al = x[rs1]!;
          const ah = x[rs1 + 1]!;
          const bl = x[rs2]!;
          const bh = x[rs2 + 1]!;
          const f7 = inst >>> 25;
          const f3 = (inst >>> 12) & 7;
          let lo: number;
          let hi: number;
          if (f7 === 0) {
            switch (f3) {
              case 0: // add
                lo = (al + bl) | 0;
                hi = (ah + bh + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
                break;
              case 1: {
                // sll
                const s = bl & 63;
                if (s === 0) {
                  lo = al;
                  hi = ah;
                } else if (s < 32) {
                  hi = (ah << s) | (al >>> (32 - s));
                  lo = al << s;
                } else {
                  hi = al << (s - 32);
                  lo = 0;
                }
                break;
              }
              case 2: // slt
                lo = ah < bh || (ah === bh && al >>> 0 < bl >>> 0) ? 1 : 0;
                hi = 0;
                break;
              case 3: // sltu
                lo = ah >>> 0 < bh >>> 0 || (ah === bh && al >>> 0 < bl >>> 0) ? 1 : 0;
                hi = 0;
                break;
              case 4: // xor
                lo = al ^ bl;
                hi = ah ^ bh;
                break;
              case 5: {
                // srl
                const s = bl & 63;
                if (s === 0) {
                  lo = al;
                  hi = ah;
                } else if (s < 32) {
                  lo = (al >>> s) | (ah << (32 - s));
                  hi = (ah >>> s) | 0;
                } else {
                  lo = (ah >>> (s - 32)) | 0;
                  hi = 0;
                }
                break;
              }
              case 6: // or
                lo = al | bl;
                hi = ah | bh;
                break;
              default: // and
                lo = al & bl;
                hi = ah & bh;
                break;
            }
          } else if (f7 === 0x20) {
            if (f3 === 0) {
              // sub
              lo = (al - bl) | 0;
              hi = (ah - bh - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
            } else if (f3 === 5) {
              // sra
              const s = bl & 63;
              if (s === 0) {
                lo = al;
                hi = ah;
              } else if (s < 32) {
                lo = (al >>> s) | (ah << (32 - s));
                hi = ah >> s;
              } else {
                lo = ah >> (s - 32);
                hi = ah >> 31;
              }
            } else {
              this.illegal(raw);
              break loop;
            }
          } else if (f7 === 1) {
            switch (f3) {
              case 0: // mul
                mul64(ah, al, bh, bl);
                lo = I64[0]!;
                hi = I64[1]!;
                break;
              case 1: // mulh
                mulHigh64(ah, al, bh, bl, true, true);
                lo = I64[0]!;
                hi = I64[1]!;
                break;
              case 2: // mulhsu
                mulHigh64(ah, al, bh, bl, true, false);
                lo = I64[0]!;
                hi = I64[1]!;
                break;
              case 3: // mulhu
                mulHigh64(ah, al, bh, bl, false, false);
                lo = I64[0]!;
                hi = I64[1]!;
                break;
              case 4: // div
                divremS64(ah, al, bh, bl);
                lo = I64[0]!;
                hi = I64[1]!;
                break;
              case 5: // divu
                divremU64(ah, al, bh, bl);
                lo = I64[0]!;
                hi = I64[1]!;
                break;
              case 6: // rem
                divremS64(ah, al, bh, bl);
                lo = I64[2]!;
                hi = I64[3]!;
                break;
              default: // remu
                divremU64(ah, al, bh, bl);
                lo = I64[2]!;
                hi = I64[3]!;
                break;
            }
          } else {
            this.illegal(raw);
            break loop;
          }
          if (rd2 !== 0) {
            x[rd2] = lo;
            x[rd2 + 1] = hi;
          }
          break;
        }

        case 0x1b >> 2: {
          // OP-IMM-32
          const al = x[rs1]!;
          const f3 = (inst >>> 12) & 7;
          let lo: number;
          if (f3 === 0) {
            lo = (al + (inst >> 20)) | 0; // addiw
          } else if (f3 === 1 && inst >>> 25 === 0) {
            lo = al << ((inst >>> 20) & 31); // slliw
          } else if (f3 === 5 && inst >>> 25 === 0) {
            lo = (al >>> ((inst >>> 20) & 31)) | 0; // srliw
          } else if (f3 === 5 && inst >>> 25 === 0x20) {
            lo = al >> ((inst >>> 20) & 31); // sraiw
          } else {
            this.illegal(raw);
            break loop;
          }
          if (rd2 !== 0) {
            x[rd2] = lo;
            x[rd2 + 1] = lo >> 31;
          }
          break;
        }

        case 0x3b >> 2: {
          // OP-32
          const a = x[rs1]!;
          const b = x[rs2]!;
          const f7 = inst >>> 25;
          const f3 = (inst >>> 12) & 7;
          let lo: number;
          if (f7 === 0 && f3 === 0) lo = (a + b) | 0; // addw
          else if (f7 === 0x20 && f3 === 0) lo = (a - b) | 0; // subw
          else if (f7 === 0 && f3 === 1) lo = a << (b & 31); // sllw
          else if (f7 === 0 && f3 === 5) lo = (a >>> (b & 31)) | 0; // srlw
          else if (f7 === 0x20 && f3 === 5) lo = a >> (b & 31); // sraw
          else if (f7 === 1) {
            switch (f3) {
              case 0: // mulw
                lo = Math.imul(a, b);
                break;
              case 4: // divw
                lo = b === 0 ? -1 : a === (0x80000000 | 0) && b === -1 ? a : (a / b) | 0;
                break;
              case 5: // divuw
                lo = b === 0 ? -1 : Math.floor((a >>> 0) / (b >>> 0)) | 0;
                break;
              case 6: // remw
                lo = b === 0 ? a : b === -1 ? 0 : a % b | 0;
                break;
              case 7: // remuw
                lo = b === 0 ? a : (a >>> 0) % (b >>> 0) | 0;
                break;
              default:
                this.illegal(raw);
                break loop;
            }
          } else {
            this.illegal(raw);
            break loop;
          }
          if (rd2 !== 0) {
            x[rd2] = lo;
            x[rd2 + 1] = lo >> 31;
          }
          break;
        }

        case 0x03 >> 2: {
          // LOAD
          const f3 = (inst >>> 12) & 7;
          if (f3 === 7) {
            this.illegal(raw);
            break loop;
          }
          const imm = inst >> 20;
          const al = x[rs1]!;
          const el = (al + imm) | 0;
          const eh = (x[rs1 + 1]! + (imm >> 31) + ((el >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
          if (!this.load(eh, el, f3)) break loop;
          if (rd2 !== 0) {
            x[rd2] = this.vLo;
            x[rd2 + 1] = this.vHi;
          }
          break;
        }

        case 0x23 >> 2: {
          // STORE
          const f3 = (inst >>> 12) & 7;
          if (f3 > 3) {
            this.illegal(raw);
            break loop;
          }
          const imm = ((inst >> 25) << 5) | ((inst >>> 7) & 0x1f);
          const al = x[rs1]!;
          const el = (al + imm) | 0;
          const eh = (x[rs1 + 1]! + (imm >> 31) + ((el >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
          if (!this.store(eh, el, 1 << f3, x[rs2]!, x[rs2 + 1]!)) break loop;
          break;
        }

        case 0x63 >> 2: {
          // BRANCH
          const al = x[rs1]!;
          const ah = x[rs1 + 1]!;
          const bl = x[rs2]!;
          const bh = x[rs2 + 1]!;
          let taken: boolean;
          switch ((inst >>> 12) & 7) {
            case 0:
              taken = al === bl && ah === bh;
              break;
            case 1:
              taken = al !== bl || ah !== bh;
              break;
            case 4:
              taken = ah < bh || (ah === bh && al >>> 0 < bl >>> 0);
              break;
            case 5:
              taken = ah > bh || (ah === bh && al >>> 0 >= bl >>> 0);
              break;
            case 6:
              taken = ah >>> 0 < bh >>> 0 || (ah === bh && al >>> 0 < bl >>> 0);
              break;
            case 7:
              taken = ah >>> 0 > bh >>> 0 || (ah === bh && al >>> 0 >= bl >>> 0);
              break;
            default:
              this.illegal(raw);
              break loop;
          }
          if (taken) {
            next =
              pc +
              (((inst >> 31) << 12) | (((inst >>> 7) & 1) << 11) | (((inst >>> 25) & 0x3f) << 5) | (((inst >>> 8) & 0xf) << 1));
          }
          break;
        }

        case 0x37 >> 2: {
          // LUI
          if (rd2 !== 0) {
            const lo = inst & 0xfffff000;
            x[rd2] = lo;
            x[rd2 + 1] = lo >> 31;
          }
          break;
        }

        case 0x17 >> 2: {
          // AUIPC
          if (rd2 !== 0) {
            const v = pc + (inst & 0xfffff000);
            x[rd2] = v | 0;
            x[rd2 + 1] = hiOf(v);
          }
          break;
        }

        case 0x6f >> 2: {
          // JAL
          if (rd2 !== 0) {
            x[rd2] = next | 0;
            x[rd2 + 1] = hiOf(next);
          }
          next =
            pc +
            (((inst >> 31) << 20) | (((inst >>> 12) & 0xff) << 12) | (((inst >>> 20) & 1) << 11) | (((inst >>> 21) & 0x3ff) << 1));
          break;
        }

        case 0x67 >> 2: {
          // JALR
          if (((inst >>> 12) & 7) !== 0) {
            this.illegal(raw);
            break loop;
          }
          const imm = inst >> 20;
          const al = x[rs1]!;
          const tl = ((al + imm) | 0) & ~1;
          const th = (x[rs1 + 1]! + (imm >> 31) + (((al + imm) | 0) >>> 0 < al >>> 0 ? 1 : 0)) | 0;
          if (rd2 !== 0) {
            x[rd2] = next | 0;
            x[rd2 + 1] = hiOf(next);
          }
          if (th >> 6 !== 0 && th >> 6 !== -1) {
            // The jump completes; fetching at the non-canonical target faults.
            n++;
            this.instret += n;
            this.pcReg[0] = tl;
            this.pcReg[1] = th;
            this.raise(CAUSE_FETCH_PAGE_FAULT, th, tl, TrapKind.MemoryFault);
            return this.trapKind;
          }
          next = th * TWO_32 + (tl >>> 0);
          break;
        }

        case 0x2f >> 2: {
          // AMO
          if (!this.amo(inst, raw)) break loop;
          break;
        }

        case 0x0f >> 2: {
          // MISC-MEM: fence, fence.i (no-ops: one hart, no caches)
          if (((inst >>> 12) & 7) > 1) {
            this.illegal(raw);
            break loop;
          }
          break;
        }

        case 0x73 >> 2: {
          // SYSTEM
          const f3 = (inst >>> 12) & 7;
          if (f3 === 0) {
            if (inst === 0x00000073) {
              this.raise(CAUSE_USER_ECALL, 0, 0, TrapKind.Ecall);
            } else if (inst === 0x00100073) {
              this.raise(CAUSE_BREAKPOINT, hiOf(pc), pc | 0, TrapKind.Exception);
            } else {
              this.illegal(raw);
            }
            break loop;
          }
          if (f3 === 4) {
            this.illegal(raw);
            break loop;
          }
          // Zicsr. Writes happen for csrrw[i] always, for csrrs[i]/csrrc[i] when rs1/uimm != 0.
          const csr = inst >>> 20;
          const writes = (f3 & 3) === 1 || rs1 !== 0;
          let v: number;
          if (csr === CSR_CYCLE) v = this.readCycle !== null ? this.readCycle() : this.instret + n;
          else if (csr === CSR_TIME) v = this.readTime();
          else if (csr === CSR_INSTRET) v = this.instret + n;
          else v = -1;
          if (v < 0 || writes) {
            this.illegal(raw);
            break loop;
          }
          if (rd2 !== 0) {
            x[rd2] = v | 0;
            x[rd2 + 1] = hiOf(v);
          }
          break;
        }

        default:
          this.illegal(raw);
          break loop;
      }
      pc = next;
      n++;
    }

    this.instret += n;
    this.pcReg[0] = pc | 0;
    this.pcReg[1] = hiOf(pc);
    return this.trapKind;
  }

  // -------------------------------------------------------------------------
  // Traps.
  // -------------------------------------------------------------------------

  private raise(cause: number, tvalHi: number, tvalLo: number, kind: TrapKind): void {
    this.cause = cause;
    this.tvalHi = tvalHi | 0;
    this.tvalLo = tvalLo | 0;
    this.trapKind = kind;
    this.trapped = true;
    this.resPaddr = -1;
  }

  private illegal(bits: number): void {
    this.raise(CAUSE_ILLEGAL_INSTRUCTION, 0, bits, TrapKind.Exception);
  }

  // -------------------------------------------------------------------------
  // Translation.
  // -------------------------------------------------------------------------

  /**
   * TLB slot for a canonical (hi, lo) and access, walking the page tables on
   * a miss. Returns -1 after raising the fault if the translation fails.
   */
  private slotFor(hi: number, lo: number, access: Access): number {
    const tlb = this.tlb;
    const vpnS = (hi << 20) | (lo >>> 12);
    const slot = access * tlb.size + (vpnS & tlb.mask);
    if (tlb.tag[slot] === vpnS) return slot;
    const tr = this.tr;
    if (!translateHiLo(this.mem, this.root, hi, lo, access, tr)) {
      this.raise(faultCause(tr.faultKind, access), hi, lo, TrapKind.MemoryFault);
      return -1;
    }
    return tlb.insert(this.mem, vpnS, access, tr.paddr - (lo & (PAGE_SIZE - 1)));
  }

  /** True if [paddr, paddr + size) is inside one device region. */
  private isDevice(paddr: number, size: number): boolean {
    const b = this.devBase;
    const e = this.devEnd;
    for (let i = 0; i < b.length; i++) {
      if (paddr >= b[i]! && paddr + size <= e[i]!) return true;
    }
    return false;
  }

  /**
   * Resolve a data access of `size` bytes at (hi, lo). Returns a host offset
   * into this.aDv for RAM, ACC_MMIO (this.aPaddr set) for an aligned device
   * access, ACC_SPLIT if it crosses a page (nothing checked yet), or
   * ACC_TRAP after raising a page or access fault. this.aPaddr is the
   * physical address on success.
   */
  private dataAccess(hi: number, lo: number, size: number, access: Access): number {
    const t = hi >> 6;
    if (t !== 0 && t !== -1) {
      this.raise(pageFaultCause(access), hi, lo, TrapKind.MemoryFault);
      return ACC_TRAP;
    }
    const pageOff = lo & (PAGE_SIZE - 1);
    if (pageOff + size > PAGE_SIZE) return ACC_SPLIT;
    const tlb = this.tlb;
    const vpnS = (hi << 20) | (lo >>> 12);
    let slot = access * tlb.size + (vpnS & tlb.mask);
    if (tlb.tag[slot] !== vpnS) {
      slot = this.slotFor(hi, lo, access);
      if (slot < 0) return ACC_TRAP;
    }
    const paddr = tlb.ppage[slot]! + pageOff;
    this.aPaddr = paddr;
    const ri = tlb.region[slot]!;
    if (ri >= 0) {
      this.aDv = this.ramDv[ri]!;
      return paddr - this.ramBase[ri]!;
    }
    if (this.mmio !== null && (paddr & (size - 1)) === 0 && this.isDevice(paddr, size)) return ACC_MMIO;
    this.raise(accessFaultCause(access), hi, lo, TrapKind.MemoryFault);
    return ACC_TRAP;
  }

  // -------------------------------------------------------------------------
  // Loads and stores.
  // -------------------------------------------------------------------------

  /** Load with funct3 semantics (lb lh lw ld lbu lhu lwu) into this.vLo/vHi. False on trap. */
  private load(hi: number, lo: number, f3: number): boolean {
    const size = 1 << (f3 & 3);
    const h = this.dataAccess(hi, lo, size, Access.Read);
    let vl: number;
    let vh: number;
    if (h >= 0) {
      const dv = this.aDv;
      switch (f3) {
        case 0:
          vl = dv.getInt8(h);
          vh = vl >> 31;
          break;
        case 1:
          vl = dv.getInt16(h, true);
          vh = vl >> 31;
          break;
        case 2:
          vl = dv.getInt32(h, true);
          vh = vl >> 31;
          break;
        case 3:
          vl = dv.getInt32(h, true);
          vh = dv.getInt32(h + 4, true);
          break;
        case 4:
          vl = dv.getUint8(h);
          vh = 0;
          break;
        case 5:
          vl = dv.getUint16(h, true);
          vh = 0;
          break;
        default:
          vl = dv.getInt32(h, true);
          vh = 0;
          break;
      }
      this.vLo = vl;
      this.vHi = vh;
      return true;
    }
    if (h === ACC_TRAP) return false;
    if (h === ACC_MMIO) this.mmioRead(size as 1 | 2 | 4 | 8);
    else if (!this.loadSplit(hi, lo, size)) return false;
    // Extend the raw (zero-extended) value.
    vl = this.vLo;
    switch (f3) {
      case 0:
        vl = (vl << 24) >> 24;
        vh = vl >> 31;
        break;
      case 1:
        vl = (vl << 16) >> 16;
        vh = vl >> 31;
        break;
      case 2:
        vh = vl >> 31;
        break;
      case 3:
        vh = this.vHi;
        break;
      default:
        vh = 0;
        break;
    }
    this.vLo = vl;
    this.vHi = vh;
    return true;
  }

  /** Raw device read of this.aPaddr into this.vLo/vHi (zero-extended). */
  private mmioRead(size: 1 | 2 | 4 | 8): void {
    const v = this.mmio!.read(this.aPaddr, size);
    let lo: number;
    let hi: number;
    if (typeof v === 'bigint') {
      lo = Number(BigInt.asUintN(32, v)) | 0;
      hi = Number(BigInt.asUintN(32, v >> 32n)) | 0;
    } else {
      lo = v | 0;
      hi = hiOf(v);
    }
    if (size === 1) lo &= 0xff;
    else if (size === 2) lo &= 0xffff;
    this.vLo = lo;
    this.vHi = size === 8 ? hi : 0;
  }

  /** Raw (zero-extended) load of a page-crossing access, one byte at a time. */
  private loadSplit(hi: number, lo: number, size: number): boolean {
    let vl = 0;
    let vh = 0;
    for (let i = 0; i < size; i++) {
      const bl = (lo + i) | 0;
      const bh = (hi + ((bl >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      const h = this.dataAccess(bh, bl, 1, Access.Read);
      if (h === ACC_TRAP) return false;
      if (h < 0) {
        this.raise(accessFaultCause(Access.Read), bh, bl, TrapKind.MemoryFault);
        return false;
      }
      const b = this.aDv.getUint8(h);
      if (i < 4) vl |= b << (8 * i);
      else vh |= b << (8 * (i - 4));
    }
    this.vLo = vl;
    this.vHi = vh;
    return true;
  }

  /** Store the low `size` bytes of (vh, vl) at (hi, lo). False on trap. */
  private store(hi: number, lo: number, size: number, vl: number, vh: number): boolean {
    const h = this.dataAccess(hi, lo, size, Access.Write);
    if (h >= 0) {
      const dv = this.aDv;
      switch (size) {
        case 1:
          dv.setInt8(h, vl);
          break;
        case 2:
          dv.setInt16(h, vl, true);
          break;
        case 4:
          dv.setInt32(h, vl, true);
          break;
        default:
          dv.setInt32(h, vl, true);
          dv.setInt32(h + 4, vh, true);
          break;
      }
      return true;
    }
    if (h === ACC_TRAP) return false;
    return this.storeSlow(h, hi, lo, size, vl, vh);
  }

  /** The MMIO and page-crossing cases of `store`. */
  private storeSlow(h: number, hi: number, lo: number, size: number, vl: number, vh: number): boolean {
    if (h === ACC_MMIO) {
      const bus = this.mmio!;
      if (size === 8) bus.write(this.aPaddr, 8, (BigInt(vh >>> 0) << 32n) | BigInt(vl >>> 0));
      else bus.write(this.aPaddr, size as 1 | 2 | 4, size === 4 ? vl >>> 0 : vl & (size === 1 ? 0xff : 0xffff));
      return true;
    }
    // Page-crossing store: check every byte first, then write.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < size; i++) {
        const bl = (lo + i) | 0;
        const bh = (hi + ((bl >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
        const b = this.dataAccess(bh, bl, 1, Access.Write);
        if (b === ACC_TRAP) return false;
        if (b < 0) {
          this.raise(accessFaultCause(Access.Write), bh, bl, TrapKind.MemoryFault);
          return false;
        }
        if (pass === 1) this.aDv.setUint8(b, i < 4 ? vl >>> (8 * i) : vh >>> (8 * (i - 4)));
      }
    }
    return true;
  }

  // -------------------------------------------------------------------------
  // Instruction fetch.
  // -------------------------------------------------------------------------

  /**
   * Fetch the instruction at pc when it is not in the cached fetch page:
   * translates, caches the page (this.fVBase/fDv/fHost) when it is RAM, and
   * handles an instruction straddling two pages. Sets this.trapped on a fault.
   */
  private fetchSlow(pc: number): number {
    const hi = hiOf(pc);
    const lo = pc | 0;
    if (hi >> 6 !== 0 && hi >> 6 !== -1) {
      this.raise(CAUSE_FETCH_PAGE_FAULT, hi, lo, TrapKind.MemoryFault);
      return 0;
    }
    const slot = this.slotFor(hi, lo, Access.Execute);
    if (slot < 0) return 0;
    const tlb = this.tlb;
    const ri = tlb.region[slot]!;
    if (ri < 0) {
      this.raise(CAUSE_FETCH_ACCESS, hi, lo, TrapKind.MemoryFault);
      return 0;
    }
    const off = lo & (PAGE_SIZE - 1);
    const dv = this.ramDv[ri]!;
    const host = tlb.ppage[slot]! - this.ramBase[ri]!;
    this.fVBase = pc - off;
    this.fDv = dv;
    this.fHost = host;
    if (off <= PAGE_SIZE - 4) return dv.getInt32(host + off, true);
    const low = dv.getUint16(host + off, true);
    if ((low & 3) !== 3) return low;
    // The upper half lives on the next page.
    const hi2 = hiOf(pc + 2);
    const lo2 = (pc + 2) | 0;
    if (hi2 >> 6 !== 0 && hi2 >> 6 !== -1) {
      this.raise(CAUSE_FETCH_PAGE_FAULT, hi2, lo2, TrapKind.MemoryFault);
      return 0;
    }
    const slot2 = this.slotFor(hi2, lo2, Access.Execute);
    if (slot2 < 0) return 0;
    const ri2 = tlb.region[slot2]!;
    if (ri2 < 0) {
      this.raise(CAUSE_FETCH_ACCESS, hi2, lo2, TrapKind.MemoryFault);
      return 0;
    }
    const high = this.ramDv[ri2]!.getUint16(tlb.ppage[slot2]! - this.ramBase[ri2]!, true);
    return low | (high << 16);
  }

  // -------------------------------------------------------------------------
  // A extension.
  // -------------------------------------------------------------------------

  /** Execute an LR/SC/AMO instruction. False on trap. */
  private amo(inst: number, raw: number): boolean {
    const x = this.x;
    const f3 = (inst >>> 12) & 7;
    const f5 = inst >>> 27;
    const rd2 = (inst >>> 6) & 62;
    const rs1 = (inst >>> 14) & 62;
    const rs2 = (inst >>> 19) & 62;
    if (f3 !== 2 && f3 !== 3) {
      this.illegal(raw);
      return false;
    }
    const isLr = f5 === 0x02;
    if (isLr ? rs2 !== 0 : !(f5 === 0x03 || f5 === 0x01 || f5 === 0x00 || f5 === 0x04 || f5 === 0x0c || f5 === 0x08 || f5 >= 0x10 && (f5 & 3) === 0)) {
      this.illegal(raw);
      return false;
    }
    const size = f3 === 2 ? 4 : 8;
    const al = x[rs1]!;
    const ah = x[rs1 + 1]!;
    const access = isLr ? Access.Read : Access.Write;
    if ((al & (size - 1)) !== 0) {
      this.raise(isLr ? CAUSE_MISALIGNED_LOAD : CAUSE_MISALIGNED_STORE, ah, al, TrapKind.Exception);
      return false;
    }
    const h = this.dataAccess(ah, al, size, access);
    if (h === ACC_TRAP) return false;
    if (h < 0) {
      // Atomics on devices are not supported: access fault.
      this.raise(accessFaultCause(access), ah, al, TrapKind.MemoryFault);
      return false;
    }
    const dv = this.aDv;
    const paddr = this.aPaddr;
    let rl: number;
    let rh: number;
    if (f5 === 0x03) {
      // SC: succeeds only on the reservation of the last LR.
      const ok = this.resPaddr === paddr && this.resSize === size;
      this.resPaddr = -1;
      if (ok) {
        dv.setInt32(h, x[rs2]!, true);
        if (size === 8) dv.setInt32(h + 4, x[rs2 + 1]!, true);
      }
      rl = ok ? 0 : 1;
      rh = 0;
    } else {
      const ol = dv.getInt32(h, true);
      const oh = size === 8 ? dv.getInt32(h + 4, true) : ol >> 31;
      rl = ol;
      rh = oh;
      if (isLr) {
        this.resPaddr = paddr;
        this.resSize = size;
      } else {
        const bl = x[rs2]!;
        const bh = size === 8 ? x[rs2 + 1]! : bl >> 31;
        let nl: number;
        let nh: number;
        switch (f5) {
          case 0x01: // amoswap
            nl = bl;
            nh = bh;
            break;
          case 0x00: // amoadd
            nl = (ol + bl) | 0;
            nh = (oh + bh + ((nl >>> 0) < (ol >>> 0) ? 1 : 0)) | 0;
            break;
          case 0x04: // amoxor
            nl = ol ^ bl;
            nh = oh ^ bh;
            break;
          case 0x0c: // amoand
            nl = ol & bl;
            nh = oh & bh;
            break;
          case 0x08: // amoor
            nl = ol | bl;
            nh = oh | bh;
            break;
          default: {
            // amomin (0x10), amomax (0x14), amominu (0x18), amomaxu (0x1c)
            const unsigned = f5 >= 0x18;
            const oHiCmp = unsigned ? oh >>> 0 : oh;
            const bHiCmp = unsigned ? bh >>> 0 : bh;
            const less = oHiCmp < bHiCmp || (oh === bh && ol >>> 0 < bl >>> 0); // old < b
            const wantMin = (f5 & 4) === 0;
            const keepOld = wantMin ? less : !less;
            nl = keepOld ? ol : bl;
            nh = keepOld ? oh : bh;
            break;
          }
        }
        dv.setInt32(h, nl, true);
        if (size === 8) dv.setInt32(h + 4, nh, true);
      }
    }
    if (rd2 !== 0) {
      x[rd2] = rl;
      x[rd2 + 1] = rh;
    }
    return true;
  }
}

/** Convenience for diagnostics: true if a cause is a page or access fault. */
export function isMemoryFaultCause(cause: number): boolean {
  return cause === 1 || cause === 5 || cause === 7 || cause === 12 || cause === 13 || cause === 15;
}

