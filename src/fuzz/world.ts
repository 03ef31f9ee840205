/**
 * The fuzz world: what the root task builds before the random phase. Each
 * fuzz thread gets its own 64-slot CSpace (guard 58, so a cptr is a slot
 * number), an IPC buffer mapped in the shared VSpace, a reply object, and
 * copies or badged mints of shared endpoints, notifications, frames, other
 * threads' TCBs, an untyped, SchedControl and the VSpace root. Some threads
 * are passive (no SC); some have fault and timeout endpoints. The root task
 * keeps the originals and acts as a watchdog: on an IRQ it resumes a fuzz
 * thread, so a campaign does not end when all of them block.
 */
import { InvocationLabel } from '../abi/constants.js';
import type { BootInfo } from '../kernel/boot.js';
import { ObjectType } from '../kernel/objecttype.js';
import type { CNode } from '../kernel/object/cnode.js';
import type { KernelObject } from '../kernel/object/kobject.js';
import { TCB, TCB_CTABLE } from '../kernel/object/tcb.js';
import { KernelDriver } from './driver.js';
import { Rng } from './rng.js';

const CAP_TCB = 1;
const CAP_CNODE = 2;
const CAP_VSPACE = 3;
const CAP_IRQ_CONTROL = 4;
const CAP_ASID_CONTROL = 5;
const CAP_DOMAIN = 11;

/** Radix of each fuzz thread's CNode and the guard that makes cptrs slot numbers. */
export const THREAD_RADIX = 6;
export const THREAD_GUARD_DATA = 64 - THREAD_RADIX; // guard size 58, guard 0
/** The device IRQ the watchdog waits on. */
export const WATCHDOG_IRQ = 1;
export const IPC_BASE = 0x402000;

export interface FuzzThread {
  tcb: TCB;
  /** cptrs in the root CNode. */
  tcbCptr: number;
  cnodeCptr: number;
  passive: boolean;
}

export interface WorldOptions {
  threads?: number;
  /** Cores of the kernel: threads start on random cores and hold random cores' SchedControl caps. */
  cores?: number;
}

export class FuzzWorld {
  readonly d: KernelDriver;
  readonly bi: BootInfo;
  readonly threads: FuzzThread[] = [];
  /** Root CNode slot of the watchdog's notification. */
  watchdogNtfn = 0;
  watchdogHandler = 0;
  private nextSlot: number;
  private readonly rootDepth: number;
  private ut = 0;
  private readonly cores: number;

  constructor(d: KernelDriver, rng: Rng, o: WorldOptions = {}) {
    this.d = d;
    this.bi = d.m.booted.bootInfo;
    this.nextSlot = this.bi.empty.start;
    this.rootDepth = 64;
    this.cores = o.cores ?? 1;
    this.build(rng, o.threads ?? 6);
  }

  /** The object named by a cap in the root CNode (setup bookkeeping). */
  rootCap(cptr: number): KernelObject | null {
    return (this.d.root.slots[TCB_CTABLE]!.cap.obj as CNode).slots[cptr]!.cap.obj;
  }

  private slot(): number {
    if (this.nextSlot >= this.bi.empty.end) throw new Error('fuzz world: root CNode full');
    return this.nextSlot++;
  }

  /** Invoke as the root task; setup failures are bugs in the setup or the kernel. */
  private inv(cptr: number, label: number, args: number[], caps: number[] = []): void {
    const err = this.d.invoke(this.d.root, cptr, label, args, caps);
    if (err !== 0) throw new Error(`fuzz world: ${InvocationLabel[label]} on ${cptr} failed with error ${err}`);
  }

  private retype(type: ObjectType, size: number, count = 1, ut = this.ut): number {
    const first = this.nextSlot;
    for (let i = 0; i < count; i++) this.slot();
    this.inv(ut, InvocationLabel.UntypedRetype, [type, size, 0, 0, first, count], [CAP_CNODE]);
    return first;
  }

  private copy(destCNode: number, destIndex: number, src: number, rights = 15): void {
    this.inv(destCNode, InvocationLabel.CNodeCopy, [destIndex, THREAD_RADIX, src, this.rootDepth, rights], [CAP_CNODE]);
  }

  private mint(destCNode: number, destIndex: number, src: number, rights: number, data: number): void {
    this.inv(destCNode, InvocationLabel.CNodeMint, [destIndex, THREAD_RADIX, src, this.rootDepth, rights, data], [CAP_CNODE]);
  }

  private move(destCNode: number, destIndex: number, src: number): void {
    this.inv(destCNode, InvocationLabel.CNodeMove, [destIndex, THREAD_RADIX, src, this.rootDepth], [CAP_CNODE]);
  }

