/**
 * The abstraction function of the refinement check: the part of a real
 * kernel state the model describes, as a comparable snapshot, and the same
 * snapshot computed from the model. Slots are named by CNode address and
 * index (or tcb<addr>.<i> for a TCB's own slots); objects by address.
 *
 * The scope is everything but the environment: the root task's CNode, TCB
 * and scheduling context (and the idle thread) are left out. Caps the
 * environment holds pin their objects in the model (their last model cap is
 * not final).
 */
import { Cap, CapType } from '../kernel/cap.js';
import type { Kernel } from '../kernel/kernel.js';
import { isMDBParentOf } from '../kernel/mdb.js';
import type { CNode } from '../kernel/object/cnode.js';
import type { Endpoint } from '../kernel/object/endpoint.js';
import { ObjectKind } from '../kernel/object/kobject.js';
import { NotificationState } from '../kernel/object/notification.js';
import type { Notification } from '../kernel/object/notification.js';
import type { Reply } from '../kernel/object/reply.js';
import type { SchedContext } from '../kernel/object/schedcontext.js';
import { TCB, ThreadState } from '../kernel/object/tcb.js';
import type { Slot } from '../kernel/slot.js';
import { IPCBUF_RECEIVE_CNODE, IPCBUF_RECEIVE_DEPTH, IPCBUF_RECEIVE_INDEX } from '../abi/ipcbuffer.js';
import { PTE_R, PTE_V, PTE_W, PTE_X, ptePPNHiLo } from '../machine/sv39.js';
import { Model } from './model.js';
import { hex, MCap, MTCB, PTE, SlotId, slotId, tcbSlotId, TState } from './state.js';

export interface Snapshot {
  /** Slot -> "cap | parent | original", for every non-empty slot in scope. */
  slots: Record<SlotId, string>;
  cnodes: string[];
  /** TCB address -> state, priorities, bindings. */
  tcbs: Record<string, string>;
  endpoints: Record<string, string>;
  notifications: Record<string, string>;
  schedContexts: Record<string, string>;
  replies: Record<string, string>;
  /** Valid entries of the page tables named by caps in scope CNodes. */
  pageTables: Record<string, string>;
  /** ASID -> VSpace root. */
  asids: string[];
}

/** What the abstraction leaves out: the environment (the root task). */
export interface KernelScope {
  rootCNode: CNode;
  rootTCB: TCB;
  rootSC: SchedContext | null;
}

const opt = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : hex(n));

/** A kernel cap as the model's value. */
export function capToModel(c: Cap): MCap {
  const arch = c.type === CapType.Frame || c.type === CapType.PageTable;
  return {
    type: c.type,
    obj: c.paddr,
    size: c.type === CapType.CNode ? c.radix : c.sizeBits,
    badge: c.badge,
    rights: c.rights,
    guard: c.guard,
    guardSize: c.guardSize,
    freeIndex: c.freeIndex,
    mapped: arch && c.isMapped ? { asid: c.mappedASID, vaddr: c.mappedAddr } : null,
    asidBase: c.type === CapType.ASIDPool ? c.word : 0,
  };
}

export function showCap(c: MCap): string {
  let s = `${CapType[c.type]}@${hex(c.obj)}/${c.size}`;
  if (c.type === CapType.Endpoint || c.type === CapType.Notification) s += ` badge=${c.badge} rights=${c.rights}`;
  if (c.type === CapType.Reply || c.type === CapType.Frame) s += ` rights=${c.rights}`;
  if (c.type === CapType.CNode) s += ` guard=${c.guard}/${c.guardSize}`;
  if (c.type === CapType.Untyped) s += ` free=${c.freeIndex}`;
  if (c.mapped !== null) s += ` mapped=${c.mapped.asid}@${hex(c.mapped.vaddr)}`;
  if (c.type === CapType.ASIDPool) s += ` base=${c.asidBase}`;
  return s;
}

