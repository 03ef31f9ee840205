/**
 * One pass over every capability the kernel can reach, shared by the
 * capability, MDB and VSpace invariants. It notes which objects the kernel
 * registers, collects the non-empty slots, walks each MDB list once
 * (rebuilding the derivation tree with a stack, as cteRevoke sees it through
 * isMDBParentOf), and records the first violation it finds for each invariant
 * it serves.
 *
 * The pass runs after every kernel entry, so it is written for speed and
 * allocates nothing once warm: objects and the other things a cap can name
 * are given dense indices in an open-addressing table (IdentityTable) whose
 * entries are stamped with the scan's epoch, so nothing is cleared between
 * scans; per-identity facts (registered, named, run of caps closed) are
 * flags in typed arrays. Mapped frame and page-table caps go into a second
 * such table (MappingTable) keyed by (ASID, virtual page, table?).
 *
 * Most kernel entries change no capability at all. A clean scan is therefore
 * reused, as long as nothing it read can have changed: no write to any slot,
 * cap or object liveness since (the capability-state generation, capgen.ts,
 * counts every such write) and the same registries and slot arrays (compared
 * element by element). That is the same state, so the same outcome; see
 * "reusing a scan" below. Inside checkInvariants the scan (or the check that
 * it can be reused) happens once per kernel entry.
 */
import { Cap, CapType, capIsPhysical, sameObjectAs } from '../cap.js';
import type { Kernel } from '../kernel.js';
import { isMDBParentOf } from '../mdb.js';
import type { CNode } from '../object/cnode.js';
import { KernelObject, ObjectKind } from '../object/kobject.js';
import type { TCB } from '../object/tcb.js';
import type { Slot } from '../slot.js';
import { capStateGeneration } from '../capgen.js';
import { batchToken } from './batch.js';
import { ObjScan, objScan } from './objscan.js';
import { hex, objName, slotName } from './violation.js';

/** 2^i for i in 0..64 (a table: `2 ** x` with a variable exponent is slow on V8's hot paths). */
export const POW2 = new Float64Array(65).map((_, i) => 2 ** i);

// ------------------------------------------------------ per-type tables

/** Number of entries of the per-CapType tables (every CapType value is below it). */
const N_CAP_TYPES = 32;

/** The ObjectKind a cap of each type must name, or -1 for caps that name no KernelObject. */
const WANT_KIND = new Int8Array(N_CAP_TYPES).fill(-1);
WANT_KIND[CapType.Endpoint] = ObjectKind.Endpoint;
WANT_KIND[CapType.Notification] = ObjectKind.Notification;
WANT_KIND[CapType.Reply] = ObjectKind.Reply;
WANT_KIND[CapType.CNode] = ObjectKind.CNode;
WANT_KIND[CapType.Thread] = ObjectKind.TCB;
WANT_KIND[CapType.SchedContext] = ObjectKind.SchedContext;
WANT_KIND[CapType.ASIDPool] = ObjectKind.ASIDPool;

/** The shared null cap that empty slots hold. */
const NULL_CAP = Cap.NULL;

/** 1 for the cap types that name physical memory: the kernel's own capIsPhysical, tabulated. */
const PHYSICAL = new Uint8Array(N_CAP_TYPES);
for (let t = 0; t < N_CAP_TYPES; t++) PHYSICAL[t] = capIsPhysical(new Cap(t as CapType, null, 0, 0)) ? 1 : 0;

/** Size in bytes of the region a physical cap names. */
function regionBytes(c: Cap): number {
  return POW2[c.type === CapType.CNode ? c.radix + 5 : c.sizeBits]!;
}

/**
 * isMDBParentOf(a, b) with the untyped and frame cases (region containment,
 * the most common in a walk) computed inline; every other case is the
 * kernel's own function.
 */
function parentOf(a: Slot, b: Slot): boolean {
  const ac = a.cap;
  if (ac.type === CapType.Untyped) {
    if (!a.revocable) return false;
    const bc = b.cap;
    if (PHYSICAL[bc.type] === 0) return false;
    const bb = bc.paddr;
    return ac.paddr <= bb && bb + regionBytes(bc) <= ac.paddr + POW2[ac.sizeBits]!;
  }
  if (ac.type === CapType.Frame) {
    const bc = b.cap;
    if (!a.revocable || bc.type !== CapType.Frame) return false;
    return ac.paddr <= bc.paddr && bc.paddr + POW2[bc.sizeBits]! <= ac.paddr + POW2[ac.sizeBits]!;
  }
  return isMDBParentOf(a, b);
}

