/**
 * An abstract model of seL4's capability and object API, written to be read
 * rather than to be fast: plain Maps, bigints for words, linear scans.
 *
 * What it covers (the refinement test checks the kernel against exactly this):
 * - CSpaces: CNodes as maps from slot index to cap; capability addressing with
 *   guards, radix and depth (resolveAddressBits, lookupSlotForCNodeOp) and
 *   its errors.
 * - The capability derivation tree as explicit parent pointers (seL4's cdt)
 *   plus the "original" (revocable) flag, updated as seL4's abstract spec
 *   does: cap_insert with should_be_parent_of, move, delete (children move up
 *   to the deleted cap's parent), revoke (all descendants).
 * - Untyped_Retype of every object type (with reset, alignment, the free
 *   index, and every decode error), Copy/Mint/Move/Mutate/Delete/Revoke/
 *   CancelBadgedSends on CNodes with deriveCap, maskCapRights, updateCapData
 *   and setUntypedCapAsFull; InvalidCapability for the null cap.
 * - Object lifetime: an object is finalised when its last cap goes; endpoints
 *   and notifications restart their waiters, CNodes delete their contents.
 * - Endpoints (Send, NBSend, Wait, NBWait: FIFO queues of equal-priority
 *   threads, badge, label and MR0 delivered; Recv/NBRecv, which need a reply
 *   object, only in their cap-fault case) and notifications (Signal, Wait,
 *   Poll, and Recv/NBRecv on them) for a few threads without fault handlers,
 *   where a failed lookup or a receive without read rights stops the thread
 *   (a cap fault with no handler).
 * - TCB_Resume of a thread by the environment (cancel its IPC, restart it).
 * Not covered: Call/Reply on endpoints (reply objects, donation), capability
 *   transfer in IPC, bound notifications, TCB, scheduling-context and VSpace
 *   invocations (caps to TCBs, SCs, frames, page tables and replies are opaque
 *   values here), Rotate, IRQs, priorities and time.
 */
import { CapType } from '../kernel/cap.js';

export type SlotId = string;
export const slotId = (cnode: number, index: number): SlotId => `${cnode.toString(16)}:${index}`;
export const tcbSlotId = (tid: number): SlotId => `tcb${tid}`;

/** A capability as the model sees it: immutable values, new ones for every change. */
export interface MCap {
  readonly type: CapType;
  /** Object (or region) address: the object's identity. */
  readonly obj: number;
  /** Untyped size bits, CNode radix, other objects' size bits. */
  readonly size: number;
  readonly badge: bigint;
  readonly rights: number;
  readonly guard: bigint;
  readonly guardSize: number;
  /** Untyped free index in bytes (mutable only through setFreeIndex). */
  readonly freeIndex: number;
}

export const enum TState {
  Runnable = 'Runnable',
  Inactive = 'Inactive',
  BlockedOnSend = 'BlockedOnSend',
  BlockedOnReceive = 'BlockedOnReceive',
  BlockedOnNotification = 'BlockedOnNotification',
}

export interface MThread {
  /** The slot holding its CSpace root (the TCB's CTable slot). */
  readonly ctable: SlotId;
  state: TState;
  /** Object it is blocked on. */
  on: number;
  /** While BlockedOnSend: the message. */
  badge: bigint;
  label: number;
  mr0: bigint;
}

export interface Endpoint {
  /** Threads waiting, in order; all senders or all receivers. */
  queue: number[];
}
export interface Notification {
  active: boolean;
  word: bigint;
  queue: number[];
}

/** What the receiving thread's registers must hold after a delivery (a0, label, MR0). */
export interface Delivery {
  tid: number;
  badge: bigint;
  label: number | null;
  mr0: bigint | null;
}

export interface StepResult {
  /** The invocation's error code (Call only), or null. */
  err: number | null;
  deliveries: Delivery[];
}

// seL4 constants used by the model (libsel4 constants.h, object-api).
export const E = {
  NoError: 0, InvalidArgument: 1, InvalidCapability: 2, IllegalOperation: 3, RangeError: 4, AlignmentError: 5,
  FailedLookup: 6, TruncatedMessage: 7, DeleteFirst: 8, RevokeFirst: 9, NotEnoughMemory: 10,
} as const;
const WORD_BITS = 64;
const MAX_UNTYPED_BITS = 38;
const MIN_UNTYPED_BITS = 4;
const MIN_SC_BITS = 7;
const FAN_OUT_LIMIT = 256;
const OBJECT_TYPES = 11;
export const RIGHT_WRITE = 1, RIGHT_READ = 2, RIGHT_GRANT = 4, RIGHT_GRANT_REPLY = 8;

