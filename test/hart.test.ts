import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Hart, TrapKind, type MmioBus } from '../src/machine/hart.js';
import { expandCompressed } from '../src/machine/rvc.js';
import { PAGE_SIZE, PTE_A, PTE_D, PTE_R, PTE_V, PTE_W, PTE_X } from '../src/machine/sv39.js';
import * as A from './support/rv64asm.js';
import { Asm, a0, a1, a2, a3, a4, a5, t0, t1, t2, ra, sp, zero, s0, s1 } from './support/rv64asm.js';
import { CODE, DATA, STACK_TOP, rig, runProgram, u64, s64, type Rig } from './support/hartrig.js';
import { UR, URW, URX } from './support/sv39map.js';

const M64 = (1n << 64n) - 1n;
const MIN64 = 1n << 63n;

/** Runs short instruction sequences on one reusable rig. */
class Runner {
  readonly r: Rig;
  constructor() {
    this.r = rig(new Uint8Array(PAGE_SIZE));
  }
  /** Execute `insts` then ecall with the given registers; returns the hart. */
  exec(insts: number[], regs: Record<number, bigint> = {}): Hart {
    const { mem, codeFrames, hart } = this.r;
    const f = codeFrames[0]!;
    insts.forEach((w, i) => mem.write32(f + 4 * i, w >>> 0));
    mem.write32(f + 4 * insts.length, A.ecall());
    for (let i = 1; i < 32; i++) hart.setReg(i, 0n);
    for (const [k, v] of Object.entries(regs)) hart.setReg(Number(k), v);
    hart.pc = BigInt(CODE);
    const kind = hart.run(1000);
    assert.equal(kind, TrapKind.Ecall, `stopped with cause ${hart.cause}`);
    return hart;
  }
  /** rd = a2 = op(a0, a1). */
  op(inst: number, a: bigint, b: bigint): bigint {
    return this.exec([inst], { [a0]: a, [a1]: b }).getReg(a2);
  }
}
const runner = new Runner();

const edge64 = [0n, 1n, 2n, 3n, 7n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, MIN64, MIN64 - 1n, M64, M64 - 1n, 0x123456789abcdef0n, 0xfedcba9876543210n];
const arb64 = fc.oneof(fc.constantFrom(...edge64), fc.bigInt({ min: 0n, max: M64 }));

const sx32 = (v: bigint) => u64(BigInt.asIntN(32, v));

// ---------------------------------------------------------------------------
// RV64I arithmetic
// ---------------------------------------------------------------------------

test('add/sub/addi carry across 32 bits and wrap at 64 bits', () => {
  assert.equal(runner.op(A.add(a2, a0, a1), 0xffffffffn, 1n), 0x100000000n);
  assert.equal(runner.op(A.add(a2, a0, a1), M64, 1n), 0n);
  assert.equal(runner.op(A.sub(a2, a0, a1), 0n, 1n), M64);
  assert.equal(runner.op(A.sub(a2, a0, a1), 0x100000000n, 1n), 0xffffffffn);
  assert.equal(runner.exec([A.addi(a2, a0, -1)], { [a0]: 0x100000000n }).getReg(a2), 0xffffffffn);
  assert.equal(runner.exec([A.addi(a2, a0, -2048)], { [a0]: 0n }).getReg(a2), u64(-2048n));
  assert.equal(runner.exec([A.addi(a2, a0, 2047)], { [a0]: M64 }).getReg(a2), 2046n);
  fc.assert(
    fc.property(arb64, arb64, (a, b) => {
      assert.equal(runner.op(A.add(a2, a0, a1), a, b), u64(a + b));
      assert.equal(runner.op(A.sub(a2, a0, a1), a, b), u64(a - b));
      assert.equal(runner.op(A.xor(a2, a0, a1), a, b), a ^ b);
      assert.equal(runner.op(A.or(a2, a0, a1), a, b), a | b);
      assert.equal(runner.op(A.and(a2, a0, a1), a, b), a & b);
      assert.equal(runner.op(A.slt(a2, a0, a1), a, b), s64(a) < s64(b) ? 1n : 0n);
      assert.equal(runner.op(A.sltu(a2, a0, a1), a, b), a < b ? 1n : 0n);
    }),
    { numRuns: 300 },
  );
});

test('immediate logic and compares sign-extend the immediate', () => {
  const h = runner.exec(
    [A.xori(a2, a0, -1), A.ori(a3, a0, -2048), A.andi(a4, a0, -1), A.slti(a5, a0, -1), A.sltiu(t0, a0, -1), A.sltiu(t1, zero, 1), A.slti(t2, a1, 0)],
    { [a0]: 0x0000_0001_0000_0000n, [a1]: MIN64 },
  );
  assert.equal(h.getReg(a2), u64(~0x0000_0001_0000_0000n));
  assert.equal(h.getReg(a3), 0xffff_ffff_ffff_f800n);
  assert.equal(h.getReg(a4), 0x0000_0001_0000_0000n);
  assert.equal(h.getReg(a5), 0n);
  assert.equal(h.getReg(t0), 1n); // unsigned compare against 2^64-1
  assert.equal(h.getReg(t1), 1n); // seqz
  assert.equal(h.getReg(t2), 1n);
});

test('lui and auipc sign-extend; x0 stays zero', () => {
  const h = runner.exec([A.lui(a0, 0x80000), A.lui(a1, 0x7ffff), A.auipc(a2, 0xfffff), A.auipc(a3, 1), A.addi(zero, zero, 5), A.lui(zero, 1)]);
  assert.equal(h.getReg(a0), 0xffff_ffff_8000_0000n);
  assert.equal(h.getReg(a1), 0x7fff_f000n);
  assert.equal(h.getReg(a2), BigInt(CODE + 8 - 0x1000));
  assert.equal(h.getReg(a3), BigInt(CODE + 12 + 0x1000));
  assert.equal(h.getReg(zero), 0n);
});