// ------------------------------------------------- identities of objects

/**
 * What a cap names, for sameObjectAs runs: its KernelObject if it has one;
 * else frames by (address, size), page tables by address and IRQ handlers by
 * IRQ; other caps (untyped, control caps) never share an object.
 * numericTag gives the kind of an object-less identity (-1: none).
 */
const TAG_PAGE_TABLE = 100;
const TAG_IRQ_HANDLER = 101;
function numericTag(c: Cap): number {
  switch (c.type) {
    case CapType.Frame:
      return c.sizeBits;
    case CapType.PageTable:
      return TAG_PAGE_TABLE;
    case CapType.IRQHandler:
      return TAG_IRQ_HANDLER;
    default:
      return -1;
  }
}
function numericAddr(c: Cap): number {
  return c.type === CapType.IRQHandler ? c.word : c.paddr;
}

/** a and b name the same identity (in the sense above). */
function sameIdentity(a: Cap, b: Cap): boolean {
  const ao = a.obj;
  const bo = b.obj;
  if (ao !== null || bo !== null) return ao === bo;
  const t = numericTag(a);
  return t === numericTag(b) && (t < 0 || numericAddr(a) === numericAddr(b));
}

/** Hash of (an address or number, a tag) to `bits` bits (Fibonacci hashing of both 32-bit halves). */
function hashKey(addr: number, tag: number, bits: number): number {
  const lo = addr >>> 0;
  const hi = (addr / 4294967296) | 0;
  return Math.imul((lo >>> 3) ^ (lo << 17) ^ hi ^ Math.imul(tag, 0x27d4eb2d), 0x9e3779b1) >>> (32 - bits);
}

// Flags of an identity.
/** The object is in k.objects. */
const REGISTERED = 1;
/** The object is in k.tcbs. */
const IN_TCBS = 2;
/** The object is in k.cnodes. */
const IN_CNODES = 4;
/** Some cap in a scanned slot names it. */
const NAMED = 8;

/**
 * Dense indices for the identities caps name, by open addressing with linear
 * probing. An entry belongs to the current scan iff its stamp is the epoch,
 * so starting a scan is one increment.
 */
class IdentityTable {
  bits = 8;
  epoch = 1;
  /** Entries of the current epoch. */
  used = 0;
  stamp = new Int32Array(1 << 8);
  /** The object (null: an object-less identity given by addr and tag). */
  obj: (KernelObject | null)[] = new Array<KernelObject | null>(1 << 8).fill(null);
  addr = new Float64Array(1 << 8);
  tag = new Int32Array(1 << 8);
  flags = new Int32Array(1 << 8);
  /** The epoch in which the MDB walk ended a run of caps to this identity. */
  closed = new Int32Array(1 << 8);

  reset(): void {
    this.used = 0;
    if (++this.epoch > 0x3fffffff) {
      this.stamp.fill(0);
      this.closed.fill(0);
      this.epoch = 1;
    }
  }

  /** Drop the references stale entries hold (when scans move to another kernel). */
  forget(): void {
    this.obj.fill(null);
  }

  /** Make room for `more` insertions without growing (indices stay valid meanwhile). */
  reserve(more: number): void {
    while (2 * (this.used + more) > 1 << this.bits) this.grow();
  }

  /** Index of object o, entered with no flags if new. */
  ofObject(o: KernelObject): number {
    return this.ofObjectAt(o, o.paddr);
  }

  /** The same, given o.paddr (read by the caller at a load site that knows o's class). */
  ofObjectAt(o: KernelObject, paddr: number): number {
    const mask = (1 << this.bits) - 1;
    let h = hashKey(paddr, -1, this.bits);
    for (;;) {
      if (this.stamp[h] !== this.epoch) return this.enter(h, o, paddr, -1);
      if (this.obj[h] === o) return h;
      h = (h + 1) & mask;
    }
  }

  /** Index of the object-less identity (addr, tag), entered if new. */
  ofNumber(addr: number, tag: number): number {
    const mask = (1 << this.bits) - 1;
    let h = hashKey(addr, tag, this.bits);
    for (;;) {
      if (this.stamp[h] !== this.epoch) return this.enter(h, null, addr, tag);
      if (this.obj[h] === null && this.addr[h] === addr && this.tag[h] === tag) return h;
      h = (h + 1) & mask;
    }
  }