export function makeCap(type: CapType, obj: number, size: number, more: Partial<MCap> = {}): MCap {
  return { type, obj, size, badge: 0n, rights: 0, guard: 0n, guardSize: 0, freeIndex: 0, ...more };
}
const NULL_CAP = makeCap(CapType.Null, 0, 0);

/** log2 size of an object of a given seL4_ObjectType (riscv64, MCS). */
function objectBits(type: number, userSize: number): number {
  return [userSize, 10, 4, 6, userSize + 5, userSize, 5, 30, 12, 21, 12][type]!;
}

const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

export class Model {
  readonly slots = new Map<SlotId, MCap>();
  /** Derivation tree: the parent of each non-empty slot (null: none inside the model). */
  readonly parent = new Map<SlotId, SlotId | null>();
  readonly original = new Map<SlotId, boolean>();
  /** Live CNodes by address, with their radix. */
  readonly cnodes = new Map<number, number>();
  readonly endpoints = new Map<number, Endpoint>();
  readonly notifications = new Map<number, Notification>();
  readonly threads: MThread[] = [];

  cap(s: SlotId): MCap {
    return this.slots.get(s) ?? NULL_CAP;
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

  /** A thread's own lookup of a cptr (all 64 bits from its CSpace root). */
  lookupSlot(tid: number, cptr: bigint): SlotId | null {
    const r = this.resolve(this.cap(this.threads[tid]!.ctable), cptr, WORD_BITS);
    return r === null ? null : r.slot;
  }

  /** lookupSlotForCNodeOp: a slot or an error code. */
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
      case CapType.Untyped: {
        if (b.type === CapType.Null) return false;
        const bSize = b.type === CapType.CNode ? b.size + 5 : b.size;
        return a.obj <= b.obj && b.obj + 2 ** bSize <= a.obj + 2 ** a.size;
      }
      case CapType.CNode:
        return b.type === CapType.CNode && b.obj === a.obj && b.size === a.size;
      default:
        return b.type === a.type && b.obj === a.obj;
    }
  }

  sameObject(a: MCap, b: MCap): boolean {
    return a.type !== CapType.Untyped && this.sameRegion(a, b);
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
      case CapType.Frame: {
        const r = (rights & RIGHT_READ) !== 0;
        const w = (rights & RIGHT_WRITE) !== 0;
        const vm = c.rights === 2 && r ? 2 : c.rights === 3 && r ? (w ? 3 : 2) : 1;
        return { ...c, rights: vm };
      }
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

  /** deriveCap: the derived cap (maybe null) or an error. */
  derive(s: SlotId, c: MCap): MCap | number {
    switch (c.type) {
      case CapType.Untyped:
        return this.hasChildren(s) ? E.RevokeFirst : c;
      case CapType.Reply:
      case CapType.IRQControl:
        return NULL_CAP;
      case CapType.PageTable:
        return E.IllegalOperation; // retyped page tables are unmapped
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
    const up = this.parent.get(s) ?? null;
    this.slots.delete(s);
    this.parent.delete(s);
    this.original.delete(s);
    for (const [k, p] of this.parent) if (p === s) this.parent.set(k, up);
    for (const other of this.slots.values()) if (this.sameObject(other, c)) return;
    this.finalise(c);
  }

  private finalise(c: MCap): void {
    switch (c.type) {
      case CapType.Endpoint: {
        const ep = this.endpoints.get(c.obj);
        if (ep !== undefined) for (const t of ep.queue) this.threads[t]!.state = TState.Runnable;
        this.endpoints.delete(c.obj);
        return;
      }
      case CapType.Notification: {
        const n = this.notifications.get(c.obj);
        if (n !== undefined) for (const t of n.queue) this.threads[t]!.state = TState.Runnable;
        this.notifications.delete(c.obj);
        return;
      }
      case CapType.CNode: {
        const radix = this.cnodes.get(c.obj);
        if (radix === undefined) return;
        this.cnodes.delete(c.obj);
        for (let i = 0; i < 2 ** radix; i++) this.deleteCap(slotId(c.obj, i));
        return;
      }
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

  // ---------------------------------------------------------- invocations

  /** seL4_Call on a kernel object: the error (null if the thread took a cap fault instead). */
  call(tid: number, cptr: bigint, label: number, args: bigint[], capPtrs: bigint[]): StepResult {
    const target = this.lookupSlot(tid, cptr);
    if (target === null) return this.fault(tid);
    const extra: SlotId[] = [];
    for (const p of capPtrs) {
      const s = this.lookupSlot(tid, p);
      if (s === null) return this.fault(tid);
      extra.push(s);
    }
    const c = this.cap(target);
    let err: number;
    switch (c.type) {
      case CapType.Null:
        err = E.InvalidCapability;
        break;
      case CapType.CNode:
        err = this.cnodeInvocation(label, args, extra, c);
        break;
      case CapType.Untyped:
        err = this.retype(label, args, extra, target, c);
        break;
      default:
        throw new Error(`model: Call on a ${CapType[c.type]} cap is outside the model`);
    }
    return { err, deliveries: [] };
  }

  private fault(tid: number): StepResult {
    this.threads[tid]!.state = TState.Inactive;
    return { err: null, deliveries: [] };
  }

  private cnodeInvocation(label: number, a: bigint[], extra: SlotId[], node: MCap): number {
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
      if (c.badge !== 0n) {
        const ep = this.endpoints.get(c.obj)!;
        const keep: number[] = [];
        for (const tid of ep.queue) {
          const th = this.threads[tid]!;
          if (th.state === TState.BlockedOnSend && th.badge === c.badge) th.state = TState.Runnable;
          else keep.push(tid);
        }
        ep.queue = keep;
      }
      return E.NoError;
    }
    throw new Error('model: CNode_Rotate is outside the model');
  }

  private retype(label: number, a: bigint[], extra: SlotId[], utSlot: SlotId, ut: MCap): number {
    if (label !== 1) return E.IllegalOperation;
    if (a.length < 6 || extra.length < 1) return E.TruncatedMessage;
    const [type, userSize, nodeIndex, nodeDepth, nodeOffset, nodeWindow] = a as [bigint, bigint, bigint, bigint, bigint, bigint];
    if (type >= BigInt(OBJECT_TYPES)) return E.InvalidArgument;
    if (userSize >= BigInt(WORD_BITS)) return E.RangeError;
    const bits = objectBits(Number(type), Number(userSize));
    if (bits > MAX_UNTYPED_BITS) return E.RangeError;
    if (type === 4n && userSize === 0n) return E.InvalidArgument;
    if (type === 0n && userSize < BigInt(MIN_UNTYPED_BITS)) return E.InvalidArgument;
    if (type === 5n && userSize < BigInt(MIN_SC_BITS)) return E.InvalidArgument;
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

  private newObject(type: number, addr: number, userSize: number, bits: number): MCap {
    switch (type) {
      case 0:
        return makeCap(CapType.Untyped, addr, userSize);
      case 1:
        return makeCap(CapType.Thread, addr, bits);
      case 2:
        this.endpoints.set(addr, { queue: [] });
        return makeCap(CapType.Endpoint, addr, bits, { rights: 15 });
      case 3:
        this.notifications.set(addr, { active: false, word: 0n, queue: [] });
        return makeCap(CapType.Notification, addr, bits, { rights: RIGHT_READ | RIGHT_WRITE });
      case 4:
        this.cnodes.set(addr, userSize);
        return makeCap(CapType.CNode, addr, userSize);
      case 5:
        return makeCap(CapType.SchedContext, addr, bits);
      case 6:
        return makeCap(CapType.Reply, addr, bits, { rights: RIGHT_GRANT });
      case 10:
        return makeCap(CapType.PageTable, addr, bits);
      default:
        return makeCap(CapType.Frame, addr, bits, { rights: 3 });
    }
  }

  /**
   * TCB_Resume of a model thread by the root task (the environment): a blocked
   * or inactive thread has its IPC cancelled and is restarted (seL4's restart).
   */
  resume(tid: number): void {
    const t = this.threads[tid]!;
    if (t.state === TState.Runnable) return;
    if (t.state === TState.BlockedOnSend || t.state === TState.BlockedOnReceive) {
      const ep = this.endpoints.get(t.on)!;
      ep.queue = ep.queue.filter((x) => x !== tid);
    } else if (t.state === TState.BlockedOnNotification) {
      const n = this.notifications.get(t.on)!;
      n.queue = n.queue.filter((x) => x !== tid);
    }
    t.state = TState.Runnable;
  }

  // ------------------------------------------------------------------ IPC

  /** Send / NBSend (Signal on a notification). Errors of a non-Call invocation are not reported. */
  send(tid: number, cptr: bigint, blocking: boolean, label: number, mr0: bigint): StepResult {
    const s = this.lookupSlot(tid, cptr);
    if (s === null) return blocking ? this.fault(tid) : { err: null, deliveries: [] };
    const c = this.cap(s);
    const out: StepResult = { err: null, deliveries: [] };
    if (c.type === CapType.Null) return out;
    if (c.type === CapType.Notification) {
      if ((c.rights & RIGHT_WRITE) === 0) return out;
      const n = this.notifications.get(c.obj)!;
      if (n.queue.length > 0) {
        const w = n.queue.shift()!;
        this.threads[w]!.state = TState.Runnable;
        out.deliveries.push({ tid: w, badge: c.badge, label: null, mr0: null });
      } else if (n.active) {
        n.word |= c.badge;
      } else {
        n.active = true;
        n.word = c.badge;
      }
      return out;
    }
    if (c.type !== CapType.Endpoint) throw new Error(`model: Send to a ${CapType[c.type]} cap is outside the model`);
    if ((c.rights & RIGHT_WRITE) === 0) return out;
    const ep = this.endpoints.get(c.obj)!;
    const head = ep.queue[0];
    if (head !== undefined && this.threads[head]!.state === TState.BlockedOnReceive) {
      ep.queue.shift();
      this.threads[head]!.state = TState.Runnable;
      out.deliveries.push({ tid: head, badge: c.badge, label, mr0 });
    } else if (blocking) {
      const t = this.threads[tid]!;
      Object.assign(t, { state: TState.BlockedOnSend, on: c.obj, badge: c.badge, label, mr0 });
      ep.queue.push(tid);
    }
    return out;
  }

  /**
   * Recv / NBRecv (canReply) and Wait / NBWait (Poll on a notification). With
   * MCS, receiving on an endpoint through Recv needs a reply-object cap in the
   * reply register: anything else is a cap fault (seL4's lookupReply). The
   * model has no reply objects, so only the fault case is in it.
   */
  recv(tid: number, cptr: bigint, blocking: boolean, canReply = false, replyCptr = 0n): StepResult {
    const s = this.lookupSlot(tid, cptr);
    const out: StepResult = { err: null, deliveries: [] };
    if (s === null) return this.fault(tid);
    const c = this.cap(s);
    const t = this.threads[tid]!;
    if (c.type === CapType.Notification && (c.rights & RIGHT_READ) !== 0) {
      const n = this.notifications.get(c.obj)!;
      if (n.active) {
        out.deliveries.push({ tid, badge: n.word, label: null, mr0: null });
        n.active = false;
        n.word = 0n;
      } else if (blocking) {
        Object.assign(t, { state: TState.BlockedOnNotification, on: c.obj });
        n.queue.push(tid);
      } else {
        out.deliveries.push({ tid, badge: 0n, label: null, mr0: null });
      }
      return out;
    }
    if (c.type !== CapType.Endpoint || (c.rights & RIGHT_READ) === 0) return this.fault(tid);
    if (canReply) {
      const r = this.lookupSlot(tid, replyCptr);
      if (r === null || this.cap(r).type !== CapType.Reply) return this.fault(tid);
      throw new Error('model: receiving with a reply object is outside the model');
    }
    const ep = this.endpoints.get(c.obj)!;
    const head = ep.queue[0];
    if (head !== undefined && this.threads[head]!.state === TState.BlockedOnSend) {
      ep.queue.shift();
      const sender = this.threads[head]!;
      sender.state = TState.Runnable;
      out.deliveries.push({ tid, badge: sender.badge, label: sender.label, mr0: sender.mr0 });
    } else if (blocking) {
      Object.assign(t, { state: TState.BlockedOnReceive, on: c.obj });
      ep.queue.push(tid);
    } else {
      out.deliveries.push({ tid, badge: 0n, label: null, mr0: null });
    }
    return out;
  }
}
