/**
 * The kernel's global state (seL4's ks* variables and current_* records) and
 * the small helpers every part of the kernel uses: register and message
 * register access, the IPC buffer, and error reporting.
 */
import { PhysicalMemory, RamRegion } from '../machine/memory.js';
import { Cap, CapType, VMRights } from './cap.js';
import type { KernelConfig } from './config.js';
import { defaultKernelConfig } from './config.js';
import { ResolveResult } from './cspace.js';
import { SeL4Error, SyscallError } from './errors.js';
import type { CNode } from './object/cnode.js';
import type { KernelObject } from './object/kobject.js';
import { FaultInfo, LookupFault, REG_A2, TCB, TCB_BUFFER } from './object/tcb.js';
import type { Slot } from './slot.js';
import type { SchedContext } from './object/schedcontext.js';
import { IRQTable } from './irq.js';
import { ASIDTable } from './vspace/vspace.js';
import { NodeState, SchedulerAction } from './node.js';

import { seL4_FastMessageRegisters, seL4_MsgMaxExtraCaps, seL4_MsgMaxLength } from '../abi/constants.js';
export {
  IPCBUF_TAG,
  IPCBUF_MSG,
  IPCBUF_USERDATA as IPCBUF_USER_DATA,
  IPCBUF_CAPS_OR_BADGES,
  IPCBUF_RECEIVE_CNODE,
  IPCBUF_RECEIVE_INDEX,
  IPCBUF_RECEIVE_DEPTH,
} from '../abi/ipcbuffer.js';
import { IPCBUF_MSG } from '../abi/ipcbuffer.js';

/** Number of message registers passed in registers on riscv (a2..a5). */
export const N_MSG_REGISTERS = seL4_FastMessageRegisters;
/** seL4_MsgMaxLength */
export const MSG_MAX_LENGTH = seL4_MsgMaxLength;
/** seL4_MsgMaxExtraCaps */
export const MSG_MAX_EXTRA_CAPS = seL4_MsgMaxExtraCaps;

export { SchedulerAction } from './node.js';

/** A listener told about kernel events (traces, statistics, the web view). */
export interface KernelObserver {
  onEvent(kind: string, detail: Record<string, unknown>): void;
}

export class Kernel {
  readonly mem: PhysicalMemory;
  readonly config: KernelConfig;

  // ---- current_* records of the kernel entry in progress ----
  readonly err = new SyscallError();
  readonly lookupFault = new LookupFault();
  readonly curFault = new FaultInfo();
  /** current_extra_caps: slots named by the IPC buffer's caps_or_badges. */
  readonly extraCaps: (Slot | null)[] = [null, null, null];
  readonly resolveOut = new ResolveResult();
  /** Physical address of the invoking thread's IPC buffer during a decode, or -1. */
  curBuffer = -1;

  // ---- scheduler state (ks*) ----
  /** Per-core state (ksSMP); one entry per core, CONFIG_MAX_NUM_NODES of them. */
  readonly nodes: NodeState[];
  /** The core executing the current kernel entry (getCurrentCPUIndex()). */
  node: NodeState;
  /** Cores that must take a reschedule IPI when this kernel entry ends (ipiReschedulePending). */
  ipiPending = 0;
  /**
   * The clock of core c when another core's kernel entry reaches it (an IPI
   * or a stall): the machine advances the core's clock to at least `atLeast`
   * (plus the cost of a kernel entry when `entry` is set) and returns it.
   * Without a machine the other core takes it at `atLeast`.
   */
  coreClock: ((c: number, atLeast: number, entry: boolean) => number) | null = null;
  /** ksCurDomain */
  curDomain = 0;
  /** Domain scheduler: remaining time in the current domain (ksDomainTime), schedule and index. */
  domainTime = Infinity;
  domainSchedule: { domain: number; length: number }[] = [];
  domainScheduleIdx = 0;