  private enter(h: number, o: KernelObject | null, addr: number, tag: number): number {
    if (2 * (this.used + 1) > 1 << this.bits) {
      this.grow();
      return o !== null ? this.ofObjectAt(o, addr) : this.ofNumber(addr, tag);
    }
    this.used++;
    this.stamp[h] = this.epoch;
    this.obj[h] = o;
    this.addr[h] = addr;
    this.tag[h] = tag;
    this.flags[h] = 0;
    this.closed[h] = 0;
    return h;
  }

  /** Double the capacity, re-entering the current epoch's entries. */
  private grow(): void {
    const { stamp, obj, addr, tag, flags, closed, epoch } = this;
    const n = 1 << ++this.bits;
    this.stamp = new Int32Array(n);
    this.obj = new Array<KernelObject | null>(n).fill(null);
    this.addr = new Float64Array(n);
    this.tag = new Int32Array(n);
    this.flags = new Int32Array(n);
    this.closed = new Int32Array(n);
    this.used = 0;
    for (let i = 0; i < stamp.length; i++) {
      if (stamp[i] !== epoch) continue;
      const o = obj[i] ?? null;
      const j = o !== null ? this.ofObjectAt(o, addr[i]!) : this.ofNumber(addr[i]!, tag[i]!);
      this.flags[j] = flags[i]!;
      this.closed[j] = closed[i]!;
    }
  }
}

/** Index of the identity cap c names, or -1 for caps that never share an object. */
function identityOf(ids: IdentityTable, c: Cap): number {
  const o = c.obj;
  if (o !== null) return ids.ofObjectAt(o, objPaddr(c.type, o));
  const t = numericTag(c);
  return t < 0 ? -1 : ids.ofNumber(numericAddr(c), t);
}

// ----------------------------------------------------- recorded mappings

/**
 * The mappings frame and page-table caps record, by (ASID, virtual page,
 * page table?), as open addressing with linear probing; several caps may
 * record one key (each is its own entry). Epoch-stamped like IdentityTable.
 */
class MappingTable {
  bits = 6;
  epoch = 1;
  used = 0;
  stamp = new Int32Array(1 << 6);
  asid = new Float64Array(1 << 6);
  vpn = new Float64Array(1 << 6);
  isTable = new Uint8Array(1 << 6);
  cap: (Cap | null)[] = new Array<Cap | null>(1 << 6).fill(null);

  reset(): void {
    this.used = 0;
    if (++this.epoch > 0x3fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
  }

  /** Drop the references stale entries hold (when scans move to another kernel). */
  forget(): void {
    this.cap.fill(null);
  }

  /** Record that cap c (a mapped frame or page table) maps (asid, vaddr). */
  add(c: Cap, asid: number, vaddr: number, isTable: boolean): void {
    if (2 * (this.used + 1) > 1 << this.bits) this.grow();
    this.put(c, asid, Math.floor(vaddr / 4096), isTable ? 1 : 0);
  }

  /** A cap recording (asid, vaddr, isTable) that names the memory at paddr, or null. */
  find(asid: number, vaddr: number, isTable: boolean, paddr: number): Cap | null {
    const vpn = Math.floor(vaddr / 4096);
    const t = isTable ? 1 : 0;
    const mask = (1 << this.bits) - 1;
    let h = hashKey(vpn, asid * 2 + t, this.bits);
    while (this.stamp[h] === this.epoch) {
      if (this.vpn[h] === vpn && this.asid[h] === asid && this.isTable[h] === t) {
        const c = this.cap[h]!;
        if (c.paddr === paddr) return c;
      }
      h = (h + 1) & mask;
    }
    return null;
  }

  private put(c: Cap, asid: number, vpn: number, t: number): void {
    const mask = (1 << this.bits) - 1;
    let h = hashKey(vpn, asid * 2 + t, this.bits);
    while (this.stamp[h] === this.epoch) h = (h + 1) & mask;
    this.used++;
    this.stamp[h] = this.epoch;
    this.asid[h] = asid;
    this.vpn[h] = vpn;
    this.isTable[h] = t;
    this.cap[h] = c;
  }

  /** Double the capacity, re-entering the current epoch's entries. */
  private grow(): void {
    const { stamp, cap, asid, vpn, isTable, epoch } = this;
    const n = 1 << ++this.bits;
    this.stamp = new Int32Array(n);
    this.asid = new Float64Array(n);
    this.vpn = new Float64Array(n);
    this.isTable = new Uint8Array(n);
    this.cap = new Array<Cap | null>(n).fill(null);
    this.used = 0;
    for (let i = 0; i < stamp.length; i++) if (stamp[i] === epoch) this.put(cap[i]!, asid[i]!, vpn[i]!, isTable[i]!);
  }
}

// ------------------------------------------------------------- the scan

export class CapScan {
  /** Non-empty slots of live CNodes, TCBs and the IRQ node; `n` of them are valid. */
  readonly slots: Slot[] = [];
  n = 0;
  /** The non-empty slots with no MDB predecessor (list heads); `nHeads` of them are valid. */
  readonly heads: Slot[] = [];
  nHeads = 0;
  readonly ids = new IdentityTable();
  readonly mappings = new MappingTable();
  // First violation found per invariant (null: holds).
  capsNameLiveObjects: string | null = null;
  objectsHaveCaps: string | null = null;
  mdbWellFormed: string | null = null;
  mdbObjectRuns: string | null = null;
  capsInsideUntyped: string | null = null;
  untypedObjectsDisjoint: string | null = null;

