/**
 * Refinement runs: a real kernel (driven through its system-call entry with
 * registers, src/fuzz/driver.ts) and the abstract model take the same steps
 * from the same initial state; after every step the return value, the
 * registers of threads that received something, and the abstract state
 * (capability graph, CNodes, endpoints, notifications, thread states) must
 * agree.
 *
 * The world: N threads at one priority with round-robin budgets long enough
 * never to expire, each with its own 16-slot CNode (its CSpace root, guard 60,
 * so a cptr is a slot number; the original CNode cap sits in its slot 1), an
 * untyped of 2^14 bytes in slot 2, and originals or badged copies of two
 * endpoints and two notifications in slots 3..6. The root task builds it,
 * then waits below the threads' priority: whenever none of them can run it
 * resumes the next one (TCB_Resume, mirrored in the model).
 */
import { InvocationLabel } from '../abi/constants.js';
import { msgInfoGetLabel, msgInfoGetLength, msgInfoHi, msgInfoLo } from '../abi/messageinfo.js';
import { CapType } from '../kernel/cap.js';
import { checkInvariants } from '../kernel/invariants/index.js';
import { IPCBUF_CAPS_OR_BADGES, IPCBUF_MSG } from '../kernel/kernel.js';
import type { CNode } from '../kernel/object/cnode.js';
import { REG_A0, REG_A1, REG_A2, REG_A6, REG_NEXT_IP, TCB, TCB_CTABLE } from '../kernel/object/tcb.js';
import { ObjectType } from '../kernel/objecttype.js';
import { Syscall } from '../kernel/syscall.js';
import { KernelDriver, SYSCALL_SITE } from '../fuzz/driver.js';
import { abstractKernel, abstractModel, modelFromKernel, Snapshot } from './abstract.js';
import { Model, slotId, StepResult, TState } from './model.js';

export const RADIX = 4;
export const GUARD_DATA = 64 - RADIX;

/** One step, with choices resolved against the model when it is applied. */
export type SpecOp =
  | { kind: 'cnode'; label: number; dest: number; destDepth: number; src: number; srcDepth: number; rights: number; data: bigint; srcRoot: number; cut: number; raw: boolean }
  | { kind: 'retype'; type: number; size: number; offset: number; count: number; depth: number; root: number; index: number; cut: number; raw: boolean }
  | { kind: 'send'; slot: number; blocking: boolean; label: number; mr0: bigint }
  | { kind: 'recv'; slot: number; blocking: boolean; reply: boolean }
  | { kind: 'badcptr'; syscall: 'call' | 'send' | 'nbsend' | 'recv'; cptr: bigint }
  | { kind: 'resume'; tid: number };

export class RefineWorld {
  readonly d: KernelDriver;
  readonly threads: TCB[] = [];
  readonly rootCNode: CNode;
  readonly model: Model;
  steps = 0;

  constructor(nThreads = 3, invariants = true) {
    const d = new KernelDriver({ check: invariants ? checkInvariants : null });
    this.d = d;
    this.rootCNode = d.root.slots[TCB_CTABLE]!.cap.obj as CNode;
    this.build(nThreads);
    this.model = modelFromKernel(d.k, this.rootCNode, this.threads);
  }

