/**
 * A user-level ELF loader for TypeScript root tasks (in the spirit of
 * sel4utils' elf loading): everything goes through real invocations.
 *
 * For each page covered by a PT_LOAD segment the loader retypes a 4 KiB
 * frame, maps it at a scratch address of the loader's own VSpace, copies the
 * segment bytes (zeros elsewhere) through that mapping, unmaps it and maps the
 * frame into the target VSpace at the segment's address with the segment's
 * permissions (R/W from p_flags as frame rights; no X means
 * seL4_RISCV_ExecuteNever). Page tables are retyped and mapped as Page_Map
 * asks for them (FailedLookup). A stack and an IPC buffer are mapped the same
 * way, and `spawnElfThread` creates, configures and starts a TCB at the entry
 * point, running on the emulated hart.
 */
import { Access } from '../machine/sv39.js';
import { ElfImage, parseElf, PF_R, PF_W, PF_X } from '../machine/elf.js';
import {
  seL4_RISCV_ASIDPool_Assign,
  seL4_RISCV_Page_Map,
  seL4_RISCV_Page_Unmap,
  seL4_RISCV_PageTable_Map,
  seL4_SchedControl_ConfigureFlags,
  seL4_TCB_Configure,
  seL4_TCB_Resume,
  seL4_TCB_SetSchedParams,
  seL4_TCB_WriteRegisters,
} from './invocations.js';
import type { seL4_CPtr } from './libsel4.js';
import { currentThread } from './thread.js';
import {
  seL4_CapInitThreadASIDPool,
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadTCB,
  seL4_CapInitThreadVSpace,
  seL4_RISCV_4K_Page,
  seL4_RISCV_PageTableObject,
  seL4_SchedContextObject,
  seL4_TCBObject,
  Vka,
} from './vka.js';
import type { Word } from './word.js';

type Gen<T> = Generator<unknown, T, unknown>;

const PAGE = 4096;
const seL4_FailedLookup = 6;
/** seL4_CapRights bits for frames: write 1, read 2. */
const RIGHT_WRITE = 1;
const RIGHT_READ = 2;
/** seL4_RISCV_ExecuteNever. */
export const seL4_RISCV_ExecuteNever = 1;

export class ElfLoadError extends Error {}

export interface ElfLoadOptions {
  /** Target VSpace root cptr (a page table already assigned to an ASID). */
  vspace: seL4_CPtr;
  /** A free, page-aligned address of the loader's VSpace used to copy bytes. */
  scratchVaddr?: number;
  /** Top of the stack (exclusive); default 0x4000_0000. */
  stackTop?: number;
  /** Stack size in pages; default 4. */
  stackPages?: number;
  /** IPC buffer address; default one page above stackTop (a guard page between). */
  ipcBuffer?: number;
}

export interface LoadedElf {
  entry: number;
  stackTop: number;
  ipcBuffer: number;
  ipcBufferFrame: seL4_CPtr;
  /** Frame caps mapped into the target, by page address. */
  frames: Map<number, seL4_CPtr>;
  /** Page tables retyped for the target VSpace. */
  pageTables: seL4_CPtr[];
}

interface PagePlan {
  flags: number;
  bytes: Uint8Array;
}

/** seL4_RISCV_Page_Map, retyping and mapping page tables while the walk stops short. */
export function* mapPageWithTables(
  vka: Vka,
  frame: seL4_CPtr,
  vspace: seL4_CPtr,
  vaddr: number,
  rights: number,
  attr: number,
  tables: seL4_CPtr[],
): Gen<number> {
  let err = yield* seL4_RISCV_Page_Map(frame, vspace, vaddr, rights, attr);
  for (let level = 0; err === seL4_FailedLookup && level < 2; level++) {
    const pt = yield* vka.allocObject(seL4_RISCV_PageTableObject);
    tables.push(pt);
    const e = yield* seL4_RISCV_PageTable_Map(pt, vspace, vaddr, 0);
    if (e !== 0) return e;
    err = yield* seL4_RISCV_Page_Map(frame, vspace, vaddr, rights, attr);
  }
  return err;
}

