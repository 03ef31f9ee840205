/**
 * One pass over every capability the kernel can reach, shared by the
 * capability, MDB and VSpace invariants. It collects the non-empty slots,
 * walks each MDB list once (rebuilding the derivation tree with a stack, as
 * cteRevoke sees it through isMDBParentOf), and records the first violation it
 * finds for each invariant it serves. Arrays and maps are reused between runs,
 * so a check after every kernel entry allocates (almost) nothing.
 *
 * Inside checkInvariants the scan is computed once per kernel entry; a named
 * invariant called on its own always rescans.
 */
import { Cap, CapType, capIsPhysical, sameObjectAs } from '../cap.js';
import type { Kernel } from '../kernel.js';
import { isMDBParentOf } from '../mdb.js';
import type { CNode } from '../object/cnode.js';
import { KernelObject, ObjectKind } from '../object/kobject.js';
import type { TCB } from '../object/tcb.js';
import type { Slot } from '../slot.js';
import { hex, objName, slotName } from './violation.js';

/** 2^i for i in 0..64 (a table: `2 ** x` with a variable exponent is slow on V8's hot paths). */
export const POW2 = new Float64Array(65).map((_, i) => 2 ** i);

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
    if (!capIsPhysical(bc)) return false;
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

/** Key of a mapping a frame or page-table cap records: (asid, vaddr, table?). */
export function mappingKey(asid: number, vaddr: number, isTable: boolean): number {
  return (asid * 134217728 + Math.floor(vaddr / 4096)) * 2 + (isTable ? 1 : 0);
}

export class CapScan {
  /** Non-empty slots of live CNodes, TCBs and the IRQ node; `n` of them are valid. */
  readonly slots: Slot[] = [];
  n = 0;
  /** Objects named by at least one cap: stamped with the scan's epoch (stale entries are pruned). */
  readonly named = new Map<KernelObject, number>();
  epoch = 0;
  /** Mapped frame and page-table caps by mappingKey; clashes go to `extra` as (key, cap) pairs. */
  readonly mapped = new Map<number, Cap>();
  readonly extra: (number | Cap)[] = [];
  // First violation found per invariant (null: holds).
  capsNameLiveObjects: string | null = null;
  mdbWellFormed: string | null = null;
  mdbObjectRuns: string | null = null;
  capsInsideUntyped: string | null = null;
  untypedObjectsDisjoint: string | null = null;

  /** A mapped cap recording (key) that names the memory at paddr, or null. */
  findMapping(key: number, paddr: number): Cap | null {
    const c = this.mapped.get(key);
    if (c !== undefined && c.paddr === paddr) return c;
    const x = this.extra;
    for (let i = 0; i < x.length; i += 2) {
      const cap = x[i + 1] as Cap;
      if (x[i] === key && cap.paddr === paddr) return cap;
    }
    return null;
  }
}

const scan = new CapScan();
let batch = 0;
let cachedFor: Kernel | null = null;

/** Start a run of checks over one unchanged kernel state (checkInvariants). */
export function beginBatch(): void {
  batch++;
  cachedFor = null;
}
export function endBatch(): void {
  batch--;
  cachedFor = null;
}

export function capScan(k: Kernel): CapScan {
  if (batch > 0 && cachedFor === k) return scan;
  runScan(k, scan);
  cachedFor = batch > 0 ? k : null;
  return scan;
}

// ------------------------------------------------------------ slot pass

function expectedKind(t: CapType): number {
  switch (t) {
    case CapType.Endpoint:
      return ObjectKind.Endpoint;
    case CapType.Notification:
      return ObjectKind.Notification;
    case CapType.Reply:
      return ObjectKind.Reply;
    case CapType.CNode:
      return ObjectKind.CNode;
    case CapType.Thread:
      return ObjectKind.TCB;
    case CapType.SchedContext:
      return ObjectKind.SchedContext;
    case CapType.ASIDPool:
      return ObjectKind.ASIDPool;
    default:
      return -1;
  }
}