  // The executing core's NodeState under seL4's names (NODE_STATE(x)).
  get curThread(): TCB {
    return this.node.curThread;
  }
  set curThread(t: TCB) {
    this.node.curThread = t;
  }
  get idleThread(): TCB {
    return this.node.idleThread;
  }
  set idleThread(t: TCB) {
    this.node.idleThread = t;
  }
  get schedulerAction(): SchedulerAction {
    return this.node.schedulerAction;
  }
  set schedulerAction(a: SchedulerAction) {
    this.node.schedulerAction = a;
  }
  get schedulerTarget(): TCB | null {
    return this.node.schedulerTarget;
  }
  set schedulerTarget(t: TCB | null) {
    this.node.schedulerTarget = t;
  }
  get curSC(): SchedContext | null {
    return this.node.curSC;
  }
  set curSC(sc: SchedContext | null) {
    this.node.curSC = sc;
  }
  get idleSC(): SchedContext | null {
    return this.node.idleSC;
  }
  set idleSC(sc: SchedContext | null) {
    this.node.idleSC = sc;
  }
  get curTime(): number {
    return this.node.curTime;
  }
  set curTime(t: number) {
    this.node.curTime = t;
  }
  get consumed(): number {
    return this.node.consumed;
  }
  set consumed(t: number) {
    this.node.consumed = t;
  }
  get reprogram(): boolean {
    return this.node.reprogram;
  }
  set reprogram(r: boolean) {
    this.node.reprogram = r;
  }
  get deadline(): number {
    return this.node.deadline;
  }
  set deadline(t: number) {
    this.node.deadline = t;
  }
  get sliceEndHint(): string | null {
    return this.node.sliceEndHint;
  }
  set sliceEndHint(h: string | null) {
    this.node.sliceEndHint = h;
  }
  /** The executing core's ready queues and release queue. */
  get readyHead(): (TCB | null)[] {
    return this.node.readyHead;
  }
  get readyTail(): (TCB | null)[] {
    return this.node.readyTail;
  }
  get readyBitmap(): Uint32Array {
    return this.node.readyBitmap;
  }
  get releaseHead(): TCB | null {
    return this.node.releaseHead;
  }

  /** The number of cores (CONFIG_MAX_NUM_NODES). */
  get numCores(): number {
    return this.nodes.length;
  }

  /** The time at which core c takes an event sent at `atLeast` (see coreClock). */
  clockOf(c: number, atLeast: number, entry: boolean): number {
    return this.coreClock === null ? atLeast : this.coreClock(c, atLeast, entry);
  }

  /** Make core c the one executing kernel code (the big kernel lock changes hands). */
  enterCore(c: number): void {
    this.node = this.nodes[c]!;
  }

  // ---- registries (for invariants, traces and the web view) ----
  readonly tcbs = new Set<TCB>();
  readonly cnodes = new Set<CNode>();
  readonly objects = new Set<KernelObject>();

  /** Interrupt state (intStateIRQTable / intStateIRQNode). */
  readonly irqs = new IRQTable();
  /** RISC-V ASID table (riscvKSASIDTable). */
  readonly asids = new ASIDTable();
  /** Called when the kernel changes page tables (sfence.vma): the hart flushes its TLB. */
  tlbFlush: (() => void) | null = null;

  /** Console output of seL4_DebugPutChar. */
  console: (byte: number) => void = () => {};
  /** Set by seL4_DebugHalt. */
  halted = false;

  observer: KernelObserver | null = null;
  /** Called after every kernel entry when config.checkInvariants is set. */
  invariantHook: ((k: Kernel) => void) | null = null;

  constructor(mem: PhysicalMemory, config: KernelConfig = defaultKernelConfig()) {
    this.mem = mem;
    this.config = config;
    const n = config.numCores;
    if (!Number.isInteger(n) || n < 1 || n > 32) throw new Error(`config: numCores must be 1..32, got ${n}`);
    this.nodes = [];
    for (let c = 0; c < n; c++) this.nodes.push(new NodeState(c, config.numDomains, config.numPriorities));
    this.node = this.nodes[0]!;
  }

  // ---------------------------------------------------------------- errors
  error(type: SeL4Error): SeL4Error {
    this.err.type = type;
    return type;
  }
  invalidArgument(n: number): SeL4Error {
    this.err.type = SeL4Error.InvalidArgument;
    this.err.invalidArgumentNumber = n;
    return SeL4Error.InvalidArgument;
  }
  invalidCapability(n: number): SeL4Error {
    this.err.type = SeL4Error.InvalidCapability;
    this.err.invalidCapNumber = n;
    return SeL4Error.InvalidCapability;
  }
  rangeError(min: number, max: number): SeL4Error {
    this.err.type = SeL4Error.RangeError;
    this.err.rangeErrorMin = min;
    this.err.rangeErrorMax = max;
    return SeL4Error.RangeError;
  }
  failedLookup(wasSource: boolean): SeL4Error {
    this.err.type = SeL4Error.FailedLookup;
    this.err.failedLookupWasSource = wasSource;
    return SeL4Error.FailedLookup;
  }
  notEnoughMemory(left: number): SeL4Error {
    this.err.type = SeL4Error.NotEnoughMemory;
    this.err.memoryLeft = left;
    return SeL4Error.NotEnoughMemory;
  }

