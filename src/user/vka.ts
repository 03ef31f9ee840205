/**
 * A small user-level object allocator for root tasks (in the spirit of
 * seL4's vka/simple libraries): hands out empty CSpace slots, retypes objects
 * from the boot untypeds, maps frames into the root VSpace, and creates
 * threads. Everything goes through real invocations.
 */
import type { BootInfo } from '../kernel/boot.js';
import {
  seL4_RISCV_Page_Map,
  seL4_RISCV_PageTable_Map,
  seL4_SchedControl_ConfigureFlags,
  seL4_TCB_Configure,
  seL4_TCB_Resume,
  seL4_TCB_SetSchedParams,
  seL4_TCB_WriteRegisters,
  seL4_Untyped_Retype,
} from './invocations.js';
import type { Word } from './word.js';

export {
  seL4_CapNull,
  seL4_CapInitThreadTCB,
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadVSpace,
  seL4_CapIRQControl,
  seL4_CapASIDControl,
  seL4_CapInitThreadASIDPool,
  seL4_CapBootInfoFrame,
  seL4_CapInitThreadIPCBuffer,
  seL4_CapDomain,
  seL4_CapInitThreadSC,
} from '../abi/bootinfo.js';
import { seL4_CapInitThreadCNode, seL4_CapInitThreadTCB, seL4_CapInitThreadVSpace } from '../abi/bootinfo.js';
export {
  seL4_AllRights,
  seL4_ReadWrite,
  seL4_NoRights,
  seL4_CanWrite,
  seL4_CanRead,
  seL4_CanGrant,
  seL4_CanGrantReply,
  seL4_NoWrite,
  seL4_NoRead,
  seL4_WordBits,
} from '../abi/constants.js';
import { seL4_ObjectType as T, seL4_ReadWrite } from '../abi/constants.js';

/** seL4_ObjectType values (riscv64, MCS) under libsel4's names. */
export const seL4_UntypedObject = T.seL4_UntypedObject;
export const seL4_TCBObject = T.seL4_TCBObject;
export const seL4_EndpointObject = T.seL4_EndpointObject;
export const seL4_NotificationObject = T.seL4_NotificationObject;
export const seL4_CapTableObject = T.seL4_CapTableObject;
export const seL4_SchedContextObject = T.seL4_SchedContextObject;
export const seL4_ReplyObject = T.seL4_ReplyObject;
export const seL4_RISCV_Giga_Page = T.seL4_RISCV_Giga_Page;
export const seL4_RISCV_4K_Page = T.seL4_RISCV_4K_Page;
export const seL4_RISCV_Mega_Page = T.seL4_RISCV_Mega_Page;
export const seL4_RISCV_PageTableObject = T.seL4_RISCV_PageTableObject;

function objectBits(type: number, sizeBits: number): number {
  switch (type) {
    case seL4_UntypedObject:
      return sizeBits;
    case seL4_TCBObject:
      return 10;
    case seL4_EndpointObject:
      return 4;
    case seL4_NotificationObject:
      return 6;
    case seL4_CapTableObject:
      return sizeBits + 5;
    case seL4_SchedContextObject:
      return sizeBits;
    case seL4_ReplyObject:
      return 5;
    case seL4_RISCV_Giga_Page:
      return 30;
    case seL4_RISCV_Mega_Page:
      return 21;
    default:
      return 12;
  }
}

class UntypedTrack {
  constructor(
    readonly cptr: number,
    readonly paddr: number,
    readonly sizeBits: number,
    public used: number,
  ) {}
}

export interface ThreadOptions {
  /** Entry address of a registered program (Machine.registerProgram). */
  entry: number;
  priority: number;
  mcp?: number;
  budgetUs?: number;
  periodUs?: number;
  /** Up to three argument words (a0..a2). */
  args?: Word[];
  /** Fault endpoint cptr (0 for none). */
  faultEP?: number;
  /** Do not bind a scheduling context (a passive thread). */
  passive?: boolean;
  /** Do not resume the thread. */
  suspended?: boolean;
  /** The core whose SchedControl configures the thread's SC: the core it runs on (default 0). */
  core?: number;
}

export interface CreatedThread {
  tcb: number;
  sc: number;
  ipcBuffer: number;
  ipcBufferFrame: number;
}

export class Vka {
  private nextSlot: number;
  private readonly endSlot: number;
  private readonly untypeds: UntypedTrack[] = [];
  private nextVaddr = 0x402000;
  readonly bootInfo: BootInfo;

  constructor(bi: BootInfo) {
    this.bootInfo = bi;
    this.nextSlot = bi.empty.start;
    this.endSlot = bi.empty.end;
    bi.untypedList.forEach((u, i) => {
      if (!u.isDevice) this.untypeds.push(new UntypedTrack(bi.untyped.start + i, u.paddr, u.sizeBits, 0));
    });
    this.untypeds.sort((a, b) => a.sizeBits - b.sizeBits);
  }