/** Why a non-null cap does not name a live object of its type, or null. */
function capObjectProblem(k: Kernel, c: Cap): string | null {
  const o = c.obj;
  const want = expectedKind(c.type);
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

/** Record a non-empty slot: its cap's object, mapping and naming problems. */
function collect(k: Kernel, sc: CapScan, s: Slot, c: Cap): void {
  sc.slots[sc.n++] = s;
  const o = c.obj;
  // An object's registration is checked once per scan; every cap's type and address each time.
  const first = o === null || sc.named.get(o) !== sc.epoch;
  if (o !== null && first) sc.named.set(o, sc.epoch);
  if (sc.capsNameLiveObjects === null && (first || o!.kind !== expectedKind(c.type) || o!.paddr !== c.paddr || (c.type === CapType.CNode && (o as CNode).radix !== c.radix))) {
    const p = capObjectProblem(k, c);
    if (p !== null) sc.capsNameLiveObjects = `${slotName(s)}: ${p}`;
  }
  if (c.isMapped && (c.type === CapType.Frame || c.type === CapType.PageTable)) {
    const key = mappingKey(c.mappedASID, c.mappedAddr, c.type === CapType.PageTable);
    if (sc.mapped.has(key)) sc.extra.push(key, c);
    else sc.mapped.set(key, c);
  }
}

function scanSlots(k: Kernel, sc: CapScan, slots: Iterable<Slot>): void {
  for (const s of slots) {
    const c = s.cap;
    if (c.type !== CapType.Null) collect(k, sc, s, c);
    else if (s.mdbPrev !== null || s.mdbNext !== null || s.revocable || s.firstBadged) sc.mdbWellFormed ??= emptySlotProblem(s);
  }
}

function runScan(k: Kernel, sc: CapScan): void {
  sc.n = 0;
  sc.epoch++;
  if (sc.named.size > 2 * k.objects.size + 64) sc.named.clear();
  sc.mapped.clear();
  sc.extra.length = 0;
  sc.capsNameLiveObjects = null;
  sc.mdbWellFormed = null;
  sc.mdbObjectRuns = null;
  sc.capsInsideUntyped = null;
  sc.untypedObjectsDisjoint = null;
  for (const cn of k.cnodes) scanSlots(k, sc, cn.allocatedSlots());
  for (const t of k.tcbs) scanSlots(k, sc, t.slots);
  scanSlots(k, sc, k.irqs.slots);
  walkMDB(k, sc);
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
  if (!o.live) return false;
  if (o.kind === ObjectKind.CNode) return (o as CNode).slots[s.index] === s;
  if (o.kind === ObjectKind.TCB) return (o as TCB).slots[s.index] === s;
  return false;
}

/** Identity of the object a cap names, for sameObjectAs runs (null: caps that never share an object). */
function objectKey(c: Cap): unknown {
  if (c.obj !== null) return c.obj;
  switch (c.type) {
    case CapType.Frame:
      return c.paddr * 64 + c.sizeBits;
    case CapType.PageTable:
      return c.paddr * 64 + 63;
    case CapType.IRQHandler:
      return -1 - c.word;
    default:
      return null;
  }
}

function isBadgeable(c: Cap): boolean {
  return c.type === CapType.Endpoint || c.type === CapType.Notification;
}

// Derivation-tree stack: the open ancestors of the slot being visited.
const stSlot: Slot[] = [];
/** Index in the stack of the nearest untyped at or below each level (-1: none). */
const stUt: number[] = [];
/** For untyped levels: lowest start address among the direct children seen so far, and the last such child. */
const stLow: number[] = [];
const stLast: (Slot | null)[] = [];
/** Object keys whose run of caps has ended, stamped with the walk's epoch. */
const closedRuns = new Map<unknown, number>();
let runEpoch = 0;
const orphans: Slot[] = [];
/** The orphans (and their caps) of the last check that found them disjoint, in walk order. */
const lastOrphans: Slot[] = [];
const lastOrphanCaps: Cap[] = [];

function walkMDB(k: Kernel, sc: CapScan): void {
  const slots = sc.slots;
  const n = sc.n;
  runEpoch++;
  if (closedRuns.size > 4 * n + 64) closedRuns.clear();
  orphans.length = 0;
  let visited = 0;
  for (let i = 0; i < n; i++) {
    const head = slots[i]!;
    if (head.mdbPrev !== null) continue;
    let depth = 0;
    let runKey: unknown = null;
    let prev: Slot | null = null;
    let s: Slot | null = head;
    while (s !== null) {
      if (++visited > n) {
        sc.mdbWellFormed ??= 'the MDB lists hold more nodes than there are non-empty slots (a cycle or a foreign slot)';
        return;
      }
      if (s.isEmpty) {
        sc.mdbWellFormed ??= `${slotName(prev!)} links to an empty slot`;
        break;
      }
      if (!registered(k, s)) {
        sc.mdbWellFormed ??= `${slotName(prev!)} links to ${slotName(s)}, a slot of a deleted or unknown object`;
        break;
      }
      if (s.mdbPrev !== prev) {
        sc.mdbWellFormed ??= `${slotName(s)}: mdbPrev does not point back to ${prev === null ? 'null' : slotName(prev)}`;
        break;
      }
      const c = s.cap;
      if (sc.mdbWellFormed === null) {
        if (s.revocable && !s.firstBadged) sc.mdbWellFormed = `${slotName(s)} is revocable but not firstBadged`;
        else if (c.type === CapType.Untyped && !s.revocable) sc.mdbWellFormed = `untyped ${slotName(s)} is not revocable`;
        else if (
          prev !== null &&
          isBadgeable(c) &&
          c.hasBadge() &&
          !s.firstBadged &&
          sameObjectAs(prev.cap, c) &&
          (prev.cap.badgeHi !== c.badgeHi || prev.cap.badgeLo !== c.badgeLo)
        ) {
          sc.mdbWellFormed = `${slotName(s)} starts a new badge after ${slotName(prev)} without firstBadged`;
        }
      }
      // Caps to one object form one contiguous run (isFinalCapability relies on it).
      const key = objectKey(c);
      if (key !== runKey) {
        if (runKey !== null) closedRuns.set(runKey, runEpoch);
        if (key !== null && sc.mdbObjectRuns === null && closedRuns.get(key) === runEpoch) {
          sc.mdbObjectRuns = `${slotName(s)} is separated from the other caps to its object`;
        }
        runKey = key;
      }
      depth = treeStep(sc, s, c, depth);
      prev = s;
      s = s.mdbNext;
    }
    if (runKey !== null) closedRuns.set(runKey, runEpoch);
  }
  if (visited !== n) sc.mdbWellFormed ??= `${n - visited} non-empty slots are not reachable from an MDB list head (a cycle)`;
  checkOrphans(sc);
}

/** Place slot s in the derivation tree and check it against its nearest untyped ancestor. */
function treeStep(sc: CapScan, s: Slot, c: Cap, depth: number): number {
  while (depth > 0 && !parentOf(stSlot[depth - 1]!, s)) depth--;
  const utIdx = depth > 0 ? stUt[depth - 1]! : -1;
  if (capIsPhysical(c)) {
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
  if (sameAsLast()) return;
  lastOrphans.length = 0;
  lastOrphanCaps.length = 0;
  for (const s of orphans) {
    lastOrphans.push(s);
    lastOrphanCaps.push(s.cap);
  }
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
  if (sc.capsInsideUntyped !== null || sc.untypedObjectsDisjoint !== null) lastOrphans.length = 0;
}

/** The orphans are the very slots and caps last found disjoint (caps' addresses never change in place). */
function sameAsLast(): boolean {
  const n = orphans.length;
  if (n !== lastOrphans.length) return false;
  for (let i = 0; i < n; i++) {
    const s = orphans[i]!;
    if (s !== lastOrphans[i] || s.cap !== lastOrphanCaps[i]) return false;
  }
  return true;
}
