import { KernelObject, ObjectKind } from './kobject.js';

/** A RISC-V ASID pool: 2^seL4_ASIDPoolIndexBits entries naming VSpace roots (page tables). */
export class ASIDPool extends KernelObject {
  readonly kind = ObjectKind.ASIDPool;
  readonly asidBase: number;
  /** Physical address of the root page table per entry, or -1. */
  readonly entries: Float64Array;

  constructor(paddr: number, sizeBits: number, asidBase: number, nEntries: number) {
    super(paddr, sizeBits);
    this.asidBase = asidBase;
    this.entries = new Float64Array(nEntries).fill(-1);
  }
}
