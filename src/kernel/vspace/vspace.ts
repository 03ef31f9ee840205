/**
 * RISC-V Sv39 address spaces (seL4's arch/riscv/kernel/vspace.c): the ASID
 * table, page-table walks over real PTE bytes in physical memory, and the
 * map/unmap operations behind the PageTable, Frame and ASID invocations.
 */
import {
  PT_INDEX_BITS,
  PTE_A,
  PTE_D,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
  pteHi,
  pteLo,
  ptePPNHiLo,
} from '../../machine/sv39.js';
import { Cap, CapType, VMRights } from '../cap.js';
import { LookupFailure } from '../cspace.js';
import type { Kernel } from '../kernel.js';
import { ASIDPool } from '../object/asidpool.js';

export const ASID_LOW_BITS = 9;
export const ASID_HIGH_BITS = 7;
export const N_ASID_POOLS = 1 << ASID_HIGH_BITS;
export const PT_LEVELS = 3;
export const PAGE_BITS = 12;
/** seL4_UserTop for riscv64 Sv39: the first address user mappings may not reach. */
export const USER_TOP = 0x3ffffff000;

/** The ASID table (riscvKSASIDTable): pools by the high bits of the ASID. */
export class ASIDTable {
  readonly pools: (ASIDPool | null)[] = new Array<ASIDPool | null>(N_ASID_POOLS).fill(null);
}

/** Result of lookupPTSlot: the physical address of the PTE reached and the bits it maps. */
export class PTSlot {
  paddr = 0;
  bitsLeft = 0;
}
const scratchSlot = new PTSlot();

function readPTE(k: Kernel, paddr: number): { lo: number; hi: number } {
  return { lo: k.readWordLo(paddr), hi: k.readWordHi(paddr) };
}
function pteValid(lo: number): boolean {
  return (lo & PTE_V) !== 0;
}
function pteIsPageTable(lo: number): boolean {
  return (lo & PTE_V) !== 0 && (lo & (PTE_R | PTE_W | PTE_X)) === 0;
}

/** seL4's findVSpaceForASID: the root page table (paddr) of an ASID, or -1 with k.lookupFault set. */
export function findVSpaceForASID(k: Kernel, asid: number): number {
  const pool = k.asids.pools[asid >>> ASID_LOW_BITS] ?? null;
  if (pool === null) {
    k.lookupFault.type = LookupFailure.InvalidRoot;
    return -1;
  }
  const root = pool.entries[asid & ((1 << ASID_LOW_BITS) - 1)]!;
  if (root < 0) {
    k.lookupFault.type = LookupFailure.InvalidRoot;
    return -1;
  }
  return root;
}

/** seL4's lookupPTSlot: walk from the root as far as page tables go. */
export function lookupPTSlot(k: Kernel, root: number, vaddr: number, out: PTSlot = scratchSlot): PTSlot {
  let level = PT_LEVELS - 1;
  let bitsLeft = PT_INDEX_BITS * level + PAGE_BITS;
  let slot = root + 8 * (Math.floor(vaddr / 2 ** bitsLeft) & 511);
  for (;;) {
    const lo = k.readWordLo(slot);
    if (!(pteIsPageTable(lo) && level > 0)) break;
    level--;
    bitsLeft -= PT_INDEX_BITS;
    const pt = ptePPNHiLo(k.readWordHi(slot), lo) * 4096;
    slot = pt + 8 * (Math.floor(vaddr / 2 ** bitsLeft) & 511);
  }
  out.paddr = slot;
  out.bitsLeft = bitsLeft;
  return out;
}

export function isValidVTableRoot(_k: Kernel, c: Cap): boolean {
  return c.type === CapType.PageTable && c.isMapped;
}

/** Whether a PT cap is the root of the VSpace its ASID names. */
export function isVSpaceRoot(k: Kernel, c: Cap): boolean {
  if (!c.isMapped) return false;
  return findVSpaceForASID(k, c.mappedASID) === c.paddr;
}

