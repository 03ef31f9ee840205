/**
 * Capabilities.
 *
 * seL4 packs a capability into two machine words; sel4ts keeps the same
 * fields in one monomorphic class. A Cap is a value: deriving, minting or
 * masking produces a new Cap; only the fields seL4 itself updates in place
 * (an untyped's free index, a frame's or page table's mapping) are mutated,
 * and only on the Cap stored in the slot that owns them.
 */
import { capStateWritten } from './capgen.js';
import type { KernelObject } from './object/kobject.js';

/** Capability types (seL4's cap_tag, generic and RISC-V). */
export enum CapType {
  Null = 0,
  Untyped,
  Endpoint,
  Notification,
  Reply,
  CNode,
  Thread,
  IRQControl,
  IRQHandler,
  Zombie,
  Domain,
  SchedContext,
  SchedControl,
  // RISC-V architecture caps
  Frame,
  PageTable,
  ASIDControl,
  ASIDPool,
}

/** Rights bits as seL4_CapRights_t lays them out (write, read, grant, grant-reply). */
export const RIGHT_WRITE = 1;
export const RIGHT_READ = 2;
export const RIGHT_GRANT = 4;
export const RIGHT_GRANT_REPLY = 8;
export const ALL_RIGHTS = 15;

/** RISC-V VM rights (seL4's vm_rights_t). */
export enum VMRights {
  KernelOnly = 1,
  ReadOnly = 2,
  ReadWrite = 3,
}

export const ASID_INVALID = 0;

export class Cap {
  /** Shared null capability; never mutated. */
  static readonly NULL: Cap = new Cap(CapType.Null, null, 0, 0);

  // The fields, private: every write goes through a setter below that counts
  // it in the capability-state generation (capgen.ts). The constructor and
  // clone fill a cap no slot holds yet, so they write the fields directly.
  #type: CapType;
  #obj: KernelObject | null;
  #paddr: number;
  #sizeBits: number;
  #rights: number;
  #badgeHi: number;
  #badgeLo: number;
  #guardHi: number;
  #guardLo: number;
  #guardSize: number;
  #radix: number;
  #freeIndex: number;
  #isDevice: boolean;
  #mappedASID: number;
  #mappedAddr: number;
  #isMapped: boolean;
  #word: number;

  constructor(type: CapType, obj: KernelObject | null, paddr: number, sizeBits: number) {
    this.#type = type;
    this.#obj = obj;
    this.#paddr = paddr;
    this.#sizeBits = sizeBits;
    this.#rights = 0;
    this.#badgeHi = 0;
    this.#badgeLo = 0;
    this.#guardHi = 0;
    this.#guardLo = 0;
    this.#guardSize = 0;
    this.#radix = 0;
    this.#freeIndex = 0;
    this.#isDevice = false;
    this.#mappedASID = ASID_INVALID;
    this.#mappedAddr = 0;
    this.#isMapped = false;
    this.#word = 0;
  }

