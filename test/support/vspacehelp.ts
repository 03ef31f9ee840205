/**
 * Test helpers for address-space tests: caps of the root CNode as the kernel
 * holds them, an independent Sv39 walk over the PTE bytes in physical
 * memory, raw invocations with chosen lengths, and device untypeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, type RootEnv } from './harness.js';
import type { Machine, MachineOptions } from '../../src/machine/machine.js';
import type { Cap } from '../../src/kernel/cap.js';
import type { CNode } from '../../src/kernel/object/cnode.js';
import { TCB_CTABLE } from '../../src/kernel/object/tcb.js';
import type { BootInfo } from '../../src/kernel/boot.js';
import { seL4_Call, seL4_SetCap, seL4_SetMR, seL4_GetMR, seL4_MessageInfo_new, seL4_MessageInfo_get_label } from '../../src/user/index.js';
import type { Vka } from '../../src/user/vka.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { checkInvariants } from '../../src/kernel/invariants/index.js';
import { mapPageWithTables } from '../../src/user/elfloader.js';
import {
  seL4_SchedControl_ConfigureFlags,
  seL4_TCB_Configure,
  seL4_TCB_Resume,
  seL4_TCB_SetSchedParams,
  seL4_TCB_WriteRegisters,
  seL4_RISCV_ASIDPool_Assign,
  seL4_Untyped_Retype,
} from '../../src/user/invocations.js';

/** Sv39 PTE flag bits. */
export const V = 1, R = 2, W = 4, X = 8, U = 16, G = 32, A = 64, D = 128;
/** What makeUserPTE sets on every user leaf besides R/W/X. */
export const LEAF = V | U | A | D;

/** The cap in slot `cptr` of the root task's CNode. */
export function rootCap(m: Machine, cptr: number): Cap {
  const cn = m.booted.rootTCB.slots[TCB_CTABLE]!.cap.obj as CNode;
  return cn.slots[cptr]!.cap;
}

/** The 64-bit PTE at index i of the table at paddr. */
export function pteAt(m: Machine, table: number, i: number): bigint {
  return m.mem.read64(table + 8 * i);
}

export interface Walk {
  /** 2 = root (1 GiB slots), 1 = 2 MiB slots, 0 = 4 KiB slots. */
  level: number;
  pte: bigint;
  /** Physical address of the PTE. */
  at: number;
}

/** Walk the Sv39 tables from root for vaddr, stopping at the first non-table PTE. */
export function walk(m: Machine, root: number, vaddr: number): Walk {
  let table = root;
  for (let level = 2; ; level--) {
    const i = Math.floor(vaddr / 2 ** (12 + 9 * level)) % 512;
    const at = table + 8 * i;
    const pte = m.mem.read64(at);
    const isTable = (pte & 1n) !== 0n && (pte & 0xen) === 0n;
    if (!isTable || level === 0) return { level, pte, at };
    table = Number(pte >> 10n) * 4096;
  }
}

/** Flags (low 10 bits) and physical address of a PTE. */
export function pteFlags(pte: bigint): number {
  return Number(pte & 0x3ffn);
}
export function ptePaddr(pte: bigint): number {
  return Number(pte >> 10n) * 4096;
}

/** An invocation with explicit message length and extra caps; returns [error, MR0..MR4]. */
export function* rawInvoke(service: number, label: number, args: number[], caps: number[], length = args.length): Generator<unknown, number[], unknown> {
  for (let i = 0; i < caps.length; i++) seL4_SetCap(i, caps[i]!);
  for (let i = 0; i < args.length; i++) seL4_SetMR(i, args[i]!);
  const tag = yield* seL4_Call(service, seL4_MessageInfo_new(label, 0, caps.length, length));
  return [seL4_MessageInfo_get_label(tag), seL4_GetMR(0), seL4_GetMR(1), seL4_GetMR(2), seL4_GetMR(3), seL4_GetMR(4)];
}

/** The first error MRs after an invocation (for errors that carry details). */
export function errorMRs(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(seL4_GetMR(i));
  return out;
}

