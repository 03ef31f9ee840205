/**
 * A JSON-serialisable picture of kernel state for viewers (the web view,
 * trace files, tests): threads, CSpaces, the capability derivation tree
 * decoded from the MDB, IPC objects and their queues, untyped memory and
 * VSpace mappings. Everything is plain data: no kernel object escapes, and
 * taking a snapshot never changes kernel state.
 *
 * Identifiers: a kernel object is named "<kind>@0x<paddr>" (kind is tcb, ep,
 * ntfn, reply, cnode, sc or asidpool); a slot is named by its container and
 * index, "cnode@0x80400000[12]", "tcb@0x80401000[ctable]" or "irq[10]".
 * 64-bit words (badges, guards, notification words) are hex strings;
 * addresses and sizes are numbers (exact: physical and user addresses fit in 53 bits).
 */
import { Cap, CapType, RIGHT_GRANT, RIGHT_GRANT_REPLY, RIGHT_READ, RIGHT_WRITE, VMRights } from '../kernel/cap.js';
import type { NodeState } from '../kernel/node.js';
import type { Kernel } from '../kernel/kernel.js';
import { isMDBParentOf } from '../kernel/mdb.js';
import type { KernelObject } from '../kernel/object/kobject.js';
import { ObjectKind } from '../kernel/object/kobject.js';
import type { Endpoint } from '../kernel/object/endpoint.js';
import { EndpointState } from '../kernel/object/endpoint.js';
import type { Notification } from '../kernel/object/notification.js';
import { NotificationState } from '../kernel/object/notification.js';
import type { Reply } from '../kernel/object/reply.js';
import type { SchedContext } from '../kernel/object/schedcontext.js';
import { FaultType, TCB, ThreadState } from '../kernel/object/tcb.js';
import type { Slot } from '../kernel/slot.js';
import { IRQState } from '../kernel/irq.js';
import { ASID_LOW_BITS } from '../kernel/vspace/vspace.js';

/** Names of a TCB's own slots (seL4's tcb_cnode_index, MCS). */
export const TCB_SLOT_NAMES = ['ctable', 'vtable', 'buffer', 'faulthandler', 'timeouthandler'] as const;

export interface CapJSON {
  /** Cap type as seL4 names it (CapType member name). */
  type: string;
  /** Object named, for caps to kernel objects. */
  obj?: string;
  paddr?: number;
  sizeBits?: number;
  /** Rights: subset of "RWG" plus "P" for grant-reply (endpoint/notification/reply); "RW", "R" or "-" for frames. */
  rights?: string;
  badge?: string;
  guard?: string;
  guardSize?: number;
  radix?: number;
  freeIndex?: number;
  isDevice?: boolean;
  mapped?: { vaddr: number; asid: number };
  /** IRQ number (IRQHandler), ASID base (ASIDPool) or core (SchedControl). */
  word?: number;
  /** One-line human-readable description. */
  text: string;
}

export interface SlotJSON {
  index: number;
  /** Slot identifier (see file header). */
  id: string;
  /** seL4 mdbRevocable / mdbFirstBadged. */
  revocable: boolean;
  firstBadged: boolean;
  cap: CapJSON;
}

export interface RefillJSON {
  time: number;
  amount: number;
}

export interface SchedContextJSON {
  id: string;
  /** Sum of refills (ns); 0 if not configured. */
  budget: number;
  /** Period (ns); 0 means round robin (configured with budget == period). */
  period: number;
  roundRobin: boolean;
  sporadic: boolean;
  refills: RefillJSON[];
  consumed: number;
  tcb: number | null;
  ntfn: string | null;
}

export interface ThreadJSON {
  /** TCB.id: stable for the life of the process, used by events. */
  tid: number;
  /** The core the thread runs on (tcbAffinity). */
  affinity: number;
  id: string;
  name: string;
  state: string;
  priority: number;
  mcp: number;
  domain: number;
  isIdle: boolean;
  sc: string | null;
  scBudget: number | null;
  scPeriod: number | null;
  boundNotification: string | null;
  /** Endpoint or notification the thread is blocked on (blocked states only). */
  blockedOn: string | null;
  /** Reply object while BlockedOnReceive (its own) or BlockedOnReply (the one it waits on). */
  reply: string | null;
  fault: string | null;
  inReadyQueue: boolean;
  inReleaseQueue: boolean;
  ipcBuffer: number;
  cpuTime: number;
  syscalls: number;
  slots: SlotJSON[];
}

export interface CNodeJSON {
  id: string;
  paddr: number;
  radix: number;
  /** Non-empty slots only. */
  slots: SlotJSON[];
}

