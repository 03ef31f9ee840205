/**
 * Test rig for the hart: a small RAM, an Sv39 address space with a code
 * region, a data region and a stack, and helpers to run a program until its
 * final ecall.
 */

import { Hart, TrapKind, type MmioBus } from '../../src/machine/hart.js';
import { PhysicalMemory } from '../../src/machine/memory.js';
import { PAGE_SIZE } from '../../src/machine/sv39.js';
import { Asm } from './rv64asm.js';
import { TestVSpace, newMemory, URW, URX } from './sv39map.js';

export const CODE = 0x1_0000;
export const DATA = 0x10_0000;
export const DATA_PAGES = 4;
export const STACK_TOP = 0x20_0000;

export interface Rig {
  mem: PhysicalMemory;
  vs: TestVSpace;
  hart: Hart;
  /** Physical address of each code page. */
  codeFrames: number[];
  /** Physical address of each data page (DATA + i * 4096). */
  dataFrames: number[];
}

/** Build a rig with `code` mapped at CODE (RX), data (RW) and a stack page. */
export function rig(code: Uint8Array | Asm, mmio: MmioBus | null = null): Rig {
  const bytes = code instanceof Asm ? code.bytes() : code;
  const mem = newMemory();
  const vs = new TestVSpace(mem);
  const codeFrames: number[] = [];
  const pages = Math.max(1, Math.ceil(bytes.length / PAGE_SIZE));
  for (let i = 0; i < pages; i++) {
    const f = vs.mapNew(CODE + i * PAGE_SIZE, URX);
    codeFrames.push(f);
    const chunk = bytes.subarray(i * PAGE_SIZE, Math.min(bytes.length, (i + 1) * PAGE_SIZE));
    mem.bytes(f, chunk.length).set(chunk);
  }
  const dataFrames: number[] = [];
  for (let i = 0; i < DATA_PAGES; i++) dataFrames.push(vs.mapNew(DATA + i * PAGE_SIZE, URW));
  vs.mapNew(STACK_TOP - PAGE_SIZE, URW);
  const hart = new Hart(mem, mmio);
  hart.satpRoot = vs.root;
  hart.pc = BigInt(CODE);
  hart.setReg(2, BigInt(STACK_TOP));
  return { mem, vs, hart, codeFrames, dataFrames };
}

/** A program's code followed by ecall, run to the ecall; returns the rig. */
export function runProgram(
  build: (a: Asm) => void,
  setup?: (r: Rig) => void,
  mmio: MmioBus | null = null,
): Rig {
  const a = new Asm(CODE);
  build(a);
  a.i(0x00000073); // ecall
  const r = rig(a, mmio);
  setup?.(r);
  const kind = r.hart.run(1_000_000);
  if (kind !== TrapKind.Ecall) {
    throw new Error(`program stopped with ${TrapKind[kind]} cause ${r.hart.cause} tval 0x${r.hart.tval.toString(16)} pc 0x${r.hart.pc.toString(16)}`);
  }
  return r;
}

/** Unsigned 64-bit view of a bigint. */
export function u64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}
/** Signed 64-bit view of a bigint. */
export function s64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}