  /** A mapped cap recording (asid, vaddr, isTable) that names the memory at paddr, or null. */
  findMapping(asid: number, vaddr: number, isTable: boolean, paddr: number): Cap | null {
    return this.mappings.find(asid, vaddr, isTable, paddr);
  }

  /** No invariant this scan serves is violated. */
  clean(): boolean {
    return (
      this.capsNameLiveObjects === null &&
      this.objectsHaveCaps === null &&
      this.mdbWellFormed === null &&
      this.mdbObjectRuns === null &&
      this.capsInsideUntyped === null &&
      this.untypedObjectsDisjoint === null
    );
  }
}

const scan = new CapScan();
/** The kernel and batch the scan was last computed for (see batch.ts). */
let cachedFor: Kernel | null = null;
let cachedBatch = -1;

export function capScan(k: Kernel): CapScan {
  const b = batchToken();
  if (b >= 0 && b === cachedBatch && cachedFor === k) return scan;
  const reg = objScan(k);
  if (!stillCurrent(k, reg)) {
    runScan(k, scan, reg);
    remember(k, reg, scan);
  }
  cachedFor = k;
  cachedBatch = b;
  return scan;
}

// ------------------------------------------------------ reusing a scan

/*
 * A scan reads only: the slots of the CNodes, TCBs and IRQ node and, through
 * them, the caps and the kernel objects those name (fields of Slot and Cap,
 * and an object's `live` flag, plus fields declared readonly: a slot's owner
 * and index, an object's kind, address and size, a CNode's radix and slot
 * storage); and the registries k.objects, k.tcbs and k.cnodes, with the TCBs'
 * and IRQ node's slot arrays. A write to anything of the first kind counts in
 * the capability-state generation (capgen.ts); the registries and slot
 * arrays are compared. If nothing differs the state the scan read is the very
 * same, and so is its outcome: a clean scan is reused as it is.
 */
let memoKernel: Kernel | null = null;
let memoGeneration = -1;
let memoRegistry = -1;
/** The slots of every TCB's slot array and of the IRQ node, in order; and each array's length. */
const memoFixedSlots: Slot[] = [];
const memoFixedLengths: number[] = [];

function remember(k: Kernel, reg: ObjScan, sc: CapScan): void {
  if (!sc.clean()) {
    memoKernel = null;
    return;
  }
  memoKernel = k;
  memoGeneration = capStateGeneration[0]!;
  memoRegistry = reg.version;
  memoFixedSlots.length = 0;
  memoFixedLengths.length = 0;
  const tcbs = reg.tcbs;
  for (let i = 0; i < tcbs.length; i++) rememberSlots(tcbs[i]!.slots);
  rememberSlots(k.irqs.slots);
}

function rememberSlots(a: readonly Slot[]): void {
  memoFixedLengths.push(a.length);
  for (let i = 0; i < a.length; i++) memoFixedSlots.push(a[i]!);
}

/** The last scan was clean and read exactly the state there is now. */
function stillCurrent(k: Kernel, reg: ObjScan): boolean {
  if (memoKernel !== k || memoGeneration !== capStateGeneration[0] || memoRegistry !== reg.version) return false;
  const tcbs = reg.tcbs;
  let j = 0;
  for (let i = 0; i < tcbs.length; i++) {
    j = sameSlots(tcbs[i]!.slots, i, j);
    if (j < 0) return false;
  }
  return sameSlots(k.irqs.slots, tcbs.length, j) >= 0;
}

/** Slot array `a`, the n-th remembered, holds the slots remembered from index j; returns the next j, or -1. */
function sameSlots(a: readonly Slot[], n: number, j: number): number {
  if (a.length !== memoFixedLengths[n]) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== memoFixedSlots[j + i]) return -1;
  return j + a.length;
}