test('shifts by 0, 31, 32, 63 and register shift amounts mask to 6 bits', () => {
  const v = 0x8000_0000_0000_0001n;
  for (const s of [0, 1, 31, 32, 33, 63]) {
    const h = runner.exec([A.slli(a2, a0, s), A.srli(a3, a0, s), A.srai(a4, a0, s)], { [a0]: v });
    assert.equal(h.getReg(a2), u64(v << BigInt(s)), `slli ${s}`);
    assert.equal(h.getReg(a3), v >> BigInt(s), `srli ${s}`);
    assert.equal(h.getReg(a4), u64(s64(v) >> BigInt(s)), `srai ${s}`);
  }
  fc.assert(
    fc.property(arb64, fc.bigInt({ min: 0n, max: M64 }), (a, b) => {
      const s = b & 63n;
      assert.equal(runner.op(A.sll(a2, a0, a1), a, b), u64(a << s));
      assert.equal(runner.op(A.srl(a2, a0, a1), a, b), a >> s);
      assert.equal(runner.op(A.sra(a2, a0, a1), a, b), u64(s64(a) >> s));
    }),
    { numRuns: 300 },
  );
  // Shift amount 64 behaves as 0.
  assert.equal(runner.op(A.sll(a2, a0, a1), 5n, 64n), 5n);
});

test('*W operations use the low 32 bits and sign-extend the result', () => {
  assert.equal(runner.op(A.addw(a2, a0, a1), 0x7fffffffn, 1n), 0xffff_ffff_8000_0000n);
  assert.equal(runner.op(A.addw(a2, a0, a1), 0xdead_beef_0000_0001n, 0x1234_5678_0000_0002n), 3n);
  assert.equal(runner.op(A.subw(a2, a0, a1), 0n, 1n), M64);
  assert.equal(runner.exec([A.addiw(a2, a0, 0)], { [a0]: 0x1_8000_0000n }).getReg(a2), 0xffff_ffff_8000_0000n); // sext.w
  assert.equal(runner.exec([A.slliw(a2, a0, 31)], { [a0]: 1n }).getReg(a2), 0xffff_ffff_8000_0000n);
  assert.equal(runner.exec([A.srliw(a2, a0, 31)], { [a0]: 0xffff_ffff_8000_0000n }).getReg(a2), 1n);
  assert.equal(runner.exec([A.srliw(a2, a0, 0)], { [a0]: 0x8000_0000n }).getReg(a2), 0xffff_ffff_8000_0000n);
  assert.equal(runner.exec([A.sraiw(a2, a0, 31)], { [a0]: 0x8000_0000n }).getReg(a2), M64);
  fc.assert(
    fc.property(arb64, arb64, (a, b) => {
      const s = b & 31n;
      const a32 = a & 0xffffffffn;
      assert.equal(runner.op(A.addw(a2, a0, a1), a, b), sx32(a + b));
      assert.equal(runner.op(A.subw(a2, a0, a1), a, b), sx32(a - b));
      assert.equal(runner.op(A.sllw(a2, a0, a1), a, b), sx32(a32 << s));
      assert.equal(runner.op(A.srlw(a2, a0, a1), a, b), sx32(a32 >> s));
      assert.equal(runner.op(A.sraw(a2, a0, a1), a, b), sx32(BigInt.asIntN(32, a32) >> s));
    }),
    { numRuns: 300 },
  );
});

// ---------------------------------------------------------------------------
// M extension
// ---------------------------------------------------------------------------

function refDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) return M64;
  if (a === MIN64 && b === M64) return MIN64;
  return u64(s64(a) / s64(b));
}
function refRem(a: bigint, b: bigint): bigint {
  if (b === 0n) return a;
  if (a === MIN64 && b === M64) return 0n;
  return u64(s64(a) % s64(b));
}

test('mul, mulh, mulhsu, mulhu match 128-bit products', () => {
  fc.assert(
    fc.property(arb64, arb64, (a, b) => {
      assert.equal(runner.op(A.mul(a2, a0, a1), a, b), u64(a * b));
      assert.equal(runner.op(A.mulh(a2, a0, a1), a, b), u64((s64(a) * s64(b)) >> 64n));
      assert.equal(runner.op(A.mulhsu(a2, a0, a1), a, b), u64((s64(a) * b) >> 64n));
      assert.equal(runner.op(A.mulhu(a2, a0, a1), a, b), (a * b) >> 64n);
      assert.equal(runner.op(A.mulw(a2, a0, a1), a, b), sx32(a * b));
    }),
    { numRuns: 500 },
  );
});

test('division by zero and overflow follow the spec', () => {
  // div / rem
  assert.equal(runner.op(A.div(a2, a0, a1), 42n, 0n), M64);
  assert.equal(runner.op(A.rem(a2, a0, a1), 42n, 0n), 42n);
  assert.equal(runner.op(A.divu(a2, a0, a1), 42n, 0n), M64);
  assert.equal(runner.op(A.remu(a2, a0, a1), 42n, 0n), 42n);
  assert.equal(runner.op(A.div(a2, a0, a1), MIN64, M64), MIN64);
  assert.equal(runner.op(A.rem(a2, a0, a1), MIN64, M64), 0n);
  assert.equal(runner.op(A.div(a2, a0, a1), u64(-7n), 2n), u64(-3n)); // rounds toward zero
  assert.equal(runner.op(A.rem(a2, a0, a1), u64(-7n), 2n), u64(-1n)); // sign of the dividend
  assert.equal(runner.op(A.rem(a2, a0, a1), 7n, u64(-2n)), 1n);
  // W forms
  assert.equal(runner.op(A.divw(a2, a0, a1), 42n, 0n), M64);
  assert.equal(runner.op(A.remw(a2, a0, a1), 0x1_0000_002an, 0n), 42n);
  assert.equal(runner.op(A.remw(a2, a0, a1), 0x8000_0000n, 0n), 0xffff_ffff_8000_0000n);
  assert.equal(runner.op(A.divuw(a2, a0, a1), 42n, 0x1_0000_0000n), M64); // low word of divisor is 0
  assert.equal(runner.op(A.remuw(a2, a0, a1), 0xffff_ffffn, 0n), M64);
  assert.equal(runner.op(A.divw(a2, a0, a1), 0x8000_0000n, 0xffff_ffffn), 0xffff_ffff_8000_0000n);
  assert.equal(runner.op(A.remw(a2, a0, a1), 0x8000_0000n, 0xffff_ffffn), 0n);
  assert.equal(runner.op(A.divuw(a2, a0, a1), 0xffff_fffen, 1n), 0xffff_ffff_ffff_fffen);
});

