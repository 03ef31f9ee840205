/**
 * Fuzz operations as data. An op is generated from the PRNG with a look at
 * the current thread's CSpace (to aim most invocations at caps it holds, with
 * plausible arguments), then recorded with every concrete register and
 * IPC-buffer word, so a trace replays exactly and can be shrunk by removing
 * ops. Whatever thread is current when an op is applied performs it.
 */
import { InvocationLabel } from '../abi/constants.js';
import { msgInfoHi, msgInfoLo } from '../abi/messageinfo.js';
import { CapType } from '../kernel/cap.js';
import type { Cap } from '../kernel/cap.js';
import { IPCBUF_CAPS_OR_BADGES, IPCBUF_MSG, IPCBUF_RECEIVE_CNODE } from '../kernel/kernel.js';
import type { CNode } from '../kernel/object/cnode.js';
import { REG_A0, REG_A1, REG_A2, REG_A6, REG_T0, TCB, TCB_CTABLE } from '../kernel/object/tcb.js';
import { seL4_Syscall } from '../abi/constants.js';
import { Syscall } from '../kernel/syscall.js';
import type { KernelDriver } from './driver.js';
import { Rng } from './rng.js';

export const enum OpKind {
  Sys = 0,
  Time = 1,
  VMFault = 2,
  Exception = 3,
}

/** Words of a system call op: a0, a1, a6, t0, MR0..MR7, caps 0..2, receive cnode/index/depth (hi, lo each). */
export const SYS_WORDS = 18;

export interface Op {
  kind: OpKind;
  /** Syscall number. */
  n: number;
  /** Sys: 2 * SYS_WORDS halves (hi, lo). */
  w: Uint32Array | null;
  /** Time: ns; VMFault: address; Exception: number. */
  a: number;
  /** VMFault: fsr | instruction << 8; Exception: code. */
  b: number;
}

const W_A0 = 0, W_A1 = 1, W_A6 = 2, W_T0 = 3, W_MR = 4, W_CAP = 12, W_RECV = 15;

/** Perform op as the current thread. */
export function applyOp(d: KernelDriver, op: Op): void {
  switch (op.kind) {
    case OpKind.Sys: {
      const k = d.k;
      const t = k.curThread;
      const w = op.w!;
      t.setReg(REG_A0, w[2 * W_A0]!, w[2 * W_A0 + 1]!);
      t.setReg(REG_A1, w[2 * W_A1]!, w[2 * W_A1 + 1]!);
      t.setReg(REG_A6, w[2 * W_A6]!, w[2 * W_A6 + 1]!);
      t.setReg(REG_T0, w[2 * W_T0]!, w[2 * W_T0 + 1]!);
      for (let i = 0; i < 4; i++) t.setReg(REG_A2 + i, w[2 * (W_MR + i)]!, w[2 * (W_MR + i) + 1]!);
      const buf = d.buffer(t);
      if (buf >= 0) {
        for (let i = 4; i < 8; i++) k.writeWord(buf + IPCBUF_MSG + 8 * i, w[2 * (W_MR + i)]!, w[2 * (W_MR + i) + 1]!);
        for (let i = 0; i < 3; i++) k.writeWord(buf + IPCBUF_CAPS_OR_BADGES + 8 * i, w[2 * (W_CAP + i)]!, w[2 * (W_CAP + i) + 1]!);
        for (let i = 0; i < 3; i++) k.writeWord(buf + IPCBUF_RECEIVE_CNODE + 8 * i, w[2 * (W_RECV + i)]!, w[2 * (W_RECV + i) + 1]!);
      }
      d.syscall(op.n);
      return;
    }
    case OpKind.Time:
      d.advance(op.a);
      return;
    case OpKind.VMFault:
      d.vmFault(op.a, op.b & 0xff, (op.b & 0x100) !== 0);
      return;
    case OpKind.Exception:
      d.userException(op.a, op.b);
      return;
  }
}

// ------------------------------------------------------------- generation

