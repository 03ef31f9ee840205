/**
 * Refinement runs: a real kernel (driven through its system-call entry with
 * registers and IPC buffers, src/fuzz/driver.ts) and the abstract model take
 * the same steps from the same initial state; after every step the return
 * value, the registers and IPC buffers of threads that received something,
 * and the abstract state (capability graph, CNodes, thread states and
 * priorities, endpoint and notification queues, scheduling contexts with
 * their bindings and call stacks, reply objects, page tables and ASIDs) must
 * agree.
 *
 * The world: N threads with round-robin budgets long enough never to expire,
 * each with its own 32-slot CNode (its CSpace root, guarded so that a cptr is
 * a slot number). Slot layout (SLOT below): the original CNode cap, an
 * untyped of 2^16 bytes, originals or badged copies of two endpoints and two
 * notifications (thread 2's cap to the first endpoint can only send: no
 * grant), caps to every thread's TCB and scheduling context, SchedControl,
 * the initial ASID pool, two reply objects, two frames, a page table
 * assigned an ASID (a VSpace root), two page tables mapped in it (so that
 * frames can be mapped in its first 2 MiB) and one more page table.
 *
 * The root task builds the world and is the environment: it runs at the
 * lowest priority, so only when no modelled thread can. It then heals
 * threads until one can run (a scheduling context for a runnable thread
 * left without one, else TCB_Resume of a stopped thread, passive servers
 * last), each action mirrored in the model and compared like any step. A
 * new TCB that gets to run (it has no CSpace) faults at once. A world may
 * start with thread 0 as a passive server (waiting in Recv, no SC).
 *
 * Faults: bad cptrs (cap faults), unknown system call numbers, user
 * exceptions and VM faults (through the driver) are steps of their own; a
 * world may start with every thread's fault handler set to the second
 * endpoint, and TCB_SetSchedParams installs handlers. Fault messages are
 * checked like any delivery, and a handler's reply by the registers it
 * rewrote and where the faulter restarts (Coverage.faultTable counts
 * delivered / queued / received / no handler / replied per fault type).
 *
 * Cap arguments are resolved against the model when a step is applied
 * (CapArg), so random traces mostly name caps of the right type and, for
 * IPC, endpoints someone waits on and reply objects a caller waits on.
 * Coverage counts what ran: operations with their outcome, the model's
 * events (donation, SC return, cap transfer, unwrapping...) and states
 * reached (passive server waiting, call stacks...).
 */
import { InvocationLabel } from '../abi/constants.js';
import { IPCBUF_CAPS_OR_BADGES, IPCBUF_MSG, IPCBUF_RECEIVE_CNODE, IPCBUF_RECEIVE_DEPTH, IPCBUF_RECEIVE_INDEX } from '../abi/ipcbuffer.js';
import { msgInfoGetCapsUnwrapped, msgInfoGetExtraCaps, msgInfoGetLabel, msgInfoGetLength, msgInfoHi, msgInfoLo } from '../abi/messageinfo.js';
import { seL4_CapInitThreadASIDPool, seL4_CapInitThreadCNode, seL4_CapInitThreadTCB, seL4_CapInitThreadVSpace } from '../abi/bootinfo.js';
import { CapType } from '../kernel/cap.js';
import { checkInvariants } from '../kernel/invariants/index.js';
import type { CNode } from '../kernel/object/cnode.js';
import type { SchedContext } from '../kernel/object/schedcontext.js';
import { REG_A0, REG_A1, REG_A2, REG_A6, REG_NEXT_IP, REG_PC, REG_RA, REG_SP, REG_T0, TCB, TCB_CTABLE } from '../kernel/object/tcb.js';
import { ObjectType } from '../kernel/objecttype.js';
import { Syscall } from '../kernel/syscall.js';
import { KernelDriver, SYSCALL_SITE } from '../fuzz/driver.js';
import { abstractKernel, abstractModel, KernelScope, modelFromKernel, Snapshot } from './abstract.js';
import { ERROR_NAMES, Message, Model, slotId, StepResult, TCB_FAULT_HANDLER, tcbSlotId, TState } from './model.js';
import { restart } from './model-ipc.js';
import { findVSpaceForASID } from './model-vspace.js';
import { schedContextBindTCB, schedContextUnbindAll, schedContextUnbindTCB } from './model-sched.js';

export const RADIX = 5;
export const SLOTS = 2 ** RADIX;
export const GUARD_DATA = 64 - RADIX;
/** Where the world puts things in each thread's CNode. */
export const SLOT = {
  CNode: 1, Untyped: 2, EP0: 3, EP1: 4, Ntfn0: 5, Ntfn1: 6, OwnTCB: 7, NextTCB: 8, NextSC: 9, SchedControl: 10,
  ASIDPool: 11, Reply0: 12, Frame: 13, VSpace: 14, PageTable: 15, Reply1: 16, OtherTCB: 17, OwnSC: 18, OtherSC: 19,
  PageTable2: 20, PageTable3: 21, Frame2: 22,
} as const;
/** The first slot the world leaves empty (slots 0 and FREE.. are empty). */
export const FREE = 23;

/**
 * A cap argument, resolved against the model when the step is applied: a
 * slot holding one of the cap types (the pick-th such slot; an empty slot if
 * there is none), an empty slot, any full slot, a cap to the same endpoint
 * as the invoked one ('same', for unwrapping), slot `pick` as it is ('raw'),
 * or a cptr whose lookup fails ('bad'); an endpoint cap whose endpoint has
 * receivers waiting ('waiting'), a page-table cap that is a VSpace root
 * ('vspace') or one not mapped ('pt-free'), a reply cap a caller waits on
 * ('reply-pending'), the SC or the TCB of a thread waiting in Recv with a
 * reply object and an SC of its own ('server-sc', 'server-tcb'), an SC
 * with a call stack ('sc-busy'), each
 * falling back to the cap type if there is none, a TCB cap of a thread
 * with a bound notification ('tcb-bound'), a notification cap whose
 * notification has waiters or a bound TCB ('ntfn-busy').
 */
export interface CapArg {
  want: CapType[] | 'empty' | 'any' | 'same' | 'raw' | 'bad' | 'waiting' | 'vspace' | 'pt-free' | 'reply-pending' | 'server-sc' | 'server-tcb' | 'sc-busy' | 'tcb-bound' | 'ntfn-busy';
  pick: number;
}
/** A message: label, message registers, extra caps. */
export interface MsgArg {
  label: number;
  mrs: bigint[];
  caps: CapArg[];
}
/** The receive path written to the IPC buffer before receiving (receiveCNode, receiveIndex, receiveDepth). */
export interface RcvArg {
  cnode: number;
  index: CapArg;
  depth: number;
}