test('div, divu, rem, remu and W forms match a reference (property)', () => {
  const small = fc.bigInt({ min: -(2n ** 31n), max: 2n ** 31n - 1n }).map(u64);
  const arb = fc.oneof(arb64, small);
  fc.assert(
    fc.property(arb, arb, (a, b) => {
      assert.equal(runner.op(A.div(a2, a0, a1), a, b), refDiv(a, b), `div ${a} ${b}`);
      assert.equal(runner.op(A.rem(a2, a0, a1), a, b), refRem(a, b), `rem ${a} ${b}`);
      assert.equal(runner.op(A.divu(a2, a0, a1), a, b), b === 0n ? M64 : a / b, `divu ${a} ${b}`);
      assert.equal(runner.op(A.remu(a2, a0, a1), a, b), b === 0n ? a : a % b, `remu ${a} ${b}`);
      const a32 = BigInt.asIntN(32, a);
      const b32 = BigInt.asIntN(32, b);
      const ua = a & 0xffffffffn;
      const ub = b & 0xffffffffn;
      const divw = b32 === 0n ? -1n : a32 === -(2n ** 31n) && b32 === -1n ? a32 : a32 / b32;
      const remw = b32 === 0n ? a32 : a32 === -(2n ** 31n) && b32 === -1n ? 0n : a32 % b32;
      assert.equal(runner.op(A.divw(a2, a0, a1), a, b), sx32(divw));
      assert.equal(runner.op(A.remw(a2, a0, a1), a, b), sx32(remw));
      assert.equal(runner.op(A.divuw(a2, a0, a1), a, b), sx32(ub === 0n ? 0xffffffffn : ua / ub));
      assert.equal(runner.op(A.remuw(a2, a0, a1), a, b), sx32(ub === 0n ? ua : ua % ub));
    }),
    { numRuns: 500 },
  );
});

// ---------------------------------------------------------------------------
// Loads, stores, branches, jumps
// ---------------------------------------------------------------------------

test('loads sign- or zero-extend; stores write the low bytes', () => {
  const { hart, mem, dataFrames } = runProgram(
    (a) => {
      a.i(A.lui(s0, DATA >> 12));
      a.i(A.lb(a0, s0, 0), A.lbu(a1, s0, 0), A.lh(a2, s0, 0), A.lhu(a3, s0, 0), A.lw(a4, s0, 0), A.lwu(a5, s0, 0), A.ld(t0, s0, 0));
      a.i(A.li32(t1, -2));
      a.i(A.sb(t1, s0, 16), A.sh(t1, s0, 24), A.sw(t1, s0, 32), A.sd(t1, s0, 40));
      a.i(A.ld(t2, s0, 2040), A.sd(t0, s0, -8 + 2048)); // offsets up to 2047
    },
    (r) => {
      r.mem.write64(r.dataFrames[0]!, 0x0123_4567_89ab_cdefn | (1n << 63n) | 0x80808080n);
    },
  );
  const v = 0x0123_4567_89ab_cdefn | (1n << 63n) | 0x80808080n;
  assert.equal(hart.getReg(a0), u64(BigInt.asIntN(8, v)));
  assert.equal(hart.getReg(a1), v & 0xffn);
  assert.equal(hart.getReg(a2), u64(BigInt.asIntN(16, v)));
  assert.equal(hart.getReg(a3), v & 0xffffn);
  assert.equal(hart.getReg(a4), u64(BigInt.asIntN(32, v)));
  assert.equal(hart.getReg(a5), v & 0xffffffffn);
  assert.equal(hart.getReg(t0), v);
  const d = dataFrames[0]!;
  assert.equal(mem.read64(d + 16), 0xfen);
  assert.equal(mem.read64(d + 24), 0xfffen);
  assert.equal(mem.read64(d + 32), 0xffff_fffen);
  assert.equal(mem.read64(d + 40), M64 - 1n);
  assert.equal(mem.read64(d + 2040), v);
});

test('misaligned loads and stores work, also across a page boundary', () => {
  const { hart, mem, dataFrames } = runProgram(
    (a) => {
      a.i(A.lui(s0, (DATA + PAGE_SIZE) >> 12));
      a.i(A.ld(a0, s0, -3), A.lw(a1, s0, -1), A.lh(a2, s0, 1), A.sd(a3, s0, -5), A.sh(a3, s0, 3));
    },
    (r) => {
      r.mem.write64(r.dataFrames[0]! + PAGE_SIZE - 8, 0x8877_6655_4433_2211n);
      r.mem.write64(r.dataFrames[1]!, 0x1000_ffee_ddcc_bbaan);
      r.hart.setReg(a3, 0x0102_0304_0506_0708n);
    },
  );
  assert.equal(hart.getReg(a0), 0xeedd_ccbb_aa88_7766n);
  assert.equal(hart.getReg(a1), 0xffff_ffff_ccbb_aa88n);
  assert.equal(hart.getReg(a2), u64(BigInt.asIntN(16, 0xccbbn)));
  const p0 = dataFrames[0]!;
  const p1 = dataFrames[1]!;
  assert.deepEqual([...mem.bytes(p0 + PAGE_SIZE - 5, 5)], [0x08, 0x07, 0x06, 0x05, 0x04]);
  assert.deepEqual([...mem.bytes(p1, 5)], [0x03, 0x02, 0x01, 0x08, 0x07]);
});

test('a page-crossing store that faults on the second page writes nothing', () => {
  const a = new Asm(CODE);
  a.i(A.lui(s0, (DATA + 2 * PAGE_SIZE) >> 12), A.sd(a3, s0, -4), A.ecall());
  const r = rig(a);
  r.vs.map(DATA + 2 * PAGE_SIZE, r.dataFrames[2]!, UR); // second page read-only
  r.hart.tlb.flush();
  r.hart.setReg(a3, M64);
  assert.equal(r.hart.run(100), TrapKind.MemoryFault);
  assert.equal(r.hart.cause, 15);
  assert.equal(r.hart.tval, BigInt(DATA + 2 * PAGE_SIZE));
  assert.equal(r.hart.pc, BigInt(CODE + 4));
  assert.equal(r.mem.read32(r.dataFrames[1]! + PAGE_SIZE - 4), 0);
});