const SYSCALLS = [
  Syscall.Call, Syscall.Send, Syscall.NBSend, Syscall.Recv, Syscall.NBRecv, Syscall.ReplyRecv,
  Syscall.NBSendRecv, Syscall.NBSendWait, Syscall.Wait, Syscall.NBWait, Syscall.Yield,
];
const SYSCALL_WEIGHTS = [55, 7, 6, 8, 6, 5, 3, 3, 4, 5, 3];
/** Debug syscalls other than Halt, and some unknown numbers. */
const ODD_SYSCALLS = [-12, -13, -15, -16, -17, -18, 0, 1, 7, -100];

/** Invocation labels meaningful for each cap type. */
function labelsFor(t: CapType): readonly number[] | null {
  switch (t) {
    case CapType.Untyped:
      return [InvocationLabel.UntypedRetype];
    case CapType.Thread:
      return RANGE(InvocationLabel.TCBReadRegisters, InvocationLabel.TCBSetTLSBase);
    case CapType.CNode:
      return RANGE(InvocationLabel.CNodeRevoke, InvocationLabel.CNodeRotate);
    case CapType.IRQControl:
      return [InvocationLabel.IRQIssueIRQHandler, InvocationLabel.RISCVIRQIssueIRQHandlerTrigger];
    case CapType.IRQHandler:
      return [InvocationLabel.IRQAckIRQ, InvocationLabel.IRQSetIRQHandler, InvocationLabel.IRQClearIRQHandler];
    case CapType.Domain:
      return [InvocationLabel.DomainSetSet];
    case CapType.SchedControl:
      return [InvocationLabel.SchedControlConfigureFlags];
    case CapType.SchedContext:
      return RANGE(InvocationLabel.SchedContextBind, InvocationLabel.SchedContextYieldTo);
    case CapType.PageTable:
      return [InvocationLabel.RISCVPageTableMap, InvocationLabel.RISCVPageTableUnmap];
    case CapType.Frame:
      return [InvocationLabel.RISCVPageMap, InvocationLabel.RISCVPageUnmap, InvocationLabel.RISCVPageGetAddress];
    case CapType.ASIDControl:
      return [InvocationLabel.RISCVASIDControlMakePool];
    case CapType.ASIDPool:
      return [InvocationLabel.RISCVASIDPoolAssign];
    default:
      return null;
  }
}
const ranges = new Map<number, number[]>();
function RANGE(a: number, b: number): number[] {
  const key = a * 1000 + b;
  let r = ranges.get(key);
  if (r === undefined) {
    r = [];
    for (let i = a; i <= b; i++) r.push(i);
    ranges.set(key, r);
  }
  return r;
}

/** What the generator knows of the current thread's CSpace. */
class View {
  radix = 0;
  slots: { cap: Cap }[] | null = null;
  readonly nonEmpty: number[] = [];
  readonly empty: number[] = [];

  load(t: TCB): void {
    this.nonEmpty.length = 0;
    this.empty.length = 0;
    const c = t.slots[TCB_CTABLE]!.cap;
    if (c.type !== CapType.CNode || c.obj === null || c.radix > 10) {
      this.slots = null;
      this.radix = 0;
      return;
    }
    this.radix = c.radix;
    this.slots = (c.obj as CNode).slots;
    for (let i = 0; i < this.slots.length; i++) (this.slots[i]!.cap.type === CapType.Null ? this.empty : this.nonEmpty).push(i);
  }

  typeAt(cptr: number): CapType {
    if (this.slots === null || cptr >= this.slots.length) return CapType.Null;
    return this.slots[cptr]!.cap.type;
  }
}

const view = new View();
const words = new Uint32Array(2 * SYS_WORDS);

function put(i: number, v: number): void {
  words[2 * i] = Math.floor(v / 4294967296) >>> 0;
  words[2 * i + 1] = v >>> 0;
}

