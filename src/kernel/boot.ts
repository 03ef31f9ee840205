/**
 * Kernel boot (seL4's init_kernel / try_init_kernel for riscv, MCS): build the
 * root task's CSpace, VSpace, IPC buffer, boot info, TCB and scheduling context,
 * hand all remaining memory to it as untyped caps, and write seL4_BootInfo.
 */
import {
  BI_EMPTY,
  BI_EXTRA_BI_PAGES,
  BI_EXTRA_LEN,
  BI_INIT_THREAD_CNODE_SIZE_BITS,
  BI_INIT_THREAD_DOMAIN,
  BI_IO_SPACE_CAPS,
  BI_IPC_BUFFER,
  BI_NODE_ID,
  BI_NUM_IOPT_LEVELS,
  BI_NUM_NODES,
  BI_SCHEDCONTROL,
  BI_SHARED_FRAMES,
  BI_UNTYPED,
  BI_UNTYPED_LIST,
  BI_USER_IMAGE_FRAMES,
  BI_USER_IMAGE_PAGING,
  UNTYPEDDESC_SIZE,
  seL4_CapASIDControl,
  seL4_CapBootInfoFrame,
  seL4_CapDomain,
  seL4_CapInitThreadASIDPool,
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadIPCBuffer,
  seL4_CapInitThreadSC,
  seL4_CapInitThreadTCB,
  seL4_CapInitThreadVSpace,
  seL4_CapIRQControl,
  seL4_NumInitialCaps,
} from '../abi/bootinfo.js';
import { PhysicalMemory } from '../machine/memory.js';
import {
  defaultVirtConfig,
  deviceRegions,
  deviceUntypeds,
  kernelFreeRam,
  ramRegions,
  untypedBlocks,
  VirtConfig,
  UntypedBlock,
} from '../machine/virt.js';
import { Cap, CapType, VMRights } from './cap.js';
import { defaultKernelConfig, KernelConfig } from './config.js';
import { Kernel } from './kernel.js';
import { cteInsert, insertRootCap } from './mdb.js';
import { ASIDPool } from './object/asidpool.js';
import { CNode } from './object/cnode.js';
import { SchedContext } from './object/schedcontext.js';
import { REG_A0, REG_NEXT_IP, TCB, TCB_BUFFER, TCB_CTABLE, TCB_VTABLE, ThreadState } from './object/tcb.js';
import { MIN_REFILLS } from './sched/refill.js';
import { initSchedulerTime } from './sched/time.js';
import { seL4_MinSchedContextBits, seL4_TCBBits } from './objecttype.js';
import { lookupPTSlot, writeTablePTE, writeUserPTE } from './vspace/vspace.js';
import type { Slot } from './slot.js';

/** ASID of the initial thread (IT_ASID). */
export const IT_ASID = 1;
export const MAX_PRIO = 255;

/** A slot range [start, end) of the root CNode. */
export interface SlotRegion {
  start: number;
  end: number;
}

export interface UntypedDesc {
  paddr: number;
  sizeBits: number;
  isDevice: boolean;
}

/** The decoded seL4_BootInfo the kernel wrote into the boot info frame. */
export interface BootInfo {
  nodeID: number;
  numNodes: number;
  ipcBuffer: number;
  empty: SlotRegion;
  userImageFrames: SlotRegion;
  userImagePaging: SlotRegion;
  extraBIPages: SlotRegion;
  initThreadCNodeSizeBits: number;
  initThreadDomain: number;
  schedcontrol: SlotRegion;
  untyped: SlotRegion;
  untypedList: UntypedDesc[];
  /** Virtual address of the boot info frame in the root task's VSpace. */
  vaddr: number;
}

export interface BootOptions {
  virt?: Partial<VirtConfig>;
  kernel?: Partial<KernelConfig>;
  /** Virtual address where the root task's (empty) user image ends: IPC buffer goes there. */
  imageEnd?: number;
  /** Name of the root task thread. */
  rootName?: string;
}

export interface Booted {
  kernel: Kernel;
  bootInfo: BootInfo;
  rootTCB: TCB;
  virt: VirtConfig;
}

class RootServerAllocator {
  next: number;
  constructor(base: number) {
    this.next = base;
  }
  alloc(bits: number): number {
    const a = 2 ** bits;
    const p = Math.ceil(this.next / a) * a;
    this.next = p + a;
    return p;
  }
}

function provide(k: Kernel, cnode: CNode, slotNo: number, cap: Cap): Slot {
  const s = cnode.slot(slotNo);
  insertRootCap(s, cap);
  return s;
}

