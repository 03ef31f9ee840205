/**
 * The Microkit initialiser: builds a parsed system description at run time,
 * from the root task, the way the Microkit tool's capDL spec and the capDL
 * initialiser (or, in older releases, the monitor's invocation list) do, using
 * only seL4 invocations:
 *
 *  - memory regions become frames retyped from untypeds (from the device or
 *    RAM untyped that covers `phys_addr` when one is given), prefilled through
 *    a temporary mapping in the initialiser's VSpace;
 *  - each PD gets a 512-slot CNode, a VSpace assigned to an ASID, a TCB, a
 *    scheduling context (budget/period, badge 0x100 + index), a notification,
 *    an endpoint when someone may PPC it or it has children, a reply object,
 *    an IPC buffer and a stack, and its maps;
 *  - its CSpace is laid out as Microkit's (layout.ts): input cap, fault EP,
 *    VSpace, reply, monitor EP (passive PDs), one badged notification cap per
 *    channel it may notify (badge 1 << peer id), one badged endpoint cap per
 *    channel it may call (badge bit 63 | peer id), IRQ handlers bound to its
 *    notification (badge 1 << id), its children's TCBs;
 *  - faults go to the monitor (badge = index + 1) or to the parent PD
 *    (badge bit 62 | child id);
 *  - the monitor gets its own CSpace with the PDs' TCBs and, for passive PDs,
 *    their scheduling contexts and notifications.
 */
import {
  seL4_CNode_Copy,
  seL4_CNode_Mint,
  seL4_IRQControl_GetTrigger,
  seL4_IRQHandler_SetNotification,
  seL4_RISCV_ASIDPool_Assign,
  seL4_RISCV_Page_GetAddress,
  seL4_RISCV_Page_Map,
  seL4_RISCV_Page_Unmap,
  seL4_RISCV_PageTable_Map,
  seL4_SchedControl_ConfigureFlags,
  seL4_TCB_BindNotification,
  seL4_TCB_Configure,
  seL4_TCB_Resume,
  seL4_TCB_SetSchedParams,
  seL4_TCB_WriteRegisters,
} from '../user/invocations.js';
import { seL4_DebugNameThread, Word } from '../user/libsel4.js';
import {
  seL4_AllRights,
  seL4_CapInitThreadASIDPool,
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadTCB,
  seL4_CapInitThreadVSpace,
  seL4_CapIRQControl,
  seL4_CapTableObject,
  seL4_EndpointObject,
  seL4_NotificationObject,
  seL4_ReplyObject,
  seL4_RISCV_4K_Page,
  seL4_RISCV_Mega_Page,
  seL4_RISCV_PageTableObject,
  seL4_SchedContextObject,
  seL4_TCBObject,
} from '../user/vka.js';
import type { BootInfo } from '../kernel/boot.js';
import { seL4_RISCV_ExecuteNever } from '../abi/constants.js';
import { Allocator, BuildError, check } from './alloc.js';
import { unsupportedFeature } from './check.js';
import {
  BASE_ENDPOINT_CAP,
  BASE_IRQ_CAP,
  BASE_OUTPUT_NOTIFICATION_CAP,
  BASE_TCB_CAP,
  cnodeGuardData,
  FAULT_BADGE,
  FAULT_EP_CAP,
  INPUT_CAP,
  MON_BASE_NOTIFICATION_CAP,
  MON_BASE_PD_TCB_CAP,
  MON_BASE_SCHED_CONTEXT_CAP,
  MON_FAULT_EP_CAP,
  MON_REPLY_CAP,
  MONITOR_BUDGET_US,
  MONITOR_EP,
  MONITOR_STACK_SIZE,
  PD_CAP_BITS,
  PD_CNODE_GUARD_SIZE,
  PD_IPC_BUFFER_VADDR,
  PD_SCHEDCONTEXT_SIZE_BITS,
  PD_STACK_TOP,
  PPC_BADGE,
  REPLY_CAP,
  SC_BADGE_BASE,
  VSPACE_CAP,
} from './layout.js';
import type { MicrokitProgram } from './libmicrokit.js';
import { microkit_write_bytes } from './libmicrokit.js';
import { MONITOR_PRIORITY, type MemoryRegion, type ProtectionDomain, type SdfMap, type SystemDescription } from './sdf.js';

