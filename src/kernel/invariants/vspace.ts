/**
 * Address-space invariants: the ASID table names live pools whose entries are
 * VSpace roots with a cap recording them, and every valid page-table entry in
 * every VSpace reachable from the ASID table points at a page table or frame
 * that a cap records as mapped exactly there (asid, vaddr), with no more
 * rights than the cap grants. PTEs are read from physical memory.
 *
 * Both run after every kernel entry and read every entry of every pool and
 * page table, so their loops only test one word per entry and leave the rest
 * to the few valid entries.
 */
import { VMRights } from '../cap.js';
import type { Kernel } from '../kernel.js';
import { ASID_LOW_BITS } from '../vspace/vspace.js';
import { levelPageBits, ptePPNHiLo, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, PT_ENTRIES, SV39_LEVELS } from '../../machine/sv39.js';
import type { RamRegion } from '../../machine/memory.js';
import { CapScan, capScan, POW2 } from './capscan.js';
import { batchToken } from './batch.js';
import { objScan } from './objscan.js';
import { hex, InvariantViolation, objName } from './violation.js';

function fail(name: string, detail: string): never {
  throw new InvariantViolation(name, detail);
}

/**
 * The ASIDs assigned in the ASID table and their VSpace roots, in table
 * order: what both invariants below start from, collected once per batch
 * (batch.ts) as reading every pool entry is most of asidTable's work.
 */
class ASIDScan {
  readonly asids: number[] = [];
  readonly roots: number[] = [];
  n = 0;
  /** The table entries that hold a pool: their indices. */
  readonly poolAt: number[] = [];
  nPools = 0;
}
const assigned = new ASIDScan();
let assignedFor: Kernel | null = null;
let assignedBatch = -1;

function asidScan(k: Kernel): ASIDScan {
  const b = batchToken();
  if (b >= 0 && b === assignedBatch && assignedFor === k) return assigned;
  assignedFor = k;
  assignedBatch = b;
  let n = 0;
  let nPools = 0;
  const pools = k.asids.pools;
  for (let i = 0; i < pools.length; i++) {
    const pool = pools[i];
    if (pool === null || pool === undefined) continue;
    assigned.poolAt[nPools++] = i;
    const entries = pool.entries;
    const w = entryWords(entries);
    for (let j = 0; j < entries.length; j += 8) {
      // Unassigned entries hold -1. A double whose high word is -1's lies in [-1 - 2^-20, -1], so
      // is negative: if eight entries have that high word, none is assigned (the common case:
      // one test for eight). Otherwise each of the eight is looked at as before.
      if (j + 8 <= entries.length) {
        const h = 2 * j + HI;
        const diff =
          (w[h]! ^ HI_MINUS_ONE) | (w[h + 2]! ^ HI_MINUS_ONE) | (w[h + 4]! ^ HI_MINUS_ONE) | (w[h + 6]! ^ HI_MINUS_ONE) |
          (w[h + 8]! ^ HI_MINUS_ONE) | (w[h + 10]! ^ HI_MINUS_ONE) | (w[h + 12]! ^ HI_MINUS_ONE) | (w[h + 14]! ^ HI_MINUS_ONE);
        if (diff === 0) continue;
      }
      for (let q = j; q < j + 8 && q < entries.length; q++) {
        if (entries[q]! < 0) continue;
        assigned.asids[n] = pool.asidBase + q;
        assigned.roots[n] = entries[q]!;
        n++;
      }
    }
  }
  assigned.n = n;
  assigned.nPools = nPools;
  return assigned;
}

/** -1 as a double, seen as two int32 words: the index of its high word (1 on little-endian hosts) and that word. */
const MINUS_ONE_WORDS = new Int32Array(new Float64Array([-1]).buffer);
const HI = MINUS_ONE_WORDS[1] !== 0 ? 1 : 0;
const HI_MINUS_ONE = MINUS_ONE_WORDS[HI]!;

/** Int32Array views of pools' entries (two words per entry), made once per pool. */
const entryWordViews = new WeakMap<Float64Array, Int32Array>();
let lastEntries: Float64Array | null = null;
let lastEntryWords: Int32Array = new Int32Array(0);
function entryWords(entries: Float64Array): Int32Array {
  if (entries === lastEntries) return lastEntryWords;
  let w = entryWordViews.get(entries);
  if (w === undefined) {
    w = new Int32Array(entries.buffer, entries.byteOffset, entries.length * 2);
    entryWordViews.set(entries, w);
  }
  lastEntries = entries;
  lastEntryWords = w;
  return w;
}

/**
 * Pools in the ASID table are live objects at their slot's ASID base, every
 * live pool is in the table, ASID 0 is never assigned, and each assigned ASID
 * names a page table whose cap records it as that ASID's root.
 */