/** A cptr: mostly a non-empty slot, sometimes any slot, rarely garbage. */
function cptr(rng: Rng): number {
  const r = rng.int(100);
  if (r < 65 && view.nonEmpty.length > 0) return rng.pick(view.nonEmpty);
  if (r < 97) return rng.int(2 ** Math.max(view.radix, 1));
  if (r < 99) return rng.int(4096);
  return rng.u32() * 4294967296 + rng.u32();
}

/** A slot holding a cap of type t (70% when the thread has one), else any cptr. */
function capOf(rng: Rng, t: CapType): number {
  if (rng.chance(0.8)) {
    let n = 0;
    for (const i of view.nonEmpty) if (view.typeAt(i) === t) n++;
    if (n > 0) {
      let j = rng.int(n);
      for (const i of view.nonEmpty) if (view.typeAt(i) === t && j-- === 0) return i;
    }
  }
  return cptr(rng);
}

function emptySlot(rng: Rng): number {
  return view.empty.length > 0 && rng.chance(0.8) ? rng.pick(view.empty) : rng.int(2 ** Math.max(view.radix, 1));
}

function depth(rng: Rng): number {
  return rng.pick([64, 64, 64, 64, 64, THREAD_DEPTH_RADIX(), 0, 1, 63, 65, rng.int(128)]);
}
function THREAD_DEPTH_RADIX(): number {
  return view.radix;
}

/** A word from a palette of boundary values, small numbers and random words. */
function anyWord(rng: Rng): number {
  switch (rng.int(6)) {
    case 0:
      return rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 21, 30, 31, 32, 58, 63, 64, 65, 255, 256, 4096]);
    case 1:
      return rng.int(64);
    case 2:
      return rng.u32();
    case 3:
      return rng.u32() * 4294967296 + rng.u32();
    case 4:
      return 0x400000 + 4096 * rng.int(512);
    default:
      return rng.int(1024);
  }
}

function vaddr(rng: Rng): number {
  const r = rng.int(10);
  if (r < 6) return 0x400000 + 4096 * rng.int(256);
  if (r < 8) return rng.pick([0, 0x200000, 0x40000000, 0x3ffffff000, 0x4000000000]);
  return rng.int(2 ** 39);
}