  private build(n: number): void {
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
      inv(ut, InvocationLabel.UntypedRetype, [type, size, 0, 0, first, count], [2]);
      return first;
    };
    const cnodes = retype(ObjectType.CapTable, RADIX, n);
    const tcbs = retype(ObjectType.TCB, 0, n);
    const scs = retype(ObjectType.SchedContext, 8, n);
    const frames = retype(ObjectType.RISCV_4K_Page, 0, n);
    const uts = retype(ObjectType.Untyped, 14, n);
    const eps = retype(ObjectType.Endpoint, 0, 2);
    const ntfns = retype(ObjectType.Notification, 0, 2);
    const move = (cn: number, index: number, src: number): void =>
      inv(cn, InvocationLabel.CNodeMove, [index, RADIX, src, 64], [2]);
    const mint = (cn: number, index: number, srcCN: number, src: number, rights: number, badge: number): void =>
      inv(cn, InvocationLabel.CNodeMint, [index, RADIX, src, RADIX, rights, badge], [srcCN]);
    for (let i = 0; i < n; i++) move(cnodes + i, 2, uts + i);
    for (let e = 0; e < 2; e++) {
      move(cnodes, 3 + e, eps + e);
      move(cnodes, 5 + e, ntfns + e);
      for (let i = 1; i < n; i++) {
        mint(cnodes + i, 3 + e, cnodes, 3 + e, i === 2 ? 1 : 15, i);
        mint(cnodes + i, 5 + e, cnodes, 5 + e, 3, 1 << i);
      }
    }
    for (let i = 0; i < n; i++) {
      const tcb = tcbs + i;
      inv(tcb, InvocationLabel.TCBConfigure, [GUARD_DATA, 0, 0x500000 + 4096 * i], [cnodes + i, 3, frames + i]);
      inv(bi.schedcontrol.start, InvocationLabel.SchedControlConfigureFlags, [1_000_000, 1_000_000, 0, 0, 0], [scs + i]);
      inv(tcb, InvocationLabel.TCBSetSchedParams, [255, 100], [1, scs + i, 0]);
      this.threads.push(this.rootCNode.slots[tcb]!.cap.obj as TCB);
    }
    for (let i = 0; i < n; i++) move(cnodes + i, 1, cnodes + i);
    for (let i = 0; i < n; i++) inv(tcbs + i, InvocationLabel.TCBResume, []);
    this.tcbCptrs = Array.from({ length: n }, (_, i) => tcbs + i);
    // The root task drops below the threads: it runs only when none of them can.
    this.rootCall(1, InvocationLabel.TCBSetPriority, 50, 1);
    if (!d.settle()) throw new Error('refinement world: no thread runs');
  }

  private tcbCptrs: number[] = [];
  private turn = 0;

  private rootCall(cptr: number, label: number, arg: number | null, cap: number | null): void {
    const d = this.d;
    const r = d.root;
    if (cap !== null) d.k.writeWord(d.k.lookupIPCBuffer(true, r) + IPCBUF_CAPS_OR_BADGES, 0, cap);
    if (arg !== null) r.setReg(REG_A2, 0, arg);
    r.setReg(REG_A0, 0, cptr);
    r.setReg(REG_A1, msgInfoHi(label), msgInfoLo(label, 0, cap === null ? 0 : 1, arg === null ? 0 : 1));
    d.syscall(Syscall.Call);
  }

  /**
   * When no model thread can run, the root task (the environment) resumes the
   * next one in turn, in the kernel and in the model. Returns a disagreement,
   * or null.
   */
  private nudge(): string | null {
    for (let i = 0; i < this.threads.length && this.d.settle() && this.d.k.curThread === this.d.root; i++) {
      const tid = this.turn++ % this.threads.length;
      this.model.resume(tid);
      this.rootCall(this.tcbCptrs[tid]!, InvocationLabel.TCBResume, null, null);
      const bad = compare({ kind: 'resume', tid }, ...this.snapshots());
      if (bad !== null) return bad;
    }
    return null;
  }

  /** The model thread that is current in the real kernel, or -1 (nobody can act). */
  actor(): number {
    if (!this.d.settle()) return -1;
    return this.threads.indexOf(this.d.k.curThread);
  }

  snapshots(): [Snapshot, Snapshot] {
    return [abstractKernel(this.d.k, this.rootCNode, this.threads), abstractModel(this.model)];
  }

  /** Slot numbers of the actor's CNode whose model cap has one of the types (null: empty). */
  private slotsOf(tid: number, types: (CapType | null)[]): number[] {
    const m = this.model;
    const root = m.cap(m.threads[tid]!.ctable);
    const out: number[] = [];
    if (root.type !== CapType.CNode) return out;
    for (let i = 0; i < 2 ** root.size; i++) {
      const c = m.slots.get(slotId(root.obj, i));
      const t = c === undefined ? null : c.type;
      if (types.includes(t)) out.push(i);
    }
    return out;
  }

  /** A non-empty slot of the actor's CNode (any type), or slot `pick` if there is none. */
  private chooseFull(tid: number, pick: number): number {
    const all = this.slotsOf(tid, [CapType.Untyped, CapType.Endpoint, CapType.Notification, CapType.CNode, CapType.Thread, CapType.SchedContext, CapType.Reply, CapType.Frame, CapType.PageTable]);
    return all.length > 0 ? all[pick % all.length]! : pick % 16;
  }

  private choose(tid: number, pick: number, types: (CapType | null)[]): number {
    const c = this.slotsOf(tid, types);
    if (c.length > 0) return c[pick % c.length]!;
    const empty = this.slotsOf(tid, [null]);
    return empty.length > 0 ? empty[pick % empty.length]! : 0;
  }

  /** Whether the model describes op from thread tid (a Call on a CNode, untyped or null cap; IPC on an endpoint, notification or null cap). */
  private inScope(tid: number, op: SpecOp): boolean {
    const m = this.model;
    const typeAt = (cptr: number): CapType | null => {
      const slot = m.lookupSlot(tid, BigInt(cptr));
      return slot === null ? null : m.cap(slot).type;
    };
    switch (op.kind) {
      case 'cnode':
        return [CapType.CNode, CapType.Null, null].includes(typeAt(this.choose(tid, 1, [CapType.CNode])));
      case 'retype':
        return [CapType.Untyped, CapType.Null, null].includes(typeAt(this.choose(tid, op.index, [CapType.Untyped])));
      case 'send':
        return [CapType.Endpoint, CapType.Notification, CapType.Null, null].includes(typeAt(this.choose(tid, op.slot, [CapType.Endpoint, CapType.Notification])));
      case 'recv':
        return !op.reply || typeAt(0) !== CapType.Reply;
      default:
        return true;
    }
  }

  /**
   * Apply op as the current thread in both the kernel and the model. Returns a
   * description of the first disagreement, or null.
   */
  step(op: SpecOp): string | null {
    if (this.d.settle() && this.d.k.curThread === this.d.root) {
      const bad = this.nudge();
      if (bad !== null) return bad;
    }
    const tid = this.actor();
    if (tid < 0) return null;
    const mt = this.model.threads[tid]!;
    if (mt.state !== TState.Runnable) return `the kernel runs thread ${tid}, which the model has ${mt.state}`;
    const t = this.threads[tid]!;
    const m = this.model;
    if (!this.inScope(tid, op)) return null;
    this.steps++;
    let expected: StepResult;
    let isCall = false;
    const d = this.d;
    const k = d.k;
    const setWord = (reg: number, v: bigint): void => t.setReg(reg, Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn));
    const call = (cptr: bigint, label: number, args: bigint[], caps: bigint[]): void => {
      const buf = k.lookupIPCBuffer(true, t);
      caps.forEach((c, i) => k.writeWord(buf + IPCBUF_CAPS_OR_BADGES + 8 * i, Number(c >> 32n), Number(c & 0xffffffffn)));
      args.forEach((a, i) => {
        if (i < 4) setWord(REG_A2 + i, a);
        else k.writeWord(buf + IPCBUF_MSG + 8 * i, Number((a >> 32n) & 0xffffffffn), Number(a & 0xffffffffn));
      });
      setWord(REG_A0, cptr);
      t.setReg(REG_A1, msgInfoHi(label), msgInfoLo(label, 0, caps.length, args.length));
      d.syscall(Syscall.Call);
    };
    switch (op.kind) {
      case 'cnode': {
        const target = BigInt(this.choose(tid, 1, [CapType.CNode]));
        const srcRoot = BigInt(op.srcRoot === 0 ? this.choose(tid, 1, [CapType.CNode]) : op.srcRoot % 16);
        // Unless raw, the destination is an empty slot and the source a full one.
        const dest = op.raw ? op.dest : this.choose(tid, op.dest, [null]);
        const src = op.raw ? op.src : this.chooseFull(tid, op.src);
        const args = [BigInt(dest), BigInt(op.destDepth), BigInt(src), BigInt(op.srcDepth), BigInt(op.rights), op.data];
        args.length = Math.max(0, args.length - op.cut);
        const caps = op.cut >= 3 ? [] : [srcRoot];
        expected = m.call(tid, target, op.label, args, caps);
        call(target, op.label, args, caps);
        isCall = true;
        break;
      }
      case 'retype': {
        const target = BigInt(this.choose(tid, op.index, [CapType.Untyped]));
        const root = BigInt(op.root === 0 ? this.choose(tid, 1, [CapType.CNode]) : op.root % 16);
        const offset = op.raw ? op.offset : this.choose(tid, op.offset, [null]);
        const args = [BigInt(op.type), BigInt(op.size), op.depth === 0 ? 0n : root, BigInt(op.depth), BigInt(offset), BigInt(op.count)];
        args.length = Math.max(0, args.length - op.cut);
        expected = m.call(tid, target, InvocationLabel.UntypedRetype, args, [root]);
        call(target, InvocationLabel.UntypedRetype, args, [root]);
        isCall = true;
        break;
      }
      case 'send': {
        const cptr = BigInt(this.choose(tid, op.slot, [CapType.Endpoint, CapType.Notification]));
        expected = m.send(tid, cptr, op.blocking, op.label, op.mr0);
        setWord(REG_A0, cptr);
        t.setReg(REG_A1, msgInfoHi(op.label), msgInfoLo(op.label, 0, 0, 1));
        setWord(REG_A2, op.mr0);
        d.syscall(op.blocking ? Syscall.Send : Syscall.NBSend);
        break;
      }
      case 'recv': {
        const cptr = BigInt(this.choose(tid, op.slot, [CapType.Endpoint, CapType.Notification]));
        expected = m.recv(tid, cptr, op.blocking, op.reply, 0n);
        setWord(REG_A0, cptr);
        setWord(REG_A6, 0n);
        d.syscall(op.reply ? (op.blocking ? Syscall.Recv : Syscall.NBRecv) : op.blocking ? Syscall.Wait : Syscall.NBWait);
        break;
      }
      case 'resume':
        return null;
      case 'badcptr': {
        const cptr = op.cptr | 1n << 63n;
        if (op.syscall === 'recv') {
          expected = m.recv(tid, cptr, true, true, 0n);
          setWord(REG_A0, cptr);
          setWord(REG_A6, 0n);
          d.syscall(Syscall.Recv);
        } else if (op.syscall === 'call') {
          expected = m.call(tid, cptr, InvocationLabel.CNodeDelete, [], []);
          call(cptr, InvocationLabel.CNodeDelete, [], []);
        } else {
          expected = m.send(tid, cptr, op.syscall === 'send', 0, 0n);
          setWord(REG_A0, cptr);
          t.setReg(REG_A1, 0, msgInfoLo(0, 0, 0, 1));
          d.syscall(op.syscall === 'send' ? Syscall.Send : Syscall.NBSend);
        }
        break;
      }
    }
    d.settle();
    if (t.getRegLo(REG_NEXT_IP) === SYSCALL_SITE && k.curThread === t) return 'the kernel restarted the system call (budget)';
    if (isCall && expected.err !== null) {
      const got = msgInfoGetLabel(t.getRegHi(REG_A1), t.getRegLo(REG_A1));
      if (got !== expected.err) return `${describe(op)}: the kernel returned error ${got}, the model ${expected.err}`;
    }
    for (const dl of expected.deliveries) {
      const r = this.threads[dl.tid]!;
      const a0 = (BigInt(r.getRegHi(REG_A0)) << 32n) | BigInt(r.getRegLo(REG_A0));
      if (a0 !== dl.badge) return `${describe(op)}: thread ${dl.tid} received badge ${a0}, the model ${dl.badge}`;
      if (dl.label !== null) {
        const info = [r.getRegHi(REG_A1), r.getRegLo(REG_A1)] as const;
        if (msgInfoGetLabel(info[0], info[1]) !== dl.label || msgInfoGetLength(info[1]) !== 1) {
          return `${describe(op)}: thread ${dl.tid} received label ${msgInfoGetLabel(info[0], info[1])}, the model ${dl.label}`;
        }
        const mr0 = (BigInt(r.getRegHi(REG_A2)) << 32n) | BigInt(r.getRegLo(REG_A2));
        if (mr0 !== dl.mr0) return `${describe(op)}: thread ${dl.tid} received MR0 ${mr0}, the model ${dl.mr0}`;
      }
    }
    return compare(op, ...this.snapshots());
  }
}