type Gen<T = void> = Generator<unknown, T, unknown>;

const ROOT = seL4_CapInitThreadCNode;
const RIGHTS_RW = 0x3;
const RIGHTS_RWG = 0x7;
const RIGHTS_NONE = 0;
const GIB = 2 ** 30;
const MIB2 = 2 ** 21;
/** Windows in the initialiser's VSpace where region frames are mapped to be prefilled. */
const PREFILL_WINDOW_4K = 0x10_0000_0000;
const PREFILL_WINDOW_2M = 0x10_4000_0000;

export interface BuildInput {
  system: SystemDescription;
  /** Program entry address (Machine.registerProgram) per PD name. */
  entries: ReadonlyMap<string, number>;
  monitorEntry: number;
  /** Loaded PD programs per PD name: their `setvar` objects are patched. */
  programs: ReadonlyMap<string, MicrokitProgram>;
}

export interface BuiltSystem {
  /** Physical address of each memory region's first frame. */
  regionPaddrs: Map<string, number>;
  objectsCreated: number;
  bytesAllocated: number;
}

/** A VSpace being filled, with the page tables already mapped in it (keyed by GiB and by 2 MiB). */
interface AddressSpace {
  vspace: number;
  readonly l1: Set<number>;
  readonly l2: Set<number>;
}

/** The initialiser's own records of what it created for a PD (cptrs in the root CNode). */
interface PdObjects extends AddressSpace {
  readonly pd: ProtectionDomain;
  readonly index: number;
  cnode: number;
  tcb: number;
  sc: number;
  ntfn: number;
  ep: number | null;
}

/** Microkit's ProtectionDomain::needs_ep: children, a VM, or a channel whose other end may PPC it. */
export function needsEndpoint(sys: SystemDescription, pd: ProtectionDomain): boolean {
  if (pd.children.length > 0) return true;
  return sys.channels.some((c) => (c.a.pp && c.b.pd === pd.name) || (c.b.pp && c.a.pd === pd.name));
}

function pageBits(mr: MemoryRegion): number {
  return mr.pageSize === 0x1000 ? 12 : 21;
}

function pageType(mr: MemoryRegion): number {
  return mr.pageSize === 0x1000 ? seL4_RISCV_4K_Page : seL4_RISCV_Mega_Page;
}

class Builder {
  readonly a: Allocator;
  private readonly pds: PdObjects[] = [];
  private readonly regionFrames = new Map<string, number[]>();
  readonly regionPaddrs = new Map<string, number>();
  private readonly rootAS: AddressSpace = { vspace: seL4_CapInitThreadVSpace, l1: new Set(), l2: new Set() };
  private faultEP = 0;

  constructor(
    readonly bi: BootInfo,
    readonly input: BuildInput,
  ) {
    this.a = new Allocator(bi);
  }

  get sys(): SystemDescription {
    return this.input.system;
  }

  // ------------------------------------------------------------ helpers

  private *newObject(type: number, sizeBits: number, what: string): Gen<number> {
    try {
      return (yield* this.a.retype(type, sizeBits, 'root')).slot;
    } catch (e) {
      if (e instanceof BuildError) throw new BuildError(`${what}: ${e.message}`);
      throw e;
    }
  }

  /** Put a cap derived from root slot `src` into a PD-style CNode (radix 9) at `slot`. */
  private *mint(cnode: number, slot: number, src: number, rights: number, badge: Word, what: string): Gen {
    check(yield* seL4_CNode_Mint(cnode, slot, PD_CAP_BITS, ROOT, src, 64, rights, badge), what);
  }

  private *copy(cnode: number, slot: number, src: number, rights: number, what: string): Gen {
    check(yield* seL4_CNode_Copy(cnode, slot, PD_CAP_BITS, ROOT, src, 64, rights), what);
  }

