/**
 * The abstraction function of the refinement check: the part of a real
 * kernel state the model describes, as a comparable snapshot, and the same
 * snapshot computed from the model. Slots are named by CNode address and
 * index (or tcb<i> for a thread's CSpace-root slot); objects by address.
 */
import { Cap, CapType } from '../kernel/cap.js';
import type { Kernel } from '../kernel/kernel.js';
import { isMDBParentOf } from '../kernel/mdb.js';
import type { CNode } from '../kernel/object/cnode.js';
import { EndpointState } from '../kernel/object/endpoint.js';
import type { Endpoint } from '../kernel/object/endpoint.js';
import { ObjectKind } from '../kernel/object/kobject.js';
import { NotificationState } from '../kernel/object/notification.js';
import type { Notification } from '../kernel/object/notification.js';
import { TCB, TCB_CTABLE, ThreadState } from '../kernel/object/tcb.js';
import type { Slot } from '../kernel/slot.js';
import { MCap, Model, slotId, SlotId, tcbSlotId, TState } from './model.js';

export interface Snapshot {
  /** Slot -> "cap | parent | original", for every non-empty slot in scope. */
  slots: Record<SlotId, string>;
  cnodes: string[];
  threads: string[];
  endpoints: Record<string, string>;
  notifications: Record<string, string>;
}

const hex = (n: number): string => n.toString(16);

export function showCap(type: CapType, obj: number, size: number, badge: bigint, rights: number, guard: bigint, guardSize: number, freeIndex: number): string {
  let s = `${CapType[type]}@${hex(obj)}/${size}`;
  if (type === CapType.Endpoint || type === CapType.Notification) s += ` badge=${badge} rights=${rights}`;
  if (type === CapType.Reply || type === CapType.Frame) s += ` rights=${rights}`;
  if (type === CapType.CNode) s += ` guard=${guard}/${guardSize}`;
  if (type === CapType.Untyped) s += ` free=${freeIndex}`;
  return s;
}

function showRealCap(c: Cap): string {
  const size = c.type === CapType.CNode ? c.radix : c.sizeBits;
  return showCap(c.type, c.paddr, size, c.badge, c.rights, c.guard, c.guardSize, c.freeIndex);
}

function showModelCap(c: MCap): string {
  return showCap(c.type, c.obj, c.size, c.badge, c.rights, c.guard, c.guardSize, c.freeIndex);
}

function threadState(st: ThreadState, on: number): string {
  switch (st) {
    case ThreadState.Running:
    case ThreadState.Restart:
      return TState.Runnable;
    case ThreadState.BlockedOnSend:
      return `${TState.BlockedOnSend}@${hex(on)}`;
    case ThreadState.BlockedOnReceive:
      return `${TState.BlockedOnReceive}@${hex(on)}`;
    case ThreadState.BlockedOnNotification:
      return `${TState.BlockedOnNotification}@${hex(on)}`;
    default:
      return ThreadState[st];
  }
}

/**
 * Abstract a real kernel: the slots of every live CNode but `rootCNode`, the
 * CSpace-root slots of `threads`, their derivation-tree parents within that
 * scope (rebuilt from the MDB as cteRevoke sees it), endpoints, notifications
 * and thread states.
 */
