/**
 * Memory-mapped I/O routing for the simulated qemu virt machine.
 *
 * RAM is handled by PhysicalMemory (src/machine/memory.ts); every other
 * physical access goes through an MmioBus, which finds the device model that
 * decodes the address. Nothing here throws on a guest access: a bad access is
 * reported as an MmioFault code that the hart turns into a load/store access
 * fault (or a misaligned-address exception), as qemu does for RISC-V when a
 * transaction fails.
 */

/** Access widths a RISC-V hart can issue (lb/lh/lw/ld and the stores). */
export type AccessSize = 1 | 2 | 4 | 8;

/**
 * A device model mapped at [base, base + size).
 *
 * Offsets passed to read/write are relative to base. Values are unsigned and
 * zero-extended to the access size; an 8-byte value is exact below 2^53, as
 * everywhere else in the machine (docs/CONVENTIONS.md).
 */
export interface MmioDevice {
  /** Name used in diagnostics. */
  readonly name?: string;
  /** First physical address decoded by the device. */
  readonly base: number;
  /** Number of bytes decoded by the device (the size of qemu's MemoryRegion). */
  readonly size: number;
  /**
   * Optional access filter: false means the device rejects this access
   * (for example the PLIC only accepts 4-byte accesses), which the bus
   * reports as MmioFault.BadAccess. Absent means every size is accepted.
   */
  accepts?(offset: number, size: AccessSize): boolean;
  read(offset: number, size: AccessSize): number;
  write(offset: number, size: AccessSize, value: number): void;
}

/** Why a bus access failed. */
export const MmioFault = {
  /** The access completed. */
  None: 0,
  /** No device decodes the address (access fault). */
  Unmapped: 1,
  /** The address is not aligned to the access size. */
  Misaligned: 2,
  /** A device decodes the address but rejects the access (wrong width, or it runs past the device's end). */
  BadAccess: 3,
  /** The access size is not 1, 2, 4 or 8. */
  BadSize: 4,
} as const;
export type MmioFault = (typeof MmioFault)[keyof typeof MmioFault];

/** Returned by MmioBus.read when the access faulted; real reads are never negative. */
export const MMIO_FAULT = -1;

function isAccessSize(size: number): size is AccessSize {
  return size === 1 || size === 2 || size === 4 || size === 8;
}

/** Keep the low size*8 bits of an unsigned value (8-byte values are passed through). */
export function truncateToSize(value: number, size: AccessSize): number {
  switch (size) {
    case 1:
      return value & 0xff;
    case 2:
      return value & 0xffff;
    case 4:
      return value >>> 0;
    default:
      return value;
  }
}

/**
 * Routes physical addresses to device models. Devices may not overlap.
 * The result of the last access is kept in lastFault / faultAddr so the
 * hart can build its trap without the bus allocating anything.
 */
export class MmioBus {
  private readonly devs: MmioDevice[] = [];
  private last: MmioDevice | null = null;

  /** Fault code of the most recent read or write. */
  lastFault: MmioFault = MmioFault.None;
  /** Physical address of the most recent faulting access. */
  faultAddr = 0;

  /** The mapped devices, sorted by base address. */
  get devices(): readonly MmioDevice[] {
    return this.devs;
  }

  /**
   * Map a device. Overlapping another device or a non-positive size is a
   * machine construction error (host side), so it throws.
   */
  attach(dev: MmioDevice): void {
    if (!(dev.size > 0) || dev.base < 0 || !Number.isInteger(dev.base) || !Number.isInteger(dev.size)) {
      throw new RangeError(`bad MMIO device window for ${dev.name ?? '?'}: base=0x${dev.base.toString(16)} size=0x${dev.size.toString(16)}`);
    }
    const end = dev.base + dev.size;
    for (const d of this.devs) {
      if (dev.base < d.base + d.size && d.base < end) {
        throw new RangeError(`MMIO device ${dev.name ?? '?'} at 0x${dev.base.toString(16)} overlaps ${d.name ?? '?'} at 0x${d.base.toString(16)}`);
      }
    }
    this.devs.push(dev);
    this.devs.sort((a, b) => a.base - b.base);
  }

  /** Remove a previously attached device (no-op if absent). */
  detach(dev: MmioDevice): void {
    const i = this.devs.indexOf(dev);
    if (i >= 0) this.devs.splice(i, 1);
    if (this.last === dev) this.last = null;
  }

  /** The device decoding paddr, or null. */
  deviceAt(paddr: number): MmioDevice | null {
    const l = this.last;
    if (l !== null && paddr >= l.base && paddr < l.base + l.size) return l;
    const devs = this.devs;
    for (let i = 0; i < devs.length; i++) {
      const d = devs[i]!;
      if (paddr < d.base) break;
      if (paddr < d.base + d.size) {
        this.last = d;
        return d;
      }
    }
    return null;
  }

  /** True when an access of `size` bytes at paddr would reach a device. */
  isMapped(paddr: number, size: number = 1): boolean {
    const d = this.deviceAt(paddr);
    return d !== null && paddr + size <= d.base + d.size;
  }

  /** Check an access; returns the device, or null with lastFault/faultAddr set. */
  private route(paddr: number, size: number): MmioDevice | null {
    if (!isAccessSize(size)) return this.fail(paddr, MmioFault.BadSize);
    if (paddr % size !== 0) return this.fail(paddr, MmioFault.Misaligned);
    const d = this.deviceAt(paddr);
    if (d === null) return this.fail(paddr, MmioFault.Unmapped);
    const off = paddr - d.base;
    if (off + size > d.size) return this.fail(paddr, MmioFault.BadAccess);
    if (d.accepts !== undefined && !d.accepts(off, size)) return this.fail(paddr, MmioFault.BadAccess);
    this.lastFault = MmioFault.None;
    return d;
  }

  private fail(paddr: number, fault: MmioFault): null {
    this.lastFault = fault;
    this.faultAddr = paddr;
    return null;
  }

  /** Load `size` bytes from paddr: the zero-extended value, or MMIO_FAULT with lastFault set. */
  read(paddr: number, size: AccessSize): number {
    const d = this.route(paddr, size);
    if (d === null) return MMIO_FAULT;
    return truncateToSize(d.read(paddr - d.base, size), size);
  }

  /** Store `size` bytes to paddr; returns MmioFault.None or the fault (also left in lastFault). */
  write(paddr: number, size: AccessSize, value: number): MmioFault {
    const d = this.route(paddr, size);
    if (d === null) return this.lastFault;
    d.write(paddr - d.base, size, truncateToSize(value, size));
    return MmioFault.None;
  }
}
