/**
 * An abstract model of seL4's (13.0.0, MCS, riscv64) object API, written to
 * be read rather than to be fast: plain Maps keyed by object address,
 * bigints for words, linear scans, no caching of anything derivable.
 *
 * This file holds the model's state, capability addressing and algebra, the
 * derivation tree, object finalisation, the system-call entry points (seL4's
 * handleInvocation / handleRecv and the MCS combined calls) and the CNode and
 * Untyped invocations. The rest is in:
 * - model-ipc.ts: endpoints (Send, Call, Recv with MCS reply objects, call
 *   stacks and scheduling-context donation), notifications (with bound TCBs
 *   and bound SCs), capability transfer, cancellation, suspend/restart;
 * - model-sched.ts: TCB, SchedContext and SchedControl invocations;
 * - model-vspace.ts: Page, PageTable and ASIDPool invocations, page tables.
 *
 * What it covers (the refinement test checks the kernel against exactly this):
 * - CSpaces: CNodes as maps from slot index to cap; capability addressing with
 *   guards, radix and depth (resolveAddressBits, lookupSlotForCNodeOp) and
 *   its errors.
 * - The capability derivation tree as explicit parent pointers plus the
 *   "original" (revocable) flag, updated as seL4's abstract spec does:
 *   cap_insert with should_be_parent_of, move, delete (children move up to
 *   the deleted cap's parent), revoke (all descendants).
 * - Untyped_Retype of every object type; CNode Copy/Mint/Move/Mutate/Delete/
 *   Revoke/CancelBadgedSends; deriveCap, maskCapRights, updateCapData.
 * - Object lifetime: an object is finalised when its last cap goes (caps held
 *   by the environment, outside the model, pin their objects).
 * - All system calls but Yield and NBSendWait: Send, NBSend, Call, Recv,
 *   NBRecv, ReplyRecv, NBSendRecv, Wait, NBWait on endpoints, notifications
 *   and reply objects, with message registers, extra caps and their transfer.
 * - Faults (handleFault): cap faults (failed lookups of the invoked cap, an
 *   extra cap, a Recv's cap or reply cap, with the lookup failure), unknown
 *   system calls, user exceptions and VM faults. With an endpoint cap in its
 *   fault-handler slot the thread sends the fault message there with Call
 *   semantics (to a waiting receiver, or queued); without one it stops. A
 *   handler's reply applies seL4's handleFaultReply (registers written back,
 *   restart or stop); cancelling the faulter's IPC drops its fault.
 * - TCB: ReadRegisters, WriteRegisters, Suspend, Resume, SetPriority,
 *   SetMCPriority, SetSchedParams (with fault handlers),
 *   BindNotification, UnbindNotification, SetTLSBase.
 * - SchedControl_ConfigureFlags; SchedContext Bind, Unbind, UnbindObject,
 *   Consumed, YieldTo (their errors and bindings; time is not modelled).
 * - Page Map/Unmap/GetAddress, PageTable Map/Unmap, ASIDPool_Assign.
 * Not covered: timeout faults and timeout handlers, time
 * (budgets are never exhausted in the refinement world), CNode_Rotate, TCB
 * Configure/SetSpace/SetIPCBuffer/SetTimeoutEndpoint/CopyRegisters,
 * ASIDControl, IRQs, domains, and which runnable thread the scheduler picks.
 */
import {
  CapType,
  Delivery,
  E,
  ERROR_NAMES,
  FAULT,
  FaultRegs,
  FaultReply,
  MFault,
  TCB_FAULT_HANDLER,
  makeCap,
  mask,
  MASIDPool,
  MCap,
  MEndpoint,
  Message,
  MNotification,
  MReply,
  MSchedContext,
  MTCB,
  MSG_MAX_LENGTH,
  NULL_CAP,
  PTE,
  RIGHT_GRANT,
  RIGHT_READ,
  RIGHT_WRITE,
  SlotId,
  slotId,
  StepResult,
  TCB_CTABLE,
  TCB_SLOTS,
  tcbSlotId,
  TState,
  maskVMRights,
  VM_READ_WRITE,
  WORD_BITS,
} from './state.js';
import {
  cancelAllIPC,
  cancelAllSignals,
  cancelIPC,
  cancelBadgedSends,
  doReplyTransfer,
  faultName,
  receiveIPC,
  receiveSignal,
  replyRemove,
  sendIPC,
  sendSignal,
  suspend,
  unbindNotification,
} from './model-ipc.js';
import { decodeSchedContextInvocation, decodeSchedControlInvocation, decodeTCBInvocation, schedContextUnbindAll, schedContextUnbindTCB } from './model-sched.js';
import { decodeArchInvocation, deleteASID, unmapPage, unmapPageTable, findVSpaceForASID } from './model-vspace.js';