function writePTE(k: Kernel, slot: number, hi: number, lo: number): void {
  k.writeWord(slot, hi, lo);
}

/** A page-table (non-leaf) PTE pointing at the table at paddr. */
export function writeTablePTE(k: Kernel, slot: number, tablePaddr: number): void {
  const ppn = tablePaddr / 4096;
  writePTE(k, slot, pteHi(ppn), pteLo(ppn, PTE_V));
}

/** seL4's makeUserPTE: a user leaf, or an invalid PTE if it would grant nothing. */
export function writeUserPTE(k: Kernel, slot: number, paddr: number, executable: boolean, rights: VMRights): void {
  const write = rights === VMRights.ReadWrite;
  const read = rights === VMRights.ReadOnly || rights === VMRights.ReadWrite;
  if (!read && !write && !executable) {
    writePTE(k, slot, 0, 0);
    return;
  }
  const ppn = paddr / 4096;
  let flags = PTE_V | PTE_U | PTE_A | PTE_D;
  if (read) flags |= PTE_R;
  if (write) flags |= PTE_W;
  if (executable) flags |= PTE_X;
  writePTE(k, slot, pteHi(ppn), pteLo(ppn, flags));
}

export function sfence(k: Kernel): void {
  if (k.tlbFlush !== null) k.tlbFlush();
}

/** seL4's unmapPage: clear the PTE mapping a frame cap, if it still maps that frame. */
export function unmapPage(k: Kernel, cap: Cap): void {
  const root = findVSpaceForASID(k, cap.mappedASID);
  if (root >= 0) {
    const s = lookupPTSlot(k, root, cap.mappedAddr);
    if (s.bitsLeft === cap.sizeBits) {
      const lo = k.readWordLo(s.paddr);
      const hi = k.readWordHi(s.paddr);
      if (pteValid(lo) && !pteIsPageTable(lo) && ptePPNHiLo(hi, lo) * 4096 === cap.paddr) {
        writePTE(k, s.paddr, 0, 0);
        sfence(k);
      }
    }
  }
  cap.mappedASID = 0;
  cap.mappedAddr = 0;
  cap.isMapped = false;
}

/** seL4's unmapPageTable: clear the PTE that points at target in the VSpace of asid. */
export function unmapPageTable(k: Kernel, asid: number, vaddr: number, target: number): void {
  const root = findVSpaceForASID(k, asid);
  if (root < 0) return;
  let pt = root;
  let slot = -1;
  for (let i = 0; i < PT_LEVELS - 1 && pt !== target; i++) {
    const shift = PAGE_BITS + PT_INDEX_BITS * (PT_LEVELS - 1 - i);
    slot = pt + 8 * (Math.floor(vaddr / 2 ** shift) & 511);
    const lo = k.readWordLo(slot);
    if (!pteIsPageTable(lo)) return;
    pt = ptePPNHiLo(k.readWordHi(slot), lo) * 4096;
  }
  if (pt !== target || slot < 0) return;
  writePTE(k, slot, 0, 0);
  sfence(k);
}

/** seL4's deleteASID: a VSpace root loses its ASID. */
export function deleteASID(k: Kernel, asid: number, vspace: number): void {
  const pool = k.asids.pools[asid >>> ASID_LOW_BITS] ?? null;
  if (pool !== null && pool.entries[asid & ((1 << ASID_LOW_BITS) - 1)] === vspace) {
    pool.entries[asid & ((1 << ASID_LOW_BITS) - 1)] = -1;
    sfence(k);
  }
}

/** seL4's deleteASIDPool. */
export function deleteASIDPool(k: Kernel, asidBase: number, cap: Cap): void {
  const idx = asidBase >>> ASID_LOW_BITS;
  if (k.asids.pools[idx] === cap.obj) {
    k.asids.pools[idx] = null;
    sfence(k);
  }
  const pool = cap.obj as ASIDPool;
  pool.live = false;
  k.objects.delete(pool);
}

export { readPTE };
