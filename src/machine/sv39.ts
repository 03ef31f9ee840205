/**
 * Sv39 address translation (RISC-V privileged spec, "Sv39: Page-Based
 * 39-bit Virtual-Memory System").
 *
 * This is the one translation code path of the machine: the emulated hart
 * (src/machine/hart.ts) and the TypeScript user runtime both translate user
 * virtual addresses with `translate` / `translateHiLo`, over the page tables
 * the kernel writes into PhysicalMemory with the PTE helpers below.
 *
 * Model:
 * - Every access is a user-mode access (U-mode, SUM and MXR irrelevant): a
 *   leaf must have U=1; reads need R (X does not grant reads), writes need W,
 *   instruction fetches need X.
 * - No hardware A/D updates (no Svadu): a leaf with A=0, or a write to a leaf
 *   with D=0, is a page fault. seL4 sets A and D on every user mapping.
 * - No Svnapot / Svpbmt: PTE bits 63..54 are reserved and must be zero.
 *   The D, A and U bits of non-leaf PTEs are reserved too.
 * - A PTE that is not in RAM (a root or table pointer to a device or a hole)
 *   gives an access fault, as a PMA violation would.
 * - The G bit does not affect translation.
 *
 * Addresses: a virtual address is a 64-bit value. `translateHiLo` takes it as
 * two 32-bit halves (exact); `translate` takes a number, either unsigned
 * (0 <= v < 2^64; exact for user addresses, which are below 2^38) or signed
 * (negative numbers are two's-complement 64-bit values, so upper-half
 * canonical addresses are exact as negatives). Physical addresses are
 * numbers: exact below 2^53, which covers every RAM and device address of
 * qemu virt; a PPN whose address would be 2^53 or more never names RAM.
 */

import type { PhysicalMemory } from './memory.js';

/** The kind of access being translated. */
export const enum Access {
  Read = 0,
  Write = 1,
  Execute = 2,
}

/** PTE bits (RISC-V privileged spec, Sv39 PTE format). */
export const PTE_V = 1 << 0;
export const PTE_R = 1 << 1;
export const PTE_W = 1 << 2;
export const PTE_X = 1 << 3;
export const PTE_U = 1 << 4;
export const PTE_G = 1 << 5;
export const PTE_A = 1 << 6;
export const PTE_D = 1 << 7;
/** The two bits reserved for supervisor software (RSW, bits 9..8). */
export const PTE_RSW_SHIFT = 8;
/** Mask of the 10 flag bits (V..D plus RSW) in the low word of a PTE. */
export const PTE_FLAGS_MASK = 0x3ff;
/** PPN field: bits 53..10 (44 bits). */
export const PTE_PPN_SHIFT = 10;
export const PTE_PPN_BITS = 44;

export const PAGE_BITS = 12;
export const PAGE_SIZE = 4096;
export const MEGA_PAGE_SIZE = 2 * 1024 * 1024;
export const GIGA_PAGE_SIZE = 1024 * 1024 * 1024;
/** Bits of VPN per level and entries per page table. */
export const PT_INDEX_BITS = 9;
export const PT_ENTRIES = 512;
export const PTE_SIZE = 8;
/** Sv39 has three levels; the root is level 2 in the spec's numbering. */
export const SV39_LEVELS = 3;
/** Number of significant virtual address bits. */
export const SV39_VA_BITS = 39;

/** Why a translation failed (diagnostics; the exception cause follows from `faultCause`). */
export const enum FaultKind {
  None = 0,
  /** Bits 63..39 of the address differ from bit 38 (page fault). */
  NonCanonical = 1,
  /** The hart has no page table root (satpRoot < 0) (page fault). */
  NoRoot = 2,
  /** A PTE lies outside RAM (access fault). */
  PteAccess = 3,
  /** V=0, or a table pointer at the last level (page fault). */
  Invalid = 4,
  /** Reserved bits or encodings set: W without R, bits 63..54, D/A/U of a non-leaf (page fault). */
  Reserved = 5,
  /** Leaf without U=1 (page fault). */
  NotUser = 6,
  /** Leaf lacks R, W or X for the access (page fault). */
  Permission = 7,
  /** Superpage whose PPN low bits are not zero (page fault). */
  MisalignedSuperpage = 8,
  /** Leaf with A=0 (page fault). */
  NotAccessed = 9,
  /** Write to a leaf with D=0 (page fault). */
  NotDirty = 10,
}