export function asidTable(k: Kernel): void {
  const name = 'asidTable';
  const pools = k.asids.pools;
  const a = asidScan(k);
  for (let x = 0; x < a.nPools; x++) {
    const i = a.poolAt[x]!;
    const pool = pools[i]!;
    if (!pool.live || !k.objects.has(pool)) fail(name, `ASID table entry ${i} names deleted ${objName(pool)}`);
    if (pool.asidBase !== i << ASID_LOW_BITS) fail(name, `${objName(pool)} with base ${pool.asidBase} sits at table entry ${i}`);
  }
  const scan = capScan(k);
  for (let i = 0; i < a.n; i++) {
    const asid = a.asids[i]!;
    const root = a.roots[i]!;
    if (asid === 0) fail(name, 'ASID 0 is assigned');
    if (scan.findMapping(asid, 0, true, root) === null) {
      fail(name, `ASID ${asid} names the page table at ${hex(root)}, but no cap records it as that ASID's root`);
    }
  }
  const live = objScan(k).pools;
  for (let i = 0; i < live.length; i++) {
    const pool = live[i]!;
    if (pools[pool.asidBase >>> ASID_LOW_BITS] !== pool) fail(name, `live ${objName(pool)} is missing from the ASID table`);
  }
}

/** The last RAM region walked and an Int32Array view of it (PTE words read as int32: cheaper for V8 than uint32). */
let viewOf: RamRegion | null = null;
let view: Int32Array = new Int32Array(0);

function wordsOf(r: RamRegion): Int32Array {
  if (r !== viewOf) {
    viewOf = r;
    view = new Int32Array(r.u32.buffer, r.u32.byteOffset, r.u32.length);
  }
  return view;
}

/** Per level of the walk, the word indices of the valid PTEs of the table being checked there (reused). */
const found = Array.from({ length: SV39_LEVELS }, () => new Int32Array(PT_ENTRIES));

/**
 * Find the valid PTEs of the page table whose first word is words[base] (each
 * PTE is two words, low word first): record their word indices in `out` and
 * return how many there are. This loop reads every entry of every table after
 * every kernel entry, so it tests the V bits of eight PTEs at once (most
 * entries are invalid) and looks at them one by one only when one is set.
 */
function validEntries(words: Int32Array, base: number, out: Int32Array): number {
  let n = 0;
  for (let j = base, end = base + 2 * PT_ENTRIES; j < end; j += 16) {
    const any = words[j]! | words[j + 2]! | words[j + 4]! | words[j + 6]! | words[j + 8]! | words[j + 10]! | words[j + 12]! | words[j + 14]!;
    if ((any & PTE_V) === 0) continue;
    for (let q = j; q < j + 16; q += 2) if ((words[q]! & PTE_V) !== 0) out[n++] = q;
  }
  return n;
}

/**
 * Check every valid PTE of the page table at `table` (level `level`, mapping
 * from vbase) and descend into the tables it points at.
 */
function walkTable(k: Kernel, scan: CapScan, asid: number, table: number, level: number, vbase: number): void {
  const r = k.mem.regionOf(table, 4096);
  if (r === null) fail('vspaceMappings', `ASID ${asid}: page table at ${hex(table)} is not in RAM`);
  const words = wordsOf(r);
  // Word index of the table's first PTE; tables lie in RAM, whose regions are far below 8 GiB, so this is an int32.
  const base = ((table - r.base) / 4) | 0;
  // A table pointer at the last level fails in checkPTE before the walk descends, so level < SV39_LEVELS here.
  const at = found[level]!;
  const n = validEntries(words, base, at);
  const span = POW2[levelPageBits(level)]!;
  for (let i = 0; i < n; i++) {
    const j = at[i]!;
    checkPTE(k, scan, asid, level, vbase + ((j - base) >> 1) * span, words[j]! >>> 0, words[j + 1]! >>> 0);
  }
}

/** One valid PTE (lo, hi as uint32) mapping vaddr at `level`. */
function checkPTE(k: Kernel, scan: CapScan, asid: number, level: number, vaddr: number, lo: number, hi: number): void {
  const name = 'vspaceMappings';
  const bits = levelPageBits(level);
  const paddr = ptePPNHiLo(hi, lo) * 4096;
  if ((lo & (PTE_R | PTE_W | PTE_X)) === 0) {
    if (level === SV39_LEVELS - 1) fail(name, `ASID ${asid}: a table pointer at the last level for ${hex(vaddr)}`);
    if (scan.findMapping(asid, vaddr, true, paddr) === null) {
      fail(name, `ASID ${asid}: the PTE for ${hex(vaddr)} points at page table ${hex(paddr)}, but no page-table cap records that mapping`);
    }
    walkTable(k, scan, asid, paddr, level + 1, vaddr);
    return;
  }
  const cap = scan.findMapping(asid, vaddr, false, paddr);
  if (cap === null || cap.sizeBits !== bits) {
    fail(name, `ASID ${asid}: the PTE for ${hex(vaddr)} maps ${hex(paddr)} (${bits} bits), but no frame cap records that mapping`);
  }
  if ((lo & PTE_U) === 0) fail(name, `ASID ${asid}: the PTE for ${hex(vaddr)} is not a user mapping`);
  if ((lo & PTE_W) !== 0 && cap.rights !== VMRights.ReadWrite) fail(name, `ASID ${asid}: ${hex(vaddr)} is writable but its frame cap is not`);
  if ((lo & PTE_R) !== 0 && cap.rights === VMRights.KernelOnly) fail(name, `ASID ${asid}: ${hex(vaddr)} is readable but its frame cap grants no rights`);
}

/** Every valid PTE of every VSpace reachable from the ASID table is recorded by a cap. */
export function vspaceMappings(k: Kernel): void {
  const scan = capScan(k);
  const a = asidScan(k);
  for (let i = 0; i < a.n; i++) walkTable(k, scan, a.asids[i]!, a.roots[i]!, 0, 0);
}
