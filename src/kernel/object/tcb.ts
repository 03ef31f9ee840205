import { KernelObject, ObjectKind } from './kobject.js';
import { Slot } from '../slot.js';
import type { Endpoint } from './endpoint.js';
import type { Notification } from './notification.js';
import type { Reply } from './reply.js';
import type { SchedContext } from './schedcontext.js';

/** seL4's thread states (_thread_state_type). */
export enum ThreadState {
  Inactive = 0,
  Running = 1,
  Restart = 2,
  BlockedOnReceive = 3,
  BlockedOnSend = 4,
  BlockedOnReply = 5,
  BlockedOnNotification = 6,
  IdleThreadState = 7,
}

/** Indices of the TCB's own capability slots (seL4's tcb_cnode_index, MCS). */
export const TCB_CTABLE = 0;
export const TCB_VTABLE = 1;
export const TCB_BUFFER = 2;
export const TCB_FAULT_HANDLER = 3;
export const TCB_TIMEOUT_HANDLER = 4;
export const TCB_CNODE_ENTRIES = 5;

/**
 * Register file: the 32 fields of riscv64 seL4_UserContext in its order
 * (index 0 is pc, read as FaultIP) followed by NextIP, the address the thread
 * resumes at.
 */
export const REG_PC = 0; // FaultIP
export const REG_RA = 1;
export const REG_SP = 2;
export const REG_GP = 3;
export const REG_S0 = 4;
export const REG_A0 = 16;
export const REG_A1 = 17;
export const REG_A2 = 18;
export const REG_A3 = 19;
export const REG_A4 = 20;
export const REG_A5 = 21;
export const REG_A6 = 22;
export const REG_A7 = 23;
export const REG_T0 = 24;
export const REG_TP = 31;
export const REG_NEXT_IP = 32;
export const N_REGS = 33;
export const N_USER_CONTEXT_REGS = 32;

/** Fault kinds recorded in a TCB (seL4_Fault_tag for riscv64 MCS). */
export enum FaultType {
  NullFault = 0,
  CapFault = 1,
  UnknownSyscall = 2,
  UserException = 3,
  Timeout = 5,
  VMFault = 6,
}

/** The fault a thread took (seL4's tcbFault); words beyond the type by kind. */
export class FaultInfo {
  type: FaultType = FaultType.NullFault;
  /** CapFault: address (cptr) hi/lo and inReceivePhase; VMFault: address, FSR, prefetch. */
  addrHi = 0;
  addrLo = 0;
  inReceivePhase = false;
  /** UnknownSyscall: syscall number; UserException: number and code; VMFault: FSR and instruction fault. */
  w0 = 0;
  w1 = 0;
  /** Timeout: badge of the scheduling context. */
  badgeHi = 0;
  badgeLo = 0;
}

/** A lookup failure (seL4's lookup_fault_t). */
export class LookupFault {
  /** seL4_LookupFailureType: 0 none, 1 invalid root, 2 missing capability, 3 depth mismatch, 4 guard mismatch. */
  type = 0;
  bitsLeft = 0;
  bitsFound = 0;
  guardFoundHi = 0;
  guardFoundLo = 0;

  set(from: LookupFault): void {
    this.type = from.type;
    this.bitsLeft = from.bitsLeft;
    this.bitsFound = from.bitsFound;
    this.guardFoundHi = from.guardFoundHi;
    this.guardFoundLo = from.guardFoundLo;
  }
}

let tcbIds = 0;

export class TCB extends KernelObject {
  readonly kind = ObjectKind.TCB;
  /** Unique id for traces. */
  readonly id: number;
  name: string;

  readonly regs: BigUint64Array;
  /** 32-bit little-endian view of regs: regs32[2*i] low half, [2*i+1] high half. */
  readonly regs32: Uint32Array;

  state: ThreadState;
  /** Blocking details (seL4's thread_state_t fields). */
  blockingObject: Endpoint | Notification | null;
  blockingBadgeHi: number;
  blockingBadgeLo: number;
  blockingCanGrant: boolean;
  blockingCanGrantReply: boolean;
  blockingIsCall: boolean;
  /** MCS: reply object while BlockedOnReceive (the receiver's) or BlockedOnReply (the caller's). */
  replyObject: Reply | null;

  /** The TCB's own slots: CSpace root, VSpace root, IPC buffer frame, fault and timeout handlers. */
  readonly slots: Slot[];
  /** Virtual address of the IPC buffer. */
  ipcBuffer: number;

  priority: number;
  mcp: number;
  domain: number;
  /** tcbAffinity: the core the thread runs and is queued on (its SC's core, see migrateTCB). */
  affinity: number;
  sc: SchedContext | null;
  yieldTo: SchedContext | null;
  boundNotification: Notification | null;

  /** Endpoint / notification queue links. */
  epPrev: TCB | null;
  epNext: TCB | null;
  /** Ready queue links. */
  schedPrev: TCB | null;
  schedNext: TCB | null;
  inReadyQueue: boolean;
  inReleaseQueue: boolean;

  readonly fault: FaultInfo;
  readonly lookupFault: LookupFault;

  /** Opaque handle of whatever runs this thread's user code (TypeScript program or hart context). */
  userContext: unknown;

  /** Statistics for traces and summaries. */
  cpuTime: number;
  syscalls: number;

  constructor(paddr: number, sizeBits: number, domain: number) {
    super(paddr, sizeBits);
    this.id = ++tcbIds;
    this.name = `tcb${this.id}`;
    this.regs = new BigUint64Array(N_REGS);
    this.regs32 = new Uint32Array(this.regs.buffer);
    this.state = ThreadState.Inactive;
    this.blockingObject = null;
    this.blockingBadgeHi = 0;
    this.blockingBadgeLo = 0;
    this.blockingCanGrant = false;
    this.blockingCanGrantReply = false;
    this.blockingIsCall = false;
    this.replyObject = null;
    this.slots = [];
    for (let i = 0; i < TCB_CNODE_ENTRIES; i++) this.slots.push(new Slot(this, i));
    this.ipcBuffer = 0;
    this.priority = 0;
    this.mcp = 0;
    this.domain = domain;
    this.affinity = 0;
    this.sc = null;
    this.yieldTo = null;
    this.boundNotification = null;
    this.epPrev = null;
    this.epNext = null;
    this.schedPrev = null;
    this.schedNext = null;
    this.inReadyQueue = false;
    this.inReleaseQueue = false;
    this.fault = new FaultInfo();
    this.lookupFault = new LookupFault();
    this.userContext = null;
    this.cpuTime = 0;
    this.syscalls = 0;
  }

  /** Register i as an exact number if below 2^53 (else an approximation that stays >= 2^53). */
  getRegNumber(i: number): number {
    return this.regs32[2 * i + 1]! * 4294967296 + this.regs32[2 * i]!;
  }
  getRegLo(i: number): number {
    return this.regs32[2 * i]!;
  }
  getRegHi(i: number): number {
    return this.regs32[2 * i + 1]!;
  }
  setReg(i: number, hi: number, lo: number): void {
    this.regs32[2 * i] = lo;
    this.regs32[2 * i + 1] = hi;
  }
  /** Set a register from a non-negative number below 2^53. */
  setRegNumber(i: number, v: number): void {
    this.regs32[2 * i] = v >>> 0;
    this.regs32[2 * i + 1] = Math.floor(v / 4294967296) >>> 0;
  }
  isRunnable(): boolean {
    return this.state === ThreadState.Running || this.state === ThreadState.Restart;
  }
}