/** One step, with choices resolved against the model when it is applied. */
export type SpecOp =
  | { kind: 'cnode'; label: number; dest: number; destDepth: number; src: number; srcDepth: number; rights: number; data: bigint; srcRoot: number; cut: number; raw: boolean }
  | { kind: 'retype'; type: number; size: number; offset: number; count: number; depth: number; root: number; index: number; cut: number; raw: boolean }
  /** seL4_Send / seL4_NBSend (any cap; Signal on a notification). */
  | { kind: 'send'; target: CapArg; blocking: boolean; msg: MsgArg }
  /** seL4_Call on an endpoint, notification or reply cap. */
  | { kind: 'call'; target: CapArg; msg: MsgArg; rcv: RcvArg | null }
  /** seL4_Recv / seL4_NBRecv with a reply cap, or seL4_Wait / seL4_NBWait (reply null). */
  | { kind: 'recv'; target: CapArg; blocking: boolean; reply: CapArg | null; rcv: RcvArg | null }
  /** seL4_ReplyRecv, or seL4_NBSendRecv when dest is given. */
  | { kind: 'replyRecv'; reply: CapArg; target: CapArg; dest: CapArg | null; msg: MsgArg; rcv: RcvArg | null }
  /** seL4_Call of a kernel-object invocation (TCB, SchedContext, SchedControl, VSpace). */
  | { kind: 'invoke'; label: number; target: CapArg; caps: CapArg[]; args: bigint[] }
  /**
   * A system call on a cptr whose lookup fails (a cap fault): as the invoked
   * cap, or ('recv-reply') as the reply cap of a Recv on an endpoint, or
   * ('recv-notreply') a Recv whose reply register names a cap that is not a reply cap.
   */
  | { kind: 'badcptr'; syscall: 'call' | 'send' | 'nbsend' | 'recv' | 'recv-reply' | 'recv-notreply'; cptr: bigint }
  /**
   * A fault that is not a cap fault: an unknown system call number n, a user
   * exception (scause n), or a VM fault (scause n) at addr; regs are the
   * faulting thread's pc (user and VM faults), sp, ra, a0..a6.
   */
  | { kind: 'fault'; what: 'unknown-syscall' | 'user-exception' | 'vm'; n: bigint; addr: bigint; regs: bigint[] }
  /** Not generated: environment actions, for messages. */
  | { kind: 'env'; what: string };

export interface OpCount {
  steps: number;
  ok: number;
  err: number;
  fault: number;
  other: number;
  /** Errors by name. */
  errors: Map<string, number>;
}

/** What ran: steps per operation with their outcome, and the model's events. */
export class Coverage {
  readonly ops = new Map<string, OpCount>();
  readonly events = new Map<string, number>();
  /** Steps taken in states worth reaching. */
  readonly states = new Map<string, number>();
  skipped = 0;
  stalled = 0;

  count(op: string, expected: StepResult, events: string[]): void {
    let c = this.ops.get(op);
    if (c === undefined) {
      c = { steps: 0, ok: 0, err: 0, fault: 0, other: 0, errors: new Map() };
      this.ops.set(op, c);
    }
    c.steps++;
    if (events.includes('fault')) c.fault++;
    else if (expected.err === 0) c.ok++;
    else if (expected.err !== null) {
      c.err++;
      const name = ERROR_NAMES[expected.err] ?? String(expected.err);
      c.errors.set(name, (c.errors.get(name) ?? 0) + 1);
    }
    else c.other++;
    for (const e of events) this.events.set(e, (this.events.get(e) ?? 0) + 1);
  }

  table(): string {
    const rows = [...this.ops].sort((a, b) => a[0].localeCompare(b[0]));
    const lines = rows.map(([k, c]) => {
      const errs = [...c.errors].sort((a, b) => b[1] - a[1]).map(([e, n]) => `${e}:${n}`).join(' ');
      return `${k.padEnd(28)} ${String(c.steps).padStart(5)} ok ${String(c.ok).padStart(5)} err ${String(c.err).padStart(5)} fault ${String(c.fault).padStart(4)} other ${String(c.other).padStart(5)}  ${errs}`;
    });
    const ev = [...this.events].sort((a, b) => a[0].localeCompare(b[0])).map(([k, n]) => `${k}=${n}`);
    const st = [...this.states].sort((a, b) => a[0].localeCompare(b[0])).map(([k, n]) => `${k}=${n}`);
    return `${lines.join('\n')}\nevents: ${ev.join(' ')}\nsteps in states: ${st.join(' ')}\nskipped ${this.skipped}, stalled ${this.stalled}\n${this.faultTable()}`;
  }

  /** Fault delivery by fault type: delivered to a waiting receiver, queued on the handler endpoint, received later, no handler, replied to. */
  faultTable(): string {
    const kinds = ['delivered', 'queued', 'received', 'no-handler', 'replied-restart', 'replied-stop'];
    const rows = ['cap', 'unknown-syscall', 'user-exception', 'vm'].map(
      (f) => `fault ${f.padEnd(16)} ${kinds.map((k) => `${k} ${this.events.get(`fault-${f}-${k}`) ?? 0}`).join('  ')}`,
    );
    return rows.join('\n');
  }
}

/** A name for an operation in coverage tables. */
export function opName(op: SpecOp): string {
  switch (op.kind) {
    case 'cnode':
      return InvocationLabel[op.label] ?? `CNode label ${op.label}`;
    case 'retype':
      return 'UntypedRetype';
    case 'invoke':
      return InvocationLabel[op.label] ?? `label ${op.label}`;
    case 'send':
      return op.blocking ? 'Send' : 'NBSend';
    case 'call':
      return 'Call';
    case 'recv':
      return op.reply === null ? (op.blocking ? 'Wait' : 'NBWait') : op.blocking ? 'Recv' : 'NBRecv';
    case 'replyRecv':
      return op.dest === null ? 'ReplyRecv' : 'NBSendRecv';
    case 'badcptr':
      return `badcptr-${op.syscall}`;
    case 'fault':
      return `fault-${op.what}`;
    case 'env':
      return `env:${op.what}`;
  }
}

type MNotificationLike = { queue: number[]; bound: number | null };

const word = (v: bigint): [number, number] => [Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn)];

export class RefineWorld {
  readonly d: KernelDriver;
  readonly threads: TCB[] = [];
  readonly rootCNode: CNode;
  readonly scope: KernelScope;
  readonly model: Model;
  readonly coverage: Coverage;
  steps = 0;
  /** Root-CNode slots of each thread's TCB and of its own scheduling context. */
  private tcbCptrs: number[] = [];
  private scCptrs: number[] = [];
  private scAddrs: number[] = [];
  private turn = 0;