// ------------------------------------------------------------ slot pass

/** Why a non-null cap does not name a live object of its type, or null (the exact check, with messages). */
function capObjectProblem(k: Kernel, c: Cap): string | null {
  const o = c.obj;
  const want = WANT_KIND[c.type]!;
  if (c.type === CapType.Zombie) return 'a zombie cap survived a kernel entry';
  if (want < 0) return o === null ? null : `a ${CapType[c.type]} cap names object ${objName(o)}`;
  if (o === null) return 'names no object';
  if (o.kind !== want) return `names ${objName(o)}, not a ${ObjectKind[want]}`;
  if (!o.live || !k.objects.has(o)) return `names deleted object ${objName(o)}`;
  if (o.paddr !== c.paddr) return `address ${hex(c.paddr)} differs from its object's ${hex(o.paddr)}`;
  if (want === ObjectKind.TCB && !k.tcbs.has(o as TCB)) return 'names a TCB missing from the TCB registry';
  if (want === ObjectKind.CNode) {
    if (!k.cnodes.has(o as CNode)) return 'names a CNode missing from the CNode registry';
    if ((o as CNode).radix !== c.radix) return `radix ${c.radix} differs from the CNode's ${(o as CNode).radix}`;
  }
  return null;
}

function emptySlotProblem(s: Slot): string | null {
  if (s.mdbPrev !== null || s.mdbNext !== null) return `empty slot ${slotName(s)} has MDB links`;
  if (s.revocable || s.firstBadged) return `empty slot ${slotName(s)} has MDB flags set`;
  return null;
}

/*
 * Reading a KernelObject's fields. Each kind of object is its own class, so
 * one load site meeting every kind is megamorphic for V8 (a slow generic
 * lookup). The readers below switch on the cap's type first: each case is its
 * own load site and, in a valid state, meets only the class the cap type
 * implies. They read exactly `o.paddr`, `o.kind` and `o.live`.
 */
function objPaddr(t: CapType, o: KernelObject): number {
  switch (t) {
    case CapType.Endpoint:
      return o.paddr;
    case CapType.Notification:
      return o.paddr;
    case CapType.Reply:
      return o.paddr;
    case CapType.CNode:
      return o.paddr;
    case CapType.Thread:
      return o.paddr;
    case CapType.SchedContext:
      return o.paddr;
    case CapType.ASIDPool:
      return o.paddr;
    default:
      return o.paddr;
  }
}
function objKind(t: CapType, o: KernelObject): number {
  switch (t) {
    case CapType.Endpoint:
      return o.kind;
    case CapType.Notification:
      return o.kind;
    case CapType.Reply:
      return o.kind;
    case CapType.CNode:
      return o.kind;
    case CapType.Thread:
      return o.kind;
    case CapType.SchedContext:
      return o.kind;
    case CapType.ASIDPool:
      return o.kind;
    default:
      return o.kind;
  }
}
function objLive(t: CapType, o: KernelObject): boolean {
  switch (t) {
    case CapType.Endpoint:
      return o.live;
    case CapType.Notification:
      return o.live;
    case CapType.Reply:
      return o.live;
    case CapType.CNode:
      return o.live;
    case CapType.Thread:
      return o.live;
    case CapType.SchedContext:
      return o.live;
    case CapType.ASIDPool:
      return o.live;
    default:
      return o.live;
  }
}

/**
 * Record a non-empty slot: note it (and whether it heads an MDB list), mark
 * the object its cap names, and check that object; note a recorded mapping.
 */