export interface EndpointJSON {
  id: string;
  state: string;
  queue: number[];
}

export interface NotificationJSON {
  id: string;
  state: string;
  word: string;
  queue: number[];
  boundTCB: number | null;
  sc: string | null;
}

export interface ReplyJSON {
  id: string;
  tcb: number | null;
}

export interface UntypedJSON {
  slot: string;
  paddr: number;
  sizeBits: number;
  isDevice: boolean;
  freeIndex: number;
}

export interface MappingJSON {
  /** First slot (in CNode, TCB, IRQ order) holding a cap to this mapping. */
  slot: string;
  /** Number of slots holding a cap to this same mapping (copies in TCB vtable slots, ...). */
  copies: number;
  /** A page table installed as the VSpace root of `asid` (seL4 marks it mapped at address 0). */
  vspaceRoot: boolean;
  type: 'Frame' | 'PageTable';
  paddr: number;
  sizeBits: number;
  vaddr: number;
  asid: number;
  rights: string;
}

export interface IRQJSON {
  irq: number;
  state: string;
  /** The notification cap set by IRQHandler_SetNotification, if any. */
  slot: SlotJSON | null;
}

export interface CapTreeJSON {
  /** Slots with no MDB parent (the roots of derivation trees). */
  roots: string[];
  /** [parent slot, child slot] edges: child is an MDB child of parent (seL4's isMDBParentOf). */
  edges: [string, string][];
  /** Every non-empty slot in MDB order (the depth-first derivation order). */
  order: string[];
}

export interface Snapshot {
  /** Simulated time (ns) the snapshot was taken at. */
  time: number;
  label: string;
  /** Number of events recorded before this snapshot (the trace's event index it precedes). */
  eventIndex: number;
  curThread: number;
  curDomain: number;
  kernelTime: number;
  threads: ThreadJSON[];
  /** Core 0's ready queues (every core's in `cores`). */
  readyQueues: { domain: number; priority: number; threads: number[] }[];
  /** Core 0's release queue. */
  releaseQueue: number[];
  /** Per-core scheduler state; present only on machines with several cores. */
  cores?: { core: number; curThread: number; readyQueues: { domain: number; priority: number; threads: number[] }[]; releaseQueue: number[] }[];
  cnodes: CNodeJSON[];
  capTree: CapTreeJSON;
  endpoints: EndpointJSON[];
  notifications: NotificationJSON[];
  replies: ReplyJSON[];
  schedContexts: SchedContextJSON[];
  untypeds: UntypedJSON[];
  mappings: MappingJSON[];
  irqs: IRQJSON[];
}

const KIND_NAMES: Record<ObjectKind, string> = {
  [ObjectKind.TCB]: 'tcb',
  [ObjectKind.Endpoint]: 'ep',
  [ObjectKind.Notification]: 'ntfn',
  [ObjectKind.Reply]: 'reply',
  [ObjectKind.CNode]: 'cnode',
  [ObjectKind.SchedContext]: 'sc',
  [ObjectKind.ASIDPool]: 'asidpool',
};

const hex = (n: number): string => '0x' + n.toString(16);
const hex64 = (hi: number, lo: number): string => '0x' + ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16);

export function objectId(o: KernelObject): string {
  return `${KIND_NAMES[o.kind]}@${hex(o.paddr)}`;
}

export function slotId(s: Slot): string {
  const o = s.owner;
  if (o === null) return `irq[${s.index}]`;
  if (o.kind === ObjectKind.TCB) return `${objectId(o)}[${TCB_SLOT_NAMES[s.index] ?? s.index}]`;
  return `${objectId(o)}[${s.index}]`;
}

function capRights(c: Cap): string {
  let r = '';
  if (c.rights & RIGHT_READ) r += 'R';
  if (c.rights & RIGHT_WRITE) r += 'W';
  if (c.rights & RIGHT_GRANT) r += 'G';
  if (c.rights & RIGHT_GRANT_REPLY) r += 'P';
  return r === '' ? '-' : r;
}

function vmRights(c: Cap): string {
  switch (c.rights as VMRights) {
    case VMRights.ReadWrite:
      return 'RW';
    case VMRights.ReadOnly:
      return 'R';
    default:
      return '-';
  }
}