export * from './state.js';

const MAX_UNTYPED_BITS = 38;
const MIN_UNTYPED_BITS = 4;
const MIN_SC_BITS = 7;
const FAN_OUT_LIMIT = 256;
const OBJECT_TYPES = 11;
/** seL4_ObjectType values (riscv64): the generic ones, then the arch ones. */
const OBJ = { Untyped: 0, TCB: 1, Endpoint: 2, Notification: 3, CNode: 4, SchedContext: 5, Reply: 6, GigaPage: 7, Page: 8, MegaPage: 9, PageTable: 10 };

/** log2 size of an object of a given seL4_ObjectType (riscv64, MCS). */
function objectBits(type: number, userSize: number): number {
  return [userSize, 10, 4, 6, userSize + 5, userSize, 5, 30, 12, 21, 12][type]!;
}

/** Cap types that name physical memory (seL4's cap_get_capIsPhysical). */
const PHYSICAL = new Set([CapType.Untyped, CapType.Endpoint, CapType.Notification, CapType.CNode, CapType.Thread, CapType.SchedContext, CapType.Reply, CapType.Frame, CapType.PageTable, CapType.ASIDPool]);

/** Size in bits of the memory a cap names. */
function regionBits(c: MCap): number {
  return c.type === CapType.CNode ? c.size + 5 : c.size;
}

export class Model {
  readonly slots = new Map<SlotId, MCap>();
  /** Derivation tree: the parent of each non-empty slot (null: none inside the model). */
  readonly parent = new Map<SlotId, SlotId | null>();
  readonly original = new Map<SlotId, boolean>();
  /** Live CNodes by address, with their radix. */
  readonly cnodes = new Map<number, number>();
  readonly endpoints = new Map<number, MEndpoint>();
  readonly notifications = new Map<number, MNotification>();
  readonly tcbs = new Map<number, MTCB>();
  readonly scs = new Map<number, MSchedContext>();
  readonly replies = new Map<number, MReply>();
  /** Page tables by address: their valid entries by index. */
  readonly pageTables = new Map<number, Map<number, PTE>>();
  /** ASID pools by pool number (the ASID's high bits). */
  readonly asidPools = new Map<number, MASIDPool>();
  /** Objects the environment holds caps to (outside the model): their last model cap is never final. */
  readonly pinned = new Set<string>();

  /** The thread making the current system call. */
  cur = -1;
  /** Messages delivered in the current step. */
  deliveries: Delivery[] = [];
  /** Results of the current invocation (ReadRegisters, GetAddress). */
  replyMRs: (bigint | null)[] | null = null;
  /** Notable things that happened in the current step (coverage counts). */
  events: string[] = [];
  /** Fault replies applied in the current step. */
  faultReplies: FaultReply[] = [];
  /**
   * The FaultIP of the system call being made (set by whoever drives the
   * model: where the calling thread's syscall instruction is); cap faults report it.
   */
  pc = 0n;

  note(e: string): void {
    this.events.push(e);
  }

  cap(s: SlotId): MCap {
    return this.slots.get(s) ?? NULL_CAP;
  }

  tcb(addr: number): MTCB {
    const t = this.tcbs.get(addr);
    if (t === undefined) throw new Error(`model: no TCB at ${addr.toString(16)}`);
    return t;
  }

  sc(addr: number): MSchedContext {
    const s = this.scs.get(addr);
    if (s === undefined) throw new Error(`model: no scheduling context at ${addr.toString(16)}`);
    return s;
  }

  // ------------------------------------------------------------ addressing

  /** seL4's resolveAddressBits: the slot reached and bits left, or null on a lookup fault. */
  resolve(node: MCap, cptr: bigint, n: number): { slot: SlotId; left: number } | null {
    if (node.type !== CapType.CNode) return null;
    for (;;) {
      const levelBits = node.size + node.guardSize;
      if (node.guardSize > n) return null;
      const guard = (cptr >> BigInt(n - node.guardSize)) & mask(node.guardSize);
      if (guard !== node.guard) return null;
      if (levelBits > n) return null;
      const index = Number((cptr >> BigInt(n - levelBits)) & mask(node.size));
      const slot = slotId(node.obj, index);
      n -= levelBits;
      if (n === 0) return { slot, left: 0 };
      const next = this.cap(slot);
      if (next.type !== CapType.CNode) return { slot, left: n };
      node = next;
    }
  }

