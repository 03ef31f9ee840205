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

/** seL4's scheduler action: resume the current thread, choose a new one, or switch to a given one. */
export enum SchedulerAction {
  ResumeCurrentThread = 0,
  ChooseNewThread = 1,
  SwitchToThread = 2,
}

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
  curThread!: TCB;
  idleThread!: TCB;
  schedulerAction: SchedulerAction = SchedulerAction.ResumeCurrentThread;
  schedulerTarget: TCB | null = null;
  curDomain = 0;
  curSC: SchedContext | null = null;
  /** The idle thread's scheduling context (ksIdleSC). */
  idleSC: SchedContext | null = null;
  /** Ready queues, one per (domain, priority): heads, tails and a bitmap of non-empty ones. */
  readyHead: (TCB | null)[];
  readyTail: (TCB | null)[];
  readonly readyBitmap: Uint32Array;
  /** Release queue (MCS): threads waiting for their next refill, ordered by release time. */
  releaseHead: TCB | null = null;
  /** Current time (ns) as last read from the timer (ksCurTime). */
  curTime = 0;
  /** Time consumed by the current scheduling context not yet charged (ksConsumed). */
  consumed = 0;
  /** The timer must be reprogrammed on kernel exit (ksReprogram). */
  reprogram = false;
  /** Timer deadline the kernel asked for (absolute ns). */
  deadline = Infinity;
  /** Domain scheduler: remaining time in the current domain (ksDomainTime), schedule and index. */
  domainTime = Infinity;
  domainSchedule: { domain: number; length: number }[] = [];
  domainScheduleIdx = 0;

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
  /** Why the current thread's timeslice ends in this kernel entry (for traces; cleared at entry). */
  sliceEndHint: string | null = null;
  /** Called after every kernel entry when config.checkInvariants is set. */
  invariantHook: ((k: Kernel) => void) | null = null;

  constructor(mem: PhysicalMemory, config: KernelConfig = defaultKernelConfig()) {
    this.mem = mem;
    this.config = config;
    const nq = config.numDomains * config.numPriorities;
    this.readyHead = new Array<TCB | null>(nq).fill(null);
    this.readyTail = new Array<TCB | null>(nq).fill(null);
    this.readyBitmap = new Uint32Array(config.numDomains * Math.ceil(config.numPriorities / 32));
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

  emit(kind: string, detail: Record<string, unknown>): void {
    if (this.observer !== null) this.observer.onEvent(kind, detail);
  }
}
