import { KernelObject, ObjectKind } from './kobject.js';
import { Slot } from '../slot.js';

/** CNodes up to this radix keep every slot in an array from creation. */
const EAGER_RADIX = 12;

/**
 * A CNode: 2^radix capability slots (each seL4_SlotBits = 5 bits of memory).
 * Large CNodes create their slot records on first use, so retyping a huge
 * CNode costs the host nothing until its slots are touched.
 */
export class CNode extends KernelObject {
  readonly kind = ObjectKind.CNode;
  readonly radix: number;
  /** Number of slots, 2^radix. */
  readonly size: number;
  private table: Slot[] | null;
  private sparse: Map<number, Slot> | null;

  constructor(paddr: number, radix: number) {
    super(paddr, radix + 5);
    this.radix = radix;
    this.size = 2 ** radix;
    if (radix <= EAGER_RADIX) {
      this.table = CNode.fill(this, null, this.size);
      this.sparse = null;
    } else {
      this.table = null;
      this.sparse = new Map();
    }
  }

  private static fill(owner: CNode, from: Map<number, Slot> | null, n: number): Slot[] {
    const a = new Array<Slot>(n);
    for (let i = 0; i < n; i++) a[i] = from?.get(i) ?? new Slot(owner, i);
    return a;
  }

  /** Slot i (0 <= i < size). */
  slot(i: number): Slot {
    const t = this.table;
    if (t !== null) return t[i]!;
    let s = this.sparse!.get(i);
    if (s === undefined) {
      s = new Slot(this, i);
      this.sparse!.set(i, s);
    }
    return s;
  }

  /** The slots created so far (all of them for small CNodes). */
  allocatedSlots(): Iterable<Slot> {
    return this.table ?? this.sparse!.values();
  }

  /** Every slot as an array (materialises a large CNode; for checkers and viewers). */
  get slots(): Slot[] {
    if (this.table === null) {
      this.table = CNode.fill(this, this.sparse, this.size);
      this.sparse = null;
    }
    return this.table;
  }
}