  /**
   * The lookup failure of a thread's failed lookupSlot(cptr), as the words of
   * seL4's setMRs_lookup_failure: [1] invalid root, [2, bitsLeft] missing
   * capability, [3, bitsLeft, bitsFound] depth mismatch, [4, bitsLeft,
   * guardFound, bitsFound] guard mismatch (guardFound is the CNode's guard,
   * as seL4 reports it). Null if the lookup succeeds.
   */
  lookupFailure(t: number, cptr: bigint): bigint[] | null {
    let node = this.cap(tcbSlotId(t, TCB_CTABLE));
    if (node.type !== CapType.CNode) return [1n];
    let n = WORD_BITS;
    for (;;) {
      const levelBits = node.size + node.guardSize;
      const guard = node.guardSize > n ? null : (cptr >> BigInt(n - node.guardSize)) & mask(node.guardSize);
      if (guard !== node.guard) return [4n, BigInt(n), node.guard, BigInt(node.guardSize)];
      if (levelBits > n) return [3n, BigInt(n), BigInt(levelBits)];
      const index = Number((cptr >> BigInt(n - levelBits)) & mask(node.size));
      n -= levelBits;
      if (n === 0) return null;
      const next = this.cap(slotId(node.obj, index));
      if (next.type !== CapType.CNode) return null;
      node = next;
    }
  }

  /** A thread's own lookup of a cptr (all 64 bits from its CSpace root): seL4's lookupSlot. */
  lookupSlot(t: number, cptr: bigint): SlotId | null {
    const r = this.resolve(this.cap(tcbSlotId(t, TCB_CTABLE)), cptr, WORD_BITS);
    return r === null ? null : r.slot;
  }

  /** lookupSlotForCNodeOp (also lookupTargetSlot): a slot or an error code. */
  cnodeOpSlot(root: MCap, cptr: bigint, depth: bigint): SlotId | number {
    if (root.type !== CapType.CNode) return E.FailedLookup;
    if (depth < 1n || depth > 64n) return E.RangeError;
    const r = this.resolve(root, cptr, Number(depth));
    if (r === null || r.left !== 0) return E.FailedLookup;
    return r.slot;
  }

  // ---------------------------------------------------------- cap algebra

  sameRegion(a: MCap, b: MCap): boolean {
    switch (a.type) {
      case CapType.Null:
        return false;
      case CapType.Untyped:
        return PHYSICAL.has(b.type) && a.obj <= b.obj && b.obj + 2 ** regionBits(b) <= a.obj + 2 ** a.size;
      case CapType.CNode:
        return b.type === CapType.CNode && b.obj === a.obj && b.size === a.size;
      case CapType.Frame:
        return b.type === CapType.Frame && a.obj <= b.obj && b.obj + 2 ** b.size <= a.obj + 2 ** a.size;
      default:
        return b.type === a.type && b.obj === a.obj;
    }
  }

  sameObject(a: MCap, b: MCap): boolean {
    if (a.type === CapType.Untyped) return false;
    if (a.type === CapType.Frame) return b.type === CapType.Frame && a.obj === b.obj && a.size === b.size;
    return this.sameRegion(a, b);
  }

  /** The key of the object a cap names, for the pinned set. */
  static objectKey(c: MCap): string {
    return `${CapType[c.type]}@${c.obj.toString(16)}/${c.size}`;
  }

  /** seL4's isFinalCapability: no other cap (in the model or held by the environment) names the object. */
  isFinal(s: SlotId, c: MCap): boolean {
    if (this.pinned.has(Model.objectKey(c))) return false;
    for (const [k, other] of this.slots) if (k !== s && (this.sameObject(c, other) || this.sameObject(other, c))) return false;
    return true;
  }

  isRevocable(n: MCap, src: MCap): boolean {
    switch (n.type) {
      case CapType.Endpoint:
      case CapType.Notification:
        return n.badge !== src.badge;
      case CapType.Untyped:
        return true;
      default:
        return false;
    }
  }

  /** seL4 abstract spec's should_be_parent_of. */
  shouldBeParentOf(src: MCap, srcOriginal: boolean, n: MCap, nOriginal: boolean): boolean {
    if (!srcOriginal || !this.sameRegion(src, n)) return false;
    if ((src.type === CapType.Endpoint || src.type === CapType.Notification) && src.badge !== 0n) {
      return n.badge === src.badge && !nOriginal;
    }
    return true;
  }

  maskRights(rights: number, c: MCap): MCap {
    switch (c.type) {
      case CapType.Endpoint:
        return { ...c, rights: c.rights & rights & 15 };
      case CapType.Notification:
        return { ...c, rights: c.rights & rights & (RIGHT_READ | RIGHT_WRITE) };
      case CapType.Reply:
        return { ...c, rights: c.rights & rights & RIGHT_GRANT };
      case CapType.Frame:
        return { ...c, rights: maskVMRights(c.rights, rights) };
      default:
        return c;
    }
  }