/** RISC-V exception causes (scause values) used by the machine. */
export const CAUSE_MISALIGNED_FETCH = 0;
export const CAUSE_FETCH_ACCESS = 1;
export const CAUSE_ILLEGAL_INSTRUCTION = 2;
export const CAUSE_BREAKPOINT = 3;
export const CAUSE_MISALIGNED_LOAD = 4;
export const CAUSE_LOAD_ACCESS = 5;
export const CAUSE_MISALIGNED_STORE = 6;
export const CAUSE_STORE_ACCESS = 7;
export const CAUSE_USER_ECALL = 8;
export const CAUSE_FETCH_PAGE_FAULT = 12;
export const CAUSE_LOAD_PAGE_FAULT = 13;
export const CAUSE_STORE_PAGE_FAULT = 15;

/** The page-fault cause for an access type (store/AMO faults are store faults). */
export function pageFaultCause(access: Access): number {
  return access === Access.Read ? CAUSE_LOAD_PAGE_FAULT : access === Access.Write ? CAUSE_STORE_PAGE_FAULT : CAUSE_FETCH_PAGE_FAULT;
}

/** The access-fault cause for an access type. */
export function accessFaultCause(access: Access): number {
  return access === Access.Read ? CAUSE_LOAD_ACCESS : access === Access.Write ? CAUSE_STORE_ACCESS : CAUSE_FETCH_ACCESS;
}

/** The scause value a failed translation raises. */
export function faultCause(kind: FaultKind, access: Access): number {
  return kind === FaultKind.PteAccess ? accessFaultCause(access) : pageFaultCause(access);
}

/**
 * Reusable result of a translation (allocate one, pass it to every call).
 * On success: paddr, pageSize, level, pte and pteAddr describe the leaf.
 * On failure: faultKind says why; pte/pteAddr describe the last PTE read (or
 * are 0 / -1 when none was read).
 */
export class TranslateResult {
  /** Physical address of the access. */
  paddr = 0;
  /** Size of the leaf page: 4 KiB, 2 MiB or 1 GiB. */
  pageSize = 0;
  /** Level of the leaf in the spec's numbering: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB. */
  level = 0;
  /** The leaf PTE as a number (exact for PPNs below 2^43, i.e. every qemu virt address). */
  pte = 0;
  /** Low and high 32 bits of the last PTE read (exact). */
  pteLo = 0;
  pteHi = 0;
  /** Physical address of the last PTE read, -1 if none. */
  pteAddr = -1;
  /** FaultKind.None on success. */
  faultKind: FaultKind = FaultKind.None;
}

// ---------------------------------------------------------------------------
// PTE construction and decoding.
//
// A PTE is 64 bits. `pteNew` returns it as a bigint (handy off the hot paths,
// e.g. `mem.write64(slot, pteNew(ppn, flags))`); `pteLo` / `pteHi` give its two
// 32-bit halves as numbers so the kernel can write it allocation free with two
// `write32`s. A PPN is a number below 2^44.
// ---------------------------------------------------------------------------

const TWO_22 = 0x400000;
const TWO_32 = 0x100000000;

/** Low 32 bits of the PTE (ppn, flags), as an unsigned number. */
export function pteLo(ppn: number, flags: number): number {
  return ((((ppn % TWO_22) << PTE_PPN_SHIFT) | (flags & PTE_FLAGS_MASK)) >>> 0);
}

/** High 32 bits of the PTE (ppn, flags), as an unsigned number. */
export function pteHi(ppn: number): number {
  return (Math.floor(ppn / TWO_22) & 0x3fffff) >>> 0;
}

/** The 64-bit PTE (ppn, flags) as a bigint. `flags` is the low 10 bits (V..D, RSW). */
export function pteNew(ppn: number, flags: number): bigint {
  return (BigInt(pteHi(ppn)) << 32n) | BigInt(pteLo(ppn, flags));
}

/** PPN of a PTE given as a bigint. */
export function ptePPN(pte: bigint): number {
  return Number((pte >> 10n) & 0xfffffffffffn);
}