  /**
   * With `passiveServer`, thread 0 starts as a passive server: waiting in
   * Recv on the second endpoint with its second reply object, its
   * scheduling context unbound (by the thread that runs next).
   */
  /**
   * With `faultHandlers`, every thread starts with a fault handler: a copy of
   * the original cap to the second endpoint (where a passive server waits).
   */
  constructor(nThreads = 3, invariants = true, coverage = new Coverage(), passiveServer = false, faultHandlers = false) {
    const d = new KernelDriver({ check: invariants ? checkInvariants : null });
    this.d = d;
    this.coverage = coverage;
    this.rootCNode = d.root.slots[TCB_CTABLE]!.cap.obj as CNode;
    this.scope = { rootCNode: this.rootCNode, rootTCB: d.root, rootSC: d.root.sc };
    this.build(nThreads, faultHandlers);
    if (passiveServer) this.makePassiveServer();
    this.model = modelFromKernel(d.k, this.scope);
  }

  private makePassiveServer(): void {
    const d = this.d;
    const [t0] = this.threads;
    for (let i = 0; i < 10 && d.settle() && d.k.curThread !== t0; i++) d.syscall(Syscall.Yield);
    if (d.k.curThread !== t0) throw new Error('refinement world: thread 0 does not run');
    t0!.setReg(REG_A0, 0, SLOT.EP1);
    t0!.setReg(REG_A6, 0, SLOT.Reply1);
    d.syscall(Syscall.Recv);
    if (!d.settle()) throw new Error('refinement world: nobody runs');
    // Thread 1 holds thread 0's SC cap in OtherSC, thread 2 in NextSC.
    const cur = this.threads.indexOf(d.k.curThread);
    const e = d.invoke(d.k.curThread, cur === 1 ? SLOT.OtherSC : SLOT.NextSC, InvocationLabel.SchedContextUnbind, [], []);
    if (cur < 1 || e !== 0) throw new Error(`refinement world: unbinding thread 0's SC failed (${cur}, ${e})`);
  }

  private build(n: number, faultHandlers: boolean): void {
    const d = this.d;
    const bi = d.m.booted.bootInfo;
    let next = bi.empty.start;
    const inv = (cptr: number, label: number, args: number[], caps: number[] = []): void => {
      const e = d.invoke(d.root, cptr, label, args, caps);
      if (e !== 0) throw new Error(`refinement world: ${InvocationLabel[label]} failed with ${e}`);
    };
    let ut = -1;
    bi.untypedList.forEach((u, i) => {
      if (ut < 0 && !u.isDevice && u.sizeBits >= 20) ut = bi.untyped.start + i;
    });
    const retype = (type: ObjectType, size: number, count: number): number => {
      const first = next;
      next += count;
      inv(ut, InvocationLabel.UntypedRetype, [type, size, 0, 0, first, count], [seL4_CapInitThreadCNode]);
      return first;
    };
    const cnodes = retype(ObjectType.CapTable, RADIX, n);
    const tcbs = retype(ObjectType.TCB, 0, n);
    const scs = retype(ObjectType.SchedContext, 8, n);
    const buffers = retype(ObjectType.RISCV_4K_Page, 0, n);
    const uts = retype(ObjectType.Untyped, 16, n);
    const eps = retype(ObjectType.Endpoint, 0, 2);
    const ntfns = retype(ObjectType.Notification, 0, 2);
    const replies = retype(ObjectType.Reply, 0, 2 * n);
    const frames = retype(ObjectType.RISCV_4K_Page, 0, 2 * n);
    const pts = retype(ObjectType.RISCV_PageTable, 0, 4 * n);
    // Each thread's VSpace root gets an ASID and page tables for its first 2 MiB.
    for (let i = 0; i < n; i++) {
      inv(seL4_CapInitThreadASIDPool, InvocationLabel.RISCVASIDPoolAssign, [], [pts + 4 * i]);
      inv(pts + 4 * i + 3, InvocationLabel.RISCVPageTableMap, [0, 0], [pts + 4 * i]);
      inv(pts + 4 * i + 2, InvocationLabel.RISCVPageTableMap, [0, 0], [pts + 4 * i]);
    }
    const move = (cn: number, index: number, src: number): void =>
      inv(cn, InvocationLabel.CNodeMove, [index, RADIX, src, 64], [seL4_CapInitThreadCNode]);
    const copy = (cn: number, index: number, src: number): void =>
      inv(cn, InvocationLabel.CNodeCopy, [index, RADIX, src, 64, 15], [seL4_CapInitThreadCNode]);
    const mint = (cn: number, index: number, srcCN: number, src: number, rights: number, badge: number): void =>
      inv(cn, InvocationLabel.CNodeMint, [index, RADIX, src, RADIX, rights, badge], [srcCN]);
    for (let i = 0; i < n; i++) {
      move(cnodes + i, SLOT.Untyped, uts + i);
      copy(cnodes + i, SLOT.OwnTCB, tcbs + i);
      copy(cnodes + i, SLOT.NextTCB, tcbs + ((i + 1) % n));
      copy(cnodes + i, SLOT.NextSC, scs + ((i + 1) % n));
      copy(cnodes + i, SLOT.OtherTCB, tcbs + ((i + 2) % n));
      copy(cnodes + i, SLOT.OwnSC, scs + i);
      copy(cnodes + i, SLOT.OtherSC, scs + ((i + 2) % n));
      copy(cnodes + i, SLOT.SchedControl, bi.schedcontrol.start);
      copy(cnodes + i, SLOT.ASIDPool, seL4_CapInitThreadASIDPool);
      move(cnodes + i, SLOT.Reply0, replies + 2 * i);
      move(cnodes + i, SLOT.Reply1, replies + 2 * i + 1);
      move(cnodes + i, SLOT.Frame, frames + 2 * i);
      move(cnodes + i, SLOT.Frame2, frames + 2 * i + 1);
      move(cnodes + i, SLOT.VSpace, pts + 4 * i);
      move(cnodes + i, SLOT.PageTable, pts + 4 * i + 1);
      move(cnodes + i, SLOT.PageTable2, pts + 4 * i + 2);
      move(cnodes + i, SLOT.PageTable3, pts + 4 * i + 3);
    }
    // The fault handlers' source: a copy of the second endpoint's cap in the root CNode, deleted once installed.
    const fh = next++;
    if (faultHandlers) inv(seL4_CapInitThreadCNode, InvocationLabel.CNodeCopy, [fh, 64, eps + 1, 64, 15], [seL4_CapInitThreadCNode]);
    for (let e = 0; e < 2; e++) {
      move(cnodes, SLOT.EP0 + e, eps + e);
      move(cnodes, SLOT.Ntfn0 + e, ntfns + e);
      for (let i = 1; i < n; i++) {
        mint(cnodes + i, SLOT.EP0 + e, cnodes, SLOT.EP0 + e, i === 2 && e === 0 ? 1 : 15, i);
        mint(cnodes + i, SLOT.Ntfn0 + e, cnodes, SLOT.Ntfn0 + e, 3, 1 << i);
      }
    }
    for (let i = 0; i < n; i++) {
      const tcb = tcbs + i;
      inv(tcb, InvocationLabel.TCBConfigure, [GUARD_DATA, 0, 0x500000 + 4096 * i], [cnodes + i, seL4_CapInitThreadVSpace, buffers + i]);
      inv(bi.schedcontrol.start, InvocationLabel.SchedControlConfigureFlags, [1_000_000, 1_000_000, 0, 0, 0], [scs + i]);
      inv(tcb, InvocationLabel.TCBSetSchedParams, [255, 100], [seL4_CapInitThreadTCB, scs + i, faultHandlers ? fh : 0]);
      const t = this.rootCNode.slots[tcb]!.cap.obj as TCB;
      this.threads.push(t);
      this.scAddrs.push((this.rootCNode.slots[scs + i]!.cap.obj as SchedContext).paddr);
    }
    if (faultHandlers) inv(seL4_CapInitThreadCNode, InvocationLabel.CNodeDelete, [fh, 64]);
    for (let i = 0; i < n; i++) move(cnodes + i, SLOT.CNode, cnodes + i);
    for (let i = 0; i < n; i++) inv(tcbs + i, InvocationLabel.TCBResume, []);
    this.tcbCptrs = Array.from({ length: n }, (_, i) => tcbs + i);
    this.scCptrs = Array.from({ length: n }, (_, i) => scs + i);
    // The root task drops below every thread: it runs only when none of them can.
    this.rootCall(seL4_CapInitThreadTCB, InvocationLabel.TCBSetPriority, [0], [seL4_CapInitThreadTCB]);
    if (!d.settle()) throw new Error('refinement world: no thread runs');
  }