  /** updateCapData: the new cap, or the null cap if not allowed. */
  updateData(preserve: boolean, data: bigint, c: MCap): MCap {
    switch (c.type) {
      case CapType.Endpoint:
      case CapType.Notification:
        return !preserve && c.badge === 0n ? { ...c, badge: data & mask(64) } : NULL_CAP;
      case CapType.CNode: {
        const guardSize = Number(data & 0x3fn);
        if (guardSize + c.size > WORD_BITS) return NULL_CAP;
        return { ...c, guardSize, guard: (data >> 6n) & mask(guardSize) };
      }
      default:
        return c;
    }
  }

  hasChildren(s: SlotId): boolean {
    for (const p of this.parent.values()) if (p === s) return true;
    return false;
  }

  /**
   * deriveCap: the derived cap (maybe null) or an error. With MCS a reply cap
   * derives like any other cap; a frame copy is unmapped; a page table can
   * only be copied once mapped.
   */
  derive(s: SlotId, c: MCap): MCap | number {
    switch (c.type) {
      case CapType.Untyped:
        return this.hasChildren(s) ? E.RevokeFirst : c;
      case CapType.IRQControl:
      case CapType.Zombie:
        return NULL_CAP;
      case CapType.PageTable:
        return c.mapped === null ? E.IllegalOperation : c;
      case CapType.Frame:
        return { ...c, mapped: null };
      default:
        return c;
    }
  }

  // ------------------------------------------------------- tree updates

  insert(n: MCap, src: SlotId, dest: SlotId): void {
    const srcCap = this.cap(src);
    const orig = this.isRevocable(n, srcCap);
    const parent = this.shouldBeParentOf(srcCap, this.original.get(src) ?? false, n, orig) ? src : this.parent.get(src) ?? null;
    if (srcCap.type === CapType.Untyped && n.type === CapType.Untyped && srcCap.obj === n.obj && srcCap.size === n.size) {
      this.slots.set(src, { ...srcCap, freeIndex: 2 ** srcCap.size });
    }
    this.slots.set(dest, n);
    this.parent.set(dest, parent);
    this.original.set(dest, orig);
  }

  move(n: MCap, src: SlotId, dest: SlotId): void {
    this.slots.set(dest, n);
    this.parent.set(dest, this.parent.get(src) ?? null);
    this.original.set(dest, this.original.get(src) ?? false);
    for (const [k, p] of this.parent) if (p === src) this.parent.set(k, dest);
    this.slots.delete(src);
    this.parent.delete(src);
    this.original.delete(src);
  }

  /** cteDelete: empty the slot (children move up) and finalise the object if this was its last cap. */
  deleteCap(s: SlotId): void {
    const c = this.slots.get(s);
    if (c === undefined) return;
    const final = this.isFinal(s, c);
    const up = this.parent.get(s) ?? null;
    this.slots.delete(s);
    this.parent.delete(s);
    this.original.delete(s);
    for (const [k, p] of this.parent) if (p === s) this.parent.set(k, up);
    this.finalise(c, final);
  }

  /** seL4's finaliseCap: what happens to an object when a cap to it goes (mostly: its last cap). */
  private finalise(c: MCap, final: boolean): void {
    if (final && c.type !== CapType.Untyped) this.note(`final-${CapType[c.type]}`);
    switch (c.type) {
      case CapType.Endpoint:
        if (final) {
          cancelAllIPC(this, c.obj);
          this.endpoints.delete(c.obj);
        }
        return;
      case CapType.Notification:
        if (final) {
          const n = this.notifications.get(c.obj)!;
          if (n.bound !== null) unbindNotification(this, n.bound);
          if (n.sc !== null) {
            this.sc(n.sc).ntfn = null;
            n.sc = null;
          }
          cancelAllSignals(this, c.obj);
          this.notifications.delete(c.obj);
        }
        return;
      case CapType.Reply:
        if (final) {
          const t = this.replies.get(c.obj)!.tcb;
          if (t !== null) {
            // A caller waiting on it loses it (and gets a donated SC back); a receiver stops receiving.
            if (this.tcb(t).state === TState.BlockedOnReply) replyRemove(this, c.obj, t);
            else cancelIPC(this, t);
          }
          this.replies.delete(c.obj);
        }
        return;
      case CapType.CNode: {
        if (!final) return;
        const radix = this.cnodes.get(c.obj);
        if (radix === undefined) return;
        this.cnodes.delete(c.obj);
        for (let i = 0; i < 2 ** radix; i++) this.deleteCap(slotId(c.obj, i));
        return;
      }
      case CapType.Thread: {
        if (!final || !this.tcbs.has(c.obj)) return;
        const t = this.tcb(c.obj);
        unbindNotification(this, c.obj);
        if (t.sc !== null) schedContextUnbindTCB(this, t.sc);
        suspend(this, c.obj);
        this.tcbs.delete(c.obj);
        for (let i = 0; i < TCB_SLOTS; i++) this.deleteCap(tcbSlotId(c.obj, i));
        return;
      }
      case CapType.SchedContext:
        if (final) {
          schedContextUnbindAll(this, c.obj);
          this.scs.delete(c.obj);
        }
        return;
      case CapType.Frame:
        // Every frame cap carries its own mapping: deleting a mapped one unmaps it.
        if (c.mapped !== null) unmapPage(this, c);
        return;
      case CapType.PageTable:
        if (final && c.mapped !== null) {
          if (findVSpaceForASID(this, c.mapped.asid) === c.obj) deleteASID(this, c.mapped.asid, c.obj);
          else unmapPageTable(this, c.mapped.asid, c.mapped.vaddr, c.obj);
        }
        if (final) this.pageTables.delete(c.obj);
        return;
      default:
        return;
    }
  }