  /** Page tables for a page of 2^bits bytes at vaddr (level 1 for each GiB, level 2 for each 2 MiB). */
  private *ensurePageTables(as: AddressSpace, vaddr: number, bits: number, who: string): Gen {
    const k1 = Math.floor(vaddr / GIB);
    if (!as.l1.has(k1)) {
      yield* this.pageTable(as.vspace, k1 * GIB, who);
      as.l1.add(k1);
    }
    const k2 = Math.floor(vaddr / MIB2);
    if (bits === 12 && !as.l2.has(k2)) {
      yield* this.pageTable(as.vspace, k2 * MIB2, who);
      as.l2.add(k2);
    }
  }

  private *pageTable(vspace: number, vaddr: number, who: string): Gen {
    const pt = yield* this.newObject(seL4_RISCV_PageTableObject, 0, `page table for ${who}`);
    check(yield* seL4_RISCV_PageTable_Map(pt, vspace, vaddr, 0), `PageTable_Map at 0x${vaddr.toString(16)} for ${who}`);
    yield* this.a.park(pt);
  }

  /** Map the frame in root slot `frame` (page tables first) and park it. */
  private *mapFrame(as: AddressSpace, frame: number, vaddr: number, bits: number, rights: number, exec: boolean, who: string): Gen {
    yield* this.ensurePageTables(as, vaddr, bits, who);
    const attr = exec ? 0 : seL4_RISCV_ExecuteNever;
    check(yield* seL4_RISCV_Page_Map(frame, as.vspace, vaddr, rights, attr), `Page_Map at 0x${vaddr.toString(16)} for ${who}`);
    yield* this.a.park(frame);
  }

  /** A fresh zeroed 4 KiB frame mapped read-write, non-executable (stacks, IPC buffers). */
  private *anonymousPage(as: AddressSpace, vaddr: number, who: string): Gen<number> {
    const f = yield* this.newObject(seL4_RISCV_4K_Page, 0, `frame for ${who}`);
    yield* this.mapFrame(as, f, vaddr, 12, RIGHTS_RW, false, who);
    return f;
  }

  // ----------------------------------------------------------- the plan

  /** Storage slots needed: region frames, their mappings, stacks, IPC buffers, page tables, padding. */
  private storageNeeded(): number {
    let n = 64;
    const regions = new Map(this.sys.memoryRegions.map((r) => [r.name, r]));
    for (const mr of this.sys.memoryRegions) n += mr.pageCount + (mr.physAddr !== null ? 2 * 38 : 0);
    for (const pd of this.sys.protectionDomains) {
      const l1 = new Set<number>();
      const l2 = new Set<number>();
      const touch = (v: number, bits: number): void => {
        l1.add(Math.floor(v / GIB));
        if (bits === 12) l2.add(Math.floor(v / MIB2));
      };
      touch(PD_IPC_BUFFER_VADDR, 12);
      for (let v = PD_STACK_TOP - pd.stackSize; v < PD_STACK_TOP; v += 0x1000) touch(v, 12);
      n += 1 + pd.stackSize / 0x1000;
      for (const m of pd.maps) {
        const mr = regions.get(m.mr)!;
        for (let i = 0; i < mr.pageCount; i++) touch(m.vaddr + i * mr.pageSize, pageBits(mr));
        n += mr.pageCount;
      }
      n += l1.size + l2.size;
    }
    n += 4 + MONITOR_STACK_SIZE / 0x1000;
    return n;
  }

  // ------------------------------------------------------ memory regions