test('branches: every condition, signed vs unsigned, backwards loop', () => {
  const cases: [(x: number, y: number, o: number) => number, bigint, bigint, boolean][] = [
    [A.beq, 5n, 5n, true],
    [A.beq, 5n, 5n | (1n << 32n), false],
    [A.bne, 5n, 5n | (1n << 32n), true],
    [A.blt, M64, 0n, true],
    [A.blt, 0n, M64, false],
    [A.bge, 0n, M64, true],
    [A.bge, 3n, 3n, true],
    [A.bltu, M64, 0n, false],
    [A.bltu, 0n, M64, true],
    [A.bgeu, M64, 0n, true],
    [A.bgeu, 0x1_0000_0000n, 0xffff_ffffn, true],
    [A.blt, 0x1_0000_0000n, 0xffff_ffffn, false],
  ];
  for (const [br, x, y, taken] of cases) {
    const h = runner.exec([br(a0, a1, 8), A.addi(a2, zero, 1), A.addi(a3, zero, 1)], { [a0]: x, [a1]: y });
    assert.equal(h.getReg(a2), taken ? 0n : 1n, `${br.name} ${x} ${y}`);
    assert.equal(h.getReg(a3), 1n);
  }
  // Sum 1..100 with a backwards branch.
  const { hart } = runProgram((a) => {
    a.i(A.addi(a0, zero, 0), A.addi(t0, zero, 100));
    a.label('loop');
    a.i(A.add(a0, a0, t0), A.addi(t0, t0, -1));
    a.to('loop', (off) => A.bne(t0, zero, off));
  });
  assert.equal(hart.getReg(a0), 5050n);
});

test('jal and jalr link, jalr clears bit 0 and may use rd = rs1', () => {
  const { hart } = runProgram((a) => {
    a.to('f', (off) => A.jal(ra, off)); // CODE + 0
    a.i(A.addi(a1, a1, 1)); // CODE + 4, after return
    a.to('end', (off) => A.jal(zero, off));
    a.label('f');
    a.i(A.addi(a0, zero, 7), A.addi(t0, ra, 1)); // odd target: bit 0 is cleared
    a.i(A.jalr(t0, t0, 0));
    a.label('end');
  });
  assert.equal(hart.getReg(a0), 7n);
  assert.equal(hart.getReg(a1), 1n);
  assert.equal(hart.getReg(ra), BigInt(CODE + 4));
  assert.equal(hart.getReg(t0), BigInt(CODE + 24)); // link of the jalr (rd = rs1, read before write)
});

// ---------------------------------------------------------------------------
// A extension
// ---------------------------------------------------------------------------

test('LR/SC: success, failure without reservation, failure after SC', () => {
  const { hart, mem, dataFrames } = runProgram(
    (a) => {
      a.i(A.lui(s0, DATA >> 12));
      a.i(A.lr('d', a0, s0), A.addi(a0, a0, 1), A.sc('d', a1, a0, s0)); // succeeds: a1 = 0
      a.i(A.sc('d', a2, a0, s0)); // no reservation: a2 = 1
      a.i(A.lr('w', a3, s0), A.addi(t0, s0, 8), A.sc('w', a4, a3, t0)); // other address: fails
      a.i(A.sc('w', a5, a3, s0)); // reservation was cleared by the failed SC
    },
    (r) => r.mem.write64(r.dataFrames[0]!, 0xffff_ffffn),
  );
  assert.equal(hart.getReg(a0), 0x1_0000_0000n);
  assert.equal(hart.getReg(a1), 0n);
  assert.equal(hart.getReg(a2), 1n);
  assert.equal(hart.getReg(a3), 0n); // lr.w of the (updated) low word 0, sign-extended
  assert.equal(hart.getReg(a4), 1n);
  assert.equal(hart.getReg(a5), 1n);
  assert.equal(mem.read64(dataFrames[0]!), 0x1_0000_0000n);
});

test('lr.w sign-extends; a reservation does not survive a trap', () => {
  const a = new Asm(CODE);
  a.i(A.lui(s0, DATA >> 12), A.lr('w', a0, s0), A.ecall(), A.sc('w', a1, a0, s0), A.ecall());
  const r = rig(a);
  r.mem.write32(r.dataFrames[0]!, 0x8000_0000);
  assert.equal(r.hart.run(100), TrapKind.Ecall);
  assert.equal(r.hart.getReg(a0), 0xffff_ffff_8000_0000n);
  r.hart.pc += 4n;
  assert.equal(r.hart.run(100), TrapKind.Ecall);
  assert.equal(r.hart.getReg(a1), 1n);
});

test('AMOs: old value to rd, operation to memory, .w sign-extends', () => {
  type Amo = (w: 'w' | 'd', rd: number, rs2: number, rs1: number) => number;
  const ops: [Amo, (m: bigint, v: bigint, bits: number) => bigint][] = [
    [A.amoswap, (_m, v) => v],
    [A.amoadd, (m, v) => m + v],
    [A.amoxor, (m, v) => m ^ v],
    [A.amoand, (m, v) => m & v],
    [A.amoor, (m, v) => m | v],
    [A.amomin, (m, v, n) => (BigInt.asIntN(n, m) < BigInt.asIntN(n, v) ? m : v)],
    [A.amomax, (m, v, n) => (BigInt.asIntN(n, m) > BigInt.asIntN(n, v) ? m : v)],
    [A.amominu, (m, v, n) => (BigInt.asUintN(n, m) < BigInt.asUintN(n, v) ? m : v)],
    [A.amomaxu, (m, v, n) => (BigInt.asUintN(n, m) > BigInt.asUintN(n, v) ? m : v)],
  ];
  const pairs: [bigint, bigint][] = [
    [5n, 3n],
    [M64, 1n],
    [0x8000_0000n, 0x7fff_ffffn],
    [MIN64, MIN64 - 1n],
    [0x1_0000_0001n, 0xffff_ffff_0000_0002n],
  ];
  const { mem, dataFrames } = runner.r;
  const d = dataFrames[0]!;
  for (const [op, f] of ops) {
    for (const [m, v] of pairs) {
      for (const w of ['w', 'd'] as const) {
        const bits = w === 'w' ? 32 : 64;
        mem.write64(d, 0x5555_5555_5555_5555n);
        if (w === 'w') mem.write32(d, Number(m & 0xffffffffn));
        else mem.write64(d, m);
        const h = runner.exec([op(w, a2, a1, a0)], { [a0]: BigInt(DATA), [a1]: v });
        const mm = BigInt.asUintN(bits, m);
        const expectOld = w === 'w' ? sx32(mm) : mm;
        assert.equal(h.getReg(a2), expectOld, `${op.name}.${w} rd`);
        const expectMem = BigInt.asUintN(bits, f(mm, BigInt.asUintN(bits, v), bits));
        if (w === 'w') {
          assert.equal(BigInt(mem.read32(d)), expectMem, `${op.name}.w mem`);
          assert.equal(mem.read32(d + 4), 0x5555_5555, 'upper word untouched');
        } else {
          assert.equal(mem.read64(d), expectMem, `${op.name}.d mem`);
        }
      }
    }
  }
});