/** Boot a kernel on a simulated qemu virt machine with an (empty-image) root task. */
export function bootKernel(opts: BootOptions = {}): Booted {
  const virt = defaultVirtConfig(opts.virt ?? {});
  const config: KernelConfig = { ...defaultKernelConfig(), ...(opts.kernel ?? {}) };
  const mem = new PhysicalMemory(ramRegions(virt), deviceRegions(virt));
  const k = new Kernel(mem, config);

  // Root task virtual layout: IPC buffer right after the image, boot info one page later.
  const imageEnd = opts.imageEnd ?? 0x400000;
  const ipcBufVaddr = imageEnd;
  const biVaddr = imageEnd + 4096;

  // Root server objects come from the top of the highest free RAM region.
  const free = kernelFreeRam(virt);
  const top = free[free.length - 1]!;
  const nPT = 2; // one level-1 and one level-2 table cover the IPC buffer and boot info
  const cnodeBits = config.rootCNodeSizeBits + 5;
  const rsSize = 2 ** cnodeBits + (4 + nPT) * 4096 + 2 ** seL4_TCBBits + 2 ** seL4_MinSchedContextBits;
  const rsStart = Math.floor((top.base + top.size - rsSize) / 2 ** cnodeBits) * 2 ** cnodeBits;
  const ra = new RootServerAllocator(rsStart);
  const cnodePaddr = ra.alloc(cnodeBits);
  const vspacePaddr = ra.alloc(12);
  const asidPoolPaddr = ra.alloc(12);
  const ipcBufPaddr = ra.alloc(12);
  const biPaddr = ra.alloc(12);
  const ptPaddrs: number[] = [];
  for (let i = 0; i < nPT; i++) ptPaddrs.push(ra.alloc(12));
  const tcbPaddr = ra.alloc(seL4_TCBBits);
  const scPaddr = ra.alloc(seL4_MinSchedContextBits);
  const rsEnd = ra.next;
  for (const p of [vspacePaddr, asidPoolPaddr, ipcBufPaddr, biPaddr, ...ptPaddrs]) mem.zero(p, 4096);

  // 1. Root CNode, domain cap, IRQ control.
  const root = new CNode(cnodePaddr, config.rootCNodeSizeBits);
  k.cnodes.add(root);
  k.objects.add(root);
  const rootCap = new Cap(CapType.CNode, root, cnodePaddr, root.sizeBits);
  rootCap.radix = config.rootCNodeSizeBits;
  rootCap.guardSize = 64 - config.rootCNodeSizeBits;
  provide(k, root, seL4_CapInitThreadCNode, rootCap);
  provide(k, root, seL4_CapDomain, new Cap(CapType.Domain, null, 0, 0));
  provide(k, root, seL4_CapIRQControl, new Cap(CapType.IRQControl, null, 0, 0));
  let slotPos = seL4_NumInitialCaps;

  // 2. Address space: root page table and the tables covering IPC buffer and boot info.
  const vsCap = new Cap(CapType.PageTable, null, vspacePaddr, 12);
  vsCap.isMapped = true;
  vsCap.mappedASID = IT_ASID;
  vsCap.mappedAddr = 0;
  provide(k, root, seL4_CapInitThreadVSpace, vsCap);
  const pagingStart = slotPos;
  // Level-1 table (covers a 1 GiB slice), then level-2 table (a 2 MiB slice).
  const l1 = lookupPTSlot(k, vspacePaddr, ipcBufVaddr);
  writeTablePTE(k, l1.paddr, ptPaddrs[0]!);
  const l1Cap = new Cap(CapType.PageTable, null, ptPaddrs[0]!, 12);
  l1Cap.isMapped = true;
  l1Cap.mappedASID = IT_ASID;
  l1Cap.mappedAddr = ipcBufVaddr - (ipcBufVaddr % 2 ** 30);
  provide(k, root, slotPos++, l1Cap);
  const l2 = lookupPTSlot(k, vspacePaddr, ipcBufVaddr);
  writeTablePTE(k, l2.paddr, ptPaddrs[1]!);
  const l2Cap = new Cap(CapType.PageTable, null, ptPaddrs[1]!, 12);
  l2Cap.isMapped = true;
  l2Cap.mappedASID = IT_ASID;
  l2Cap.mappedAddr = ipcBufVaddr - (ipcBufVaddr % 2 ** 21);
  provide(k, root, slotPos++, l2Cap);
  const userImagePaging = { start: pagingStart, end: slotPos };

  // 3. Boot info frame.
  const biCap = new Cap(CapType.Frame, null, biPaddr, 12);
  biCap.rights = VMRights.ReadWrite;
  biCap.isMapped = true;
  biCap.mappedASID = IT_ASID;
  biCap.mappedAddr = biVaddr;
  provide(k, root, seL4_CapBootInfoFrame, biCap);
  writeUserPTE(k, lookupPTSlot(k, vspacePaddr, biVaddr).paddr, biPaddr, false, VMRights.ReadWrite);
  const extraBIPages = { start: slotPos, end: slotPos };

  // 5. Scheduling control: one cap per core, naming the core.
  const schedcontrol = { start: slotPos, end: slotPos + k.numCores };
  for (let core = 0; core < k.numCores; core++) {
    const scCtl = new Cap(CapType.SchedControl, null, 0, 0);
    scCtl.word = core;
    provide(k, root, slotPos++, scCtl);
  }

  // 6. IPC buffer frame.
  const ipcCap = new Cap(CapType.Frame, null, ipcBufPaddr, 12);
  ipcCap.rights = VMRights.ReadWrite;
  ipcCap.isMapped = true;
  ipcCap.mappedASID = IT_ASID;
  ipcCap.mappedAddr = ipcBufVaddr;
  const ipcSlot = provide(k, root, seL4_CapInitThreadIPCBuffer, ipcCap);
  writeUserPTE(k, lookupPTSlot(k, vspacePaddr, ipcBufVaddr).paddr, ipcBufPaddr, false, VMRights.ReadWrite);

  // 7. User image frames: none for a TypeScript root task.
  const userImageFrames = { start: slotPos, end: slotPos };

  // 8. ASID pool and control; the root VSpace gets IT_ASID.
  const pool = new ASIDPool(asidPoolPaddr, 12, 0, 512);
  k.objects.add(pool);
  const poolCap = new Cap(CapType.ASIDPool, pool, asidPoolPaddr, 12);
  poolCap.word = 0;
  provide(k, root, seL4_CapInitThreadASIDPool, poolCap);
  provide(k, root, seL4_CapASIDControl, new Cap(CapType.ASIDControl, null, 0, 0));
  k.asids.pools[0] = pool;
  pool.entries[IT_ASID] = vspacePaddr;

  // 9. Idle threads (one per core, each with its own SC) and the initial
  // thread with its scheduling context, on core 0.
  const budget = config.bootThreadTimeSliceUs * 1000;
  for (const node of k.nodes) {
    const idle = new TCB(0, seL4_TCBBits, 0);
    idle.name = k.numCores === 1 ? 'idle' : `idle${node.core}`;
    idle.state = ThreadState.IdleThreadState;
    idle.affinity = node.core;
    const idleSC = new SchedContext(0, seL4_MinSchedContextBits);
    idleSC.refills.refillNew(MIN_REFILLS, budget, 0, 0);
    idleSC.core = node.core;
    idleSC.tcb = idle;
    idle.sc = idleSC;
    node.idleThread = idle;
    node.idleSC = idleSC;
    node.curThread = idle;
    node.curSC = idleSC;
  }

  const t = new TCB(tcbPaddr, seL4_TCBBits, 0);
  t.name = opts.rootName ?? 'rootserver';
  k.tcbs.add(t);
  k.objects.add(t);
  t.priority = MAX_PRIO;
  t.mcp = MAX_PRIO;
  t.ipcBuffer = ipcBufVaddr;
  const rootSlot = root.slots[seL4_CapInitThreadCNode]!;
  cteInsert(rootSlot.cap, rootSlot, t.slots[TCB_CTABLE]!);
  const vsSlot = root.slots[seL4_CapInitThreadVSpace]!;
  cteInsert(vsSlot.cap, vsSlot, t.slots[TCB_VTABLE]!);
  const ipcDerived = ipcCap.clone();
  cteInsert(ipcDerived, ipcSlot, t.slots[TCB_BUFFER]!);
  t.setRegNumber(REG_A0, biVaddr);
  t.setRegNumber(REG_NEXT_IP, 0);
  t.state = ThreadState.Running;
  provide(k, root, seL4_CapInitThreadTCB, new Cap(CapType.Thread, t, tcbPaddr, seL4_TCBBits));

  const sc = new SchedContext(scPaddr, seL4_MinSchedContextBits);
  k.objects.add(sc);
  sc.refills.refillNew(MIN_REFILLS, budget, 0, 0);
  sc.configured = true;
  sc.tcb = t;
  t.sc = sc;
  provide(k, root, seL4_CapInitThreadSC, new Cap(CapType.SchedContext, sc, scPaddr, seL4_MinSchedContextBits));
  k.curThread = t;
  k.curSC = sc;

  // 10. Untypeds: device memory first, then free RAM (below and above the root server objects).
  const untypedStart = slotPos;
  const list: UntypedDesc[] = [];
  const addUntyped = (b: UntypedBlock, isDevice: boolean): void => {
    if (list.length >= config.maxBootInfoUntypedCaps || slotPos >= 2 ** config.rootCNodeSizeBits) return;
    const c = new Cap(CapType.Untyped, null, b.paddr, b.sizeBits);
    c.isDevice = isDevice;
    c.freeIndex = 2 ** b.sizeBits; // boot untypeds start fully used; the first Retype resets them
    provide(k, root, slotPos++, c);
    list.push({ paddr: b.paddr, sizeBits: b.sizeBits, isDevice });
  };
  for (const b of deviceUntypeds(virt)) addUntyped(b, true);
  for (const r of free) {
    const end = r.base + r.size;
    if (r === top) {
      for (const b of untypedBlocks(r.base, rsStart)) addUntyped(b, false);
      for (const b of untypedBlocks(rsEnd, end)) addUntyped(b, false);
    } else {
      for (const b of untypedBlocks(r.base, end)) addUntyped(b, false);
    }
  }
  // Domain schedule, the initial thread's domain and the first timer deadline (init_kernel).
  initSchedulerTime(k);
  const untyped = { start: untypedStart, end: slotPos };
  const empty = { start: slotPos, end: 2 ** config.rootCNodeSizeBits };

  const bootInfo: BootInfo = {
    nodeID: 0,
    numNodes: 1,
    ipcBuffer: ipcBufVaddr,
    empty,
    userImageFrames,
    userImagePaging,
    extraBIPages,
    initThreadCNodeSizeBits: config.rootCNodeSizeBits,
    initThreadDomain: k.curDomain,
    schedcontrol,
    untyped,
    untypedList: list,
    vaddr: biVaddr,
  };
  writeBootInfo(mem, biPaddr, bootInfo);
  return { kernel: k, bootInfo, rootTCB: t, virt };
}