  private *buildRegions(): Gen {
    const regions = [...this.sys.memoryRegions];
    // Regions at fixed addresses first, in address order (as the tool sorts its objects).
    regions.sort((x, y) => (x.physAddr ?? Infinity) - (y.physAddr ?? Infinity));
    for (const mr of regions) {
      const frames: number[] = [];
      const type = pageType(mr);
      try {
        if (mr.physAddr !== null) {
          for (let i = 0; i < mr.pageCount; i++) frames.push((yield* this.a.retypeAt(type, 0, mr.physAddr + i * mr.pageSize, 'storage')).slot);
          this.regionPaddrs.set(mr.name, mr.physAddr);
        } else if (mr.physAddrKind === 'tool_allocated' || this.a.canRetypeContiguous(type, mr.pageCount)) {
          // A region whose paddr a PD asks for must be physically contiguous; others are too when they fit.
          for (const x of yield* this.a.retypeContiguous(type, 0, mr.pageCount, 'storage')) frames.push(x.slot);
        } else {
          for (let i = 0; i < mr.pageCount; i++) frames.push((yield* this.a.retype(type, 0, 'storage')).slot);
        }
      } catch (e) {
        if (e instanceof BuildError) throw new BuildError(`memory region '${mr.name}': ${e.message}`);
        throw e;
      }
      this.regionFrames.set(mr.name, frames);
      if (mr.physAddr === null) {
        const f = yield* this.a.unpark(frames[0]!, seL4_AllRights);
        const [err, paddr] = yield* seL4_RISCV_Page_GetAddress(f);
        check(err, `Page_GetAddress of region '${mr.name}'`);
        this.regionPaddrs.set(mr.name, paddr);
        yield* this.a.discard(f);
      }
      if (mr.prefillBytes !== null && mr.prefillBytes.length > 0) yield* this.prefill(mr, frames, mr.prefillBytes);
    }
  }

  /** Copy prefill data into a region's frames through a window in the initialiser's own VSpace. */
  private *prefill(mr: MemoryRegion, frames: number[], data: Uint8Array): Gen {
    const bits = pageBits(mr);
    const window = bits === 12 ? PREFILL_WINDOW_4K : PREFILL_WINDOW_2M;
    yield* this.ensurePageTables(this.rootAS, window, bits, 'the initialiser');
    for (let i = 0; i * mr.pageSize < data.length; i++) {
      const f = yield* this.a.unpark(frames[i]!, seL4_AllRights);
      check(yield* seL4_RISCV_Page_Map(f, seL4_CapInitThreadVSpace, window, RIGHTS_RW, seL4_RISCV_ExecuteNever), `prefill map of '${mr.name}'`);
      yield* microkit_write_bytes(window, data.subarray(i * mr.pageSize, Math.min(data.length, (i + 1) * mr.pageSize)));
      check(yield* seL4_RISCV_Page_Unmap(f), `prefill unmap of '${mr.name}'`);
      yield* this.a.discard(f);
    }
  }

  // -------------------------------------------------------------- PDs

  private *buildPd(pd: ProtectionDomain, index: number): Gen<PdObjects> {
    const who = `PD '${pd.name}'`;
    const o: PdObjects = {
      pd,
      index,
      cnode: yield* this.newObject(seL4_CapTableObject, PD_CAP_BITS, `CNode of ${who}`),
      vspace: yield* this.newObject(seL4_RISCV_PageTableObject, 0, `VSpace of ${who}`),
      tcb: yield* this.newObject(seL4_TCBObject, 0, `TCB of ${who}`),
      sc: yield* this.newObject(seL4_SchedContextObject, PD_SCHEDCONTEXT_SIZE_BITS, `scheduling context of ${who}`),
      ntfn: yield* this.newObject(seL4_NotificationObject, 0, `notification of ${who}`),
      ep: needsEndpoint(this.sys, pd) ? yield* this.newObject(seL4_EndpointObject, 0, `endpoint of ${who}`) : null,
      l1: new Set(),
      l2: new Set(),
    };
    check(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, o.vspace), `ASIDPool_Assign for ${who}`);
    check(
      // The PD runs on its cpu: the SchedControl cap of that core configures its SC.
      yield* seL4_SchedControl_ConfigureFlags(this.bi.schedcontrol.start + pd.cpu, o.sc, pd.budget, pd.period, 0, SC_BADGE_BASE + index, 0),
      `SchedControl_ConfigureFlags for ${who} (budget ${pd.budget} us, period ${pd.period} us)`,
    );

    // Address space: IPC buffer (the "image"), stack, memory regions.
    const ipc = yield* this.newObject(seL4_RISCV_4K_Page, 0, `IPC buffer of ${who}`);
    yield* this.ensurePageTables(o, PD_IPC_BUFFER_VADDR, 12, who);
    check(yield* seL4_RISCV_Page_Map(ipc, o.vspace, PD_IPC_BUFFER_VADDR, RIGHTS_RW, seL4_RISCV_ExecuteNever), `IPC buffer map for ${who}`);
    check(
      yield* seL4_TCB_Configure(o.tcb, o.cnode, cnodeGuardData(PD_CNODE_GUARD_SIZE), o.vspace, 0, PD_IPC_BUFFER_VADDR, ipc),
      `TCB_Configure for ${who}`,
    );
    yield* this.a.park(ipc);
    for (let v = PD_STACK_TOP - pd.stackSize; v < PD_STACK_TOP; v += 0x1000) yield* this.anonymousPage(o, v, `stack of ${who}`);
    for (const m of pd.maps) yield* this.mapRegion(o, m);