/** PPN of a PTE given as its two 32-bit halves. */
export function ptePPNHiLo(hi: number, lo: number): number {
  return (hi & 0x3fffff) * TWO_22 + (lo >>> PTE_PPN_SHIFT);
}

/** The 10 flag bits (V R W X U G A D RSW) of a PTE given as a bigint. */
export function pteFlags(pte: bigint): number {
  return Number(pte & 0x3ffn);
}

/** True if the PTE flags describe a valid pointer to the next level table. */
export function pteIsTable(flags: number): boolean {
  return (flags & PTE_V) !== 0 && (flags & (PTE_R | PTE_W | PTE_X)) === 0;
}

/** True if the PTE flags describe a valid leaf. */
export function pteIsLeaf(flags: number): boolean {
  return (flags & PTE_V) !== 0 && (flags & (PTE_R | PTE_W | PTE_X)) !== 0;
}

// ---------------------------------------------------------------------------
// VPN extraction.
//
// The spec numbers the levels VPN[2] (root, bits 38..30), VPN[1] (bits
// 29..21) and VPN[0] (bits 20..12). seL4's RISCV_GET_PT_INDEX(addr, n) numbers
// them the other way round (n = 0 is the root); `ptIndex` follows seL4.
// Addresses are numbers (user addresses are below 2^38, exact).
// ---------------------------------------------------------------------------

/** VPN[level] of vaddr in the spec's numbering (level 2 = root index). */
export function vpn(vaddr: number, level: number): number {
  const shift = PAGE_BITS + PT_INDEX_BITS * level;
  return Math.floor(vaddr / 2 ** shift) & (PT_ENTRIES - 1);
}
export function vpn2(vaddr: number): number {
  return vpn(vaddr, 2);
}
export function vpn1(vaddr: number): number {
  return vpn(vaddr, 1);
}
export function vpn0(vaddr: number): number {
  return vpn(vaddr, 0);
}

/** seL4's RISCV_GET_PT_INDEX: index into the table at seL4 level `lvl` (0 = root). */
export function ptIndex(vaddr: number, lvl: number): number {
  return vpn(vaddr, SV39_LEVELS - 1 - lvl);
}

/** seL4's RISCV_GET_LVL_PGSIZE_BITS: bits covered by one entry at seL4 level `lvl` (0 = root, 30). */
export function levelPageBits(lvl: number): number {
  return PAGE_BITS + PT_INDEX_BITS * (SV39_LEVELS - 1 - lvl);
}

/** True if the 64-bit value (hi, lo) is an Sv39 canonical address (bits 63..39 equal bit 38). */
export function isCanonicalHiLo(hi: number, lo: number): boolean {
  void lo;
  const t = hi >> 6; // bits 63..38 of the address
  return t === 0 || t === -1;
}

/**
 * Split a number vaddr into 32-bit halves into `out` (index 0 = lo, 1 = hi).
 * Non-negative numbers are unsigned values, negative ones two's complement.
 * Returns false for a number that is no 64-bit integer.
 */
function splitVaddr(vaddr: number, out: Int32Array): boolean {
  if (!Number.isInteger(vaddr) || vaddr >= 2 ** 64 || vaddr < -(2 ** 63)) return false;
  const hi = Math.floor(vaddr / TWO_32);
  out[0] = vaddr - hi * TWO_32; // in [0, 2^32), stored as its int32 bits
  out[1] = hi; // int32 conversion keeps the low 32 bits (two's complement)
  return true;
}

const splitScratch = new Int32Array(2);

/** Translate a user access at vaddr (a number, see the module comment). */
export function translate(
  mem: PhysicalMemory,
  rootPaddr: number,
  vaddr: number,
  access: Access,
  out: TranslateResult,
): boolean {
  if (!splitVaddr(vaddr, splitScratch)) {
    resetResult(out);
    out.faultKind = FaultKind.NonCanonical;
    return false;
  }
  return translateHiLo(mem, rootPaddr, splitScratch[1]!, splitScratch[0]!, access, out);
}