  descendants(s: SlotId): SlotId[] {
    const out: SlotId[] = [];
    const walk = (p: SlotId): void => {
      for (const [k, q] of this.parent) {
        if (q === p) {
          out.push(k);
          walk(k);
        }
      }
    };
    walk(s);
    return out;
  }

  revoke(s: SlotId): void {
    for (;;) {
      const d = this.descendants(s);
      if (d.length === 0 || !this.slots.has(s)) return;
      this.deleteCap(d[0]!);
    }
  }

  // ------------------------------------------------------ system calls

  private begin(t: number): void {
    this.cur = t;
    this.deliveries = [];
    this.replyMRs = null;
    this.faultReplies = [];
  }

  private result(err: number | null): StepResult {
    if (err !== null) this.note(err === 0 ? 'ok' : `err:${ERROR_NAMES[err]}`);
    return { err, reply: err === 0 ? this.replyMRs : null, deliveries: this.deliveries, faultReplies: this.faultReplies };
  }

  // -------------------------------------------------------------- faults

  /**
   * seL4's handleFault: if the thread's fault-handler slot holds an endpoint
   * cap, the fault is sent there as a blocking send with Call semantics
   * (sendFaultIPC: the cap's badge and grant rights; the thread's SC may be
   * donated); otherwise the thread stops (handleNoFaultHandler).
   */
  fault(t: number, f: MFault): void {
    const th = this.tcb(t);
    this.note('fault');
    const h = this.cap(tcbSlotId(t, TCB_FAULT_HANDLER));
    if (h.type !== CapType.Endpoint) {
      th.state = TState.Inactive;
      this.note(`fault-${faultName(f.type)}-no-handler`);
      return;
    }
    th.fault = f;
    sendIPC(this, true, false, h.badge, (h.rights & RIGHT_GRANT) !== 0, (h.rights & 8) !== 0, th.sc !== null, t, h.obj, { label: 0, mrs: [], caps: [] });
  }

  /**
   * A cap fault (seL4_Fault_CapFault) on cptr: [FaultIP, cptr, inReceivePhase,
   * lookup failure...]. lookup null: seL4 reports whatever lookup failure it
   * recorded last (lookupReply finding a cap that is not a reply cap), unknown here.
   */
  capFault(t: number, pc: bigint, cptr: bigint, inRecv: boolean, lookup: bigint[] | null): void {
    const head = [pc, cptr & mask(64), inRecv ? 1n : 0n];
    this.fault(t, lookup === null ? { type: FAULT.CapFault, mrs: head, length: null, pc } : { type: FAULT.CapFault, mrs: [...head, ...lookup], length: 3 + lookup.length, pc });
  }

  /** An unknown system call n: [FaultIP, sp, ra, a0..a6, n]. */
  unknownSyscall(t: number, n: bigint, r: FaultRegs): void {
    this.begin(t);
    const mrs = [r.pc, r.sp, r.ra, ...r.a.slice(0, 7), n & mask(64)];
    this.fault(t, { type: FAULT.UnknownSyscall, mrs, length: mrs.length, pc: r.pc });
  }

  /** A user exception (riscv: scause as the number, code 0): [FaultIP, sp, number, code]. */
  userException(t: number, num: bigint, code: bigint, r: FaultRegs): void {
    this.begin(t);
    this.fault(t, { type: FAULT.UserException, mrs: [r.pc, r.sp, num, code], length: 4, pc: r.pc });
  }

  /**
   * A VM fault (riscv64 handleVMFault): [FaultIP, address, prefetch, FSR] with
   * the cause normalised: instruction faults report 1 (prefetch 1), loads 5, stores 7.
   */
  vmFault(t: number, addr: bigint, scause: number, r: FaultRegs): void {
    this.begin(t);
    const instr = scause === 1 || scause === 12;
    const fsr = instr ? 1n : scause === 5 || scause === 13 ? 5n : 7n;
    this.fault(t, { type: FAULT.VMFault, mrs: [r.pc, addr & mask(64), instr ? 1n : 0n, fsr], length: 4, pc: r.pc });
  }