    // The fixed part of its CSpace.
    yield* this.copy(o.cnode, INPUT_CAP, o.ep ?? o.ntfn, o.ep !== null ? seL4_AllRights : RIGHTS_RW, `input cap of ${who}`);
    yield* this.copy(o.cnode, VSPACE_CAP, o.vspace, seL4_AllRights, `VSpace cap of ${who}`);
    const reply = yield* this.newObject(seL4_ReplyObject, 0, `reply object of ${who}`);
    yield* this.copy(o.cnode, REPLY_CAP, reply, RIGHTS_NONE, `reply cap of ${who}`);
    yield* this.a.discard(reply);
    if (pd.passive) yield* this.mint(o.cnode, MONITOR_EP, this.faultEP, RIGHTS_RWG, index + 1, `monitor endpoint of ${who}`);

    // Faults go to the monitor, or to the parent for a child PD.
    const fault = this.a.rootSlot();
    if (pd.parent === null) {
      check(yield* seL4_CNode_Mint(ROOT, fault, 64, ROOT, this.faultEP, 64, RIGHTS_RWG, index + 1), `fault endpoint of ${who}`);
    } else {
      const parent = this.pds.find((p) => p.pd.name === pd.parent)!;
      const badge = FAULT_BADGE | BigInt(pd.id!);
      check(yield* seL4_CNode_Mint(ROOT, fault, 64, ROOT, parent.ep!, 64, RIGHTS_RWG, badge), `fault endpoint of ${who}`);
      yield* this.copy(parent.cnode, BASE_TCB_CAP + pd.id!, o.tcb, seL4_AllRights, `child TCB cap of ${who}`);
    }
    check(yield* seL4_TCB_SetSchedParams(o.tcb, seL4_CapInitThreadTCB, pd.priority, pd.priority, o.sc, fault), `TCB_SetSchedParams for ${who}`);
    yield* this.copy(o.cnode, FAULT_EP_CAP, fault, seL4_AllRights, `fault endpoint cap of ${who}`);
    yield* this.a.discard(fault);

