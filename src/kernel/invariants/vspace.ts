/**
 * Address-space invariants: the ASID table names live pools whose entries are
 * VSpace roots with a cap recording them, and every valid page-table entry in
 * every VSpace reachable from the ASID table points at a page table or frame
 * that a cap records as mapped exactly there (asid, vaddr), with no more
 * rights than the cap grants. PTEs are read from physical memory.
 */
import { VMRights } from '../cap.js';
import type { Kernel } from '../kernel.js';
import { ASID_LOW_BITS } from '../vspace/vspace.js';
import { levelPageBits, ptePPNHiLo, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, PT_ENTRIES, SV39_LEVELS } from '../../machine/sv39.js';
import { CapScan, capScan, mappingKey } from './capscan.js';
import { objScan } from './objscan.js';
import { hex, InvariantViolation, objName } from './violation.js';

function fail(name: string, detail: string): never {
  throw new InvariantViolation(name, detail);
}

/**
 * Pools in the ASID table are live objects at their slot's ASID base, every
 * live pool is in the table, ASID 0 is never assigned, and each assigned ASID
 * names a page table whose cap records it as that ASID's root.
 */
export function asidTable(k: Kernel): void {
  const name = 'asidTable';
  const scan = capScan(k);
  const pools = k.asids.pools;
  for (let i = 0; i < pools.length; i++) {
    const pool = pools[i];
    if (pool === null || pool === undefined) continue;
    if (!pool.live || !k.objects.has(pool)) fail(name, `ASID table entry ${i} names deleted ${objName(pool)}`);
    if (pool.asidBase !== i << ASID_LOW_BITS) fail(name, `${objName(pool)} with base ${pool.asidBase} sits at table entry ${i}`);
    for (let j = 0; j < pool.entries.length; j++) {
      const root = pool.entries[j]!;
      if (root < 0) continue;
      const asid = pool.asidBase + j;
      if (asid === 0) fail(name, 'ASID 0 is assigned');
      if (scan.findMapping(mappingKey(asid, 0, true), root) === null) {
        fail(name, `ASID ${asid} names the page table at ${hex(root)}, but no cap records it as that ASID's root`);
      }
    }
  }
  for (const pool of objScan(k).pools) {
    if (pools[pool.asidBase >>> ASID_LOW_BITS] !== pool) fail(name, `live ${objName(pool)} is missing from the ASID table`);
  }
}

function walkTable(k: Kernel, scan: CapScan, asid: number, table: number, level: number, vbase: number): void {
  const name = 'vspaceMappings';
  const r = k.mem.regionOf(table, 4096);
  if (r === null) fail(name, `ASID ${asid}: page table at ${hex(table)} is not in RAM`);
  const u32 = r.u32;
  const base = (table - r.base) >>> 2;
  const bits = levelPageBits(level);
  const span = 2 ** bits;
  for (let i = 0; i < PT_ENTRIES; i++) {
    const lo = u32[base + 2 * i]!;
    if ((lo & PTE_V) === 0) continue;
    const hi = u32[base + 2 * i + 1]!;
    const vaddr = vbase + i * span;
    const paddr = ptePPNHiLo(hi, lo) * 4096;
    if ((lo & (PTE_R | PTE_W | PTE_X)) === 0) {
      if (level === SV39_LEVELS - 1) fail(name, `ASID ${asid}: a table pointer at the last level for ${hex(vaddr)}`);
      if (scan.findMapping(mappingKey(asid, vaddr, true), paddr) === null) {
        fail(name, `ASID ${asid}: the PTE for ${hex(vaddr)} points at page table ${hex(paddr)}, but no page-table cap records that mapping`);
      }
      walkTable(k, scan, asid, paddr, level + 1, vaddr);
      continue;
    }
    const cap = scan.findMapping(mappingKey(asid, vaddr, false), paddr);
    if (cap === null || cap.sizeBits !== bits) {
      fail(name, `ASID ${asid}: the PTE for ${hex(vaddr)} maps ${hex(paddr)} (${bits} bits), but no frame cap records that mapping`);
    }
    if ((lo & PTE_U) === 0) fail(name, `ASID ${asid}: the PTE for ${hex(vaddr)} is not a user mapping`);
    if ((lo & PTE_W) !== 0 && cap.rights !== VMRights.ReadWrite) fail(name, `ASID ${asid}: ${hex(vaddr)} is writable but its frame cap is not`);
    if ((lo & PTE_R) !== 0 && cap.rights === VMRights.KernelOnly) fail(name, `ASID ${asid}: ${hex(vaddr)} is readable but its frame cap grants no rights`);
  }
}

/** Every valid PTE of every VSpace reachable from the ASID table is recorded by a cap. */
export function vspaceMappings(k: Kernel): void {
  const scan = capScan(k);
  const pools = k.asids.pools;
  for (let i = 0; i < pools.length; i++) {
    const pool = pools[i];
    if (pool === null || pool === undefined) continue;
    for (let j = 0; j < pool.entries.length; j++) {
      const root = pool.entries[j]!;
      if (root >= 0) walkTable(k, scan, pool.asidBase + j, root, 0, 0);
    }
  }
}