  // ------------------------------------------------------------ environment

  /** A Call by the root task; returns the reply label. */
  private rootCall(cptr: number, label: number, args: number[], caps: number[]): number {
    const d = this.d;
    const r = d.root;
    const buf = d.k.lookupIPCBuffer(true, r);
    caps.forEach((c, i) => d.k.writeWord(buf + IPCBUF_CAPS_OR_BADGES + 8 * i, 0, c));
    args.forEach((a, i) => r.setReg(REG_A2 + i, 0, a));
    r.setReg(REG_A0, 0, cptr);
    r.setReg(REG_A1, msgInfoHi(label), msgInfoLo(label, 0, caps.length, args.length));
    d.syscall(Syscall.Call);
    return msgInfoGetLabel(r.getRegHi(REG_A1), r.getRegLo(REG_A1));
  }

  /** Index of a TCB among the modelled threads, or -1. */
  private tidOf(addr: number): number {
    return this.threads.findIndex((t) => t.paddr === addr);
  }

  /**
   * The root task, current because no modelled thread can run, heals
   * threads until one can: a runnable thread without a usable scheduling
   * context gets its own back (an unconfigured one unbound with
   * TCB_SetSchedParams, its own taken from a TCB outside the world with
   * SchedContext_Unbind, then SchedContext_Bind); failing that, a stopped
   * thread is restarted (TCB_Resume). Each action is mirrored in the model
   * and compared. Returns a disagreement or null.
   */
  private heal(): string | null {
    const m = this.model;
    const k = this.d.k;
    const act = (what: string, cptr: number, label: number, args: number[], caps: number[], mirror: () => void): string | null => {
      mirror();
      const e = this.rootCall(cptr, label, args, caps);
      if (e !== 0) return `environment: ${what} failed with ${e}`;
      this.coverage.count(`env:${what}`, { err: 0, reply: null, deliveries: [] }, []);
      return compare({ kind: 'env', what }, ...this.snapshots());
    };
    const rootIsCurrent = (): boolean => this.d.settle() && k.curThread === this.d.root;
    // First give a scheduling context back to runnable threads without one; then restart stopped
    // threads: inactive ones first, callers waiting for a reply and passive servers waiting for a
    // call last (they are what Call, donation and call stacks need).
    const order = (): number[] => {
      const rank = (i: number): number => {
        const t = m.tcb(this.threads[i]!.paddr);
        if (t.state === TState.BlockedOnReceive && t.reply !== null && t.sc === null) return 3;
        if (t.state === TState.BlockedOnReply) return 2;
        return t.state === TState.Inactive ? 0 : 1;
      };
      const ids = Array.from({ length: this.threads.length }, (_, i) => (this.turn + i) % this.threads.length);
      return ids.sort((a, b) => rank(a) - rank(b));
    };
    this.turn++;
    for (const pass of ['sc', 'resume']) {
      for (const tid of order()) {
        if (!rootIsCurrent()) return null;
        const t = m.tcb(this.threads[tid]!.paddr);
        if (pass === 'resume' && t.state !== TState.Runnable) {
          const bad = act('TCBResume', this.tcbCptrs[tid]!, InvocationLabel.TCBResume, [], [], () => restart(m, t.addr));
          if (bad !== null) return bad;
        }
        if (t.state === TState.Runnable) {
          const bad = this.healSC(tid, act);
          if (bad !== null) return bad;
        }
        if (pass === 'resume' && !rootIsCurrent()) return null;
      }
    }
    return null;
  }

  /** Give thread tid a usable scheduling context (its own) if it has none. */
  private healSC(tid: number, act: (what: string, cptr: number, label: number, args: number[], caps: number[], mirror: () => void) => string | null): string | null {
    const m = this.model;
    const addr = this.threads[tid]!.paddr;
    const t = m.tcb(addr);
    if (t.sc !== null && !m.sc(t.sc).configured) {
      const sc = t.sc;
      // (The null cap from slot 0 of the root CNode as fault handler removes the thread's fault handler.)
      const bad = act('TCBSetSchedParams', this.tcbCptrs[tid]!, InvocationLabel.TCBSetSchedParams, [t.mcp, t.prio], [seL4_CapInitThreadTCB, 0, 0], () => {
        m.deleteCap(tcbSlotId(addr, TCB_FAULT_HANDLER));
        schedContextUnbindTCB(m, sc);
      });
      if (bad !== null) return bad;
    }
    if (t.sc !== null) return null;
    const own = this.scAddrs[tid]!;
    const holder = m.sc(own).tcb;
    if (holder !== null && this.tidOf(holder) < 0) {
      const bad = act('SchedContextUnbind', this.scCptrs[tid]!, InvocationLabel.SchedContextUnbind, [], [], () => schedContextUnbindAll(m, own));
      if (bad !== null) return bad;
    }
    if (m.sc(own).tcb !== null) return null;
    return act('SchedContextBind', this.scCptrs[tid]!, InvocationLabel.SchedContextBind, [], [this.tcbCptrs[tid]!], () => schedContextBindTCB(m, own, addr));
  }