function showPTE(i: number, e: PTE): string {
  if ('table' in e) return `${i}:table@${hex(e.table)}`;
  return `${i}:frame@${hex(e.frame)}/${e.read ? 'r' : ''}${e.write ? 'w' : ''}${e.exec ? 'x' : ''}`;
}

function showTCB(state: string, prio: number, mcp: number, sc: number | null, ntfn: number | null): string {
  return `${state} prio=${prio} mcp=${mcp} sc=${opt(sc)} ntfn=${opt(ntfn)}`;
}

function showSC(tcb: number | null, ntfn: number | null, replies: number[], configured: boolean, budget: number, period: number, refills: number, badge: bigint, sporadic: boolean): string {
  const head = `tcb=${opt(tcb)} ntfn=${opt(ntfn)} replies=[${replies.map(hex).join(',')}]`;
  return configured ? `${head} budget=${budget} period=${period} refills=${refills} badge=${badge} sporadic=${sporadic}` : `${head} unconfigured`;
}

function kernelThreadState(t: TCB): string {
  const on = t.blockingObject === null ? 0 : t.blockingObject.paddr;
  switch (t.state) {
    case ThreadState.Running:
    case ThreadState.Restart:
      return TState.Runnable;
    case ThreadState.Inactive:
      return TState.Inactive;
    case ThreadState.BlockedOnSend: {
      const badge = (BigInt(t.blockingBadgeHi) << 32n) | BigInt(t.blockingBadgeLo);
      return `${TState.BlockedOnSend}@${hex(on)} badge=${badge} grant=${+t.blockingCanGrant}${+t.blockingCanGrantReply} call=${+t.blockingIsCall}`;
    }
    case ThreadState.BlockedOnReceive:
      return `${TState.BlockedOnReceive}@${hex(on)} reply=${opt(t.replyObject?.paddr)}`;
    case ThreadState.BlockedOnNotification:
      return `${TState.BlockedOnNotification}@${hex(on)}`;
    case ThreadState.BlockedOnReply:
      return `${TState.BlockedOnReply}@${opt(t.replyObject?.paddr)}`;
    default:
      return ThreadState[t.state];
  }
}

function modelThreadState(t: MTCB): string {
  switch (t.state) {
    case TState.Runnable:
    case TState.Inactive:
      return t.state;
    case TState.BlockedOnSend: {
      const p = t.sending!;
      return `${t.state}@${hex(t.on)} badge=${p.badge} grant=${+p.canGrant}${+p.canGrantReply} call=${+p.isCall}`;
    }
    case TState.BlockedOnReceive:
      return `${t.state}@${hex(t.on)} reply=${opt(t.reply)}`;
    case TState.BlockedOnNotification:
      return `${t.state}@${hex(t.on)}`;
    case TState.BlockedOnReply:
      return `${t.state}@${opt(t.reply)}`;
  }
}

/** The call stack of a kernel SC: its top reply, then down the replyPrev links. */
function kernelCallStack(sc: SchedContext): number[] {
  const out: number[] = [];
  for (let r: Reply | null = sc.reply; r !== null && out.length < 64; r = r.prev) out.push(r.paddr);
  return out;
}

/** Valid entries of a page table in physical memory. */
function kernelPageTable(k: Kernel, pt: number): Map<number, PTE> {
  const out = new Map<number, PTE>();
  for (let i = 0; i < 512; i++) {
    const lo = k.readWordLo(pt + 8 * i);
    if ((lo & PTE_V) === 0) continue;
    const addr = ptePPNHiLo(k.readWordHi(pt + 8 * i), lo) * 4096;
    if ((lo & (PTE_R | PTE_W | PTE_X)) === 0) out.set(i, { table: addr });
    else out.set(i, { frame: addr, read: (lo & PTE_R) !== 0, write: (lo & PTE_W) !== 0, exec: (lo & PTE_X) !== 0 });
  }
  return out;
}

function showPageTable(entries: Map<number, PTE>): string {
  return [...entries].sort((a, b) => a[0] - b[0]).map(([i, e]) => showPTE(i, e)).join(' ');
}