/** Copy bytes into the caller's own memory at vaddr (one page at most), faulting like a store would. */
function* copyToOwnPage(vaddr: number, bytes: Uint8Array): Gen<void> {
  const u = currentThread();
  const p = yield* u.translateUser(vaddr, Access.Write);
  u.machine.mem.bytes(p, bytes.length).set(bytes);
}

function planPages(image: ElfImage): Map<number, PagePlan> {
  const pages = new Map<number, PagePlan>();
  for (const seg of image.segments) {
    if (seg.memsz === 0) continue;
    const start = Math.floor(seg.vaddr / PAGE) * PAGE;
    const end = Math.ceil((seg.vaddr + seg.memsz) / PAGE) * PAGE;
    for (let pg = start; pg < end; pg += PAGE) {
      let plan = pages.get(pg);
      if (plan === undefined) {
        plan = { flags: 0, bytes: new Uint8Array(PAGE) };
        pages.set(pg, plan);
      }
      plan.flags |= seg.flags;
      // File bytes that fall in this page (the rest of memsz stays zero).
      const from = Math.max(pg, seg.vaddr);
      const to = Math.min(pg + PAGE, seg.vaddr + seg.filesz);
      if (to > from) plan.bytes.set(seg.data.subarray(from - seg.vaddr, to - seg.vaddr), from - pg);
    }
  }
  return pages;
}

/** One fresh frame with `bytes` in it, mapped into the target at vaddr. */
function* loadPage(
  vka: Vka,
  o: Required<Pick<ElfLoadOptions, 'vspace' | 'scratchVaddr'>>,
  vaddr: number,
  bytes: Uint8Array,
  rights: number,
  attr: number,
  scratchTables: seL4_CPtr[],
  tables: seL4_CPtr[],
): Gen<seL4_CPtr> {
  const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
  let err = yield* mapPageWithTables(vka, frame, seL4_CapInitThreadVSpace, o.scratchVaddr, RIGHT_READ | RIGHT_WRITE, seL4_RISCV_ExecuteNever, scratchTables);
  if (err !== 0) throw new ElfLoadError(`elfloader: scratch map at 0x${o.scratchVaddr.toString(16)} failed with ${err}`);
  yield* copyToOwnPage(o.scratchVaddr, bytes);
  err = yield* seL4_RISCV_Page_Unmap(frame);
  if (err !== 0) throw new ElfLoadError(`elfloader: scratch unmap failed with ${err}`);
  err = yield* mapPageWithTables(vka, frame, o.vspace, vaddr, rights, attr, tables);
  if (err !== 0) throw new ElfLoadError(`elfloader: map at 0x${vaddr.toString(16)} failed with ${err}`);
  return frame;
}

/** Load an ELF image (or its bytes) into the VSpace `opts.vspace`. */
export function* loadElf(vka: Vka, elf: ElfImage | Uint8Array, opts: ElfLoadOptions): Gen<LoadedElf> {
  const image = elf instanceof Uint8Array ? parseElf(elf) : elf;
  const o = { vspace: opts.vspace, scratchVaddr: opts.scratchVaddr ?? 0x3000_0000 };
  const stackTop = opts.stackTop ?? 0x4000_0000;
  const stackPages = opts.stackPages ?? 4;
  const ipcBuffer = opts.ipcBuffer ?? stackTop + PAGE;
  const frames = new Map<number, seL4_CPtr>();
  const tables: seL4_CPtr[] = [];
  const scratchTables: seL4_CPtr[] = [];
  const zero = new Uint8Array(PAGE);
  for (const [vaddr, plan] of planPages(image)) {
    const rights = (plan.flags & (PF_R | PF_W | PF_X)) !== 0 ? RIGHT_READ | ((plan.flags & PF_W) !== 0 ? RIGHT_WRITE : 0) : 0;
    const attr = (plan.flags & PF_X) !== 0 ? 0 : seL4_RISCV_ExecuteNever;
    frames.set(vaddr, yield* loadPage(vka, o, vaddr, plan.bytes, rights, attr, scratchTables, tables));
  }
  for (let i = 1; i <= stackPages; i++) {
    const v = stackTop - i * PAGE;
    frames.set(v, yield* loadPage(vka, o, v, zero, RIGHT_READ | RIGHT_WRITE, seL4_RISCV_ExecuteNever, scratchTables, tables));
  }
  const ipcBufferFrame = yield* loadPage(vka, o, ipcBuffer, zero, RIGHT_READ | RIGHT_WRITE, seL4_RISCV_ExecuteNever, scratchTables, tables);
  frames.set(ipcBuffer, ipcBufferFrame);
  return { entry: image.entry, stackTop, ipcBuffer, ipcBufferFrame, frames, pageTables: tables };
}