/** Arguments (MRs) for an invocation label; returns how many. */
function genArgs(rng: Rng, label: number): number {
  const a: number[] = scratch;
  a.length = 0;
  const L = InvocationLabel;
  switch (label) {
    case L.UntypedRetype: {
      const type = rng.chance(0.9) ? rng.int(11) : rng.int(20);
      const size = type === 0 ? rng.range(4, 16) : type === 4 ? (rng.chance(0.9) ? rng.range(0, 4) : rng.range(5, 9)) : type === 5 ? rng.range(6, 10) : rng.chance(0.8) ? 0 : rng.int(64);
      a.push(type, size, rng.chance(0.8) ? 0 : cptr(rng), rng.chance(0.8) ? 0 : depth(rng), emptySlot(rng), rng.chance(0.8) ? 1 : rng.range(0, 4));
      break;
    }
    case L.TCBReadRegisters:
      a.push(rng.int(2), rng.int(34));
      break;
    case L.TCBWriteRegisters:
      a.push(rng.int(2), rng.int(5), anyWord(rng), anyWord(rng), anyWord(rng), anyWord(rng));
      break;
    case L.TCBCopyRegisters:
      a.push(rng.int(16));
      break;
    case L.TCBConfigure:
      a.push(rng.pick([58, 0, 52, anyWord(rng)]), rng.pick([0, 0, anyWord(rng)]), rng.pick([0, 0x402000 + 4096 * rng.int(8), anyWord(rng)]));
      break;
    case L.TCBSetPriority:
    case L.TCBSetMCPriority:
      a.push(rng.chance(0.8) ? rng.range(95, 110) : rng.int(300));
      break;
    case L.TCBSetSchedParams:
      a.push(rng.chance(0.8) ? rng.range(95, 200) : rng.int(300), rng.chance(0.8) ? rng.range(95, 110) : rng.int(300));
      break;
    case L.TCBSetIPCBuffer:
      a.push(rng.pick([0, 0x402000 + 4096 * rng.int(8), 0x440000, anyWord(rng)]));
      break;
    case L.TCBSetSpace:
      a.push(rng.pick([58, 0, anyWord(rng)]), rng.pick([0, anyWord(rng)]));
      break;
    case L.TCBSetTLSBase:
      a.push(anyWord(rng));
      break;
    case L.CNodeRevoke:
    case L.CNodeDelete:
    case L.CNodeCancelBadgedSends:
      a.push(cptr(rng), depth(rng));
      break;
    case L.CNodeCopy:
      a.push(emptySlot(rng), depth(rng), cptr(rng), depth(rng), rng.int(16));
      break;
    case L.CNodeMint:
      a.push(emptySlot(rng), depth(rng), cptr(rng), depth(rng), rng.int(16), rng.chance(0.7) ? rng.int(8) : anyWord(rng));
      break;
    case L.CNodeMove:
      a.push(emptySlot(rng), depth(rng), cptr(rng), depth(rng));
      break;
    case L.CNodeMutate:
      a.push(emptySlot(rng), depth(rng), cptr(rng), depth(rng), rng.chance(0.5) ? 58 : anyWord(rng));
      break;
    case L.CNodeRotate:
      a.push(rng.chance(0.3) ? cptr(rng) : emptySlot(rng), depth(rng), rng.int(8), cptr(rng), depth(rng), rng.int(8), cptr(rng), depth(rng));
      break;
    case L.IRQIssueIRQHandler:
      a.push(rng.chance(0.8) ? rng.range(1, 12) : rng.int(200), emptySlot(rng), depth(rng));
      break;
    case L.RISCVIRQIssueIRQHandlerTrigger:
      a.push(rng.chance(0.8) ? rng.range(1, 12) : rng.int(200), rng.int(2), emptySlot(rng), depth(rng));
      break;
    case L.DomainSetSet:
      a.push(rng.int(3));
      break;
    case L.SchedControlConfigureFlags: {
      const r = rng.int(100);
      const budget = r < 85 ? rng.pick([100, 300, 1000, 2000, 5000]) : r < 95 ? rng.pick([10, 20, 21, 50]) : anyWord(rng);
      const period = rng.chance(0.5) ? budget : rng.chance(0.9) ? budget * rng.range(1, 5) : anyWord(rng);
      a.push(budget, period, rng.chance(0.7) ? rng.int(4) : rng.int(100), rng.int(16), rng.int(3));
      break;
    }
    case L.RISCVPageTableMap:
      a.push(vaddr(rng), rng.int(2));
      break;
    case L.RISCVPageMap:
      a.push(vaddr(rng), rng.pick([3, 3, 2, 1, 0, 15]), rng.int(2));
      break;
    case L.RISCVASIDControlMakePool:
      a.push(emptySlot(rng), depth(rng));
      break;
    default: {
      const n = rng.int(5);
      for (let i = 0; i < n; i++) a.push(anyWord(rng));
    }
  }
  if (rng.chance(0.05)) a.length = rng.int(a.length + 1);
  for (let i = 0; i < 8; i++) put(W_MR + i, i < a.length ? a[i]! : rng.chance(0.5) ? 0 : anyWord(rng));
  return a.length;
}
const scratch: number[] = [];