test('misaligned atomics trap: LR cause 4, SC/AMO cause 6', () => {
  const h = new Runner();
  const run = (inst: number, addr = DATA + 4) => {
    const { hart, mem, codeFrames } = h.r;
    mem.write32(codeFrames[0]!, inst);
    hart.setReg(a0, BigInt(addr));
    hart.pc = BigInt(CODE);
    return hart.run(10);
  };
  assert.equal(run(A.lr('d', a1, a0)), TrapKind.Exception);
  assert.equal(h.r.hart.cause, 4);
  assert.equal(h.r.hart.tval, BigInt(DATA + 4));
  assert.equal(run(A.sc('d', a1, a1, a0)), TrapKind.Exception);
  assert.equal(h.r.hart.cause, 6);
  assert.equal(run(A.amoadd('d', a1, a1, a0)), TrapKind.Exception);
  assert.equal(h.r.hart.cause, 6);
  assert.equal(run(A.amoadd('w', a1, a1, a0), DATA + 2), TrapKind.Exception);
  assert.equal(h.r.hart.cause, 6);
  // AMO on a read-only page is a store page fault.
  h.r.vs.map(DATA + 3 * PAGE_SIZE, h.r.dataFrames[3]!, UR);
  h.r.hart.tlb.flush();
  const { hart, mem, codeFrames } = h.r;
  mem.write32(codeFrames[0]!, A.amoadd('w', a1, a1, a0));
  hart.setReg(a0, BigInt(DATA + 3 * PAGE_SIZE));
  hart.pc = BigInt(CODE);
  assert.equal(hart.run(10), TrapKind.MemoryFault);
  assert.equal(hart.cause, 15);
  // lr with rs2 != 0 is reserved.
  mem.write32(codeFrames[0]!, A.lr('w', a1, a0) | (1 << 20));
  hart.pc = BigInt(CODE);
  assert.equal(hart.run(10), TrapKind.Exception);
  assert.equal(hart.cause, 2);
});

// ---------------------------------------------------------------------------
// Compressed
// ---------------------------------------------------------------------------

test('compressed instructions expand to their 32-bit equivalents', () => {
  const cases: [number, number][] = [
    [A.c_addi(a0, -3), A.addi(a0, a0, -3)],
    [A.c_addiw(a0, 31), A.addiw(a0, a0, 31)],
    [A.c_li(a1, -32), A.addi(a1, zero, -32)],
    [A.c_lui(a1, 0x3f), A.lui(a1, 0xfffff)],
    [A.c_lui(a1, 1), A.lui(a1, 1)],
    [A.c_addi16sp(-512), A.addi(sp, sp, -512)],
    [A.c_addi16sp(496), A.addi(sp, sp, 496)],
    [A.c_addi4spn(s0, 1020), A.addi(s0, sp, 1020)],
    [A.c_addi4spn(a5, 4), A.addi(a5, sp, 4)],
    [A.c_srli(a0, 63), A.srli(a0, a0, 63)],
    [A.c_srai(s1, 32), A.srai(s1, s1, 32)],
    [A.c_andi(a2, -1), A.andi(a2, a2, -1)],
    [A.c_sub(a0, a1), A.sub(a0, a0, a1)],
    [A.c_xor(a0, a1), A.xor(a0, a0, a1)],
    [A.c_or(a0, a1), A.or(a0, a0, a1)],
    [A.c_and(a0, a1), A.and(a0, a0, a1)],
    [A.c_subw(a0, a1), A.subw(a0, a0, a1)],
    [A.c_addw(a0, a1), A.addw(a0, a0, a1)],
    [A.c_j(-2048), A.jal(zero, -2048)],
    [A.c_j(2046), A.jal(zero, 2046)],
    [A.c_beqz(a0, -256), A.beq(a0, zero, -256)],
    [A.c_bnez(s1, 254), A.bne(s1, zero, 254)],
    [A.c_slli(t0, 63), A.slli(t0, t0, 63)],
    [A.c_lwsp(ra, 252), A.lw(ra, sp, 252)],
    [A.c_ldsp(ra, 504), A.ld(ra, sp, 504)],
    [A.c_swsp(t1, 252), A.sw(t1, sp, 252)],
    [A.c_sdsp(t1, 504), A.sd(t1, sp, 504)],
    [A.c_lw(a0, a1, 124), A.lw(a0, a1, 124)],
    [A.c_ld(a0, a1, 248), A.ld(a0, a1, 248)],
    [A.c_sw(a0, a1, 124), A.sw(a0, a1, 124)],
    [A.c_sd(a0, a1, 248), A.sd(a0, a1, 248)],
    [A.c_jr(ra), A.jalr(zero, ra, 0)],
    [A.c_jalr(t0), A.jalr(ra, t0, 0)],
    [A.c_mv(a0, a1), A.add(a0, zero, a1)],
    [A.c_add(a0, a1), A.add(a0, a0, a1)],
    [A.c_ebreak(), A.ebreak()],
    [A.c_nop(), A.addi(zero, zero, 0)],
  ];
  for (const [c, full] of cases) {
    assert.equal(expandCompressed(c) >>> 0, full >>> 0, `c=0x${c.toString(16)}`);
  }
  // Illegal / reserved / floating point.
  for (const c of [0x0000, A.c_addi4spn(s0, 0), 0x2000 /* c.fld */, 0xa000 /* c.fsd */, 0x6101 /* c.addi16sp 0 */, 0x6081 /* c.lui ra, 0 */, 0x2001 /* c.addiw x0 */, 0x8002 /* c.jr x0 */, 0x4002 /* c.lwsp x0 */, 0x6002, 0x2002 /* c.fldsp */, 0x9c41 /* reserved */]) {
    assert.equal(expandCompressed(c), 0, `c=0x${c.toString(16)} must be illegal`);
  }
});