function resetResult(out: TranslateResult): void {
  out.paddr = 0;
  out.pageSize = 0;
  out.level = 0;
  out.pte = 0;
  out.pteLo = 0;
  out.pteHi = 0;
  out.pteAddr = -1;
  out.faultKind = FaultKind.None;
}

function fail(out: TranslateResult, kind: FaultKind): boolean {
  out.faultKind = kind;
  return false;
}

/**
 * Translate a user access at the 64-bit virtual address (vaHi, vaLo) (the
 * 32-bit halves, signed or unsigned). Walks the Sv39 tables rooted at
 * rootPaddr (a page-aligned physical address, or negative for "no VSpace":
 * every access faults). Returns true and fills `out` on success; returns
 * false with out.faultKind set otherwise. Never throws, never allocates.
 */
export function translateHiLo(
  mem: PhysicalMemory,
  rootPaddr: number,
  vaHi: number,
  vaLo: number,
  access: Access,
  out: TranslateResult,
): boolean {
  resetResult(out);
  vaHi |= 0;
  vaLo >>>= 0;
  if (!isCanonicalHiLo(vaHi, vaLo)) return fail(out, FaultKind.NonCanonical);
  if (rootPaddr < 0) return fail(out, FaultKind.NoRoot);

  // VPN[2] = va[38:30] = hi[6:0] . lo[31:30]; VPN[1] = va[29:21]; VPN[0] = va[20:12].
  const vpnAll = ((vaHi & 0x7f) << 20) | (vaLo >>> 12); // va[38:12], 27 bits
  let table = rootPaddr;
  for (let level = 2; level >= 0; level--) {
    const index = (vpnAll >>> (PT_INDEX_BITS * level)) & (PT_ENTRIES - 1);
    const pteAddr = table + index * PTE_SIZE;
    out.pteAddr = pteAddr;
    if (!mem.isRam(pteAddr, PTE_SIZE)) return fail(out, FaultKind.PteAccess);
    const lo = mem.read32(pteAddr);
    const hi = mem.read32(pteAddr + 4);
    out.pteLo = lo;
    out.pteHi = hi;
    out.pte = hi * TWO_32 + lo;
    if ((lo & PTE_V) === 0) return fail(out, FaultKind.Invalid);
    if ((hi >>> 22) !== 0) return fail(out, FaultKind.Reserved);
    if ((lo & (PTE_R | PTE_W)) === PTE_W) return fail(out, FaultKind.Reserved);
    const ppn = ptePPNHiLo(hi, lo);
    if ((lo & (PTE_R | PTE_X)) === 0) {
      // Pointer to the next level.
      if (level === 0) return fail(out, FaultKind.Invalid);
      if ((lo & (PTE_D | PTE_A | PTE_U)) !== 0) return fail(out, FaultKind.Reserved);
      table = ppn * PAGE_SIZE;
      continue;
    }
    // Leaf.
    if ((lo & PTE_U) === 0) return fail(out, FaultKind.NotUser);
    const need = access === Access.Read ? PTE_R : access === Access.Write ? PTE_W : PTE_X;
    if ((lo & need) === 0) return fail(out, FaultKind.Permission);
    const lowMask = (1 << (PT_INDEX_BITS * level)) - 1; // PPN bits the VPN supplies
    if ((ppn % (lowMask + 1)) !== 0) return fail(out, FaultKind.MisalignedSuperpage);
    if ((lo & PTE_A) === 0) return fail(out, FaultKind.NotAccessed);
    if (access === Access.Write && (lo & PTE_D) === 0) return fail(out, FaultKind.NotDirty);
    out.level = level;
    out.pageSize = PAGE_SIZE * (lowMask + 1);
    out.paddr = (ppn + (vpnAll & lowMask)) * PAGE_SIZE + (vaLo & (PAGE_SIZE - 1));
    return true;
  }
  return fail(out, FaultKind.Invalid); // unreachable: level 0 never continues
}

// ---------------------------------------------------------------------------
// Software TLB.
// ---------------------------------------------------------------------------

const TLB_INVALID_TAG = 0x7fffffff; // no canonical VPN is this value