/** The cap as plain data, with only the fields meaningful for its type. */
export function capToJSON(c: Cap): CapJSON {
  const type = CapType[c.type] ?? `cap${c.type}`;
  const out: CapJSON = { type, text: '' };
  if (c.obj !== null) out.obj = objectId(c.obj);
  switch (c.type) {
    case CapType.Untyped:
      out.paddr = c.paddr;
      out.sizeBits = c.sizeBits;
      out.freeIndex = c.freeIndex;
      out.isDevice = c.isDevice;
      out.text = `untyped ${hex(c.paddr)} 2^${c.sizeBits}${c.isDevice ? ' device' : ''} free@${hex(c.freeIndex)}`;
      break;
    case CapType.Endpoint:
    case CapType.Notification:
      out.paddr = c.paddr;
      out.rights = capRights(c);
      out.badge = hex64(c.badgeHi, c.badgeLo);
      out.text = `${c.type === CapType.Endpoint ? 'ep' : 'ntfn'} ${hex(c.paddr)} ${out.rights}${c.hasBadge() ? ' badge ' + out.badge : ''}`;
      break;
    case CapType.Reply:
      out.paddr = c.paddr;
      out.rights = capRights(c);
      out.text = `reply ${hex(c.paddr)} ${out.rights}`;
      break;
    case CapType.CNode:
      out.paddr = c.paddr;
      out.radix = c.radix;
      out.guard = hex64(c.guardHi, c.guardLo);
      out.guardSize = c.guardSize;
      out.text = `cnode ${hex(c.paddr)} radix ${c.radix} guard ${out.guard}/${c.guardSize}`;
      break;
    case CapType.Thread:
    case CapType.Zombie:
      out.paddr = c.paddr;
      out.text = `${type.toLowerCase()} ${c.obj !== null && c.obj.kind === ObjectKind.TCB ? (c.obj as TCB).name : hex(c.paddr)}`;
      break;
    case CapType.SchedContext:
      out.paddr = c.paddr;
      out.sizeBits = c.sizeBits;
      out.text = `sc ${hex(c.paddr)} 2^${c.sizeBits}`;
      break;
    case CapType.Frame:
    case CapType.PageTable:
      out.paddr = c.paddr;
      out.sizeBits = c.type === CapType.Frame ? c.sizeBits : 12;
      if (c.type === CapType.Frame) {
        out.rights = vmRights(c);
        out.isDevice = c.isDevice;
      }
      if (c.isMapped) out.mapped = { vaddr: c.mappedAddr, asid: c.mappedASID };
      out.text =
        `${c.type === CapType.Frame ? 'frame' : 'pt'} ${hex(c.paddr)}` +
        (c.type === CapType.Frame ? ` 2^${c.sizeBits} ${out.rights}` : '') +
        (c.isMapped ? ` @${hex(c.mappedAddr)} asid ${c.mappedASID}` : ' unmapped');
      break;
    case CapType.ASIDPool:
      out.paddr = c.paddr;
      out.word = c.word;
      out.text = `asidpool ${hex(c.paddr)} base ${c.word}`;
      break;
    case CapType.IRQHandler:
      out.word = c.word;
      out.text = `irqhandler ${c.word}`;
      break;
    case CapType.SchedControl:
      out.word = c.word;
      out.text = `schedcontrol core ${c.word}`;
      break;
    default:
      out.text = type.toLowerCase();
  }
  return out;
}

function slotToJSON(s: Slot): SlotJSON {
  return { index: s.index, id: slotId(s), revocable: s.revocable, firstBadged: s.firstBadged, cap: capToJSON(s.cap) };
}

/** Follow a TCB queue (endpoint/notification epNext, ready/release schedNext), bounded against corrupt links. */
function tcbList(head: TCB | null, next: (t: TCB) => TCB | null, bound: number): number[] {
  const out: number[] = [];
  for (let t = head; t !== null && out.length <= bound; t = next(t)) out.push(t.id);
  return out;
}

/**
 * Decode the MDB into derivation-tree edges. The MDB lists every slot in
 * depth-first derivation order; a slot's children are the run of following
 * slots it isMDBParentOf. Walking each list from its head with a stack of
 * ancestors recovers each slot's nearest parent.
 */
export function capTree(slots: Iterable<Slot>): CapTreeJSON {
  const roots: string[] = [];
  const edges: [string, string][] = [];
  const order: string[] = [];
  const seen = new Set<Slot>();
  const heads: Slot[] = [];
  const all: Slot[] = [];
  for (const s of slots) {
    if (s.isEmpty) continue;
    all.push(s);
    if (s.mdbPrev === null) heads.push(s);
  }
  // Slots whose list has no head among the known slots (should not happen) are still walked.
  const walk = (head: Slot): void => {
    const stack: Slot[] = [];
    for (let s: Slot | null = head; s !== null && !seen.has(s); s = s.mdbNext) {
      seen.add(s);
      while (stack.length > 0 && !isMDBParentOf(stack[stack.length - 1]!, s)) stack.pop();
      const id = slotId(s);
      order.push(id);
      if (stack.length === 0) roots.push(id);
      else edges.push([slotId(stack[stack.length - 1]!), id]);
      stack.push(s);
    }
  };
  for (const h of heads) walk(h);
  for (const s of all) if (!seen.has(s)) walk(s);
  return { roots, edges, order };
}