function inScope(k: Kernel, scope: KernelScope): { cnodes: CNode[]; tcbs: TCB[]; scs: SchedContext[] } {
  const cnodes = [...k.cnodes].filter((c) => c !== scope.rootCNode);
  const tcbs = [...k.tcbs].filter((t) => t !== scope.rootTCB && t !== k.idleThread);
  const scs: SchedContext[] = [];
  for (const o of k.objects) if (o.kind === ObjectKind.SchedContext && o !== scope.rootSC && o !== k.idleSC) scs.push(o as SchedContext);
  return { cnodes, tcbs, scs };
}

/** Names of the slots in scope. */
function slotNames(k: Kernel, scope: KernelScope): Map<Slot, SlotId> {
  const { cnodes, tcbs } = inScope(k, scope);
  const name = new Map<Slot, SlotId>();
  for (const cn of cnodes) for (const s of cn.allocatedSlots()) name.set(s, slotId(cn.paddr, s.index));
  for (const t of tcbs) t.slots.forEach((s, i) => name.set(s, tcbSlotId(t.paddr, i)));
  return name;
}

/** Derivation-tree parents, rebuilt from the MDB as cteRevoke sees it (every MDB list walked with a stack of open ancestors). */
function mdbParents(k: Kernel): Map<Slot, Slot | null> {
  const parentOf = new Map<Slot, Slot | null>();
  const all: Slot[] = [];
  for (const cn of k.cnodes) for (const s of cn.allocatedSlots()) if (!s.isEmpty) all.push(s);
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
  return parentOf;
}

/** The page tables named by caps in CNode slots of the scope (a TCB's VSpace slot does not count). */
function scopePageTables(slots: Iterable<[SlotId, MCap]>): number[] {
  const pts = new Set<number>();
  for (const [id, c] of slots) if (c.type === CapType.PageTable && !id.startsWith('tcb')) pts.add(c.obj);
  return [...pts].sort((a, b) => a - b);
}

/** Abstract a real kernel. */
export function abstractKernel(k: Kernel, scope: KernelScope): Snapshot {
  const name = slotNames(k, scope);
  const parentOf = mdbParents(k);
  const slots: Record<SlotId, string> = {};
  const caps: [SlotId, MCap][] = [];
  for (const [s, id] of name) {
    if (s.isEmpty) continue;
    const p = parentOf.get(s) ?? null;
    const pid = p === null ? null : name.get(p) ?? null;
    const c = capToModel(s.cap);
    caps.push([id, c]);
    slots[id] = `${showCap(c)} | parent=${pid ?? '-'} | original=${s.revocable}`;
  }
  const { cnodes, tcbs, scs } = inScope(k, scope);
  const tcbLines: Record<string, string> = {};
  for (const t of tcbs) tcbLines[hex(t.paddr)] = showTCB(kernelThreadState(t), t.priority, t.mcp, t.sc?.paddr ?? null, t.boundNotification?.paddr ?? null);
  const endpoints: Record<string, string> = {};
  const notifications: Record<string, string> = {};
  const replies: Record<string, string> = {};
  for (const o of k.objects) {
    if (o.kind === ObjectKind.Endpoint) {
      const ep = o as Endpoint;
      const q: string[] = [];
      for (let t = ep.queueHead; t !== null; t = t.epNext) q.push(hex(t.paddr));
      endpoints[hex(ep.paddr)] = `[${q.join(',')}]`;
    } else if (o.kind === ObjectKind.Notification) {
      const n = o as Notification;
      const q: string[] = [];
      for (let t = n.queueHead; t !== null; t = t.epNext) q.push(hex(t.paddr));
      const active = n.state === NotificationState.Active;
      notifications[hex(n.paddr)] = `${active ? `active word=${n.word}` : 'inactive'} [${q.join(',')}] bound=${opt(n.boundTCB?.paddr)} sc=${opt(n.sc?.paddr)}`;
    } else if (o.kind === ObjectKind.Reply) {
      const r = o as Reply;
      replies[hex(r.paddr)] = `tcb=${opt(r.tcb?.paddr)}`;
    }
  }
  const schedContexts: Record<string, string> = {};
  for (const sc of scs) {
    const rq = sc.refills;
    const badge = (BigInt(sc.badgeHi) << 32n) | BigInt(sc.badgeLo);
    schedContexts[hex(sc.paddr)] = showSC(sc.tcb?.paddr ?? null, sc.ntfn?.paddr ?? null, kernelCallStack(sc), rq.active, rq.budget, rq.period, rq.maxRefills, badge, sc.sporadic);
  }
  const pageTables: Record<string, string> = {};
  for (const pt of scopePageTables(caps)) pageTables[hex(pt)] = showPageTable(kernelPageTable(k, pt));
  const asids: string[] = [];
  k.asids.pools.forEach((pool, hi) => {
    if (pool === null) return;
    pool.entries.forEach((root, lo) => {
      if (root >= 0) asids.push(`${hi * 512 + lo}:${hex(root)}`);
    });
  });
  return {
    slots,
    cnodes: cnodes.map((c) => `${hex(c.paddr)}/${c.radix}`).sort(),
    tcbs: tcbLines,
    endpoints,
    notifications,
    schedContexts,
    replies,
    pageTables,
    asids,
  };
}