  /**
   * Let the environment act until a modelled thread is current (or nobody
   * can be): the root task heals, then yields to an equal-priority thread; a
   * TCB outside the world that runs faults (it has no CSpace).
   */
  runEnvironment(): string | null {
    const d = this.d;
    const k = d.k;
    for (let round = 0; round < 8; round++) {
      if (!d.settle()) return null;
      const cur = k.curThread;
      if (this.threads.includes(cur)) return null;
      if (cur === d.root) {
        const bad = this.heal();
        if (bad !== null) return bad;
        if (d.settle() && k.curThread === d.root) d.syscall(Syscall.Yield);
        if (d.settle() && k.curThread === d.root) return null;
        continue;
      }
      // A new TCB got to run: it receives on cptr 0 of its empty CSpace and faults.
      const m = this.model;
      const t = m.tcb(cur.paddr);
      if (t.state !== TState.Runnable) return `the kernel runs TCB ${cur.paddr.toString(16)}, which the model has ${t.state}`;
      t.regs = null;
      m.capFault(cur.paddr, BigInt(SYSCALL_SITE), 0n, true, m.lookupFailure(cur.paddr, 0n));
      cur.setReg(REG_A0, 0, 0);
      d.syscall(Syscall.Recv);
      const bad = compare({ kind: 'env', what: 'foreign thread faults' }, ...this.snapshots());
      if (bad !== null) return bad;
    }
    return null;
  }

  /** The modelled thread that is current in the real kernel, or -1 (nobody can act). */
  actor(): number {
    if (!this.d.settle()) return -1;
    return this.threads.indexOf(this.d.k.curThread);
  }

  snapshots(): [Snapshot, Snapshot] {
    return [abstractKernel(this.d.k, this.scope), abstractModel(this.model)];
  }

  // -------------------------------------------------------- choosing caps

  /** Slot numbers of the thread's CNode whose model cap satisfies `want` (undefined: empty). */
  private slotsWhere(tid: number, want: (c: ReturnType<Model['cap']> | undefined) => boolean): number[] {
    const m = this.model;
    const root = m.cap(`tcb${this.threads[tid]!.paddr.toString(16)}.0`);
    const out: number[] = [];
    if (root.type !== CapType.CNode) return out;
    for (let i = 0; i < 2 ** root.size; i++) if (want(m.slots.get(slotId(root.obj, i)))) out.push(i);
    return out;
  }

  private choose(tid: number, pick: number, types: (CapType | null)[]): number {
    const c = this.slotsWhere(tid, (x) => types.includes(x === undefined ? null : x.type));
    if (c.length > 0) return c[pick % c.length]!;
    const empty = this.slotsWhere(tid, (x) => x === undefined);
    return empty.length > 0 ? empty[pick % empty.length]! : 0;
  }

  private chooseFull(tid: number, pick: number): number {
    const all = this.slotsWhere(tid, (x) => x !== undefined);
    return all.length > 0 ? all[pick % all.length]! : pick % SLOTS;
  }

  /** The cptr a cap argument names for thread tid; `same` is the endpoint a 'same' argument refers to. */
  private resolve(tid: number, a: CapArg, same: number | null = null): bigint {
    switch (a.want) {
      case 'bad':
        return BigInt(a.pick) | (1n << 63n);
      case 'raw':
        return BigInt(a.pick % SLOTS);
      case 'empty':
        return BigInt(this.choose(tid, a.pick, [null]));
      case 'any':
        return BigInt(this.chooseFull(tid, a.pick));
      case 'same': {
        const s = this.slotsWhere(tid, (x) => x !== undefined && x.type === CapType.Endpoint && x.obj === same);
        return BigInt(s.length > 0 ? s[a.pick % s.length]! : this.chooseFull(tid, a.pick));
      }
      case 'waiting': {
        // Preferably one whose first receiver is a passive server.
        const m = this.model;
        const receiver = (ep: number, passive: boolean): boolean => {
          const head = m.endpoints.get(ep)?.queue[0];
          if (head === undefined) return false;
          const r = m.tcb(head);
          return r.state === TState.BlockedOnReceive && (!passive || (r.sc === null && r.reply !== null));
        };
        for (const passive of [true, false]) {
          const s = this.slotsWhere(tid, (x) => x !== undefined && x.type === CapType.Endpoint && (x.rights & 1) !== 0 && receiver(x.obj, passive));
          if (s.length > 0) return BigInt(s[a.pick % s.length]!);
        }
        return BigInt(this.choose(tid, a.pick, [CapType.Endpoint]));
      }
      case 'ntfn-busy': {
        // Preferably one with waiters, else one bound to a TCB.
        const m = this.model;
        for (const busy of [(n: MNotificationLike): boolean => n.queue.length > 0, (n: MNotificationLike): boolean => n.bound !== null]) {
          const s = this.slotsWhere(tid, (x) => x !== undefined && x.type === CapType.Notification && m.notifications.has(x.obj) && busy(m.notifications.get(x.obj)!));
          if (s.length > 0) return BigInt(s[a.pick % s.length]!);
        }
        return BigInt(this.choose(tid, a.pick, [CapType.Notification]));
      }
      case 'tcb-bound': {
        const m = this.model;
        const s = this.slotsWhere(tid, (x) => x !== undefined && x.type === CapType.Thread && m.tcbs.get(x.obj)?.ntfn != null);
        return BigInt(s.length > 0 ? s[a.pick % s.length]! : this.choose(tid, a.pick, [CapType.Thread]));
      }
      case 'reply-pending':
      case 'server-sc':
      case 'server-tcb':
      case 'sc-busy': {
        const m = this.model;
        const server = (t: number | null): boolean => {
          const th = t === null ? undefined : m.tcbs.get(t);
          return th !== undefined && th.state === TState.BlockedOnReceive && th.reply !== null && th.sc !== null;
        };
        const type = a.want === 'reply-pending' ? CapType.Reply : a.want === 'server-tcb' ? CapType.Thread : CapType.SchedContext;
        const ok = (x: ReturnType<Model['cap']>): boolean => {
          if (x.type !== type) return false;
          if (type === CapType.Reply) {
            const t = m.replies.get(x.obj)?.tcb ?? null;
            return t !== null && m.tcb(t).state === TState.BlockedOnReply;
          }
          if (a.want === 'sc-busy') return (m.scs.get(x.obj)?.replies.length ?? 0) > 0;
          return type === CapType.SchedContext ? server(m.scs.get(x.obj)?.tcb ?? null) : server(x.obj);
        };
        const s = this.slotsWhere(tid, (x) => x !== undefined && ok(x));
        return BigInt(s.length > 0 ? s[a.pick % s.length]! : this.choose(tid, a.pick, [type]));
      }
      case 'vspace':
      case 'pt-free': {
        const m = this.model;
        const root = a.want === 'vspace';
        const s = this.slotsWhere(tid, (x) => x !== undefined && x.type === CapType.PageTable && (root ? x.mapped !== null && findVSpaceForASID(m, x.mapped.asid) === x.obj : x.mapped === null));
        return BigInt(s.length > 0 ? s[a.pick % s.length]! : this.choose(tid, a.pick, [CapType.PageTable]));
      }
      default:
        return BigInt(this.choose(tid, a.pick, a.want));
    }
  }