  private build(rng: Rng, n: number): void {
    const bi = this.bi;
    let best = -1;
    bi.untypedList.forEach((u, i) => {
      if (!u.isDevice && u.sizeBits >= 22 && (best < 0 || u.sizeBits > bi.untypedList[best]!.sizeBits)) best = i;
    });
    if (best < 0) throw new Error('fuzz world: no untyped of 4 MiB');
    this.ut = bi.untyped.start + best;
    const schedControl = bi.schedcontrol.start;

    const eps = this.retype(ObjectType.Endpoint, 0, 4);
    const ntfns = this.retype(ObjectType.Notification, 0, 3);
    const uts = this.retype(ObjectType.Untyped, 16, n);
    const frames = this.retype(ObjectType.RISCV_4K_Page, 0, 4);
    const pt = this.retype(ObjectType.RISCV_PageTable, 0, 1);
    const spareSCs = this.retype(ObjectType.SchedContext, 8, 2);
    const spareReplies = this.retype(ObjectType.Reply, 0, 2);
    const tcbs = this.retype(ObjectType.TCB, 0, n);
    const cnodes = this.retype(ObjectType.CapTable, THREAD_RADIX, n);
    const scs = this.retype(ObjectType.SchedContext, 8, n);
    const ipcFrames = this.retype(ObjectType.RISCV_4K_Page, 0, n);
    const replies = this.retype(ObjectType.Reply, 0, n);

    // The watchdog: a notification bound to a device IRQ.
    const irqHandler = this.slot();
    this.inv(CAP_IRQ_CONTROL, InvocationLabel.IRQIssueIRQHandler, [WATCHDOG_IRQ, irqHandler, this.rootDepth], [CAP_CNODE]);
    this.watchdogNtfn = this.retype(ObjectType.Notification, 0, 1);
    this.inv(irqHandler, InvocationLabel.IRQSetIRQHandler, [], [this.watchdogNtfn]);
    this.watchdogHandler = irqHandler;

    // Map two shared frames (one read-only) and every IPC buffer in the root VSpace.
    this.inv(frames, InvocationLabel.RISCVPageMap, [0x440000, 3, 0], [CAP_VSPACE]);
    this.inv(frames + 1, InvocationLabel.RISCVPageMap, [0x441000, 2, 1], [CAP_VSPACE]);
    for (let i = 0; i < n; i++) this.inv(ipcFrames + i, InvocationLabel.RISCVPageMap, [IPC_BASE + 4096 * i, 3, 0], [CAP_VSPACE]);

    // A fault endpoint copy in the root CNode with grant rights for handlers.
    for (let i = 0; i < n; i++) {
      const cn = cnodes + i;
      this.copy(cn, 1, tcbs + i);
      this.mint(cn, 2, cnodes + i, 15, THREAD_GUARD_DATA);
      this.copy(cn, 3, scs + i);
      this.move(cn, 4, replies + i);
      for (let e = 0; e < 4; e++) {
        if (rng.chance(0.5)) this.copy(cn, 5 + e, eps + e, rng.pick([15, 15, 3, 1, 2, 7, 11]));
        else this.mint(cn, 5 + e, eps + e, rng.pick([15, 15, 3, 1, 2, 7]), rng.range(1, 4));
      }
      for (let f = 0; f < 3; f++) {
        if (rng.chance(0.5)) this.copy(cn, 9 + f, ntfns + f, rng.pick([3, 3, 1, 2]));
        else this.mint(cn, 9 + f, ntfns + f, 3, 1 << rng.int(4));
      }
      this.move(cn, 12, uts + i);
      this.copy(cn, 13, tcbs + ((i + 1) % n));
      this.copy(cn, 14, frames + (i % 4), rng.pick([15, 3, 2]));
      this.copy(cn, 15, CAP_VSPACE);
      // (The random core is drawn only on several cores, so one-core worlds stay as they were.)
      this.copy(cn, 16, this.cores > 1 ? schedControl + rng.int(this.cores) : schedControl);
      if (i < 2) this.copy(cn, 17, spareSCs + i);
      if (i < 2) this.move(cn, 18, spareReplies + i);
      if (i === 2) this.move(cn, 17, pt);
      if (i === 3) this.copy(cn, 18, CAP_DOMAIN);
      if (i === 4) this.copy(cn, 17, CAP_ASID_CONTROL);
    }
    if (n > 0) this.move(cnodes, 19, CAP_IRQ_CONTROL);

    // Configure and start the threads (suspended until every one is set up).
    for (let i = 0; i < n; i++) {
      const tcb = tcbs + i;
      this.inv(tcb, InvocationLabel.TCBConfigure, [THREAD_GUARD_DATA, 0, IPC_BASE + 4096 * i], [cnodes + i, CAP_VSPACE, ipcFrames + i]);
      const passive = i === n - 1 || (n > 3 && rng.chance(0.15));
      const fault = rng.chance(0.5) ? eps + rng.int(4) : 0;
      if (!passive) {
        const budget = rng.pick([200, 500, 1000, 2000]);
        const period = rng.chance(0.5) ? budget : budget * rng.range(2, 4);
        const extra = period === budget ? 0 : rng.range(0, 4);
        const ctl = schedControl + (i % this.cores);
        this.inv(ctl, InvocationLabel.SchedControlConfigureFlags, [budget, period, extra, i, rng.int(2)], [scs + i]);
      }
      this.inv(tcb, InvocationLabel.TCBSetSchedParams, [200, rng.range(100, 104)], [CAP_TCB, passive ? 0 : scs + i, fault]);
      if (rng.chance(0.3)) this.inv(tcb, InvocationLabel.TCBSetTimeoutEndpoint, [], [eps + rng.int(4)]);
      this.threads.push({ tcb: this.rootCap(tcb) as TCB, tcbCptr: tcb, cnodeCptr: cnodes + i, passive });
    }
    this.inv(CAP_TCB, InvocationLabel.TCBSetPriority, [250], [CAP_TCB]);
    for (const th of this.threads) this.inv(th.tcbCptr, InvocationLabel.TCBResume, [], []);
  }
}
