/**
 * Throughput of the emulated RISC-V hart on simple loops, in MIPS (host
 * instructions per microsecond). A benchmark, not a test.
 * Run: npm run build && node dist/bench/hart.js
 */
import { TrapKind } from '../src/machine/hart.js';
import * as A from '../test/support/rv64asm.js';
import { Asm, a0, a1, a2, a3, t0, t1, t2, s0, s1, zero, ra } from '../test/support/rv64asm.js';
import { CODE, DATA, rig } from '../test/support/hartrig.js';

function measure(name: string, a: Asm, budget: number, diag: (s: string) => void): number {
  const r = rig(a);
  // Warm up (JIT: run() is re-entered many times in a real system), then time a fixed budget.
  for (let i = 0; i < 20; i++) r.hart.run(200_000);
  r.hart.pc = BigInt(CODE);
  const start = r.hart.instret;
  const t = process.hrtime.bigint();
  const kind = r.hart.run(budget);
  const ns = Number(process.hrtime.bigint() - t);
  if (kind !== TrapKind.None) throw new Error(`${name} trapped with cause ${r.hart.cause}`);
  const mips = (r.hart.instret - start) / (ns / 1000);
  diag(`${name}: ${mips.toFixed(1)} MIPS (${r.hart.instret - start} instructions in ${(ns / 1e6).toFixed(0)} ms)`);
  return mips;
}

function main(): void {
  const diag = (s: string) => console.log(s);
  // 1. Counting loop: addi + bne (forever: the budget stops it).
  const count = new Asm(CODE);
  count.label('l').i(A.addi(t0, t0, 1)).to('l', (o) => A.bne(t0, zero, o));
  const m1 = measure('addi/bne loop', count, 50_000_000, diag);

  // 2. Memory loop: sum and copy a 1 KiB buffer with ld/sd, 64-bit adds, compressed forms.
  const mem = new Asm(CODE);
  mem.label('outer').i(A.lui(s0, DATA >> 12), A.addi(s1, s0, 1024), A.addi(a0, zero, 0));
  mem.label('inner');
  mem.c(A.c_ld(a1, s0, 0));
  mem.i(A.add(a0, a0, a1), A.sd(a0, s0, 1024 + 8));
  mem.c(A.c_addi(s0, 8));
  mem.to('inner', (o) => A.bltu(s0, s1, o));
  mem.to('outer', (o) => A.jal(zero, o));
  const m2 = measure('ld/add/sd loop (with RVC)', mem, 30_000_000, diag);

  // 3. Calls and M: a leaf function doing mul/divu, called in a loop.
  const call = new Asm(CODE);
  call.i(A.addi(a2, zero, 1234), A.addi(a3, zero, 7));
  call.label('top').to('f', (o) => A.jal(ra, o)).to('top', (o) => A.jal(zero, o));
  call.label('f').i(A.mul(t1, a2, a3), A.divu(t2, t1, a3), A.add(a2, a2, t2), A.andi(a2, a2, 0x7ff), A.jalr(zero, ra, 0));
  const m3 = measure('call + mul/divu', call, 30_000_000, diag);
  console.log(`median of the three loops: ${[m1, m2, m3].sort((a, b) => a - b)[1]!.toFixed(1)} MIPS`);
}

main();