    check(yield* seL4_TCB_BindNotification(o.tcb, o.ntfn), `TCB_BindNotification for ${who}`);
    yield* seL4_DebugNameThread(o.tcb, pd.name);
    const regs: Word[] = new Array<Word>(32).fill(0);
    regs[0] = this.input.entries.get(pd.name)!;
    regs[2] = PD_STACK_TOP;
    check(yield* seL4_TCB_WriteRegisters(o.tcb, false, 0, 32, regs), `TCB_WriteRegisters for ${who}`);
    return o;
  }

  private *mapRegion(o: PdObjects, m: SdfMap): Gen {
    const mr = this.sys.memoryRegions.find((r) => r.name === m.mr)!;
    const frames = this.regionFrames.get(mr.name)!;
    const rights = (m.perms.read ? 2 : 0) | (m.perms.write ? 1 : 0);
    const bits = pageBits(mr);
    for (let i = 0; i < frames.length; i++) {
      const f = yield* this.a.unpark(frames[i]!, rights);
      // `cached` has no effect on RISC-V: Sv39 PTEs have no cacheability bits.
      yield* this.mapFrame(o, f, m.vaddr + i * mr.pageSize, bits, rights, m.perms.execute, `'${m.mr}' in PD '${o.pd.name}'`);
    }
  }

  private *buildChannels(): Gen {
    const byName = new Map(this.pds.map((p) => [p.pd.name, p]));
    for (const ch of this.sys.channels) {
      for (const [me, peer] of [
        [ch.a, ch.b],
        [ch.b, ch.a],
      ] as const) {
        const src = byName.get(me.pd)!;
        const dst = byName.get(peer.pd)!;
        if (me.notify) {
          yield* this.mint(src.cnode, BASE_OUTPUT_NOTIFICATION_CAP + me.id, dst.ntfn, RIGHTS_RW, 1n << BigInt(peer.id), `channel ${me.pd}:${me.id} notification`);
        }
        if (me.pp) {
          const badge = PPC_BADGE | BigInt(peer.id);
          yield* this.mint(src.cnode, BASE_ENDPOINT_CAP + me.id, dst.ep!, RIGHTS_RWG, badge, `channel ${me.pd}:${me.id} PPC endpoint`);
        }
      }
    }
  }

  private *buildIrqs(o: PdObjects): Gen {
    for (const irq of o.pd.irqs) {
      const who = `IRQ ${irq.irq} of PD '${o.pd.name}'`;
      const handler = this.a.rootSlot();
      check(yield* seL4_IRQControl_GetTrigger(seL4_CapIRQControl, irq.irq, irq.trigger === 'edge' ? 1 : 0, ROOT, handler, 64), `IRQControl_GetTrigger for ${who}`);
      const badged = this.a.rootSlot();
      check(yield* seL4_CNode_Mint(ROOT, badged, 64, ROOT, o.ntfn, 64, RIGHTS_RW, 1n << BigInt(irq.id)), `notification cap for ${who}`);
      check(yield* seL4_IRQHandler_SetNotification(handler, badged), `IRQHandler_SetNotification for ${who}`);
      yield* this.a.discard(badged);
      yield* this.copy(o.cnode, BASE_IRQ_CAP + irq.id, handler, seL4_AllRights, `IRQ handler cap for ${who}`);
    }
  }

  // ---------------------------------------------------------- monitor

  private *buildMonitor(): Gen<number> {
    const who = 'the monitor';
    const cnode = yield* this.newObject(seL4_CapTableObject, PD_CAP_BITS, `CNode of ${who}`);
    const vspace = yield* this.newObject(seL4_RISCV_PageTableObject, 0, `VSpace of ${who}`);
    const tcb = yield* this.newObject(seL4_TCBObject, 0, `TCB of ${who}`);
    const sc = yield* this.newObject(seL4_SchedContextObject, PD_SCHEDCONTEXT_SIZE_BITS, `scheduling context of ${who}`);
    check(yield* seL4_RISCV_ASIDPool_Assign(seL4_CapInitThreadASIDPool, vspace), `ASIDPool_Assign for ${who}`);
    check(yield* seL4_SchedControl_ConfigureFlags(this.bi.schedcontrol.start, sc, MONITOR_BUDGET_US, MONITOR_BUDGET_US, 0, 0, 0), `SchedControl for ${who}`);
    const as: AddressSpace = { vspace, l1: new Set(), l2: new Set() };
    const ipc = yield* this.newObject(seL4_RISCV_4K_Page, 0, `IPC buffer of ${who}`);
    yield* this.ensurePageTables(as, PD_IPC_BUFFER_VADDR, 12, who);
    check(yield* seL4_RISCV_Page_Map(ipc, vspace, PD_IPC_BUFFER_VADDR, RIGHTS_RW, seL4_RISCV_ExecuteNever), `IPC buffer map for ${who}`);
    check(yield* seL4_TCB_Configure(tcb, cnode, cnodeGuardData(PD_CNODE_GUARD_SIZE), vspace, 0, PD_IPC_BUFFER_VADDR, ipc), `TCB_Configure for ${who}`);
    yield* this.a.park(ipc);
    yield* this.anonymousPage(as, PD_STACK_TOP - MONITOR_STACK_SIZE, `stack of ${who}`);
    this.faultEP = yield* this.newObject(seL4_EndpointObject, 0, `fault endpoint of ${who}`);
    yield* this.copy(cnode, MON_FAULT_EP_CAP, this.faultEP, seL4_AllRights, `fault endpoint cap of ${who}`);
    const reply = yield* this.newObject(seL4_ReplyObject, 0, `reply object of ${who}`);
    yield* this.copy(cnode, MON_REPLY_CAP, reply, seL4_AllRights, `reply cap of ${who}`);
    yield* this.a.discard(reply);
    check(yield* seL4_TCB_SetSchedParams(tcb, seL4_CapInitThreadTCB, MONITOR_PRIORITY, MONITOR_PRIORITY, sc, 0), `TCB_SetSchedParams for ${who}`);
    yield* seL4_DebugNameThread(tcb, 'monitor');
    const regs: Word[] = new Array<Word>(32).fill(0);
    regs[0] = this.input.monitorEntry;
    regs[2] = PD_STACK_TOP;
    check(yield* seL4_TCB_WriteRegisters(tcb, false, 0, 32, regs), `TCB_WriteRegisters for ${who}`);
    this.monitorCNode = cnode;
    return tcb;
  }

  private monitorCNode = 0;

  /** The monitor's CSpace: every PD's TCB, and for passive PDs their SC and notification. */
  private *populateMonitor(): Gen {
    for (const o of this.pds) {
      yield* this.copy(this.monitorCNode, MON_BASE_PD_TCB_CAP + o.index, o.tcb, seL4_AllRights, `monitor's TCB cap of '${o.pd.name}'`);
      if (o.pd.passive) {
        yield* this.copy(this.monitorCNode, MON_BASE_SCHED_CONTEXT_CAP + o.index, o.sc, seL4_AllRights, `monitor's SC cap of '${o.pd.name}'`);
        yield* this.copy(this.monitorCNode, MON_BASE_NOTIFICATION_CAP + o.index, o.ntfn, RIGHTS_RW, `monitor's notification cap of '${o.pd.name}'`);
      }
    }
  }

  // ----------------------------------------------------------- setvars

  private patchSetvars(): void {
    const regions = new Map(this.sys.memoryRegions.map((r) => [r.name, r]));
    for (const pd of this.sys.protectionDomains) {
      const program = this.input.programs.get(pd.name)!;
      for (const sv of pd.setvars) {
        let value: number;
        switch (sv.kind) {
          case 'vaddr':
            value = sv.address;
            break;
          case 'size':
            value = regions.get(sv.mr)!.size;
            break;
          case 'prefill_size':
            value = regions.get(sv.mr)!.prefillBytes?.length ?? 0;
            break;
          case 'paddr':
            value = this.regionPaddrs.get(sv.region) ?? 0;
            break;
          case 'id':
            value = sv.id;
            break;
        }
        const vars = program.setvar;
        if (vars === undefined || typeof vars !== 'object' || !(sv.symbol in vars)) {
          throw new BuildError(
            `${sv.pos.file}:${sv.pos.line}:${sv.pos.column}: could not patch symbol '${sv.symbol}' in program image for PD '${pd.name}' (${pd.programImage}): the module's exported 'setvar' object has no such key`,
          );
        }
        vars[sv.symbol] = value;
      }
    }
  }

  // -------------------------------------------------------------- all

  *build(): Gen<BuiltSystem> {
    const unsupported = unsupportedFeature(this.sys);
    if (unsupported !== null) throw new BuildError(unsupported);
    const need = this.storageNeeded();
    yield* this.a.createStorage(Math.max(8, Math.ceil(Math.log2(need))));
    yield* this.buildRegions();
    const monitorTcb = yield* this.buildMonitor();
    for (let i = 0; i < this.sys.protectionDomains.length; i++) this.pds.push(yield* this.buildPd(this.sys.protectionDomains[i]!, i));
    yield* this.buildChannels();
    for (const o of this.pds) yield* this.buildIrqs(o);
    yield* this.populateMonitor();
    this.patchSetvars();
    check(yield* seL4_TCB_Resume(monitorTcb), 'TCB_Resume of the monitor');
    for (const o of this.pds) check(yield* seL4_TCB_Resume(o.tcb), `TCB_Resume of PD '${o.pd.name}'`);
    return { regionPaddrs: this.regionPaddrs, objectsCreated: this.a.objectsCreated, bytesAllocated: this.a.bytesAllocated };
  }
}

/** Build the system from the root task (run inside its program: `yield* buildSystem(bi, input)`). */
export function* buildSystem(bi: BootInfo, input: BuildInput): Gen<BuiltSystem> {
  return yield* new Builder(bi, input).build();
}