  /** The result of a fault step (nothing is returned to the faulting thread). */
  faultResult(): StepResult {
    return this.result(null);
  }

  /** seL4_Call: invoke a cap and wait for the reply. */
  call(t: number, cptr: bigint, msg: Message): StepResult {
    this.begin(t);
    return this.result(this.handleInvocation(t, cptr, msg, true, true, true, false));
  }

  /** seL4_Send / seL4_NBSend. */
  send(t: number, cptr: bigint, msg: Message, blocking: boolean): StepResult {
    this.begin(t);
    this.handleInvocation(t, cptr, msg, false, blocking, false, false);
    return this.result(null);
  }

  /** seL4_Recv / seL4_NBRecv (canReply, with a reply cap) and seL4_Wait / seL4_NBWait. */
  recv(t: number, cptr: bigint, blocking: boolean, canReply: boolean, replyCptr: bigint): StepResult {
    this.begin(t);
    this.handleRecv(t, cptr, blocking, canReply, replyCptr);
    return this.result(null);
  }

  /** seL4_ReplyRecv: invoke the reply cap (a non-blocking send phase), then Recv with it. */
  replyRecv(t: number, replyCptr: bigint, epCptr: bigint, msg: Message): StepResult {
    this.begin(t);
    this.handleInvocation(t, replyCptr, msg, false, false, true, true);
    this.handleRecv(t, epCptr, true, true, replyCptr);
    return this.result(null);
  }

  /** seL4_NBSendRecv: a non-blocking send to dest (may donate), then Recv with a reply cap. */
  nbSendRecv(t: number, destCptr: bigint, epCptr: bigint, replyCptr: bigint, msg: Message): StepResult {
    this.begin(t);
    this.handleInvocation(t, destCptr, msg, false, false, true, true);
    this.handleRecv(t, epCptr, true, true, replyCptr);
    return this.result(null);
  }

  /**
   * seL4's handleInvocation: look up the cap and the extra caps (a failed
   * lookup is a fault if blocking, else nothing happens), decode and
   * perform. Returns the label of the kernel's reply to a Call, or null.
   */
  private handleInvocation(t: number, cptr: bigint, msg: Message, isCall: boolean, isBlocking: boolean, canDonate: boolean, firstPhase: boolean): number | null {
    const slot = this.lookupSlot(t, cptr);
    if (slot === null) {
      if (isBlocking) this.capFault(t, this.pc, cptr, false, this.lookupFailure(t, cptr));
      return null;
    }
    const extra: SlotId[] = [];
    for (const p of msg.caps) {
      const s = this.lookupSlot(t, p);
      if (s === null) {
        if (isBlocking) this.capFault(t, this.pc, p, false, this.lookupFailure(t, p));
        return null;
      }
      extra.push(s);
    }
    const m: Message = msg.mrs.length > MSG_MAX_LENGTH ? { ...msg, mrs: msg.mrs.slice(0, MSG_MAX_LENGTH) } : msg;
    const status = this.decodeInvocation(t, m, slot, extra, isBlocking, isCall, canDonate, firstPhase);
    if (status !== E.NoError) return isCall ? status : null;
    // Still restarting (not blocked, stopped or faulted): a Call gets the success reply.
    return isCall && this.tcb(t).state === TState.Runnable ? E.NoError : null;
  }

  /** seL4's decodeInvocation: dispatch on the invoked cap's type. */
  private decodeInvocation(t: number, msg: Message, slot: SlotId, extra: SlotId[], block: boolean, call: boolean, canDonate: boolean, firstPhase: boolean): number {
    const c = this.cap(slot);
    switch (c.type) {
      case CapType.Null:
        return E.InvalidCapability;
      case CapType.Endpoint:
        if ((c.rights & RIGHT_WRITE) === 0) return E.InvalidCapability;
        sendIPC(this, block, call, c.badge, (c.rights & RIGHT_GRANT) !== 0, (c.rights & 8) !== 0, canDonate, t, c.obj, msg);
        return E.NoError;
      case CapType.Notification:
        if ((c.rights & RIGHT_WRITE) === 0) return E.InvalidCapability;
        sendSignal(this, c.obj, c.badge);
        return E.NoError;
      case CapType.Reply:
        doReplyTransfer(this, t, c.obj, (c.rights & RIGHT_GRANT) !== 0, msg);
        return E.NoError;
      case CapType.Untyped:
        return this.retype(msg.label, msg.mrs, extra, slot, c);
      case CapType.Frame:
      case CapType.PageTable:
      case CapType.ASIDPool:
        return decodeArchInvocation(this, msg.label, msg.mrs, extra, slot, c, call);
      default:
        break;
    }
    // With MCS, the send phase of ReplyRecv / NBSendRecv may not invoke these.
    if (firstPhase) return E.InvalidCapability;
    switch (c.type) {
      case CapType.CNode:
        return this.cnodeInvocation(msg.label, msg.mrs, extra, c);
      case CapType.Thread:
        return decodeTCBInvocation(this, msg.label, msg.mrs, extra, c, call);
      case CapType.SchedContext:
        return decodeSchedContextInvocation(this, msg.label, extra, c);
      case CapType.SchedControl:
        return decodeSchedControlInvocation(this, msg.label, msg.mrs, extra);
      default:
        throw new Error(`model: invoking a ${CapType[c.type]} cap is outside the model`);
    }
  }