function writeBootInfo(mem: PhysicalMemory, p: number, bi: BootInfo): void {
  const w = (off: number, v: number) => mem.write64(p + off, BigInt(v));
  const region = (off: number, r: SlotRegion) => {
    w(off, r.start);
    w(off + 8, r.end);
  };
  w(BI_EXTRA_LEN, 0);
  w(BI_NODE_ID, bi.nodeID);
  w(BI_NUM_NODES, bi.numNodes);
  w(BI_NUM_IOPT_LEVELS, 0);
  w(BI_IPC_BUFFER, bi.ipcBuffer);
  region(BI_EMPTY, bi.empty);
  region(BI_SHARED_FRAMES, { start: 0, end: 0 });
  region(BI_USER_IMAGE_FRAMES, bi.userImageFrames);
  region(BI_USER_IMAGE_PAGING, bi.userImagePaging);
  region(BI_IO_SPACE_CAPS, { start: 0, end: 0 });
  region(BI_EXTRA_BI_PAGES, bi.extraBIPages);
  w(BI_INIT_THREAD_CNODE_SIZE_BITS, bi.initThreadCNodeSizeBits);
  w(BI_INIT_THREAD_DOMAIN, bi.initThreadDomain);
  region(BI_SCHEDCONTROL, bi.schedcontrol);
  region(BI_UNTYPED, bi.untyped);
  bi.untypedList.forEach((u, i) => {
    const o = p + BI_UNTYPED_LIST + i * UNTYPEDDESC_SIZE;
    mem.write64(o, BigInt(u.paddr));
    mem.write8(o + 8, u.sizeBits);
    mem.write8(o + 9, u.isDevice ? 1 : 0);
  });
}

