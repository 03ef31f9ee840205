/**
 * Test helper: builds Sv39 page tables in a PhysicalMemory with the PTE
 * helpers of src/machine/sv39.ts, the way the kernel will (table pointers
 * with only V set; leaves with A and D set by default).
 */

import { PhysicalMemory } from '../../src/machine/memory.js';
import {
  PTE_A,
  PTE_D,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
  PAGE_SIZE,
  pteLo,
  pteHi,
  ptePPNHiLo,
  pteNew,
  vpn,
} from '../../src/machine/sv39.js';

export const RAM_BASE = 0x8000_0000;

/** User leaf flags. */
export const URW = PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D;
export const URX = PTE_V | PTE_R | PTE_X | PTE_U | PTE_A | PTE_D;
export const UR = PTE_V | PTE_R | PTE_U | PTE_A | PTE_D;
export const URWX = PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D;

export class TestVSpace {
  readonly mem: PhysicalMemory;
  readonly root: number;
  private next: number;
  private readonly limit: number;

  /** Page tables and frames come from [poolBase, poolBase + poolSize). */
  constructor(mem: PhysicalMemory, poolBase = RAM_BASE, poolSize = 12 * 1024 * 1024) {
    this.mem = mem;
    this.next = poolBase;
    this.limit = poolBase + poolSize;
    this.root = this.allocPage();
  }

  /** A zeroed, page-aligned physical page. */
  allocPage(): number {
    return this.allocAligned(PAGE_SIZE, PAGE_SIZE);
  }

  allocAligned(size: number, alignment: number): number {
    const p = Math.ceil(this.next / alignment) * alignment;
    if (p + size > this.limit) throw new Error('test pool exhausted');
    this.next = p + size;
    this.mem.zero(p, size);
    return p;
  }

  /** Physical address of the PTE for vaddr at `level` (2 = root), creating tables above it. */
  slot(vaddr: number, level: number): number {
    let table = this.root;
    for (let l = 2; l > level; l--) {
      const a = table + vpn(vaddr, l) * 8;
      const lo = this.mem.read32(a);
      const hi = this.mem.read32(a + 4);
      if ((lo & PTE_V) === 0) {
        const t = this.allocPage();
        this.writePte(a, t / PAGE_SIZE, PTE_V);
        table = t;
      } else {
        table = ptePPNHiLo(hi, lo) * PAGE_SIZE;
      }
    }
    return table + vpn(vaddr, level) * 8;
  }

  writePte(addr: number, ppn: number, flags: number): void {
    this.mem.write32(addr, pteLo(ppn, flags));
    this.mem.write32(addr + 4, pteHi(ppn));
  }

  /** Map one page of size 4 KiB (level 0), 2 MiB (level 1) or 1 GiB (level 2). */
  map(vaddr: number, paddr: number, flags: number, level = 0): number {
    const s = this.slot(vaddr, level);
    this.mem.write64(s, pteNew(paddr / PAGE_SIZE, flags));
    return s;
  }

  /** Allocate a fresh frame, map it at vaddr and return its physical address. */
  mapNew(vaddr: number, flags: number): number {
    const p = this.allocPage();
    this.map(vaddr, p, flags);
    return p;
  }

  unmap(vaddr: number, level = 0): void {
    this.mem.write64(this.slot(vaddr, level), 0n);
  }
}

export function newMemory(size = 16 * 1024 * 1024): PhysicalMemory {
  return new PhysicalMemory([{ base: RAM_BASE, size }], [{ name: 'uart', base: 0x1000_0000, size: 0x1000 }]);
}