/**
 * A direct-mapped software TLB of successful 4 KiB translations, one set per
 * access type. It caches whatever `translate` returned (a superpage is cached
 * 4 KiB at a time) and is never invalidated implicitly: the kernel calls
 * `flush()` whenever a mapping is removed or changed (unmap, remap, page table
 * deletion, sfence.vma) and whenever the root changes.
 *
 * Keys are signed virtual page numbers of canonical addresses
 * (va >> 12, sign-extended from bit 38), which fit in an int32.
 */
export class Tlb {
  /** Entries per access type (a power of two). */
  readonly size: number;
  readonly mask: number;
  /** tag[access * size + i]: the VPN cached in entry i, or TLB_INVALID_TAG. */
  readonly tag: Int32Array;
  /** Physical address of the 4 KiB page. */
  readonly ppage: Float64Array;
  /** Index into mem.ram of the region holding the page, or -1 if it is no RAM (a device or a hole). */
  readonly region: Int32Array;
  /** Number of flushes (diagnostics). */
  flushes = 0;

  constructor(size = 256) {
    if (size <= 0 || (size & (size - 1)) !== 0) throw new RangeError('TLB size must be a power of two');
    this.size = size;
    this.mask = size - 1;
    this.tag = new Int32Array(3 * size).fill(TLB_INVALID_TAG);
    this.ppage = new Float64Array(3 * size);
    this.region = new Int32Array(3 * size);
  }

  /** Forget every cached translation. */
  flush(): void {
    this.tag.fill(TLB_INVALID_TAG);
    this.flushes++;
  }

  /** Slot of vpn for the access if cached, else -1. */
  lookup(vpnSigned: number, access: Access): number {
    const slot = access * this.size + (vpnSigned & this.mask);
    return this.tag[slot] === vpnSigned ? slot : -1;
  }

  /** Cache a successful translation of the page vpnSigned to the physical page ppage. Returns the slot. */
  insert(mem: PhysicalMemory, vpnSigned: number, access: Access, ppage: number): number {
    const slot = access * this.size + (vpnSigned & this.mask);
    this.tag[slot] = vpnSigned;
    this.ppage[slot] = ppage;
    this.region[slot] = ramIndexOf(mem, ppage);
    return slot;
  }

  /**
   * Translate through the TLB: a hit gives the cached physical address, a
   * miss walks the tables with translateHiLo and caches a success. `out` is
   * fully filled on a miss; on a hit only paddr (and faultKind = None) are
   * meaningful. Never throws.
   */
  translateHiLo(
    mem: PhysicalMemory,
    rootPaddr: number,
    vaHi: number,
    vaLo: number,
    access: Access,
    out: TranslateResult,
  ): boolean {
    vaHi |= 0;
    vaLo >>>= 0;
    if (isCanonicalHiLo(vaHi, vaLo)) {
      const vpnSigned = (vaHi << 20) | (vaLo >>> 12);
      const slot = this.lookup(vpnSigned, access);
      if (slot >= 0) {
        out.faultKind = FaultKind.None;
        out.paddr = this.ppage[slot]! + (vaLo & (PAGE_SIZE - 1));
        return true;
      }
      if (!translateHiLo(mem, rootPaddr, vaHi, vaLo, access, out)) return false;
      this.insert(mem, vpnSigned, access, out.paddr - (vaLo & (PAGE_SIZE - 1)));
      return true;
    }
    return translateHiLo(mem, rootPaddr, vaHi, vaLo, access, out);
  }

  /** Number-address form of translateHiLo (see `translate` for the number convention). */
  translate(mem: PhysicalMemory, rootPaddr: number, vaddr: number, access: Access, out: TranslateResult): boolean {
    if (!splitVaddr(vaddr, splitScratch)) {
      resetResult(out);
      out.faultKind = FaultKind.NonCanonical;
      return false;
    }
    return this.translateHiLo(mem, rootPaddr, splitScratch[1]!, splitScratch[0]!, access, out);
  }
}

/** Index in mem.ram of the region holding the whole 4 KiB page at ppage, or -1. */
export function ramIndexOf(mem: PhysicalMemory, ppage: number): number {
  const ram = mem.ram;
  for (let i = 0; i < ram.length; i++) {
    const r = ram[i]!;
    if (ppage >= r.base && ppage + PAGE_SIZE <= r.end) return i;
  }
  return -1;
}