/** Whether the ASID table names paddr as the VSpace root of asid (riscvKSASIDTable / ASID pool entry). */
function isVSpaceRoot(k: Kernel, asid: number, paddr: number): boolean {
  const pool = k.asids.pools[Math.floor(asid / 2 ** ASID_LOW_BITS)] ?? null;
  if (pool === null) return false;
  const i = asid % 2 ** ASID_LOW_BITS;
  return i < pool.entries.length && pool.entries[i] === paddr;
}

function scToJSON(sc: SchedContext): SchedContextJSON {
  const q = sc.refills;
  const refills: RefillJSON[] = [];
  if (q.active) for (let i = 0; i < q.refillSize(); i++) refills.push({ time: q.timeAt(i), amount: q.amountAt(i) });
  return {
    id: objectId(sc),
    budget: q.budget,
    period: q.period,
    roundRobin: q.active && q.isRoundRobin(),
    sporadic: q.isSporadic(),
    refills,
    consumed: sc.consumed,
    tcb: sc.tcb === null ? null : sc.tcb.id,
    ntfn: sc.ntfn === null ? null : objectId(sc.ntfn),
  };
}

function threadToJSON(k: Kernel, t: TCB): ThreadJSON {
  const sc = t.sc;
  // The blocking fields are only meaningful in a blocked state (seL4 leaves them stale otherwise).
  const blocked =
    t.state === ThreadState.BlockedOnSend || t.state === ThreadState.BlockedOnReceive || t.state === ThreadState.BlockedOnNotification;
  return {
    tid: t.id,
    affinity: t.affinity,
    id: objectId(t),
    name: t.name,
    state: ThreadState[t.state] ?? String(t.state),
    priority: t.priority,
    mcp: t.mcp,
    domain: t.domain,
    isIdle: k.nodes.some((n) => n.idleThread === t),
    sc: sc === null ? null : objectId(sc),
    scBudget: sc === null ? null : sc.refills.budget,
    scPeriod: sc === null ? null : sc.refills.period,
    boundNotification: t.boundNotification === null ? null : objectId(t.boundNotification),
    blockedOn: blocked && t.blockingObject !== null ? objectId(t.blockingObject) : null,
    reply: (t.state === ThreadState.BlockedOnReceive || t.state === ThreadState.BlockedOnReply) && t.replyObject !== null ? objectId(t.replyObject) : null,
    fault: t.fault.type === FaultType.NullFault ? null : (FaultType[t.fault.type] ?? String(t.fault.type)),
    inReadyQueue: t.inReadyQueue,
    inReleaseQueue: t.inReleaseQueue,
    ipcBuffer: t.ipcBuffer,
    cpuTime: t.cpuTime,
    syscalls: t.syscalls,
    slots: t.slots.filter((s) => !s.isEmpty).map(slotToJSON),
  };
}