  /** seL4's handleRecv (MCS). */
  private handleRecv(t: number, cptr: bigint, blocking: boolean, canReply: boolean, replyCptr: bigint): void {
    const s = this.lookupSlot(t, cptr);
    if (s === null) return this.capFault(t, this.pc, cptr, true, this.lookupFailure(t, cptr));
    const c = this.cap(s);
    if (c.type === CapType.Endpoint && (c.rights & RIGHT_READ) !== 0) {
      let reply: number | null = null;
      if (canReply) {
        // seL4's lookupReply: the reply register must name a reply cap.
        // A failed lookup reports its lookup failure; a cap of another type reports the last one recorded.
        const r = this.lookupSlot(t, replyCptr);
        if (r === null) return this.capFault(t, this.pc, replyCptr, true, this.lookupFailure(t, replyCptr));
        if (this.cap(r).type !== CapType.Reply) return this.capFault(t, this.pc, replyCptr, true, null);
        reply = this.cap(r).obj;
      }
      receiveIPC(this, t, c.obj, blocking, reply);
      return;
    }
    if (c.type === CapType.Notification && (c.rights & RIGHT_READ) !== 0) {
      const bound = this.notifications.get(c.obj)!.bound;
      if (bound === null || bound === t) {
        receiveSignal(this, t, c.obj, blocking);
        return;
      }
    }
    // Not a cap to receive on: a cap fault with a missing-capability lookup failure, no bits left.
    this.capFault(t, this.pc, cptr, true, [2n, 0n]);
  }

  // -------------------------------------------------- CNode and Untyped

  private cnodeInvocation(label: number, a: readonly bigint[], extra: SlotId[], node: MCap): number {
    const L = { Revoke: 17, Delete: 18, CancelBadgedSends: 19, Copy: 20, Mint: 21, Move: 22, Mutate: 23, Rotate: 24 };
    if (label < L.Revoke || label > L.Rotate) return E.IllegalOperation;
    if (a.length < 2) return E.TruncatedMessage;
    const dest = this.cnodeOpSlot(node, a[0]!, a[1]!);
    if (typeof dest === 'number') return dest;
    if (label >= L.Copy && label <= L.Mutate) {
      if (a.length < 4 || extra.length < 1) return E.TruncatedMessage;
      if (this.slots.has(dest)) return E.DeleteFirst;
      const src = this.cnodeOpSlot(this.cap(extra[0]!), a[2]!, a[3]!);
      if (typeof src === 'number') return src;
      const sc = this.cap(src);
      if (sc.type === CapType.Null) return E.FailedLookup;
      let n: MCap;
      let isMove = false;
      if (label === L.Copy || label === L.Mint) {
        if (a.length < (label === L.Copy ? 5 : 6)) return E.TruncatedMessage;
        let m = this.maskRights(Number(a[4]! & 15n), sc);
        if (label === L.Mint) m = this.updateData(false, a[5]!, m);
        const d = this.derive(src, m);
        if (typeof d === 'number') return d;
        n = d;
      } else if (label === L.Move) {
        n = sc;
        isMove = true;
      } else {
        if (a.length < 5) return E.TruncatedMessage;
        n = this.updateData(true, a[4]!, sc);
        isMove = true;
      }
      if (n.type === CapType.Null) return E.IllegalOperation;
      if (isMove) this.move(n, src, dest);
      else this.insert(n, src, dest);
      return E.NoError;
    }
    if (label === L.Revoke) {
      this.revoke(dest);
      return E.NoError;
    }
    if (label === L.Delete) {
      this.deleteCap(dest);
      return E.NoError;
    }
    if (label === L.CancelBadgedSends) {
      const c = this.cap(dest);
      if (c.type !== CapType.Endpoint || c.rights !== 15) return E.IllegalOperation;
      if (c.badge !== 0n) cancelBadgedSends(this, c.obj, c.badge);
      return E.NoError;
    }
    throw new Error('model: CNode_Rotate is outside the model');
  }