/** Decode a seL4_BootInfo from memory (what a root task reads). */
export function readBootInfo(mem: PhysicalMemory, p: number, vaddr: number): BootInfo {
  const r = (off: number) => Number(mem.read64(p + off));
  const region = (off: number): SlotRegion => ({ start: r(off), end: r(off + 8) });
  const untyped = region(BI_UNTYPED);
  const list: UntypedDesc[] = [];
  for (let i = 0; i < untyped.end - untyped.start; i++) {
    const o = p + BI_UNTYPED_LIST + i * UNTYPEDDESC_SIZE;
    list.push({ paddr: Number(mem.read64(o)), sizeBits: mem.read8(o + 8), isDevice: mem.read8(o + 9) !== 0 });
  }
  return {
    nodeID: r(BI_NODE_ID),
    numNodes: r(BI_NUM_NODES),
    ipcBuffer: r(BI_IPC_BUFFER),
    empty: region(BI_EMPTY),
    userImageFrames: region(BI_USER_IMAGE_FRAMES),
    userImagePaging: region(BI_USER_IMAGE_PAGING),
    extraBIPages: region(BI_EXTRA_BI_PAGES),
    initThreadCNodeSizeBits: r(BI_INIT_THREAD_CNODE_SIZE_BITS),
    initThreadDomain: r(BI_INIT_THREAD_DOMAIN),
    schedcontrol: region(BI_SCHEDCONTROL),
    untyped,
    untypedList: list,
    vaddr,
  };
}
