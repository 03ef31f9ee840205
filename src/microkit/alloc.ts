/**
 * Object allocation for the Microkit initialiser (the root task that builds
 * a system): retypes kernel objects out of the boot untypeds with
 * seL4_Untyped_Retype, keeps track of the CSpace slots they land in, and
 * parks caps that are no longer needed for invocations (frames and page
 * tables once mapped, padding untypeds) in a "storage" CNode so that the
 * root CNode's 4096 slots are only a working area.
 *
 * The allocator mirrors the kernel's placement rule (an object goes at the
 * untyped's free index rounded up to its size) so that it can pick an
 * untyped with room, and it reaches a fixed physical address (a device
 * region's phys_addr) by retyping padding untypeds first, as the capDL
 * initialiser does. The kernel remains the authority: any error it returns
 * stops the build.
 */
import { seL4_Error } from '../abi/constants.js';
import type { BootInfo } from '../kernel/boot.js';
import {
  seL4_CNode_Copy,
  seL4_CNode_Delete,
  seL4_CNode_Move,
  seL4_Untyped_Retype,
} from '../user/invocations.js';
import {
  seL4_CapInitThreadCNode,
  seL4_CapTableObject,
  seL4_EndpointObject,
  seL4_NotificationObject,
  seL4_ReplyObject,
  seL4_RISCV_4K_Page,
  seL4_RISCV_Giga_Page,
  seL4_RISCV_Mega_Page,
  seL4_RISCV_PageTableObject,
  seL4_SchedContextObject,
  seL4_TCBObject,
  seL4_UntypedObject,
} from '../user/vka.js';

type Gen<T> = Generator<unknown, T, unknown>;

const ROOT = seL4_CapInitThreadCNode;
const MIN_UNTYPED_BITS = 4;
const MAX_UNTYPED_BITS = 38;

/** A system that cannot be built (out of memory, a kernel error, an unsupported feature). */
export class BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildError';
  }
}

export function errorName(e: number): string {
  return seL4_Error[e] ?? `error ${e}`;
}

/** Throw a BuildError when an invocation failed. */
export function check(err: number, what: string): void {
  if (err !== 0) throw new BuildError(`${what} failed: ${errorName(err)}`);
}

/** Size in bits of an object of `type` (sizeBits for untyped, CNode radix, SC size). */
export function objectBits(type: number, sizeBits: number): number {
  switch (type) {
    case seL4_UntypedObject:
    case seL4_SchedContextObject:
      return sizeBits;
    case seL4_TCBObject:
      return 10;
    case seL4_EndpointObject:
      return 4;
    case seL4_NotificationObject:
      return 6;
    case seL4_CapTableObject:
      return sizeBits + 5;
    case seL4_ReplyObject:
      return 5;
    case seL4_RISCV_Giga_Page:
      return 30;
    case seL4_RISCV_Mega_Page:
      return 21;
    case seL4_RISCV_4K_Page:
    case seL4_RISCV_PageTableObject:
      return 12;
    default:
      throw new BuildError(`unknown object type ${type}`);
  }
}

function alignUp(x: number, bits: number): number {
  const a = 2 ** bits;
  return Math.ceil(x / a) * a;
}

/** Number of trailing zero bits of a non-negative integer below 2^53 (64 for 0). */
function ctz(x: number): number {
  if (x === 0) return 64;
  let n = 0;
  while (x % 2 === 0) {
    x /= 2;
    n++;
  }
  return n;
}

interface UntypedRecord {
  readonly cptr: number;
  readonly paddr: number;
  readonly sizeBits: number;
  readonly isDevice: boolean;
  /** Bytes from paddr that are taken (the kernel's free index once we have retyped from it). */
  used: number;
}

/** Where a retyped object's cap went. */
export type Dest = 'root' | 'storage';

export interface Allocated {
  /** Root CNode slot (cptr) or storage CNode index. */
  slot: number;
  /** Physical address the object was placed at. */
  paddr: number;
}

export class Allocator {
  private readonly untypeds: UntypedRecord[] = [];
  private readonly freeRoot: number[] = [];
  private nextRoot: number;
  private readonly endRoot: number;
  private storageCptr = -1;
  private storageBits = 0;
  private nextStorage = 0;
  /** Bytes of kernel objects and frames created. */
  bytesAllocated = 0;
  objectsCreated = 0;

  constructor(bi: BootInfo) {
    this.nextRoot = bi.empty.start;
    this.endRoot = bi.empty.end;
    bi.untypedList.forEach((u, i) => {
      this.untypeds.push({ cptr: bi.untyped.start + i, paddr: u.paddr, sizeBits: u.sizeBits, isDevice: u.isDevice, used: 0 });
    });
  }

  // ------------------------------------------------------------- slots

  rootSlot(): number {
    const s = this.freeRoot.pop();
    if (s !== undefined) return s;
    if (this.nextRoot >= this.endRoot) throw new BuildError('the initialiser ran out of root CNode slots');
    return this.nextRoot++;
  }

  /** Return an empty root slot to the pool. */
  releaseRootSlot(slot: number): void {
    this.freeRoot.push(slot);
  }

  get storageCNode(): number {
    return this.storageCptr;
  }

  get storageDepth(): number {
    return this.storageBits;
  }

  private storageSlot(): number {
    if (this.storageCptr < 0) throw new BuildError('internal: no storage CNode');
    if (this.nextStorage >= 2 ** this.storageBits) throw new BuildError('the initialiser ran out of storage CNode slots');
    return this.nextStorage++;
  }