  private retype(label: number, a: readonly bigint[], extra: SlotId[], utSlot: SlotId, ut: MCap): number {
    if (label !== 1) return E.IllegalOperation;
    if (a.length < 6 || extra.length < 1) return E.TruncatedMessage;
    const [type, userSize, nodeIndex, nodeDepth, nodeOffset, nodeWindow] = a as [bigint, bigint, bigint, bigint, bigint, bigint];
    if (type >= BigInt(OBJECT_TYPES)) return E.InvalidArgument;
    if (userSize >= BigInt(WORD_BITS)) return E.RangeError;
    const bits = objectBits(Number(type), Number(userSize));
    if (bits > MAX_UNTYPED_BITS) return E.RangeError;
    if (type === BigInt(OBJ.CNode) && userSize === 0n) return E.InvalidArgument;
    if (type === BigInt(OBJ.Untyped) && userSize < BigInt(MIN_UNTYPED_BITS)) return E.InvalidArgument;
    if (type === BigInt(OBJ.SchedContext) && userSize < BigInt(MIN_SC_BITS)) return E.InvalidArgument;
    let destNode: MCap;
    if (nodeDepth === 0n) {
      destNode = this.cap(extra[0]!);
    } else {
      const s = this.cnodeOpSlot(this.cap(extra[0]!), nodeIndex, nodeDepth);
      if (typeof s === 'number') return s;
      destNode = this.cap(s);
    }
    if (destNode.type !== CapType.CNode) return E.FailedLookup;
    const nodeSize = BigInt(2 ** destNode.size);
    if (nodeOffset > nodeSize - 1n) return E.RangeError;
    if (nodeWindow < 1n || nodeWindow > BigInt(FAN_OUT_LIMIT)) return E.RangeError;
    if (nodeWindow > nodeSize - nodeOffset) return E.RangeError;
    const first = Number(nodeOffset);
    const count = Number(nodeWindow);
    for (let i = first; i < first + count; i++) if (this.slots.has(slotId(destNode.obj, i))) return E.DeleteFirst;
    const reset = !this.hasChildren(utSlot);
    const freeIndex = reset ? 0 : ut.freeIndex;
    const freeBytes = 2 ** ut.size - freeIndex;
    if (Math.floor(freeBytes / 2 ** bits) < count) return E.NotEnoughMemory;
    const base = Math.ceil((ut.obj + freeIndex) / 2 ** bits) * 2 ** bits;
    this.slots.set(utSlot, { ...ut, freeIndex: base + count * 2 ** bits - ut.obj });
    for (let i = 0; i < count; i++) {
      const addr = base + i * 2 ** bits;
      const dest = slotId(destNode.obj, first + i);
      this.slots.set(dest, this.newObject(Number(type), addr, Number(userSize), bits));
      this.parent.set(dest, utSlot);
      this.original.set(dest, true);
    }
    return E.NoError;
  }

  /** seL4's createObject: a fresh object (its memory is zeroed) and the original cap to it. */
  private newObject(type: number, addr: number, userSize: number, bits: number): MCap {
    switch (type) {
      case OBJ.Untyped:
        return makeCap(CapType.Untyped, addr, userSize);
      case OBJ.TCB:
        this.tcbs.set(addr, {
          addr, state: TState.Inactive, on: 0, reply: null, sending: null, prio: 0, mcp: 0, sc: null, ntfn: null,
          rcv: { cnode: 0n, index: 0n, depth: 0n }, hasBuffer: false, regs: new Array<bigint>(32).fill(0n), fault: null,
        });
        return makeCap(CapType.Thread, addr, bits);
      case OBJ.Endpoint:
        this.endpoints.set(addr, { queue: [] });
        return makeCap(CapType.Endpoint, addr, bits, { rights: 15 });
      case OBJ.Notification:
        this.notifications.set(addr, { active: false, word: 0n, queue: [], bound: null, sc: null });
        return makeCap(CapType.Notification, addr, bits, { rights: RIGHT_READ | RIGHT_WRITE });
      case OBJ.CNode:
        this.cnodes.set(addr, userSize);
        return makeCap(CapType.CNode, addr, userSize);
      case OBJ.SchedContext:
        this.scs.set(addr, {
          sizeBits: userSize, tcb: null, ntfn: null, replies: [], configured: false, budget: 0, period: 0, maxRefills: 0, badge: 0n, sporadic: false,
        });
        return makeCap(CapType.SchedContext, addr, bits);
      case OBJ.Reply:
        this.replies.set(addr, { tcb: null });
        return makeCap(CapType.Reply, addr, bits, { rights: RIGHT_GRANT });
      case OBJ.PageTable:
        this.pageTables.set(addr, new Map());
        return makeCap(CapType.PageTable, addr, bits);
      default:
        return makeCap(CapType.Frame, addr, bits, { rights: VM_READ_WRITE });
    }
  }
}