const C = CapType;
/** The types of the extra caps an invocation takes. */
function capsFor(label: number): readonly CapType[] {
  const L = InvocationLabel;
  switch (label) {
    case L.TCBConfigure:
      return [C.CNode, C.PageTable, C.Frame];
    case L.TCBSetSchedParams:
      return [C.Thread, C.SchedContext, C.Endpoint];
    case L.TCBSetSpace:
      return [C.Endpoint, C.CNode, C.PageTable];
    case L.CNodeRotate:
      return [C.CNode, C.CNode];
    case L.RISCVASIDControlMakePool:
      return [C.Untyped, C.CNode];
    case L.UntypedRetype:
    case L.CNodeCopy:
    case L.CNodeMint:
    case L.CNodeMove:
    case L.CNodeMutate:
    case L.IRQIssueIRQHandler:
    case L.RISCVIRQIssueIRQHandlerTrigger:
      return [C.CNode];
    case L.TCBCopyRegisters:
    case L.TCBSetPriority:
    case L.TCBSetMCPriority:
    case L.DomainSetSet:
      return [C.Thread];
    case L.TCBSetTimeoutEndpoint:
      return [C.Endpoint];
    case L.TCBSetIPCBuffer:
      return [C.Frame];
    case L.TCBBindNotification:
    case L.IRQSetIRQHandler:
      return [C.Notification];
    case L.SchedControlConfigureFlags:
      return [C.SchedContext];
    case L.SchedContextBind:
    case L.SchedContextUnbindObject:
      return [C.Thread];
    case L.RISCVPageTableMap:
    case L.RISCVPageMap:
    case L.RISCVASIDPoolAssign:
      return [C.PageTable];
    default:
      return NO_CAPS;
  }
}
const NO_CAPS: readonly CapType[] = [];

const IPC_TYPES: readonly CapType[] = [CapType.Endpoint, CapType.Notification, CapType.Reply];
const RECV_TYPES: readonly CapType[] = [CapType.Endpoint, CapType.Notification];
const OBJECT_TYPES: readonly CapType[] = [
  CapType.Untyped, CapType.CNode, CapType.Thread, CapType.SchedContext, CapType.SchedControl, CapType.Frame,
  CapType.PageTable, CapType.IRQControl, CapType.IRQHandler, CapType.ASIDControl, CapType.ASIDPool, CapType.Domain,
];

/** A slot whose cap type is one of `types` (uniformly among them), or any cptr if there is none. */
function capAmong(rng: Rng, types: readonly CapType[]): number {
  let n = 0;
  for (const i of view.nonEmpty) if (types.includes(view.typeAt(i))) n++;
  if (n === 0) return cptr(rng);
  let j = rng.int(n);
  for (const i of view.nonEmpty) if (types.includes(view.typeAt(i)) && j-- === 0) return i;
  return cptr(rng);
}

/** The target of a system call: an object to invoke (Call), an IPC object (the rest), or anything. */
function targetOf(rng: Rng, n: number): number {
  const r = rng.int(100);
  if (r < 10) return cptr(rng);
  if (n === Syscall.Call && r < 70) return capAmong(rng, OBJECT_TYPES);
  if (n === Syscall.Recv || n === Syscall.NBRecv || n === Syscall.Wait || n === Syscall.NBWait || n === Syscall.ReplyRecv) {
    return capAmong(rng, RECV_TYPES);
  }
  return capAmong(rng, IPC_TYPES);
}

function sysOp(rng: Rng, n: number): Op {
  words.fill(0);
  const target = targetOf(rng, n);
  const type = view.typeAt(target);
  const labels = labelsFor(type);
  let label: number;
  if (labels !== null && rng.chance(0.85)) label = rng.pick(labels);
  else if (rng.chance(0.95)) label = rng.int(50);
  else label = rng.u32();
  let length = genArgs(rng, label);
  const want = capsFor(label);
  let ncaps = want.length;
  if (rng.chance(0.1)) ncaps = rng.int(4);
  if (rng.chance(0.05)) length = rng.int(128);
  for (let i = 0; i < 3; i++) {
    let c = 0;
    if (i < want.length) c = capOf(rng, want[i] === C.Thread && label >= InvocationLabel.SchedContextBind && rng.chance(0.3) ? C.Notification : want[i]!);
    else if (i < ncaps || rng.chance(0.2)) c = rng.chance(0.5) && view.nonEmpty.length > 0 ? rng.pick(view.nonEmpty) : cptr(rng);
    put(W_CAP + i, c);
  }
  const unwrapped = rng.chance(0.05) ? rng.int(8) : 0;
  words[2 * W_A1] = msgInfoHi(label);
  words[2 * W_A1 + 1] = msgInfoLo(label, unwrapped, Math.min(ncaps, 3), length & 0x7f);
  put(W_A0, target);
  put(W_T0, cptr(rng));
  // The reply cap of Recv-style calls: a Reply cap the thread holds, when it has one.
  put(W_A6, rng.chance(0.85) ? capOf(rng, CapType.Reply) : cptr(rng));
  put(W_RECV, rng.chance(0.8) ? 2 : cptr(rng));
  put(W_RECV + 1, emptySlot(rng));
  put(W_RECV + 2, rng.chance(0.8) ? 64 : depth(rng));
  return { kind: OpKind.Sys, n, w: words.slice(), a: 0, b: 0 };
}

