import { KernelObject, ObjectKind } from './kobject.js';
import { Slot } from '../slot.js';

/** A CNode: 2^radix capability slots (each seL4_SlotBits = 5 bits of memory). */
export class CNode extends KernelObject {
  readonly kind = ObjectKind.CNode;
  readonly radix: number;
  readonly slots: Slot[];

  constructor(paddr: number, radix: number) {
    super(paddr, radix + 5);
    this.radix = radix;
    const n = 2 ** radix;
    this.slots = new Array<Slot>(n);
    for (let i = 0; i < n; i++) this.slots[i] = new Slot(this, i);
  }
}