  private resolveMsg(tid: number, msg: MsgArg, target: bigint): Message {
    const slot = this.model.lookupSlot(this.threads[tid]!.paddr, target);
    const same = slot === null ? null : this.model.cap(slot).obj;
    return { label: msg.label, mrs: msg.mrs, caps: msg.caps.slice(0, 3).map((c) => this.resolve(tid, c, same)) };
  }

  /** Whether the model describes op from thread tid. */
  private inScope(tid: number, op: SpecOp, resolved: { target?: bigint; caps?: bigint[]; args?: bigint[] }): boolean {
    const m = this.model;
    const capAt = (cptr: bigint | undefined): ReturnType<Model['cap']> | null => {
      if (cptr === undefined) return null;
      const s = m.lookupSlot(this.threads[tid]!.paddr, cptr);
      return s === null ? null : m.cap(s);
    };
    if (op.kind !== 'invoke') return true;
    const target = capAt(resolved.target);
    if (target === null) return true;
    // Rewriting the registers of a sender in the middle of its send (its message would change).
    if (op.label === InvocationLabel.TCBWriteRegisters && target.type === CapType.Thread && this.tidOf(target.obj) >= 0) {
      if (m.tcb(target.obj).state === TState.BlockedOnSend && ((resolved.args![0] ?? 0n) & 1n) === 0n) return false;
    }
    return true;
  }

  // -------------------------------------------------------------- stepping

