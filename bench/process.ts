/**
 * Root-task helpers for the benchmarks: build separate processes (each with
 * its own VSpace, assigned an ASID from the initial ASID pool, with its IPC
 * buffer frame mapped there, and its own single-level CSpace) out of plain
 * seL4 invocations, as sel4bench's setup does with sel4utils.
 */
import { Machine } from '../src/machine/machine.js';
import {
  seL4_CapInitThreadASIDPool,
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadTCB,
  seL4_CapTableObject,
  seL4_CNode_Copy,
  seL4_CNode_Mint,
  seL4_ReadWrite,
  seL4_RISCV_4K_Page,
  seL4_RISCV_ASIDPool_Assign,
  seL4_RISCV_Page_Map,
  seL4_RISCV_PageTable_Map,
  seL4_RISCV_PageTableObject,
  seL4_SchedContextObject,
  seL4_SchedControl_ConfigureFlags,
  seL4_TCB_Configure,
  seL4_TCB_Resume,
  seL4_TCB_SetSchedParams,
  seL4_TCB_WriteRegisters,
  seL4_TCBObject,
  Vka,
} from '../src/user/index.js';
import type { Program } from '../src/user/thread.js';
import type { Word } from '../src/user/word.js';

type Gen<T> = Generator<unknown, T, unknown>;

/** seL4_FailedLookup: Page_Map found no page table at the level it needs. */
const FAILED_LOOKUP = 6;
/** Where every process's IPC buffer is mapped in its own VSpace. */
export const PROCESS_IPC_BUFFER = 0x10_0000;
/** Radix of a process's CNode: a 64-bit cptr resolves in one level (guard 64 - radix). */
export const PROCESS_CNODE_BITS = 4;

/** seL4_CNode_CapData_new(guard, guardSize) as a word. */
export function cnodeCapData(guard: number, guardSize: number): number {
  return guard * 64 + guardSize;
}

export function check(err: number, what: string): void {
  if (err !== 0) throw new Error(`bench setup: ${what} failed with seL4 error ${err}`);
}

export interface Process {
  tcb: number;
  /** Scheduling context cptr in the root CNode (0 if passive from the start). */
  sc: number;
  /** The process's CNode (cptr in the root CNode). */
  cnode: number;
  vspace: number;
}

export interface ProcessOptions {
  program: Program;
  priority: number;
  /** Caps (root CNode cptrs) copied into the new CSpace at slots 1, 2, 3...; a [cptr, badge] pair is minted with that badge. */
  caps: (number | [number, Word])[];
  budgetUs?: number;
  periodUs?: number;
  /** Created without a scheduling context. */
  passive?: boolean;
  /** The core the process runs on (its SC is configured with that core's SchedControl). */
  core?: number;
  /** Use this CSpace root (cptr in the root CNode) and cap data instead of a new single-level CNode; `caps` is then ignored. */
  cspace?: { root: number; data: number };
}

/** A fresh VSpace: a root page table assigned an ASID, with one frame mapped at `vaddr`. */
export function* newVSpace(vka: Vka, frame: number, vaddr: number): Gen<number> {
  const root = yield* vka.allocObject(seL4_RISCV_PageTableObject);
  check(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, root), 'ASIDPool_Assign');
  let err = yield* seL4_RISCV_Page_Map(frame, root, vaddr, seL4_ReadWrite, 0);
  for (let levels = 0; err === FAILED_LOOKUP && levels < 2; levels++) {
    const pt = yield* vka.allocObject(seL4_RISCV_PageTableObject);
    check(yield* seL4_RISCV_PageTable_Map(pt, root, vaddr, 0), 'PageTable_Map');
    err = yield* seL4_RISCV_Page_Map(frame, root, vaddr, seL4_ReadWrite, 0);
  }
  check(err, 'Page_Map');
  return root;
}

/**
 * Create a process: own VSpace (IPC buffer at PROCESS_IPC_BUFFER), own CNode
 * holding `caps`, a TCB running `program` (registered with the machine), and
 * unless passive a round-robin scheduling context. The thread is resumed.
 */
export function* createProcess(m: Machine, vka: Vka, o: ProcessOptions): Gen<Process> {
  const bi = vka.bootInfo;
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  const vspace = yield* newVSpace(vka, frame, PROCESS_IPC_BUFFER);
  const cnode = o.cspace !== undefined ? o.cspace.root : yield* vka.allocObject(seL4_CapTableObject, PROCESS_CNODE_BITS);
  for (let i = 0; o.cspace === undefined && i < o.caps.length; i++) {
    const c = o.caps[i]!;
    if (typeof c === 'number') {
      check(yield* seL4_CNode_Copy(cnode, i + 1, PROCESS_CNODE_BITS, seL4_CapInitThreadCNode, c, 64, 15), 'CNode_Copy');
    } else {
      check(yield* seL4_CNode_Mint(cnode, i + 1, PROCESS_CNODE_BITS, seL4_CapInitThreadCNode, c[0], 64, 15, c[1]), 'CNode_Mint');
    }
  }
  const tcb = yield* vka.allocObject(seL4_TCBObject);
  const guard = o.cspace !== undefined ? o.cspace.data : cnodeCapData(0, 64 - PROCESS_CNODE_BITS);
  check(yield* seL4_TCB_Configure(tcb, cnode, guard, vspace, 0, PROCESS_IPC_BUFFER, frame), 'TCB_Configure');
  let sc = 0;
  if (o.passive !== true) {
    sc = yield* vka.allocObject(seL4_SchedContextObject, 8);
    const budget = o.budgetUs ?? 100_000;
    check(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start + (o.core ?? 0), sc, budget, o.periodUs ?? budget, 0, 0, 0), 'SchedControl_ConfigureFlags');
  }
  check(yield* seL4_TCB_SetSchedParams(tcb, seL4_CapInitThreadTCB, o.priority, o.priority, sc, 0), 'TCB_SetSchedParams');
  const regs = new Array<number>(32).fill(0);
  regs[0] = m.registerProgram(o.program);
  check(yield* seL4_TCB_WriteRegisters(tcb, false, 0, 32, regs), 'TCB_WriteRegisters');
  check(yield* seL4_TCB_Resume(tcb), 'TCB_Resume');
  return { tcb, sc, cnode, vspace };
}