export interface ElfThreadOptions extends Partial<ElfLoadOptions> {
  priority: number;
  mcp?: number;
  budgetUs?: number;
  periodUs?: number;
  /** a0..a2 at entry. */
  args?: Word[];
  /** Fault endpoint cptr in the root CSpace (0 for none). */
  faultEP?: seL4_CPtr;
  /** CSpace root of the new thread (default: the root task's CNode). */
  cspace?: seL4_CPtr;
  /** Do not resume the thread. */
  suspended?: boolean;
  /** The core the thread runs on (its SC is configured by that core's SchedControl; default 0). */
  core?: number;
}

export interface ElfThread extends LoadedElf {
  tcb: seL4_CPtr;
  sc: seL4_CPtr;
  vspace: seL4_CPtr;
}

function check(err: number, what: string): void {
  if (err !== 0) throw new ElfLoadError(`elfloader: ${what} failed with ${err}`);
}

/**
 * Create a thread running an ELF image in a VSpace of its own (a new page
 * table assigned an ASID from the root task's pool, unless opts.vspace is
 * given), sharing the root task's CSpace unless opts.cspace is given.
 */
export function* spawnElfThread(vka: Vka, elf: ElfImage | Uint8Array, opts: ElfThreadOptions): Gen<ElfThread> {
  let vspace = opts.vspace ?? 0;
  if (vspace === 0) {
    vspace = yield* vka.allocObject(seL4_RISCV_PageTableObject);
    check(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, vspace), 'ASIDPool_Assign');
  }
  const loaded = yield* loadElf(vka, elf, { ...opts, vspace });
  const tcb = yield* vka.allocObject(seL4_TCBObject);
  const cspace = opts.cspace ?? seL4_CapInitThreadCNode;
  check(yield* seL4_TCB_Configure(tcb, cspace, 0, vspace, 0, loaded.ipcBuffer, loaded.ipcBufferFrame), 'TCB_Configure');
  const sc = yield* vka.allocObject(seL4_SchedContextObject, 8);
  const budget = opts.budgetUs ?? 1000;
  check(
    yield* seL4_SchedControl_ConfigureFlags(vka.bootInfo.schedcontrol.start + (opts.core ?? 0), sc, budget, opts.periodUs ?? budget, 0, 0, 0),
    'SchedControl_ConfigureFlags',
  );
  check(yield* seL4_TCB_SetSchedParams(tcb, seL4_CapInitThreadTCB, opts.mcp ?? opts.priority, opts.priority, sc, opts.faultEP ?? 0), 'TCB_SetSchedParams');
  const regs: Word[] = new Array<Word>(32).fill(0);
  regs[0] = loaded.entry; // pc
  regs[2] = loaded.stackTop; // sp
  const args = opts.args ?? [];
  for (let i = 0; i < 3 && i < args.length; i++) regs[16 + i] = args[i]!;
  check(yield* seL4_TCB_WriteRegisters(tcb, false, 0, 32, regs), 'TCB_WriteRegisters');
  if (opts.suspended !== true) check(yield* seL4_TCB_Resume(tcb), 'TCB_Resume');
  return { ...loaded, tcb, sc, vspace };
}