function collect(k: Kernel, sc: CapScan, s: Slot, c: Cap): void {
  sc.slots[sc.n++] = s;
  if (s.mdbPrev === null) sc.heads[sc.nHeads++] = s;
  const o = c.obj;
  const t = c.type;
  // Whether c certainly names a live object of its type; if not, capObjectProblem decides (and words the report).
  let fine: boolean;
  if (o !== null) {
    const paddr = objPaddr(t, o);
    const ids = sc.ids;
    const i = ids.ofObjectAt(o, paddr);
    const f = (ids.flags[i]! |= NAMED);
    const want = WANT_KIND[t]!;
    fine = want >= 0 && paddr === c.paddr && objKind(t, o) === want && objLive(t, o) && (f & REGISTERED) !== 0;
    if (fine && want === ObjectKind.TCB) fine = (f & IN_TCBS) !== 0;
    else if (fine && want === ObjectKind.CNode) fine = (f & IN_CNODES) !== 0 && (o as CNode).radix === c.radix;
  } else {
    fine = t !== CapType.Zombie && WANT_KIND[t]! < 0;
  }
  if (!fine && sc.capsNameLiveObjects === null) {
    const p = capObjectProblem(k, c);
    if (p !== null) sc.capsNameLiveObjects = `${slotName(s)}: ${p}`;
  }
  if (c.isMapped && (t === CapType.Frame || t === CapType.PageTable)) {
    sc.mappings.add(c, c.mappedASID, c.mappedAddr, t === CapType.PageTable);
  }
}

/** Visit every slot of an array: check the empty ones, collect the others. */
function scanArray(k: Kernel, sc: CapScan, slots: readonly Slot[]): void {
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    const c = s.cap;
    // Most slots are empty and hold the shared null cap.
    if (c === NULL_CAP || c.type === CapType.Null) {
      if (s.mdbPrev !== null || s.mdbNext !== null || s.revocable || s.firstBadged) sc.mdbWellFormed ??= emptySlotProblem(s);
    } else {
      collect(k, sc, s, c);
    }
  }
}

/** The same, for the slots of a large CNode (created on first use, kept in a map). */
function scanIterable(k: Kernel, sc: CapScan, slots: Iterable<Slot>): void {
  for (const s of slots) {
    const c = s.cap;
    if (c.type === CapType.Null) {
      if (s.mdbPrev !== null || s.mdbNext !== null || s.revocable || s.firstBadged) sc.mdbWellFormed ??= emptySlotProblem(s);
    } else {
      collect(k, sc, s, c);
    }
  }
}

/** The kernel last scanned. */
let scannedKernel: Kernel | null = null;

function runScan(k: Kernel, sc: CapScan, reg: ObjScan): void {
  if (k !== scannedKernel) {
    // Entries of old epochs still point at the previous kernel's objects and caps: let them go.
    scannedKernel = k;
    sc.ids.forget();
    sc.mappings.forget();
    sc.slots.length = 0;
    sc.heads.length = 0;
  }
  sc.n = 0;
  sc.nHeads = 0;
  sc.ids.reset();
  sc.mappings.reset();
  sc.capsNameLiveObjects = null;
  sc.objectsHaveCaps = null;
  sc.mdbWellFormed = null;
  sc.mdbObjectRuns = null;
  sc.capsInsideUntyped = null;
  sc.untypedObjectsDisjoint = null;
  const ids = sc.ids;
  // The registries: what capsNameLiveObjects asks of every object a cap names.
  const objects = reg.objects;
  for (let i = 0; i < objects.length; i++) {
    const x = ids.ofObject(objects[i]!);
    ids.flags[x]! |= REGISTERED;
  }
  const tcbs = reg.tcbs;
  for (let i = 0; i < tcbs.length; i++) {
    const t = tcbs[i]!;
    const x = ids.ofObjectAt(t, t.paddr);
    ids.flags[x]! |= IN_TCBS;
  }
  const cnodes = reg.cnodes;
  for (let i = 0; i < cnodes.length; i++) {
    const cn = cnodes[i]!;
    const x = ids.ofObjectAt(cn, cn.paddr);
    ids.flags[x]! |= IN_CNODES;
  }
  // Every slot of every CNode (those created so far, for large ones), TCB and the IRQ node.
  for (let i = 0; i < cnodes.length; i++) {
    const slots = cnodes[i]!.allocatedSlots();
    if (Array.isArray(slots)) scanArray(k, sc, slots as Slot[]);
    else scanIterable(k, sc, slots);
  }
  for (let i = 0; i < tcbs.length; i++) scanArray(k, sc, tcbs[i]!.slots);
  scanArray(k, sc, k.irqs.slots);
  walkMDB(k, sc);
  // objectsHaveCaps: every registered object is named by some cap, and live.
  for (let i = 0; i < objects.length && sc.objectsHaveCaps === null; i++) {
    const o = objects[i]!;
    if ((ids.flags[ids.ofObject(o)]! & NAMED) === 0) sc.objectsHaveCaps = `${objName(o)} is alive but no cap names it`;
    else if (!o.live) sc.objectsHaveCaps = `${objName(o)} is registered but finalised`;
  }
}