  allocSlot(): number {
    if (this.nextSlot >= this.endSlot) throw new Error('vka: out of CSpace slots');
    return this.nextSlot++;
  }

  /** Retype one object of the given type into a fresh slot; returns its cptr. */
  *allocObject(type: number, sizeBits = 0): Generator<unknown, number, unknown> {
    const bits = objectBits(type, sizeBits);
    for (const ut of this.untypeds) {
      if (ut.sizeBits < bits) continue;
      const start = Math.ceil(ut.used / 2 ** bits) * 2 ** bits;
      if (start + 2 ** bits > 2 ** ut.sizeBits) continue;
      const slot = this.allocSlot();
      const err = yield* seL4_Untyped_Retype(ut.cptr, type, sizeBits, seL4_CapInitThreadCNode, 0, 0, slot, 1);
      if (err !== 0) throw new Error(`vka: retype of type ${type} failed with error ${err}`);
      ut.used = start + 2 ** bits;
      return slot;
    }
    throw new Error(`vka: no untyped memory for an object of ${bits} bits`);
  }

  /** Map a frame into the root VSpace at the next free address (mapping page tables as needed). */
  *mapFrame(frame: number, rights = seL4_ReadWrite): Generator<unknown, number, unknown> {
    const vaddr = this.nextVaddr;
    this.nextVaddr += 4096;
    yield* this.mapFrameAt(frame, vaddr, rights);
    return vaddr;
  }

  /**
   * Map a 4 KiB frame at a given address of a VSpace (the root's by default),
   * retyping and mapping the page tables that are missing (FailedLookup).
   */
  *mapFrameAt(frame: number, vaddr: number, rights = seL4_ReadWrite, vspace = seL4_CapInitThreadVSpace): Generator<unknown, void, unknown> {
    let err = yield* seL4_RISCV_Page_Map(frame, vspace, vaddr, rights, 0);
    for (let tries = 0; err === 6 && tries < 2; tries++) {
      const pt = yield* this.allocObject(seL4_RISCV_PageTableObject);
      const e = yield* seL4_RISCV_PageTable_Map(pt, vspace, vaddr, 0);
      if (e !== 0) throw new Error(`vka: page table map failed with ${e}`);
      err = yield* seL4_RISCV_Page_Map(frame, vspace, vaddr, rights, 0);
    }
    if (err !== 0) throw new Error(`vka: frame map at 0x${vaddr.toString(16)} failed with ${err}`);
  }

  /** Allocate and map a fresh 4 KiB frame; returns [frame cptr, vaddr]. */
  *allocMappedFrame(): Generator<unknown, [number, number], unknown> {
    const f = yield* this.allocObject(seL4_RISCV_4K_Page);
    const v = yield* this.mapFrame(f);
    return [f, v];
  }

  /** Create a thread sharing the root task's CSpace and VSpace, running a registered program. */
  *createThread(o: ThreadOptions): Generator<unknown, CreatedThread, unknown> {
    const tcb = yield* this.allocObject(seL4_TCBObject);
    const [frame, ipc] = yield* this.allocMappedFrame();
    let err = yield* seL4_TCB_Configure(tcb, seL4_CapInitThreadCNode, 0, seL4_CapInitThreadVSpace, 0, ipc, frame);
    if (err !== 0) throw new Error(`vka: TCB_Configure failed with ${err}`);
    let sc = 0;
    if (o.passive !== true) {
      sc = yield* this.allocObject(seL4_SchedContextObject, 8);
      const budget = o.budgetUs ?? 1000;
      const period = o.periodUs ?? budget;
      err = yield* seL4_SchedControl_ConfigureFlags(this.bootInfo.schedcontrol.start + (o.core ?? 0), sc, budget, period, 0, 0, 0);
      if (err !== 0) throw new Error(`vka: SchedControl_ConfigureFlags failed with ${err}`);
    }
    err = yield* seL4_TCB_SetSchedParams(tcb, seL4_CapInitThreadTCB, o.mcp ?? o.priority, o.priority, sc, o.faultEP ?? 0);
    if (err !== 0) throw new Error(`vka: TCB_SetSchedParams failed with ${err}`);
    const regs: Word[] = new Array<Word>(32).fill(0);
    regs[0] = o.entry;
    const args = o.args ?? [];
    for (let i = 0; i < 3 && i < args.length; i++) regs[16 + i] = args[i]!;
    err = yield* seL4_TCB_WriteRegisters(tcb, false, 0, 32, regs);
    if (err !== 0) throw new Error(`vka: TCB_WriteRegisters failed with ${err}`);
    if (o.suspended !== true) {
      err = yield* seL4_TCB_Resume(tcb);
      if (err !== 0) throw new Error(`vka: TCB_Resume failed with ${err}`);
    }
    return { tcb, sc, ipcBuffer: ipc, ipcBufferFrame: frame };
  }
}