test('mixed compressed and 32-bit code runs; link after c.jalr is pc + 2', () => {
  const { hart, mem, dataFrames } = runProgram((a) => {
    a.c(A.c_li(a0, 10), A.c_li(a1, 0));
    a.label('loop');
    a.c(A.c_add(a1, a0), A.c_addi(a0, -1));
    a.cto('loop', (off) => A.c_bnez(a0, off));
    a.i(A.lui(s0, DATA >> 12));
    a.c(A.c_sd(a1, s0, 8), A.c_ld(a2, s0, 8), A.c_addi16sp(-64), A.c_sdsp(a1, 16), A.c_ldsp(a3, 16), A.c_addi4spn(a4, 16));
    a.i(A.auipc(t0, 0));
    a.i(A.addi(t0, t0, 12)); // -> the c.mv below
    a.c(A.c_jalr(t0)); // ra = this + 2
    a.label('ret');
    a.cto('end', (off) => A.c_j(off));
    a.c(A.c_mv(a5, ra));
    a.c(A.c_jr(ra));
    a.label('end');
    a.c(A.c_nop());
  });
  assert.equal(hart.getReg(a1), 55n);
  assert.equal(hart.getReg(a2), 55n);
  assert.equal(hart.getReg(a3), 55n);
  assert.equal(hart.getReg(sp), BigInt(STACK_TOP - 64));
  assert.equal(hart.getReg(a4), BigInt(STACK_TOP - 64 + 16));
  assert.equal(mem.read64(dataFrames[0]! + 8), 55n);
  assert.equal(hart.getReg(a5), hart.getReg(ra));
});

test('a 32-bit instruction straddling two pages; fault on the second half', () => {
  const a = new Asm(CODE);
  for (let i = 0; i < (PAGE_SIZE - 2) / 2; i++) a.c(A.c_nop());
  a.i(A.addi(a0, zero, 42)); // at CODE + 0xffe
  a.i(A.ecall());
  const r = rig(a);
  assert.equal(r.hart.run(10_000), TrapKind.Ecall);
  assert.equal(r.hart.getReg(a0), 42n);
  // Unmap the second page: the fetch of the upper half faults with tval = pc + 2.
  r.vs.unmap(CODE + PAGE_SIZE);
  r.hart.tlb.flush();
  r.hart.pc = BigInt(CODE + PAGE_SIZE - 2);
  assert.equal(r.hart.run(10), TrapKind.MemoryFault);
  assert.equal(r.hart.cause, 12);
  assert.equal(r.hart.tval, BigInt(CODE + PAGE_SIZE));
  assert.equal(r.hart.pc, BigInt(CODE + PAGE_SIZE - 2));
});

// ---------------------------------------------------------------------------
// Traps
// ---------------------------------------------------------------------------

test('ecall stops with cause 8 and pc at the ecall; it does not retire', () => {
  const a = new Asm(CODE);
  a.i(A.addi(a0, zero, 1), A.ecall(), A.addi(a0, zero, 2), A.ecall());
  const r = rig(a);
  assert.equal(r.hart.run(100), TrapKind.Ecall);
  assert.equal(r.hart.cause, 8);
  assert.equal(r.hart.tval, 0n);
  assert.equal(r.hart.pc, BigInt(CODE + 4));
  assert.equal(r.hart.instret, 1);
  r.hart.pc += 4n; // the kernel advances past the ecall
  assert.equal(r.hart.run(100), TrapKind.Ecall);
  assert.equal(r.hart.getReg(a0), 2n);
  assert.equal(r.hart.pc, BigInt(CODE + 12));
  assert.equal(r.hart.instret, 2);
});

test('ebreak and c.ebreak: cause 3, tval = pc', () => {
  const a = new Asm(CODE);
  a.i(A.nop(), A.ebreak());
  a.c(A.c_ebreak());
  const r = rig(a);
  assert.equal(r.hart.run(100), TrapKind.Exception);
  assert.equal(r.hart.cause, 3);
  assert.equal(r.hart.tval, BigInt(CODE + 4));
  assert.equal(r.hart.pc, BigInt(CODE + 4));
  r.hart.pc += 4n;
  assert.equal(r.hart.run(100), TrapKind.Exception);
  assert.equal(r.hart.cause, 3);
  assert.equal(r.hart.pc, BigInt(CODE + 8));
});

test('illegal instructions: cause 2, tval = the instruction bits', () => {
  const cases: number[] = [
    0xffffffff, // opcode 0x7f: no such 32-bit instruction
    0x0000_2007, // flw f0, 0(x0): no F
    0x0200_0053, // fadd.d: no D
    0x1050_0073, // wfi (U-mode)
    0x1020_0073, // sret
    0x3020_0073, // mret
    0x1200_0073, // sfence.vma
    0x0000_0073 | (1 << 7), // ecall with rd != 0
    A.csrrw(a0, 0xc00, a1), // write to a read-only counter
    A.csrrs(a0, 0xc00, a1), // csrrs with rs1 != 0 writes
    A.csrr(a0, 0x100), // sstatus from U-mode
    A.csrr(a0, 0x001), // fflags: no F
    A.csrr(a0, 0xc80), // cycleh: RV32 only
    A.slli(a0, a0, 0) | (1 << 26), // bad funct6
    A.slliw(a0, a0, 1) | (1 << 25), // slliw with shamt[5]
    A.add(a0, a0, a0) | (2 << 25), // bad funct7
    0x0000_7003, // load funct3 7
    0x0000_4023, // store funct3 4
    0x0000_2063, // branch funct3 2
    0x0000_1067, // jalr funct3 1
    0x0000_200f, // misc-mem funct3 2
    0x0000_102f, // amo funct3 1
    0x5000_202f, // amo funct5 0x0a
  ];
  const h = new Runner();
  const { hart, mem, codeFrames } = h.r;
  for (const inst of cases) {
    mem.write32(codeFrames[0]!, inst >>> 0);
    hart.pc = BigInt(CODE);
    assert.equal(hart.run(10), TrapKind.Exception, `0x${(inst >>> 0).toString(16)}`);
    assert.equal(hart.cause, 2, `0x${(inst >>> 0).toString(16)}`);
    assert.equal(hart.tval, BigInt(inst >>> 0));
    assert.equal(hart.pc, BigInt(CODE));
  }
  // A compressed illegal parcel reports its 16 bits.
  mem.write32(codeFrames[0]!, 0xffff0000);
  hart.pc = BigInt(CODE);
  assert.equal(hart.run(10), TrapKind.Exception);
  assert.equal(hart.tval, 0n);
  mem.write32(codeFrames[0]!, 0xffff2002); // c.fldsp
  hart.pc = BigInt(CODE);
  assert.equal(hart.run(10), TrapKind.Exception);
  assert.equal(hart.tval, 0x2002n);
});