  /**
   * Apply op as the current thread in both the kernel and the model. Returns a
   * description of the first disagreement, or null.
   */
  step(op: SpecOp): string | null {
    const envBad = this.runEnvironment();
    if (envBad !== null) return envBad;
    const tid = this.actor();
    if (tid < 0) {
      this.coverage.stalled++;
      return null;
    }
    const t = this.threads[tid]!;
    const m = this.model;
    const mt = m.tcb(t.paddr);
    if (mt.state !== TState.Runnable) return `the kernel runs thread ${tid}, which the model has ${mt.state}`;
    if (mt.sc === null) return `the kernel runs thread ${tid}, which has no scheduling context in the model`;
    const d = this.d;
    const k = d.k;
    const buf = k.lookupIPCBuffer(true, t);
    const setWord = (reg: number, v: bigint): void => t.setReg(reg, ...word(v));
    const writeMsg = (msg: Message): void => {
      msg.caps.forEach((c, i) => k.writeWord(buf + IPCBUF_CAPS_OR_BADGES + 8 * i, ...word(c)));
      msg.mrs.forEach((a, i) => {
        if (i < 4) setWord(REG_A2 + i, a);
        else k.writeWord(buf + IPCBUF_MSG + 8 * i, ...word(a));
      });
      t.setReg(REG_A1, msgInfoHi(msg.label), msgInfoLo(msg.label, 0, msg.caps.length, msg.mrs.length));
    };
    const setRcv = (rcv: RcvArg | null): void => {
      if (rcv === null) return;
      const path = { cnode: BigInt(rcv.cnode), index: this.resolve(tid, rcv.index), depth: BigInt(rcv.depth) };
      mt.rcv = path;
      k.writeWord(buf + IPCBUF_RECEIVE_CNODE, ...word(path.cnode));
      k.writeWord(buf + IPCBUF_RECEIVE_INDEX, ...word(path.index));
      k.writeWord(buf + IPCBUF_RECEIVE_DEPTH, ...word(path.depth));
    };
    m.events = [];
    // System calls are made from the driver's syscall site (cap faults report it).
    m.pc = BigInt(SYSCALL_SITE);
    this.noteState();
    // A Call of `target` with `msg`: the model's outcome, then the same Call in the kernel.
    const callBoth = (target: bigint, msg: Message): StepResult => {
      const r = m.call(t.paddr, target, msg);
      writeMsg(msg);
      setWord(REG_A0, target);
      d.syscall(Syscall.Call);
      return r;
    };
    let expected: StepResult;
    let isCall = false;
    switch (op.kind) {
      case 'cnode': {
        const target = BigInt(this.choose(tid, 1, [CapType.CNode]));
        const srcRoot = BigInt(op.srcRoot === 0 ? this.choose(tid, 1, [CapType.CNode]) : op.srcRoot % SLOTS);
        // Unless raw, the destination is an empty slot and the source a full one.
        // (Delete and Revoke name a full slot half of the time, CancelBadgedSends an endpoint.)
        const L = InvocationLabel;
        const dest = op.raw
          ? op.dest
          : op.label === L.CNodeCancelBadgedSends
            ? this.choose(tid, op.dest, [CapType.Endpoint])
            : (op.label === L.CNodeDelete || op.label === L.CNodeRevoke) && op.dest % 2 === 0
              ? this.chooseFull(tid, op.dest >> 1)
              : this.choose(tid, op.dest, [null]);
        const src = op.raw ? op.src : this.chooseFull(tid, op.src);
        const args = [BigInt(dest), BigInt(op.destDepth), BigInt(src), BigInt(op.srcDepth), BigInt(op.rights), op.data];
        args.length = Math.max(0, args.length - op.cut);
        const msg: Message = { label: op.label, mrs: args, caps: op.cut >= 3 ? [] : [srcRoot] };
        expected = callBoth(target, msg);
        isCall = true;
        break;
      }
      case 'retype': {
        const target = BigInt(this.choose(tid, op.index, [CapType.Untyped]));
        const root = BigInt(op.root === 0 ? this.choose(tid, 1, [CapType.CNode]) : op.root % SLOTS);
        const offset = op.raw ? op.offset : this.choose(tid, op.offset, [null]);
        const args = [BigInt(op.type), BigInt(op.size), op.depth === 0 ? 0n : root, BigInt(op.depth), BigInt(offset), BigInt(op.count)];
        args.length = Math.max(0, args.length - op.cut);
        const msg: Message = { label: InvocationLabel.UntypedRetype, mrs: args, caps: [root] };
        expected = callBoth(target, msg);
        isCall = true;
        break;
      }
      case 'invoke': {
        const target = this.resolve(tid, op.target);
        const caps = op.caps.slice(0, 3).map((c) => this.resolve(tid, c));
        if (!this.inScope(tid, op, { target, caps, args: op.args })) {
          this.coverage.skipped++;
          return null;
        }
        const msg: Message = { label: op.label, mrs: op.args, caps };
        expected = callBoth(target, msg);
        isCall = true;
        break;
      }
      case 'send': {
        const target = this.resolve(tid, op.target);
        const msg = this.resolveMsg(tid, op.msg, target);
        expected = m.send(t.paddr, target, msg, op.blocking);
        writeMsg(msg);
        setWord(REG_A0, target);
        d.syscall(op.blocking ? Syscall.Send : Syscall.NBSend);
        break;
      }
      case 'call': {
        const target = this.resolve(tid, op.target);
        const msg = this.resolveMsg(tid, op.msg, target);
        setRcv(op.rcv);
        expected = callBoth(target, msg);
        isCall = true;
        break;
      }
      case 'recv': {
        const target = this.resolve(tid, op.target);
        const reply = op.reply === null ? 0n : this.resolve(tid, op.reply);
        setRcv(op.rcv);
        expected = m.recv(t.paddr, target, op.blocking, op.reply !== null, reply);
        setWord(REG_A0, target);
        setWord(REG_A6, reply);
        d.syscall(op.reply !== null ? (op.blocking ? Syscall.Recv : Syscall.NBRecv) : op.blocking ? Syscall.Wait : Syscall.NBWait);
        break;
      }
      case 'replyRecv': {
        const target = this.resolve(tid, op.target);
        const reply = this.resolve(tid, op.reply);
        const dest = op.dest === null ? null : this.resolve(tid, op.dest);
        const msg = this.resolveMsg(tid, op.msg, dest ?? reply);
        setRcv(op.rcv);
        expected = dest === null ? m.replyRecv(t.paddr, reply, target, msg) : m.nbSendRecv(t.paddr, dest, target, reply, msg);
        writeMsg(msg);
        setWord(REG_A0, target);
        setWord(REG_A6, reply);
        if (dest !== null) setWord(REG_T0, dest);
        d.syscall(dest === null ? Syscall.ReplyRecv : Syscall.NBSendRecv);
        break;
      }
      case 'badcptr': {
        const cptr = op.cptr | (1n << 63n);
        const msg: Message = { label: op.syscall === 'call' ? InvocationLabel.CNodeDelete : 0, mrs: [], caps: [] };
        if (op.syscall === 'recv-reply' || op.syscall === 'recv-notreply') {
          // Recv on an endpoint with a bad reply cptr: a cap fault on the reply cptr, in the receive phase.
          const ep = BigInt(this.choose(tid, Number(op.cptr % 7n), [CapType.Endpoint]));
          const reply = op.syscall === 'recv-reply' ? cptr : BigInt(this.chooseFull(tid, Number(op.cptr % 31n)));
          expected = m.recv(t.paddr, ep, true, true, reply);
          setWord(REG_A0, ep);
          setWord(REG_A6, reply);
          d.syscall(Syscall.Recv);
          break;
        }
        if (op.syscall === 'recv') {
          expected = m.recv(t.paddr, cptr, true, true, 0n);
          setWord(REG_A6, 0n);
        } else if (op.syscall === 'call') {
          expected = m.call(t.paddr, cptr, msg);
          isCall = true;
        } else {
          expected = m.send(t.paddr, cptr, msg, op.syscall === 'send');
        }
        writeMsg(msg);
        setWord(REG_A0, cptr);
        d.syscall(op.syscall === 'recv' ? Syscall.Recv : op.syscall === 'call' ? Syscall.Call : op.syscall === 'send' ? Syscall.Send : Syscall.NBSend);
        break;
      }
      case 'fault': {
        // The registers the fault message carries are set first; syscalls fault at the syscall site.
        const pc = op.what === 'unknown-syscall' ? BigInt(SYSCALL_SITE) : op.regs[0] ?? 0n;
        const [sp, ra, ...a] = [op.regs[1] ?? 0n, op.regs[2] ?? 0n, ...op.regs.slice(3, 10)];
        while (a.length < 7) a.push(0n);
        setWord(REG_PC, pc);
        setWord(REG_NEXT_IP, pc);
        setWord(REG_SP, sp);
        setWord(REG_RA, ra);
        a.forEach((v, i) => setWord(REG_A0 + i, v));
        const regs = { pc, sp, ra, a };
        if (op.what === 'unknown-syscall') {
          m.unknownSyscall(t.paddr, op.n, regs);
          d.syscall(Number(BigInt.asIntN(64, op.n)));
        } else if (op.what === 'user-exception') {
          m.userException(t.paddr, op.n, 0n, regs);
          d.userException(Number(op.n), 0);
        } else {
          m.vmFault(t.paddr, op.addr, Number(op.n), regs);
          // The hart reports the normalised cause (riscv64 handleVMFault): 1 (instruction, prefetch), 5 (load), 7 (store).
          const instr = op.n === 1n || op.n === 12n;
          d.vmFault(Number(op.addr), instr ? 1 : op.n === 5n || op.n === 13n ? 5 : 7, instr);
        }
        expected = m.faultResult();
        break;
      }
      case 'env':
        return null;
    }
    this.steps++;
    this.coverage.count(opName(op), expected, m.events);
    d.settle();
    if (t.getRegLo(REG_NEXT_IP) === SYSCALL_SITE && k.curThread === t) return `${describe(op)}: the kernel restarted the system call (budget)`;
    const bad = this.checkRegisters(op, t, isCall, expected);
    if (bad !== null) return bad;
    return compare(op, ...this.snapshots());
  }