export function abstractModel(m: Model): Snapshot {
  const slots: Record<SlotId, string> = {};
  for (const [id, c] of m.slots) {
    slots[id] = `${showCap(c)} | parent=${m.parent.get(id) ?? '-'} | original=${m.original.get(id) ?? false}`;
  }
  const tcbs: Record<string, string> = {};
  for (const [a, t] of m.tcbs) tcbs[hex(a)] = showTCB(modelThreadState(t), t.prio, t.mcp, t.sc, t.ntfn);
  const endpoints: Record<string, string> = {};
  for (const [a, ep] of m.endpoints) endpoints[hex(a)] = `[${ep.queue.map(hex).join(',')}]`;
  const notifications: Record<string, string> = {};
  for (const [a, n] of m.notifications) {
    notifications[hex(a)] = `${n.active ? `active word=${n.word}` : 'inactive'} [${n.queue.map(hex).join(',')}] bound=${opt(n.bound)} sc=${opt(n.sc)}`;
  }
  const replies: Record<string, string> = {};
  for (const [a, r] of m.replies) replies[hex(a)] = `tcb=${opt(r.tcb)}`;
  const schedContexts: Record<string, string> = {};
  for (const [a, s] of m.scs) schedContexts[hex(a)] = showSC(s.tcb, s.ntfn, s.replies, s.configured, s.budget, s.period, s.maxRefills, s.badge, s.sporadic);
  const pageTables: Record<string, string> = {};
  for (const pt of scopePageTables(m.slots)) pageTables[hex(pt)] = showPageTable(m.pageTables.get(pt) ?? new Map());
  const asids: string[] = [];
  for (const [hi, pool] of [...m.asidPools].sort((a, b) => a[0] - b[0])) {
    for (const [lo, root] of [...pool.entries].sort((a, b) => a[0] - b[0])) asids.push(`${hi * 512 + lo}:${hex(root)}`);
  }
  return {
    slots,
    cnodes: [...m.cnodes].map(([a, r]) => `${hex(a)}/${r}`).sort(),
    tcbs,
    endpoints,
    notifications,
    schedContexts,
    replies,
    pageTables,
    asids,
  };
}

/**
 * Build a model whose abstraction equals the real kernel's (the initial state
 * of a refinement run, in which threads are runnable, inactive or waiting
 * to receive): every object in scope, and the pinned set from the caps
 * outside it.
 */
