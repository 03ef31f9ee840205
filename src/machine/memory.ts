/**
 * Physical memory of the simulated machine (qemu virt, riscv64).
 *
 * RAM regions are backed by one ArrayBuffer each; every byte a Frame or a
 * PageTable holds lives here, so the kernel, the TypeScript user runtime and
 * the emulated hart all see the same bytes. Device regions are described but
 * not backed: accesses to them are routed to device models (src/machine/devices).
 */

export interface MemoryRegion {
  /** First physical address of the region. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
}

export interface DeviceRegion extends MemoryRegion {
  readonly name: string;
}

/** A RAM region with its backing store and typed views over it. */
export class RamRegion implements MemoryRegion {
  readonly base: number;
  readonly size: number;
  readonly end: number;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly dv: DataView;

  constructor(base: number, size: number) {
    if (base % 4096 !== 0 || size % 4096 !== 0 || size <= 0) {
      throw new RangeError(`RAM region must be page aligned: base=0x${base.toString(16)} size=0x${size.toString(16)}`);
    }
    this.base = base;
    this.size = size;
    this.end = base + size;
    this.buffer = new ArrayBuffer(size);
    this.u8 = new Uint8Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.dv = new DataView(this.buffer);
  }
}

/**
 * The machine's physical address space. Addresses are plain numbers: every
 * physical address of qemu virt fits in 53 bits. All multi-byte accesses are
 * little-endian, as on RISC-V.
 */
export class PhysicalMemory {
  readonly ram: RamRegion[];
  readonly devices: DeviceRegion[];

  constructor(ram: MemoryRegion[], devices: DeviceRegion[] = []) {
    this.ram = ram.map((r) => new RamRegion(r.base, r.size)).sort((a, b) => a.base - b.base);
    this.devices = [...devices].sort((a, b) => a.base - b.base);
  }

  /** The RAM region holding [paddr, paddr + len), or null. */
  regionOf(paddr: number, len = 1): RamRegion | null {
    const ram = this.ram;
    for (let i = 0; i < ram.length; i++) {
      const r = ram[i]!;
      if (paddr >= r.base && paddr + len <= r.end) return r;
    }
    return null;
  }

  isRam(paddr: number, len = 1): boolean {
    return this.regionOf(paddr, len) !== null;
  }

  private region(paddr: number, len: number): RamRegion {
    const r = this.regionOf(paddr, len);
    if (r === null) throw new RangeError(`physical access outside RAM: 0x${paddr.toString(16)} (+${len})`);
    return r;
  }

  read8(paddr: number): number {
    const r = this.region(paddr, 1);
    return r.u8[paddr - r.base]!;
  }
  write8(paddr: number, v: number): void {
    const r = this.region(paddr, 1);
    r.u8[paddr - r.base] = v;
  }
  read16(paddr: number): number {
    const r = this.region(paddr, 2);
    return r.dv.getUint16(paddr - r.base, true);
  }
  write16(paddr: number, v: number): void {
    const r = this.region(paddr, 2);
    r.dv.setUint16(paddr - r.base, v, true);
  }
  read32(paddr: number): number {
    const r = this.region(paddr, 4);
    return r.dv.getUint32(paddr - r.base, true);
  }
  write32(paddr: number, v: number): void {
    const r = this.region(paddr, 4);
    r.dv.setUint32(paddr - r.base, v >>> 0, true);
  }
  read64(paddr: number): bigint {
    const r = this.region(paddr, 8);
    return r.dv.getBigUint64(paddr - r.base, true);
  }
  write64(paddr: number, v: bigint): void {
    const r = this.region(paddr, 8);
    r.dv.setBigUint64(paddr - r.base, BigInt.asUintN(64, v), true);
  }

  /** Zero [paddr, paddr + len): used when the kernel clears retyped memory. */
  zero(paddr: number, len: number): void {
    const r = this.region(paddr, len);
    r.u8.fill(0, paddr - r.base, paddr - r.base + len);
  }

  /** Copy len bytes between two physical ranges (ranges may be in different regions). */
  copy(dst: number, src: number, len: number): void {
    const rd = this.region(dst, len);
    const rs = this.region(src, len);
    if (rd === rs) rd.u8.copyWithin(dst - rd.base, src - rs.base, src - rs.base + len);
    else rd.u8.set(rs.u8.subarray(src - rs.base, src - rs.base + len), dst - rd.base);
  }

  /** A byte view of [paddr, paddr + len) (shares storage). */
  bytes(paddr: number, len: number): Uint8Array {
    const r = this.region(paddr, len);
    return r.u8.subarray(paddr - r.base, paddr - r.base + len);
  }
}