/** Retype one object from the first device untyped with an aligned block of at least `bits`. */
export function* allocDeviceObject(vka: Vka, bi: BootInfo, type: number, bits: number, sizeBits = 0): Generator<unknown, number, unknown> {
  for (let i = 0; i < bi.untypedList.length; i++) {
    const u = bi.untypedList[i]!;
    if (!u.isDevice || u.sizeBits < bits) continue;
    const slot = vka.allocSlot();
    const err = yield* seL4_Untyped_Retype(bi.untyped.start + i, type, sizeBits, 2, 0, 0, slot, 1);
    if (err === 0) return slot;
  }
  throw new Error(`no device untyped of ${bits} bits`);
}


/** The invariant checker on every n-th kernel entry (for tests making thousands of invocations). */
export function sampledInvariants(n: number): (k: Kernel) => void {
  let i = 0;
  return (k) => {
    if (++i % n === 0) checkInvariants(k);
  };
}

/** A node:test case whose body is the root task; fails unless the body ran to its end. */
export function rootTest(name: string, body: (env: RootEnv) => Generator<unknown, void, unknown>, opts: MachineOptions = {}): void {
  test(name, () => {
    let done = false;
    runRoot(function* (env) {
      yield* body(env);
      done = true;
    }, opts);
    assert.ok(done, 'the root task ran to its end');
  });
}

/** A fresh VSpace root assigned an ASID from the root task's pool. */
export function* newVSpace(vka: Vka): Generator<unknown, number, unknown> {
  const vs = yield* vka.allocObject(10 /* seL4_RISCV_PageTableObject */);
  const err = yield* seL4_RISCV_ASIDPool_Assign(6 /* seL4_CapInitThreadASIDPool */, vs);
  if (err !== 0) throw new Error(`ASIDPool_Assign failed with ${err}`);
  return vs;
}

/** Map a frame in `vspace` (page tables as needed); throws on failure. */
export function* mapIn(vka: Vka, frame: number, vspace: number, vaddr: number, rights = 3, attr = 0): Generator<unknown, void, unknown> {
  const err = yield* mapPageWithTables(vka, frame, vspace, vaddr, rights, attr, []);
  if (err !== 0) throw new Error(`map at 0x${vaddr.toString(16)} failed with ${err}`);
}

/**
 * Start a registered TypeScript program as a thread in `vspace` (root
 * CSpace), its IPC buffer at ipcVaddr of that VSpace.
 */
export function* threadIn(
  vka: Vka,
  vspace: number,
  entry: number,
  o: { priority: number; ipcVaddr: number; args?: number[]; faultEP?: number },
): Generator<unknown, number, unknown> {
  const tcb = yield* vka.allocObject(1 /* TCB */);
  const ipc = yield* vka.allocObject(8 /* 4K page */);
  yield* mapIn(vka, ipc, vspace, o.ipcVaddr);
  const check = (e: number, what: string) => {
    if (e !== 0) throw new Error(`${what} failed with ${e}`);
  };
  check(yield* seL4_TCB_Configure(tcb, 2, 0, vspace, 0, o.ipcVaddr, ipc), 'TCB_Configure');
  const sc = yield* vka.allocObject(5 /* SchedContext */, 8);
  check(yield* seL4_SchedControl_ConfigureFlags(vka.bootInfo.schedcontrol.start, sc, 1000, 1000, 0, 0, 0), 'ConfigureFlags');
  check(yield* seL4_TCB_SetSchedParams(tcb, 1, o.priority, o.priority, sc, o.faultEP ?? 0), 'SetSchedParams');
  const regs = new Array<number>(32).fill(0);
  regs[0] = entry;
  (o.args ?? []).forEach((a, i) => (regs[16 + i] = a));
  check(yield* seL4_TCB_WriteRegisters(tcb, false, 0, 32, regs), 'WriteRegisters');
  check(yield* seL4_TCB_Resume(tcb), 'Resume');
  return tcb;
}