test('page faults: load 13, store 15, fetch 12 with tval = address', () => {
  const h = new Runner();
  const { hart, mem, codeFrames, vs } = h.r;
  const unmapped = 0x4000_0000n + 0x123n;
  const exec1 = (inst: number, base: bigint) => {
    mem.write32(codeFrames[0]!, inst);
    hart.setReg(a0, base);
    hart.pc = BigInt(CODE);
    return hart.run(10);
  };
  assert.equal(exec1(A.ld(a1, a0, 8), unmapped), TrapKind.MemoryFault);
  assert.equal(hart.cause, 13);
  assert.equal(hart.tval, unmapped + 8n);
  assert.equal(hart.pc, BigInt(CODE));
  assert.equal(exec1(A.sw(a1, a0, -4), unmapped), TrapKind.MemoryFault);
  assert.equal(hart.cause, 15);
  assert.equal(hart.tval, unmapped - 4n);
  // Store to the (read-execute) code page.
  assert.equal(exec1(A.sw(a1, a0, 0), BigInt(CODE + 16)), TrapKind.MemoryFault);
  assert.equal(hart.cause, 15);
  // Jump to a data page (no X) and to an unmapped page.
  assert.equal(exec1(A.jalr(ra, a0, 0), BigInt(DATA)), TrapKind.MemoryFault);
  assert.equal(hart.cause, 12);
  assert.equal(hart.tval, BigInt(DATA));
  assert.equal(hart.pc, BigInt(DATA));
  assert.equal(hart.getReg(ra), BigInt(CODE + 4)); // the jump itself completed
  assert.equal(exec1(A.jalr(zero, a0, 0), unmapped), TrapKind.MemoryFault);
  assert.equal(hart.cause, 12);
  assert.equal(hart.tval, unmapped & ~1n);
  // Non-canonical load address and jump target.
  const nonCanon = 0x0000_0080_0000_0000n;
  assert.equal(exec1(A.ld(a1, a0, 0), nonCanon), TrapKind.MemoryFault);
  assert.equal(hart.cause, 13);
  assert.equal(hart.tval, nonCanon);
  assert.equal(exec1(A.jalr(ra, a0, 0), 0xdead_beef_0000_1000n), TrapKind.MemoryFault);
  assert.equal(hart.cause, 12);
  assert.equal(hart.tval, 0xdead_beef_0000_1000n);
  assert.equal(hart.pc, 0xdead_beef_0000_1000n);
  // Resuming at a non-canonical pc faults again without executing anything.
  const before = hart.instret;
  assert.equal(hart.run(10), TrapKind.MemoryFault);
  assert.equal(hart.instret, before);
  // Kernel-only mapping (U=0).
  vs.map(0x5000_0000, vs.allocPage(), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  assert.equal(exec1(A.ld(a1, a0, 0), 0x5000_0000n), TrapKind.MemoryFault);
  assert.equal(hart.cause, 13);
});

test('access faults: leaves pointing at holes or devices without a bus', () => {
  const h = new Runner();
  const { hart, mem, codeFrames, vs } = h.r;
  vs.map(0x6000_0000, 0x4000_0000, URW); // hole in the physical map
  vs.map(0x6000_1000, 0x1000_0000, URW | PTE_X); // uart, but no MmioBus
  const exec1 = (inst: number, base: number) => {
    mem.write32(codeFrames[0]!, inst);
    hart.setReg(a0, BigInt(base));
    hart.pc = BigInt(CODE);
    return hart.run(10);
  };
  assert.equal(exec1(A.ld(a1, a0, 0), 0x6000_0000), TrapKind.MemoryFault);
  assert.equal(hart.cause, 5);
  assert.equal(exec1(A.sd(a1, a0, 0), 0x6000_0000), TrapKind.MemoryFault);
  assert.equal(hart.cause, 7);
  assert.equal(exec1(A.sw(a1, a0, 0), 0x6000_1000), TrapKind.MemoryFault);
  assert.equal(hart.cause, 7);
  assert.equal(exec1(A.jalr(zero, a0, 0), 0x6000_1000), TrapKind.MemoryFault);
  assert.equal(hart.cause, 1);
});

test('no VSpace (satpRoot = -1): the first fetch page faults', () => {
  const r = rig(new Asm(CODE).i(A.ecall()));
  r.hart.satpRoot = -1;
  assert.equal(r.hart.run(10), TrapKind.MemoryFault);
  assert.equal(r.hart.cause, 12);
  assert.equal(r.hart.tval, BigInt(CODE));
});

// ---------------------------------------------------------------------------
// Devices, counters, budget, TLB
// ---------------------------------------------------------------------------

test('MMIO: device pages go to the bus with physical addresses and sizes', () => {
  const log: string[] = [];
  const bus: MmioBus = {
    read(paddr, size) {
      log.push(`r ${paddr.toString(16)} ${size}`);
      return size === 8 ? 0x8000_0000_0000_00ffn : 0xfff1;
    },
    write(paddr, size, value) {
      log.push(`w ${paddr.toString(16)} ${size} ${value.toString(16)}`);
    },
  };
  const { hart } = runProgram(
    (a) => {
      a.i(A.lui(s0, 0x7000_0000 >> 12));
      a.i(A.addi(t0, zero, -1));
      a.i(A.sb(t0, s0, 5), A.sw(t0, s0, 8), A.sd(t0, s0, 16), A.lb(a0, s0, 0), A.lhu(a1, s0, 2), A.ld(a2, s0, 8));
    },
    (r) => r.vs.map(0x7000_0000, 0x1000_0000, URW),
    bus,
  );
  assert.deepEqual(log, ['w 10000005 1 ff', 'w 10000008 4 ffffffff', 'w 10000010 8 ffffffffffffffff', 'r 10000000 1', 'r 10000002 2', 'r 10000008 8']);
  assert.equal(hart.getReg(a0), u64(-15n)); // lb of 0xf1
  assert.equal(hart.getReg(a1), 0xfff1n);
  assert.equal(hart.getReg(a2), 0x8000_0000_0000_00ffn);
  // Misaligned device access and atomics on devices are access faults.
  const a = new Asm(CODE);
  a.i(A.lui(s0, 0x7000_0000 >> 12), A.lw(a0, s0, 2));
  const r = rig(a, bus);
  r.vs.map(0x7000_0000, 0x1000_0000, URW);
  assert.equal(r.hart.run(10), TrapKind.MemoryFault);
  assert.equal(r.hart.cause, 5);
  r.mem.write32(r.codeFrames[0]! + 4, A.amoadd('w', a0, a0, s0));
  r.hart.pc = BigInt(CODE);
  assert.equal(r.hart.run(10), TrapKind.MemoryFault);
  assert.equal(r.hart.cause, 7);
});

test('user counters: rdcycle, rdtime, rdinstret read machine values', () => {
  const a = new Asm(CODE);
  a.i(A.nop(), A.nop(), A.rdinstret(a0), A.rdtime(a1), A.rdcycle(a2), A.csrrsi(a3, 0xc02, 0), A.ecall());
  const r = rig(a);
  r.hart.readTime = () => 2 ** 40 + 5;
  assert.equal(r.hart.run(100), TrapKind.Ecall);
  assert.equal(r.hart.getReg(a0), 2n);
  assert.equal(r.hart.getReg(a1), 2n ** 40n + 5n);
  assert.equal(r.hart.getReg(a2), 4n); // defaults to instret
  assert.equal(r.hart.getReg(a3), 5n);
  r.hart.readCycle = () => 1234;
  r.hart.pc = BigInt(CODE);
  r.hart.run(100);
  assert.equal(r.hart.getReg(a2), 1234n);
});

test('budget: run(n) retires n instructions and returns None', () => {
  const a = new Asm(CODE);
  a.label('top');
  a.i(A.addi(a0, a0, 1));
  a.to('top', (off) => A.jal(zero, off));
  const r = rig(a);
  assert.equal(r.hart.run(7), TrapKind.None);
  assert.equal(r.hart.instret, 7);
  assert.equal(r.hart.getReg(a0), 4n);
  assert.equal(r.hart.pc, BigInt(CODE + 4));
  assert.equal(r.hart.run(1), TrapKind.None);
  assert.equal(r.hart.pc, BigInt(CODE));
  assert.equal(r.hart.run(0), TrapKind.None);
  assert.equal(r.hart.instret, 8);
});

test('TLB: stale until flush(); satpRoot change flushes', () => {
  const a = new Asm(CODE);
  a.i(A.lui(s0, DATA >> 12), A.ld(a0, s0, 0), A.ecall());
  const r = rig(a);
  r.mem.write64(r.dataFrames[0]!, 111n);
  assert.equal(r.hart.run(10), TrapKind.Ecall);
  assert.equal(r.hart.getReg(a0), 111n);
  // Remap DATA to another frame without flushing: the old frame is still used.
  const other = r.vs.allocPage();
  r.mem.write64(other, 222n);
  r.vs.map(DATA, other, URW);
  r.hart.pc = BigInt(CODE);
  r.hart.run(10);
  assert.equal(r.hart.getReg(a0), 111n);
  r.hart.tlb.flush();
  r.hart.pc = BigInt(CODE);
  r.hart.run(10);
  assert.equal(r.hart.getReg(a0), 222n);
  const flushes = r.hart.tlb.flushes;
  r.hart.satpRoot = r.hart.satpRoot; // same root: no flush
  assert.equal(r.hart.tlb.flushes, flushes);
  r.hart.satpRoot = -1;
  assert.equal(r.hart.tlb.flushes, flushes + 1);
});

test('stores to code are visible to later fetches (fence.i is a no-op)', () => {
  const a = new Asm(CODE);
  a.i(A.lui(s0, DATA >> 12), A.ld(t0, s0, 0)); // t0 = new instruction
  a.i(A.auipc(t1, 0));
  a.i(A.sw(t0, t1, 16), A.fence(), A.fence_i());
  a.i(A.addi(a0, zero, 1)); // overwritten with addi a0, zero, 99
  a.i(A.ecall());
  const r = rig(a);
  r.vs.map(CODE, r.codeFrames[0]!, URW | PTE_X);
  r.hart.tlb.flush();
  r.mem.write64(r.dataFrames[0]!, BigInt(A.addi(a0, zero, 99)));
  assert.equal(r.hart.run(100), TrapKind.Ecall);
  assert.equal(r.hart.getReg(a0), 99n);
});

test('register accessors: bigint, hi/lo halves, x0 ignored, pc bit 0 cleared', () => {
  const r = rig(new Asm(CODE).i(A.ecall()));
  const h = r.hart;
  h.setReg(5, 0xdead_beef_1234_5678n);
  assert.equal(h.getRegHi32(5), 0xdeadbeef);
  assert.equal(h.getRegLo32(5), 0x12345678);
  h.setRegHiLo(6, 0xffffffff, 0x80000000);
  assert.equal(h.getReg(6), 0xffff_ffff_8000_0000n);
  h.setReg(0, 5n);
  h.setRegHiLo(0, 1, 1);
  assert.equal(h.getReg(0), 0n);
  h.setReg(7, -1n);
  assert.equal(h.getReg(7), M64);
  h.setPcHiLo(0, CODE + 1);
  assert.equal(h.getPcLo32(), CODE + 1);
  assert.equal(h.run(10), TrapKind.Ecall);
  assert.equal(h.pc, BigInt(CODE));
  assert.equal(h.getPcHi32(), 0);
  assert.equal(h.getTvalLo32(), 0);
});

test('upper-half canonical code runs (pc kept exact as a negative number)', () => {
  const hiVa = -(2 ** 38); // 0xffffffc0_00000000
  const a = new Asm(0);
  a.i(A.auipc(a0, 0), A.jal(ra, 8), A.nop(), A.ecall());
  const r = rig(new Asm(CODE).i(A.ecall()));
  const f = r.vs.allocPage();
  r.mem.bytes(f, 16).set(a.bytes());
  r.vs.map(hiVa, f, URX);
  r.hart.pc = 0xffff_ffc0_0000_0000n;
  assert.equal(r.hart.run(10), TrapKind.Ecall);
  assert.equal(r.hart.getReg(a0), 0xffff_ffc0_0000_0000n);
  assert.equal(r.hart.getReg(ra), 0xffff_ffc0_0000_0008n);
  assert.equal(r.hart.pc, 0xffff_ffc0_0000_000cn);
});