  /** Count situations worth reaching (coverage): passive servers waiting, callers waiting for a reply, bound notifications... */
  private noteState(): void {
    const m = this.model;
    const seen = new Set<string>();
    for (const t of this.threads) {
      const mt = m.tcb(t.paddr);
      if (mt.state === TState.BlockedOnReceive && mt.sc === null && mt.reply !== null) seen.add('passive-server-waiting');
      if (mt.state === TState.BlockedOnReply) seen.add('caller-waiting-for-reply');
      if (mt.ntfn !== null) seen.add('bound-notification');
    }
    for (const s of m.scs.values()) {
      if (s.replies.length > 0) seen.add('call-stack');
      if (s.replies.length > 1) seen.add('call-stack-2');
      if (s.ntfn !== null) seen.add('sc-bound-to-notification');
    }
    for (const n of m.notifications.values()) if (n.queue.length > 0) seen.add('notification-waiter');
    for (const [, pt] of m.pageTables) for (const e of pt.values()) if ('frame' in e) seen.add('frame-mapped');
    for (const x of seen) this.coverage.states.set(x, (this.coverage.states.get(x) ?? 0) + 1);
  }

  /** The caller's reply and what receivers got in their registers and IPC buffers. */
  private checkRegisters(op: SpecOp, t: TCB, isCall: boolean, expected: StepResult): string | null {
    const k = this.d.k;
    const reg = (r: TCB, i: number): bigint => (BigInt(r.getRegHi(i)) << 32n) | BigInt(r.getRegLo(i));
    const mr = (r: TCB, i: number): bigint => {
      if (i < 4) return reg(r, REG_A2 + i);
      const b = k.lookupIPCBuffer(true, r);
      return (BigInt(k.readWordHi(b + IPCBUF_MSG + 8 * i)) << 32n) | BigInt(k.readWordLo(b + IPCBUF_MSG + 8 * i));
    };
    const where = describe(op);
    if (isCall && expected.err !== null) {
      const got = msgInfoGetLabel(t.getRegHi(REG_A1), t.getRegLo(REG_A1));
      if (got !== expected.err) return `${where}: the kernel returned ${got}, the model ${expected.err}`;
      if (expected.reply !== null) {
        const len = msgInfoGetLength(t.getRegLo(REG_A1));
        if (len !== expected.reply.length) return `${where}: reply length ${len}, the model ${expected.reply.length}`;
        for (let i = 0; i < len; i++) {
          const want = expected.reply[i];
          if (want !== null && want !== undefined && mr(t, i) !== want) return `${where}: reply MR${i} ${mr(t, i)}, the model ${want}`;
        }
      }
    }
    // The last delivery to each thread is what its registers show.
    const last = new Map<number, (typeof expected.deliveries)[number]>();
    for (const dl of expected.deliveries) last.set(dl.tcb, dl);
    for (const dl of last.values()) {
      const tid = this.tidOf(dl.tcb);
      if (tid < 0) return `${where}: the model delivers to TCB ${dl.tcb.toString(16)}, outside the world`;
      const r = this.threads[tid]!;
      if (reg(r, REG_A0) !== dl.badge) return `${where}: thread ${tid} received badge ${reg(r, REG_A0)}, the model ${dl.badge}`;
      const msg = dl.msg;
      if (msg === null) continue;
      const hi = r.getRegHi(REG_A1);
      const lo = r.getRegLo(REG_A1);
      const got = { label: msgInfoGetLabel(hi, lo), length: msgInfoGetLength(lo), extraCaps: msgInfoGetExtraCaps(lo), capsUnwrapped: msgInfoGetCapsUnwrapped(lo) };
      // A length the model does not know (null) is not compared; nor are unknown words.
      const want = { label: msg.label, length: msg.length ?? got.length, extraCaps: msg.extraCaps, capsUnwrapped: msg.capsUnwrapped };
      if (JSON.stringify(got) !== JSON.stringify(want)) return `${where}: thread ${tid} received message info ${JSON.stringify(got)}, the model ${JSON.stringify(want)}`;
      const known = msg.length ?? msg.mrs.length;
      for (let i = 0; i < known; i++) {
        const w = msg.mrs[i];
        if (w !== null && w !== undefined && mr(r, i) !== w) return `${where}: thread ${tid} received MR${i} ${mr(r, i)}, the model ${w}`;
      }
      const b = k.lookupIPCBuffer(true, r);
      for (let i = 0; i < 3; i++) {
        if ((msg.capsUnwrapped & (1 << i)) === 0) continue;
        const badge = (BigInt(k.readWordHi(b + IPCBUF_CAPS_OR_BADGES + 8 * i)) << 32n) | BigInt(k.readWordLo(b + IPCBUF_CAPS_OR_BADGES + 8 * i));
        if (badge !== msg.badges[i]) return `${where}: thread ${tid} received unwrapped badge ${badge} at ${i}, the model ${msg.badges[i]}`;
      }
    }
    // Fault replies: the registers they wrote, and where a restarted thread resumes.
    for (const fr of expected.faultReplies ?? []) {
      const tid = this.tidOf(fr.tcb);
      if (tid < 0) continue;
      const r = this.threads[tid]!;
      for (const [i, v] of fr.regs) if (reg(r, i) !== v) return `${where}: fault reply: thread ${tid} register ${i} is ${reg(r, i)}, the model ${v}`;
      if (fr.restart && fr.pc !== null) {
        if (reg(r, REG_PC) !== fr.pc) return `${where}: fault reply: thread ${tid} restarts at ${reg(r, REG_PC)}, the model ${fr.pc}`;
        if (k.curThread === r && reg(r, REG_NEXT_IP) !== fr.pc) return `${where}: fault reply: thread ${tid} resumes at NextIP ${reg(r, REG_NEXT_IP)}, the model ${fr.pc}`;
      }
    }
    return null;
  }
}

export function describe(op: SpecOp): string {
  return JSON.stringify(op, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The first difference between the kernel's and the model's snapshot, or null. */
export function compare(op: SpecOp, real: Snapshot, model: Snapshot): string | null {
  const where = describe(op);
  for (const part of Object.keys(real) as (keyof Snapshot)[]) {
    const a = real[part];
    const b = model[part];
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.join() !== b.join()) return `after ${where}: ${part}: kernel ${a.join(' ')}; model ${b.join(' ')}`;
      continue;
    }
    const ra = a as Record<string, string>;
    const rb = b as Record<string, string>;
    const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
    for (const key of [...keys].sort()) {
      if (ra[key] !== rb[key]) return `after ${where}: ${part} ${key}: kernel ${ra[key] ?? 'none'}; model ${rb[key] ?? 'none'}`;
    }
  }
  return null;
}