export function abstractKernel(k: Kernel, rootCNode: CNode, threads: TCB[]): Snapshot {
  const name = new Map<Slot, SlotId>();
  for (const cn of k.cnodes) {
    if (cn === rootCNode) continue;
    cn.slots.forEach((s, i) => name.set(s, slotId(cn.paddr, i)));
  }
  threads.forEach((t, i) => name.set(t.slots[TCB_CTABLE]!, tcbSlotId(i)));
  // Parents: walk every MDB list with a stack of open ancestors.
  const parentOf = new Map<Slot, Slot | null>();
  const all: Slot[] = [];
  for (const cn of k.cnodes) for (const s of cn.slots) if (!s.isEmpty) all.push(s);
  for (const t of k.tcbs) for (const s of t.slots) if (!s.isEmpty) all.push(s);
  for (const s of k.irqs.slots) if (!s.isEmpty) all.push(s);
  for (const head of all) {
    if (head.mdbPrev !== null) continue;
    const stack: Slot[] = [];
    for (let s: Slot | null = head; s !== null; s = s.mdbNext) {
      while (stack.length > 0 && !isMDBParentOf(stack[stack.length - 1]!, s)) stack.pop();
      parentOf.set(s, stack.length > 0 ? stack[stack.length - 1]! : null);
      stack.push(s);
    }
  }
  const slots: Record<SlotId, string> = {};
  for (const [s, id] of name) {
    if (s.isEmpty) continue;
    const p = parentOf.get(s) ?? null;
    const pid = p === null ? null : name.get(p) ?? null;
    slots[id] = `${showRealCap(s.cap)} | parent=${pid ?? '-'} | original=${s.revocable}`;
  }
  const cnodes = [...k.cnodes].filter((c) => c !== rootCNode).map((c) => `${hex(c.paddr)}/${c.radix}`).sort();
  const tid = (t: TCB): number => threads.indexOf(t);
  const endpoints: Record<string, string> = {};
  const notifications: Record<string, string> = {};
  for (const o of k.objects) {
    if (o.kind === ObjectKind.Endpoint) {
      const ep = o as Endpoint;
      const q: number[] = [];
      for (let t = ep.queueHead; t !== null; t = t.epNext) q.push(tid(t));
      endpoints[hex(ep.paddr)] = `${ep.state === EndpointState.Idle ? 'idle' : 'queue'} [${q.join(',')}]`;
    } else if (o.kind === ObjectKind.Notification) {
      const n = o as Notification;
      const q: number[] = [];
      for (let t = n.queueHead; t !== null; t = t.epNext) q.push(tid(t));
      const active = n.state === NotificationState.Active;
      notifications[hex(n.paddr)] = `${active ? `active word=${n.word}` : 'inactive'} [${q.join(',')}]`;
    }
  }
  const ths = threads.map((t) => threadState(t.state, t.blockingObject?.paddr ?? 0));
  return { slots, cnodes, threads: ths, endpoints, notifications };
}

export function abstractModel(m: Model): Snapshot {
  const slots: Record<SlotId, string> = {};
  for (const [id, c] of m.slots) {
    slots[id] = `${showModelCap(c)} | parent=${m.parent.get(id) ?? '-'} | original=${m.original.get(id) ?? false}`;
  }
  const cnodes = [...m.cnodes].map(([a, r]) => `${hex(a)}/${r}`).sort();
  const endpoints: Record<string, string> = {};
  for (const [a, ep] of m.endpoints) endpoints[hex(a)] = `${ep.queue.length === 0 ? 'idle' : 'queue'} [${ep.queue.join(',')}]`;
  const notifications: Record<string, string> = {};
  for (const [a, n] of m.notifications) notifications[hex(a)] = `${n.active ? `active word=${n.word}` : 'inactive'} [${n.queue.join(',')}]`;
  const threads = m.threads.map((t) => (t.state === TState.Runnable || t.state === TState.Inactive ? t.state : `${t.state}@${hex(t.on)}`));
  return { slots, cnodes, threads, endpoints, notifications };
}

/** Build a model whose abstraction equals the real kernel's (the initial state of a refinement run). */
export function modelFromKernel(k: Kernel, rootCNode: CNode, threads: TCB[]): Model {
  const m = new Model();
  const snap = abstractKernel(k, rootCNode, threads);
  const name = new Map<SlotId, Cap>();
  for (const cn of k.cnodes) {
    if (cn === rootCNode) continue;
    m.cnodes.set(cn.paddr, cn.radix);
    cn.slots.forEach((s, i) => name.set(slotId(cn.paddr, i), s.cap));
  }
  threads.forEach((t, i) => name.set(tcbSlotId(i), t.slots[TCB_CTABLE]!.cap));
  for (const [id, line] of Object.entries(snap.slots)) {
    const c = name.get(id)!;
    const size = c.type === CapType.CNode ? c.radix : c.sizeBits;
    m.slots.set(id, { type: c.type, obj: c.paddr, size, badge: c.badge, rights: c.rights, guard: c.guard, guardSize: c.guardSize, freeIndex: c.freeIndex });
    const parent = /parent=(\S+)/.exec(line)![1]!;
    m.parent.set(id, parent === '-' ? null : parent);
    m.original.set(id, line.endsWith('original=true'));
  }
  for (const o of k.objects) {
    if (o.kind === ObjectKind.Endpoint) m.endpoints.set(o.paddr, { queue: [] });
    if (o.kind === ObjectKind.Notification) m.notifications.set(o.paddr, { active: false, word: 0n, queue: [] });
  }
  threads.forEach((_, i) => m.threads.push({ ctable: tcbSlotId(i), state: TState.Runnable, on: 0, badge: 0n, label: 0, mr0: 0n }));
  return m;
}