  clone(): Cap {
    const c = new Cap(this.#type, this.#obj, this.#paddr, this.#sizeBits);
    c.#rights = this.#rights;
    c.#badgeHi = this.#badgeHi;
    c.#badgeLo = this.#badgeLo;
    c.#guardHi = this.#guardHi;
    c.#guardLo = this.#guardLo;
    c.#guardSize = this.#guardSize;
    c.#radix = this.#radix;
    c.#freeIndex = this.#freeIndex;
    c.#isDevice = this.#isDevice;
    c.#mappedASID = this.#mappedASID;
    c.#mappedAddr = this.#mappedAddr;
    c.#isMapped = this.#isMapped;
    c.#word = this.#word;
    return c;
  }

  /** The cap type. */
  get type(): CapType {
    return this.#type;
  }
  set type(v: CapType) {
    this.#type = v;
    capStateWritten();
  }
  /** The kernel object named (null for untyped, frames, page tables and control caps). */
  get obj(): KernelObject | null {
    return this.#obj;
  }
  set obj(v: KernelObject | null) {
    this.#obj = v;
    capStateWritten();
  }
  /** Physical address of the object or region. */
  get paddr(): number {
    return this.#paddr;
  }
  set paddr(v: number) {
    this.#paddr = v;
    capStateWritten();
  }
  /** Size in bits: untyped block size, frame size (12, 21, 30), scheduling context size (a CNode's size is radix + slot bits, see radix). */
  get sizeBits(): number {
    return this.#sizeBits;
  }
  set sizeBits(v: number) {
    this.#sizeBits = v;
    capStateWritten();
  }
  /** Rights bits (RIGHT_*) for endpoint, notification, reply; VMRights for frames. */
  get rights(): number {
    return this.#rights;
  }
  set rights(v: number) {
    this.#rights = v;
    capStateWritten();
  }
  /** Badge, 64-bit, as two uint32 halves (endpoint, notification): high half. */
  get badgeHi(): number {
    return this.#badgeHi;
  }
  set badgeHi(v: number) {
    this.#badgeHi = v;
    capStateWritten();
  }
  /** Badge: low half. */
  get badgeLo(): number {
    return this.#badgeLo;
  }
  set badgeLo(v: number) {
    this.#badgeLo = v;
    capStateWritten();
  }
  /** CNode guard (up to 58 bits) as two uint32 halves: high half. */
  get guardHi(): number {
    return this.#guardHi;
  }
  set guardHi(v: number) {
    this.#guardHi = v;
    capStateWritten();
  }
  /** CNode guard: low half. */
  get guardLo(): number {
    return this.#guardLo;
  }
  set guardLo(v: number) {
    this.#guardLo = v;
    capStateWritten();
  }
  /** CNode guard size. */
  get guardSize(): number {
    return this.#guardSize;
  }
  set guardSize(v: number) {
    this.#guardSize = v;
    capStateWritten();
  }
  /** CNode radix. */
  get radix(): number {
    return this.#radix;
  }
  set radix(v: number) {
    this.#radix = v;
    capStateWritten();
  }
  /** Untyped: free index in bytes from paddr. */
  get freeIndex(): number {
    return this.#freeIndex;
  }
  set freeIndex(v: number) {
    this.#freeIndex = v;
    capStateWritten();
  }
  /** Untyped / frame: device memory. */
  get isDevice(): boolean {
    return this.#isDevice;
  }
  set isDevice(v: boolean) {
    this.#isDevice = v;
    capStateWritten();
  }
  /** Frame / page table: ASID of the mapping. */
  get mappedASID(): number {
    return this.#mappedASID;
  }
  set mappedASID(v: number) {
    this.#mappedASID = v;
    capStateWritten();
  }
  /** Frame / page table: virtual address of the mapping. */
  get mappedAddr(): number {
    return this.#mappedAddr;
  }
  set mappedAddr(v: number) {
    this.#mappedAddr = v;
    capStateWritten();
  }
  /** Frame / page table: mapped. */
  get isMapped(): boolean {
    return this.#isMapped;
  }
  set isMapped(v: boolean) {
    this.#isMapped = v;
    capStateWritten();
  }
  /** IRQ handler: IRQ number. ASID pool: ASID base. SchedControl: core. */
  get word(): number {
    return this.#word;
  }
  set word(v: number) {
    this.#word = v;
    capStateWritten();
  }

  get isNull(): boolean {
    return this.type === CapType.Null;
  }

  /** The badge as a bigint (for tests, traces and slow paths). */
  get badge(): bigint {
    return (BigInt(this.badgeHi) << 32n) | BigInt(this.badgeLo);
  }

  /** The CNode guard as a bigint. */
  get guard(): bigint {
    return (BigInt(this.guardHi) << 32n) | BigInt(this.guardLo);
  }

  hasBadge(): boolean {
    return (this.badgeHi | this.badgeLo) !== 0;
  }

  /** Size in bytes of the memory this cap covers (physical caps). */
  regionBytes(): number {
    return POW2[capRegionBits(this)]!;
  }

  canRead(): boolean {
    return (this.rights & RIGHT_READ) !== 0;
  }
  canWrite(): boolean {
    return (this.rights & RIGHT_WRITE) !== 0;
  }
  canGrant(): boolean {
    return (this.rights & RIGHT_GRANT) !== 0;
  }
  canGrantReply(): boolean {
    return (this.rights & RIGHT_GRANT_REPLY) !== 0;
  }

  toString(): string {
    return describeCap(this);
  }
}

/** 2^n for n in 0..64 (a table: V8 is slow at ** with a variable exponent on hot paths). */
const POW2 = Float64Array.from({ length: 65 }, (_, n) => 2 ** n);

/** Size in bits of the physical region a cap names (seL4's cap_get_capSizeBits). */
export function capRegionBits(c: Cap): number {
  switch (c.type) {
    case CapType.CNode:
      return c.radix + 5; // seL4_SlotBits
    default:
      return c.sizeBits;
  }
}

/** Whether a cap names physical memory (seL4's cap_get_capIsPhysical). */
export function capIsPhysical(c: Cap): boolean {
  switch (c.type) {
    case CapType.Untyped:
    case CapType.Endpoint:
    case CapType.Notification:
    case CapType.CNode:
    case CapType.Thread:
    case CapType.Zombie:
    case CapType.SchedContext:
    case CapType.Reply:
    case CapType.Frame:
    case CapType.PageTable:
    case CapType.ASIDPool:
      return true;
    default:
      return false;
  }
}

export function isArchCap(c: Cap): boolean {
  return c.type >= CapType.Frame;
}

function sameBadge(a: Cap, b: Cap): boolean {
  return a.badgeHi === b.badgeHi && a.badgeLo === b.badgeLo;
}

/**
 * seL4's sameRegionAs: whether b names memory or an object contained in what a names.
 * Used to decide MDB parenthood.
 */
export function sameRegionAs(a: Cap, b: Cap): boolean {
  switch (a.type) {
    case CapType.Untyped: {
      if (!capIsPhysical(b)) return false;
      const aBase = a.paddr;
      const bBase = b.paddr;
      const aTop = aBase + POW2[a.sizeBits]! - 1;
      const bTop = bBase + POW2[capRegionBits(b)]! - 1;
      return aBase <= bBase && bTop <= aTop && bBase <= bTop;
    }
    case CapType.Endpoint:
    case CapType.Notification:
    case CapType.Thread:
    case CapType.Reply:
      return b.type === a.type && b.obj === a.obj;
    case CapType.CNode:
      return b.type === CapType.CNode && b.obj === a.obj && b.radix === a.radix;
    case CapType.Domain:
      return b.type === CapType.Domain;
    case CapType.IRQControl:
      return b.type === CapType.IRQControl || b.type === CapType.IRQHandler;
    case CapType.IRQHandler:
      return b.type === CapType.IRQHandler && b.word === a.word;
    case CapType.SchedContext:
      return b.type === CapType.SchedContext && b.obj === a.obj && b.sizeBits === a.sizeBits;
    case CapType.SchedControl:
      return b.type === CapType.SchedControl && b.word === a.word;
    case CapType.Frame: {
      if (b.type !== CapType.Frame) return false;
      const botA = a.paddr;
      const botB = b.paddr;
      const topA = botA + POW2[a.sizeBits]! - 1;
      const topB = botB + POW2[b.sizeBits]! - 1;
      return botA <= botB && topA >= topB && botB <= topB;
    }
    case CapType.PageTable:
      return b.type === CapType.PageTable && b.paddr === a.paddr;
    case CapType.ASIDControl:
      return b.type === CapType.ASIDControl;
    case CapType.ASIDPool:
      return b.type === CapType.ASIDPool && b.obj === a.obj;
    default:
      return false;
  }
}

/** seL4's sameObjectAs: a and b name the very same object. */
export function sameObjectAs(a: Cap, b: Cap): boolean {
  if (a.type === CapType.Untyped) return false;
  if (a.type === CapType.IRQControl && b.type === CapType.IRQHandler) return false;
  if (a.type === CapType.Frame && b.type === CapType.Frame) {
    return a.paddr === b.paddr && a.sizeBits === b.sizeBits && a.isDevice === b.isDevice;
  }
  return sameRegionAs(a, b);
}

/** seL4's isCapRevocable: whether a derived cap becomes an MDB parent of its own copies. */
export function isCapRevocable(derived: Cap, src: Cap): boolean {
  if (isArchCap(derived)) return false;
  switch (derived.type) {
    case CapType.Endpoint:
    case CapType.Notification:
      return !sameBadge(derived, src);
    case CapType.IRQHandler:
      return src.type === CapType.IRQControl;
    case CapType.Untyped:
      return true;
    default:
      return false;
  }
}

/**
 * seL4's maskCapRights: restrict the rights of a cap by a seL4_CapRights_t word.
 * Returns a new cap (or the same cap if rights do not apply to its type).
 */
export function maskCapRights(rightsWord: number, c: Cap): Cap {
  switch (c.type) {
    case CapType.Endpoint: {
      const n = c.clone();
      n.rights = c.rights & rightsWord & ALL_RIGHTS;
      return n;
    }
    case CapType.Notification: {
      const n = c.clone();
      n.rights = c.rights & rightsWord & (RIGHT_READ | RIGHT_WRITE);
      return n;
    }
    case CapType.Reply: {
      const n = c.clone();
      n.rights = c.rights & rightsWord & RIGHT_GRANT;
      return n;
    }
    case CapType.Frame: {
      const n = c.clone();
      n.rights = maskVMRights(c.rights as VMRights, rightsWord);
      return n;
    }
    default:
      return c;
  }
}

/** RISC-V maskVMRights. */
export function maskVMRights(vm: VMRights, rightsWord: number): VMRights {
  const r = (rightsWord & RIGHT_READ) !== 0;
  const w = (rightsWord & RIGHT_WRITE) !== 0;
  if (vm === VMRights.ReadOnly && r) return VMRights.ReadOnly;
  if (vm === VMRights.ReadWrite && r) return w ? VMRights.ReadWrite : VMRights.ReadOnly;
  return VMRights.KernelOnly;
}

export function describeCap(c: Cap): string {
  const hex = (n: number) => '0x' + n.toString(16);
  switch (c.type) {
    case CapType.Null:
      return 'null';
    case CapType.Untyped:
      return `untyped(${hex(c.paddr)}, ${c.sizeBits} bits${c.isDevice ? ', device' : ''}, free ${c.freeIndex})`;
    case CapType.Endpoint:
    case CapType.Notification:
      return `${CapType[c.type].toLowerCase()}(${hex(c.paddr)}, badge ${c.badge}, rights ${c.rights})`;
    case CapType.CNode:
      return `cnode(${hex(c.paddr)}, radix ${c.radix}, guard ${c.guard}/${c.guardSize})`;
    case CapType.Frame:
      return `frame(${hex(c.paddr)}, ${c.sizeBits} bits, ${c.isMapped ? 'mapped at ' + hex(c.mappedAddr) : 'unmapped'})`;
    case CapType.IRQHandler:
      return `irq_handler(${c.word})`;
    default:
      return `${CapType[c.type]}(${hex(c.paddr)})`;
  }
}