export function describe(op: SpecOp): string {
  return JSON.stringify(op, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The first difference between the kernel's and the model's snapshot, or null. */
export function compare(op: SpecOp, real: Snapshot, model: Snapshot): string | null {
  const where = describe(op);
  const keys = new Set([...Object.keys(real.slots), ...Object.keys(model.slots)]);
  for (const key of [...keys].sort()) {
    const a = real.slots[key];
    const b = model.slots[key];
    if (a !== b) return `after ${where}: slot ${key}: kernel ${a ?? 'empty'}; model ${b ?? 'empty'}`;
  }
  if (real.cnodes.join() !== model.cnodes.join()) return `after ${where}: CNodes: kernel ${real.cnodes}; model ${model.cnodes}`;
  if (real.threads.join() !== model.threads.join()) return `after ${where}: threads: kernel ${real.threads}; model ${model.threads}`;
  for (const [what, r, m] of [['endpoint', real.endpoints, model.endpoints], ['notification', real.notifications, model.notifications]] as const) {
    const ks = new Set([...Object.keys(r), ...Object.keys(m)]);
    for (const key of ks) if (r[key] !== m[key]) return `after ${where}: ${what} ${key}: kernel ${r[key] ?? 'none'}; model ${m[key] ?? 'none'}`;
  }
  return null;
}
