/**
 * Helpers for RISC-V seL4 user programs in tests: the libsel4 syscall
 * sequences as instructions (syscall number in a7, cptr in a0, message info
 * in a1, MR0..MR3 in a2..a5, reply cap in a6) and a one-segment ELF image.
 */
import { Asm, a0, a1, a6, a7, ecall, li12, li32, addi } from './rv64asm.js';
import { buildElf } from './elfbuild.js';

export const CODE_BASE = 0x10000;
export const PF_R = 4;
export const PF_W = 2;
export const PF_X = 1;

/** seL4 system call numbers (riscv64, MCS, debug build). */
export const SYS = {
  Call: -1,
  ReplyRecv: -2,
  Send: -5,
  Recv: -7,
  Wait: -9,
  Yield: -11,
  DebugPutChar: -12,
} as const;

/** Load any value below 2^31 (or a negative 32-bit value) into rd. */
export function li(rd: number, v: number): number[] {
  return v >= -2048 && v <= 2047 ? [li12(rd, v)] : li32(rd, v);
}

/** seL4_MessageInfo_new(label, 0, 0, length) as a word (label < 2^19 here). */
export function msgInfo(label: number, length: number): number {
  return label * 4096 + length;
}

/** ecall with a7 = n. */
export function syscall(asm: Asm, n: number): Asm {
  return asm.i(li(a7, n), ecall());
}

/** seL4_DebugPutChar for every character of s. */
export function putString(asm: Asm, s: string): Asm {
  for (const ch of s) {
    asm.i(li(a0, ch.charCodeAt(0)));
    syscall(asm, SYS.DebugPutChar);
  }
  return asm;
}

/** Message info into a1, cptr register copied to a0. */
export function setCall(asm: Asm, cptrReg: number, label: number, length: number): Asm {
  return asm.i(addi(a0, cptrReg, 0), li(a1, msgInfo(label, length)));
}

/** a6 := reply cptr register. */
export function setReply(asm: Asm, replyReg: number): Asm {
  return asm.i(addi(a6, replyReg, 0));
}

/** A read+execute ELF with the program at CODE_BASE. */
export function programElf(asm: Asm, extra: { vaddr: number; data: Uint8Array; flags: number; memsz?: number }[] = []): Uint8Array {
  return buildElf({ entry: asm.base, segments: [{ vaddr: asm.base, data: asm.bytes(), flags: PF_R | PF_X }, ...extra] }).bytes;
}