export function modelFromKernel(k: Kernel, scope: KernelScope): Model {
  const m = new Model();
  const name = slotNames(k, scope);
  const parentOf = mdbParents(k);
  for (const [s, id] of name) {
    if (s.isEmpty) continue;
    m.slots.set(id, capToModel(s.cap));
    const p = parentOf.get(s) ?? null;
    m.parent.set(id, p === null ? null : name.get(p) ?? null);
    m.original.set(id, s.revocable);
  }
  // Caps outside the scope pin their objects.
  const outside: Slot[] = [...scope.rootCNode.allocatedSlots(), ...scope.rootTCB.slots, ...k.irqs.slots];
  for (const s of outside) if (!s.isEmpty) m.pinned.add(Model.objectKey(capToModel(s.cap)));
  const { cnodes, tcbs, scs } = inScope(k, scope);
  for (const cn of cnodes) m.cnodes.set(cn.paddr, cn.radix);
  for (const t of tcbs) {
    const receiving = t.state === ThreadState.BlockedOnReceive;
    if (t.state !== ThreadState.Inactive && t.state !== ThreadState.Running && t.state !== ThreadState.Restart && !receiving) {
      throw new Error(`modelFromKernel: a thread ${ThreadState[t.state]} in the initial state`);
    }
    const buf = k.lookupIPCBuffer(true, t);
    const word = (off: number): bigint => (buf < 0 ? 0n : (BigInt(k.readWordHi(buf + off)) << 32n) | BigInt(k.readWordLo(buf + off)));
    m.tcbs.set(t.paddr, {
      addr: t.paddr,
      state: receiving ? TState.BlockedOnReceive : t.state === ThreadState.Inactive ? TState.Inactive : TState.Runnable,
      on: receiving ? t.blockingObject!.paddr : 0,
      reply: receiving ? t.replyObject?.paddr ?? null : null,
      sending: null,
      prio: t.priority,
      mcp: t.mcp,
      sc: t.sc?.paddr ?? null,
      ntfn: t.boundNotification?.paddr ?? null,
      rcv: { cnode: word(IPCBUF_RECEIVE_CNODE), index: word(IPCBUF_RECEIVE_INDEX), depth: word(IPCBUF_RECEIVE_DEPTH) },
      hasBuffer: buf >= 0,
      regs: null,
      fault: null,
    });
  }
  for (const sc of scs) {
    const rq = sc.refills;
    m.scs.set(sc.paddr, {
      sizeBits: sc.sizeBits,
      tcb: sc.tcb?.paddr ?? null,
      ntfn: sc.ntfn?.paddr ?? null,
      replies: kernelCallStack(sc),
      configured: rq.active,
      budget: rq.budget,
      period: rq.period,
      maxRefills: rq.maxRefills,
      badge: (BigInt(sc.badgeHi) << 32n) | BigInt(sc.badgeLo),
      sporadic: sc.sporadic,
    });
  }
  for (const o of k.objects) {
    if (o.kind === ObjectKind.Endpoint) {
      const queue: number[] = [];
      for (let t = (o as Endpoint).queueHead; t !== null; t = t.epNext) queue.push(t.paddr);
      m.endpoints.set(o.paddr, { queue });
    }
    if (o.kind === ObjectKind.Notification) {
      const n = o as Notification;
      m.notifications.set(n.paddr, { active: n.state === NotificationState.Active, word: n.word, queue: [], bound: n.boundTCB?.paddr ?? null, sc: n.sc?.paddr ?? null });
    }
    if (o.kind === ObjectKind.Reply) m.replies.set(o.paddr, { tcb: (o as Reply).tcb?.paddr ?? null });
  }
  for (const pt of scopePageTables(m.slots)) m.pageTables.set(pt, kernelPageTable(k, pt));
  k.asids.pools.forEach((pool, hi) => {
    if (pool === null) return;
    const entries = new Map<number, number>();
    pool.entries.forEach((root, lo) => {
      if (root >= 0) entries.set(lo, root);
    });
    m.asidPools.set(hi, { obj: pool.paddr, base: pool.asidBase, entries });
  });
  return m;
}