/** Generate the next op for the thread that is current in the driver's kernel. */
export function genOp(rng: Rng, d: KernelDriver): Op {
  const r = rng.int(1000);
  if (r < 15) return { kind: OpKind.Time, n: 0, w: null, a: rng.int(3_000_000), b: 0 };
  if (r < 25) {
    const fsr = rng.pick([1, 5, 7]); // seL4 reports page faults as access faults
    return { kind: OpKind.VMFault, n: 0, w: null, a: vaddr(rng), b: fsr | (rng.int(2) << 8) };
  }
  if (r < 32) return { kind: OpKind.Exception, n: 0, w: null, a: rng.pick([2, 3, 0, 4, 6]), b: rng.int(4) };
  view.load(d.k.curThread);
  const n = r < 40 ? rng.pick(ODD_SYSCALLS) : SYSCALLS[rng.weighted(SYSCALL_WEIGHTS)]!;
  return sysOp(rng, n);
}

// -------------------------------------------------------------- printing

/** A readable one-line description of an op. */
export function describeOp(op: Op): string {
  switch (op.kind) {
    case OpKind.Time:
      return `time +${op.a} ns`;
    case OpKind.VMFault:
      return `vmfault addr=0x${op.a.toString(16)} fsr=${op.b & 0xff}${op.b & 0x100 ? ' instruction' : ''}`;
    case OpKind.Exception:
      return `user exception ${op.a} code ${op.b}`;
    default: {
      const w = op.w!;
      const word = (i: number): string => {
        const v = w[2 * i]! * 4294967296 + w[2 * i + 1]!;
        return v < 65536 ? String(v) : '0x' + ((BigInt(w[2 * i]!) << 32n) | BigInt(w[2 * i + 1]!)).toString(16);
      };
      const info = w[2 * W_A1 + 1]!;
      const label = w[2 * W_A1]! * 2 ** 20 + (info >>> 12);
      const lname = InvocationLabel[label] ?? String(label);
      const mrs = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => word(W_MR + i)).join(',');
      const caps = [0, 1, 2].map((i) => word(W_CAP + i)).join(',');
      return `${seL4_Syscall[op.n] ?? 'syscall ' + op.n} a0=${word(W_A0)} label=${lname} len=${info & 0x7f} extraCaps=${(info >>> 7) & 3} unwrapped=${(info >>> 9) & 7} mrs=[${mrs}] caps=[${caps}] a6=${word(W_A6)} t0=${word(W_T0)} recv=(${word(W_RECV)},${word(W_RECV + 1)},${word(W_RECV + 2)})`;
    }
  }
}

/** Ops as JSON-friendly arrays, and back. */
export function opToJSON(op: Op): (number | number[])[] {
  return op.kind === OpKind.Sys ? [op.kind, op.n, Array.from(op.w!)] : [op.kind, op.a, op.b];
}
export function opFromJSON(j: (number | number[])[]): Op {
  const kind = j[0] as OpKind;
  if (kind === OpKind.Sys) return { kind, n: j[1] as number, w: Uint32Array.from(j[2] as number[]), a: 0, b: 0 };
  return { kind, n: 0, w: null, a: j[1] as number, b: j[2] as number };
}