// ------------------------------------------------------------- MDB walk

/**
 * A slot reached through MDB links belongs to a live CNode or TCB, or the IRQ
 * node (that live objects are the registered ones is checked by
 * capsNameLiveObjects and objectsHaveCaps).
 */
function registered(k: Kernel, s: Slot): boolean {
  const o = s.owner;
  if (o === null) return k.irqs.slots[s.index] === s;
  if (o.kind === ObjectKind.CNode) return o.live && (o as CNode).slots[s.index] === s;
  if (o.kind === ObjectKind.TCB) return o.live && (o as TCB).slots[s.index] === s;
  return false;
}

// Derivation-tree stack: the open ancestors of the slot being visited (grown on demand).
let stSlot: (Slot | null)[] = new Array<Slot | null>(64).fill(null);
/** Index in the stack of the nearest untyped at or below each level (-1: none). */
let stUt = new Int32Array(64);
/** For untyped levels: lowest start address among the direct children seen so far, and the last such child. */
let stLow = new Float64Array(64);
let stLast: (Slot | null)[] = new Array<Slot | null>(64).fill(null);

function growStack(): void {
  const n = stUt.length * 2;
  const ut = new Int32Array(n);
  ut.set(stUt);
  const low = new Float64Array(n);
  low.set(stLow);
  stUt = ut;
  stLow = low;
  while (stSlot.length < n) {
    stSlot.push(null);
    stLast.push(null);
  }
}

/** Slots whose physical cap has no MDB parent (boot objects and root untypeds). */
const orphans: Slot[] = [];

/** Walk every MDB list from its head (the non-empty slots without a predecessor). */
function walkMDB(k: Kernel, sc: CapScan): void {
  const n = sc.n;
  const ids = sc.ids;
  // A walk meets at most n + 1 slots, each naming at most one new identity: no growth (indices stay valid).
  ids.reserve(n + 1);
  orphans.length = 0;
  let visited = 0;
  for (let i = 0; i < sc.nHeads; i++) {
    visited = walkList(k, sc, sc.heads[i]!, visited);
    if (visited > n) return;
  }
  if (visited !== n) sc.mdbWellFormed ??= `${n - visited} non-empty slots are not reachable from an MDB list head (a cycle)`;
  checkOrphans(sc);
}

/** Walk one MDB list; returns the number of slots visited so far (more than sc.n: a cycle, stop). */
function walkList(k: Kernel, sc: CapScan, head: Slot, visited: number): number {
  const n = sc.n;
  const ids = sc.ids;
  const epoch = ids.epoch;
  let depth = 0;
  // The run of caps to one identity being walked: its first cap and its index (-1: none).
  let runCap: Cap | null = null;
  let runIdx = -1;
  let prev: Slot | null = null;
  for (let s: Slot | null = head; s !== null; s = s.mdbNext) {
    if (++visited > n) {
      sc.mdbWellFormed ??= 'the MDB lists hold more nodes than there are non-empty slots (a cycle or a foreign slot)';
      return visited;
    }
    const c = s.cap;
    if (c.type === CapType.Null) {
      sc.mdbWellFormed ??= `${slotName(prev!)} links to an empty slot`;
      break;
    }
    if (s.mdbPrev !== prev) {
      sc.mdbWellFormed ??= `${slotName(s)}: mdbPrev does not point back to ${prev === null ? 'null' : slotName(prev)}`;
      break;
    }
    if (!registered(k, s)) {
      sc.mdbWellFormed ??= `${slotName(prev!)} links to ${slotName(s)}, a slot of a deleted or unknown object`;
      break;
    }
    if (sc.mdbWellFormed === null) {
      if (s.revocable && !s.firstBadged) sc.mdbWellFormed = `${slotName(s)} is revocable but not firstBadged`;
      else if (c.type === CapType.Untyped && !s.revocable) sc.mdbWellFormed = `untyped ${slotName(s)} is not revocable`;
      else if (
        prev !== null &&
        (c.type === CapType.Endpoint || c.type === CapType.Notification) &&
        (c.badgeHi | c.badgeLo) !== 0 &&
        !s.firstBadged &&
        sameObjectAs(prev.cap, c) &&
        (prev.cap.badgeHi !== c.badgeHi || prev.cap.badgeLo !== c.badgeLo)
      ) {
        sc.mdbWellFormed = `${slotName(s)} starts a new badge after ${slotName(prev)} without firstBadged`;
      }
    }
    // Caps to one object form one contiguous run (isFinalCapability relies on it).
    if (runCap === null || !sameIdentity(runCap, c)) {
      if (runIdx >= 0) ids.closed[runIdx] = epoch;
      runIdx = identityOf(ids, c);
      runCap = c;
      if (runIdx >= 0 && sc.mdbObjectRuns === null && ids.closed[runIdx] === epoch) {
        sc.mdbObjectRuns = `${slotName(s)} is separated from the other caps to its object`;
      }
    }
    depth = treeStep(sc, s, c, depth);
    prev = s;
  }
  if (runIdx >= 0) ids.closed[runIdx] = epoch;
  return visited;
}