/** Take a snapshot of the kernel's state. `time` is the machine's clock; `eventIndex` the trace position. */
export function takeSnapshot(k: Kernel, time: number, label = '', eventIndex = 0): Snapshot {
  const bound = k.tcbs.size + 1;
  const byAddr = <T extends KernelObject>(a: T, b: T) => a.paddr - b.paddr;
  const tcbs = [...k.tcbs];
  for (let c = k.nodes.length - 1; c >= 0; c--) {
    const idle = k.nodes[c]!.idleThread;
    if (!k.tcbs.has(idle)) tcbs.unshift(idle);
  }
  const allSlots: Slot[] = [];
  const cnodes: CNodeJSON[] = [];
  for (const cn of [...k.cnodes].sort(byAddr)) {
    const slots: SlotJSON[] = [];
    for (const s of cn.slots) {
      allSlots.push(s);
      if (!s.isEmpty) slots.push(slotToJSON(s));
    }
    cnodes.push({ id: objectId(cn), paddr: cn.paddr, radix: cn.radix, slots });
  }
  for (const t of tcbs) for (const s of t.slots) allSlots.push(s);
  for (const s of k.irqs.slots) allSlots.push(s);

  const endpoints: EndpointJSON[] = [];
  const notifications: NotificationJSON[] = [];
  const replies: ReplyJSON[] = [];
  const schedContexts: SchedContextJSON[] = [];
  for (const o of [...k.objects].sort(byAddr)) {
    switch (o.kind) {
      case ObjectKind.Endpoint: {
        const e = o as Endpoint;
        endpoints.push({ id: objectId(e), state: EndpointState[e.state] ?? String(e.state), queue: tcbList(e.queueHead, (t) => t.epNext, bound) });
        break;
      }
      case ObjectKind.Notification: {
        const n = o as Notification;
        notifications.push({
          id: objectId(n),
          state: NotificationState[n.state] ?? String(n.state),
          word: hex64(n.wordHi, n.wordLo),
          queue: tcbList(n.queueHead, (t) => t.epNext, bound),
          boundTCB: n.boundTCB === null ? null : n.boundTCB.id,
          sc: n.sc === null ? null : objectId(n.sc),
        });
        break;
      }
      case ObjectKind.Reply: {
        const r = o as Reply;
        replies.push({ id: objectId(r), tcb: r.tcb === null ? null : r.tcb.id });
        break;
      }
      case ObjectKind.SchedContext:
        schedContexts.push(scToJSON(o as SchedContext));
        break;
      default:
        break;
    }
  }

  const untypeds: UntypedJSON[] = [];
  const mappings: MappingJSON[] = [];
  const mapped = new Map<string, MappingJSON>();
  for (const s of allSlots) {
    const c = s.cap;
    if (c.type === CapType.Untyped) {
      untypeds.push({ slot: slotId(s), paddr: c.paddr, sizeBits: c.sizeBits, isDevice: c.isDevice, freeIndex: c.freeIndex });
    } else if ((c.type === CapType.Frame || c.type === CapType.PageTable) && c.isMapped) {
      const type = c.type === CapType.Frame ? 'Frame' : 'PageTable';
      const sizeBits = c.type === CapType.Frame ? c.sizeBits : 12;
      const key = `${type}:${c.mappedASID}:${c.mappedAddr}:${c.paddr}:${sizeBits}`;
      const seen = mapped.get(key);
      if (seen !== undefined) {
        seen.copies++;
        continue;
      }
      const m: MappingJSON = {
        slot: slotId(s),
        copies: 1,
        vspaceRoot: c.type === CapType.PageTable && isVSpaceRoot(k, c.mappedASID, c.paddr),
        type,
        paddr: c.paddr,
        sizeBits,
        vaddr: c.mappedAddr,
        asid: c.mappedASID,
        rights: c.type === CapType.Frame ? vmRights(c) : '-',
      };
      mapped.set(key, m);
      mappings.push(m);
    }
  }
  mappings.sort((a, b) => a.asid - b.asid || a.vaddr - b.vaddr || a.sizeBits - b.sizeBits);

  const irqs: IRQJSON[] = [];
  for (let i = 0; i < k.irqs.state.length; i++) {
    const st = k.irqs.state[i]!;
    const s = k.irqs.slots[i];
    if (st === IRQState.Inactive && (s === undefined || s.isEmpty)) continue;
    irqs.push({ irq: i, state: IRQState[st] ?? String(st), slot: s === undefined || s.isEmpty ? null : slotToJSON(s) });
  }

  const np = k.config.numPriorities;
  const queuesOf = (n: NodeState): Snapshot['readyQueues'] => {
    const out: Snapshot['readyQueues'] = [];
    for (let q = 0; q < n.readyHead.length; q++) {
      const h = n.readyHead[q] ?? null;
      if (h === null) continue;
      out.push({ domain: Math.floor(q / np), priority: q % np, threads: tcbList(h, (t) => t.schedNext, bound) });
    }
    return out;
  };
  const node0 = k.nodes[0]!;
  const readyQueues = queuesOf(node0);
  const cores =
    k.nodes.length === 1
      ? undefined
      : k.nodes.map((n) => ({
          core: n.core,
          curThread: n.curThread.id,
          readyQueues: queuesOf(n),
          releaseQueue: tcbList(n.releaseHead, (t) => t.schedNext, bound),
        }));

  return {
    time,
    label,
    eventIndex,
    curThread: node0.curThread.id,
    curDomain: k.curDomain,
    kernelTime: k.curTime,
    threads: tcbs.sort((a, b) => a.id - b.id).map((t) => threadToJSON(k, t)),
    readyQueues,
    releaseQueue: tcbList(node0.releaseHead, (t) => t.schedNext, bound),
    ...(cores === undefined ? {} : { cores }),
    cnodes,
    capTree: capTree(allSlots),
    endpoints,
    notifications,
    replies,
    schedContexts,
    untypeds,
    mappings,
    irqs,
  };
}