  // ---------------------------------------------------------------- memory
  ramAt(paddr: number): RamRegion {
    const r = this.mem.regionOf(paddr, 8);
    if (r === null) throw new Error(`kernel bug: no RAM at 0x${paddr.toString(16)}`);
    return r;
  }
  readWordLo(paddr: number): number {
    const r = this.ramAt(paddr);
    return r.u32[(paddr - r.base) >>> 2]!;
  }
  readWordHi(paddr: number): number {
    const r = this.ramAt(paddr);
    return r.u32[((paddr - r.base) >>> 2) + 1]!;
  }
  readWordNumber(paddr: number): number {
    const r = this.ramAt(paddr);
    const i = (paddr - r.base) >>> 2;
    return r.u32[i + 1]! * 4294967296 + r.u32[i]!;
  }
  writeWord(paddr: number, hi: number, lo: number): void {
    const r = this.ramAt(paddr);
    const i = (paddr - r.base) >>> 2;
    r.u32[i] = lo;
    r.u32[i + 1] = hi;
  }

  /**
   * seL4's lookupIPCBuffer: the physical address of a thread's IPC buffer, or
   * -1 if it has none usable (no frame cap, device frame, or insufficient rights).
   */
  lookupIPCBuffer(isReceiver: boolean, t: TCB): number {
    const c: Cap = t.slots[TCB_BUFFER]!.cap;
    if (c.type !== CapType.Frame || c.isDevice) return -1;
    const vm = c.rights as VMRights;
    if (vm === VMRights.ReadWrite || (!isReceiver && vm === VMRights.ReadOnly)) {
      // Frame sizes are 12, 21 or 30 bits, so the offset mask fits a 32-bit integer.
      return c.paddr + (t.ipcBuffer & ((1 << c.sizeBits) - 1));
    }
    return -1;
  }

  // ------------------------------------------------------- message registers
  /** Low half of syscall argument i of the current invocation (seL4's getSyscallArg). */
  argLo(i: number): number {
    if (i < N_MSG_REGISTERS) return this.curThread.getRegLo(REG_A2 + i);
    return this.readWordLo(this.curBuffer + IPCBUF_MSG + 8 * i);
  }
  argHi(i: number): number {
    if (i < N_MSG_REGISTERS) return this.curThread.getRegHi(REG_A2 + i);
    return this.readWordHi(this.curBuffer + IPCBUF_MSG + 8 * i);
  }
  /** Argument i as a number (exact below 2^53; larger words stay larger than any bound). */
  argNumber(i: number): number {
    return this.argHi(i) * 4294967296 + this.argLo(i);
  }

  /** Write message register i of t (register or IPC buffer at bufPaddr); returns the next index. */
  setMR(t: TCB, bufPaddr: number, i: number, hi: number, lo: number): number {
    if (i >= N_MSG_REGISTERS) {
      if (bufPaddr >= 0) {
        this.writeWord(bufPaddr + IPCBUF_MSG + 8 * i, hi, lo);
        return i + 1;
      }
      return N_MSG_REGISTERS;
    }
    t.setReg(REG_A2 + i, hi, lo);
    return i + 1;
  }
  setMRNumber(t: TCB, bufPaddr: number, i: number, v: number): number {
    return this.setMR(t, bufPaddr, i, Math.floor(v / 4294967296) >>> 0, v >>> 0);
  }
  getMRLo(t: TCB, bufPaddr: number, i: number): number {
    if (i < N_MSG_REGISTERS) return t.getRegLo(REG_A2 + i);
    return bufPaddr >= 0 ? this.readWordLo(bufPaddr + IPCBUF_MSG + 8 * i) : 0;
  }
  getMRHi(t: TCB, bufPaddr: number, i: number): number {
    if (i < N_MSG_REGISTERS) return t.getRegHi(REG_A2 + i);
    return bufPaddr >= 0 ? this.readWordHi(bufPaddr + IPCBUF_MSG + 8 * i) : 0;
  }

  /** Report an event to the observer, tagged with the core it happened on. */
  emit(kind: string, detail: Record<string, unknown>): void {
    if (this.observer === null) return;
    detail.core = this.node.core;
    this.observer.onEvent(kind, detail);
  }
}