/** Place slot s in the derivation tree and check it against its nearest untyped ancestor. */
function treeStep(sc: CapScan, s: Slot, c: Cap, depth: number): number {
  while (depth > 0 && !parentOf(stSlot[depth - 1]!, s)) depth--;
  const utIdx = depth > 0 ? stUt[depth - 1]! : -1;
  if (PHYSICAL[c.type] !== 0) {
    const b = c.paddr;
    const e = b + regionBytes(c);
    if (utIdx >= 0) {
      const us = stSlot[utIdx]!;
      const u = us.cap;
      const ub = u.paddr;
      const ue = ub + POW2[u.sizeBits]!;
      if (sc.capsInsideUntyped === null) {
        if (b < ub || e > ue) sc.capsInsideUntyped = `${slotName(s)} lies outside its untyped ancestor ${slotName(us)}`;
        else if (e > ub + u.freeIndex) {
          sc.capsInsideUntyped = `${slotName(s)} reaches ${hex(e)}, above the free index ${hex(ub + u.freeIndex)} of its untyped ancestor ${slotName(us)}`;
        }
      }
      if (utIdx === depth - 1) {
        // A direct child of the untyped: retyped objects are inserted newest first, at rising addresses.
        // Copies of an untyped (same region) are aliases of it; further caps to the
        // object just seen (its original was deleted) are that object again.
        const alias = c.type === CapType.Untyped && b === ub && c.sizeBits === u.sizeBits;
        const last = stLast[utIdx]!;
        if (!alias && !(last !== null && sameObjectAs(last.cap, c))) {
          if (e > stLow[utIdx]! && sc.untypedObjectsDisjoint === null) {
            sc.untypedObjectsDisjoint = `${slotName(s)} overlaps (or is out of order with) a sibling object retyped from ${slotName(us)}`;
          }
          if (b < stLow[utIdx]!) stLow[utIdx] = b;
          stLast[utIdx] = s;
        }
      }
    } else if (depth === 0) {
      orphans.push(s);
    }
  }
  if (depth >= stUt.length) growStack();
  stSlot[depth] = s;
  stUt[depth] = c.type === CapType.Untyped ? depth : utIdx;
  stLow[depth] = Infinity;
  stLast[depth] = null;
  return depth + 1;
}

function byAddress(a: Slot, b: Slot): number {
  return a.cap.paddr - b.cap.paddr;
}

/** Caps with no MDB parent (boot objects and root untypeds) name disjoint memory. */
function checkOrphans(sc: CapScan): void {
  if (orphans.length < 2) return;
  orphans.sort(byAddress);
  let far: Slot = orphans[0]!;
  let farEnd = far.cap.paddr + regionBytes(far.cap);
  for (let i = 1; i < orphans.length; i++) {
    const s = orphans[i]!;
    const c = s.cap;
    const e = c.paddr + regionBytes(c);
    if (c.paddr < farEnd && !(c.type !== CapType.Untyped && sameObjectAs(far.cap, c))) {
      const msg = `${slotName(s)} overlaps ${slotName(far)} and neither derives from the other`;
      if (c.type === CapType.Untyped || far.cap.type === CapType.Untyped) sc.capsInsideUntyped ??= msg;
      else sc.untypedObjectsDisjoint ??= msg;
    }
    if (e > farEnd) {
      far = s;
      farEnd = e;
    }
  }
}