  /** Create the storage CNode (2^bits slots) for caps that are kept but not invoked. */
  *createStorage(bits: number): Gen<void> {
    const a = yield* this.retype(seL4_CapTableObject, bits, 'root');
    this.storageCptr = a.slot;
    this.storageBits = bits;
  }

  // ------------------------------------------------------------ retype

  private *retypeFrom(ut: UntypedRecord, type: number, sizeBits: number, dest: Dest): Gen<Allocated> {
    const bits = objectBits(type, sizeBits);
    const start = alignUp(ut.paddr + ut.used, bits);
    let slot: number;
    let err: number;
    if (dest === 'root') {
      slot = this.rootSlot();
      err = yield* seL4_Untyped_Retype(ut.cptr, type, sizeBits, ROOT, 0, 0, slot, 1);
      if (err !== 0) this.releaseRootSlot(slot);
    } else {
      slot = this.storageSlot();
      err = yield* seL4_Untyped_Retype(ut.cptr, type, sizeBits, ROOT, this.storageCptr, 64, slot, 1);
    }
    check(err, `Untyped_Retype (type ${type}, ${2 ** bits} bytes at 0x${start.toString(16)})`);
    ut.used = start + 2 ** bits - ut.paddr;
    this.bytesAllocated += 2 ** bits;
    this.objectsCreated++;
    return { slot, paddr: start };
  }

  private fits(ut: UntypedRecord, bits: number, count: number): boolean {
    const start = alignUp(ut.paddr + ut.used, bits);
    return start + count * 2 ** bits <= ut.paddr + 2 ** ut.sizeBits;
  }

  /** The normal untyped an object (or `count` contiguous objects) will come from: smallest that fits. */
  private pick(bits: number, count: number): UntypedRecord {
    let best: UntypedRecord | null = null;
    for (const ut of this.untypeds) {
      if (ut.isDevice || !this.fits(ut, bits, count)) continue;
      if (best === null || ut.sizeBits < best.sizeBits) best = ut;
    }
    if (best === null) {
      throw new BuildError(`out of memory: no untyped has room for ${count} object(s) of ${2 ** bits} bytes`);
    }
    return best;
  }

  /** Whether `count` objects of `type` fit contiguously in one normal untyped. */
  canRetypeContiguous(type: number, count: number): boolean {
    const bits = objectBits(type, 0);
    return this.untypeds.some((ut) => !ut.isDevice && this.fits(ut, bits, count));
  }

  /** Retype one object from normal memory. */
  *retype(type: number, sizeBits: number, dest: Dest): Gen<Allocated> {
    return yield* this.retypeFrom(this.pick(objectBits(type, sizeBits), 1), type, sizeBits, dest);
  }

  /** Retype `count` objects that are physically contiguous (one untyped, in order). */
  *retypeContiguous(type: number, sizeBits: number, count: number, dest: Dest): Gen<Allocated[]> {
    const ut = this.pick(objectBits(type, sizeBits), count);
    const out: Allocated[] = [];
    for (let i = 0; i < count; i++) out.push(yield* this.retypeFrom(ut, type, sizeBits, dest));
    return out;
  }

  /**
   * Retype an object at a fixed physical address: from the untyped (device or
   * RAM) that covers it, after padding untypeds that move the free index up
   * to it. Objects at fixed addresses must be created in increasing address
   * order within one untyped.
   */
  *retypeAt(type: number, sizeBits: number, paddr: number, dest: Dest): Gen<Allocated> {
    const bits = objectBits(type, sizeBits);
    const end = paddr + 2 ** bits;
    const ut = this.untypeds.find((u) => u.paddr <= paddr && end <= u.paddr + 2 ** u.sizeBits);
    if (ut === undefined) {
      throw new BuildError(
        `no untyped covers physical memory [0x${paddr.toString(16)}, 0x${end.toString(16)}): it is kernel memory or a device the kernel keeps`,
      );
    }
    let cur = ut.paddr + ut.used;
    if (cur > paddr) throw new BuildError(`physical address 0x${paddr.toString(16)} is already allocated`);
    while (cur < paddr) {
      const b = Math.min(ctz(cur), Math.floor(Math.log2(paddr - cur)), MAX_UNTYPED_BITS);
      if (b < MIN_UNTYPED_BITS) throw new BuildError(`cannot pad to physical address 0x${paddr.toString(16)}`);
      yield* this.retypeFrom(ut, seL4_UntypedObject, b, 'storage');
      cur = ut.paddr + ut.used;
    }
    return yield* this.retypeFrom(ut, type, sizeBits, dest);
  }

  // ------------------------------------------------------- cap movement

  /** Move a cap from a root slot into the storage CNode; returns its storage index. */
  *park(rootSlot: number): Gen<number> {
    const idx = this.storageSlot();
    const err = yield* seL4_CNode_Move(this.storageCptr, idx, this.storageBits, ROOT, rootSlot, 64);
    check(err, 'CNode_Move into the storage CNode');
    this.releaseRootSlot(rootSlot);
    return idx;
  }

  /** Copy a parked cap into a fresh root slot (with a rights mask); returns the root slot. */
  *unpark(idx: number, rights: number): Gen<number> {
    const slot = this.rootSlot();
    const err = yield* seL4_CNode_Copy(ROOT, slot, 64, this.storageCptr, idx, this.storageBits, rights);
    check(err, 'CNode_Copy out of the storage CNode');
    return slot;
  }

  /** Delete the cap in a root slot and free the slot. */
  *discard(rootSlot: number): Gen<void> {
    const err = yield* seL4_CNode_Delete(ROOT, rootSlot, 64);
    check(err, 'CNode_Delete');
    this.releaseRootSlot(rootSlot);
  }
}
