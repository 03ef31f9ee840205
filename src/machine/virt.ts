/**
 * The qemu `virt` machine (riscv64, one hart, aia=none, aclint=off) and the
 * parts of it seL4 keeps for itself on the qemu-riscv-virt platform.
 *
 * Sources of the facts below:
 *  - qemu hw/riscv/virt.c (virt_memmap, create_fdt_*) and
 *    include/hw/riscv/virt.h (IRQ numbers, PLIC layout): device addresses,
 *    sizes, interrupt numbers, RAM at 0x80000000, 10 MHz timebase.
 *  - seL4 src/plat/qemu-riscv-virt/config.cmake: TIMER_FREQUENCY 10000000,
 *    MAX_IRQ 128, interrupt controller drivers/irq/riscv_plic0.h.
 *  - seL4 src/plat/qemu-riscv-virt/overlay-qemu-riscv-virt.dts:
 *    seL4,kernel-devices = CLINT (0x2000000, 0x10000) and PLIC.
 *  - seL4 tools/hardware.yml + tools/hardware/utils/rule.py: kernel device
 *    regions are clipped to kernel_size (PLIC: 0x4000000; CLINT: none) and
 *    then rounded out to the device page size, 2 MiB on riscv64
 *    (tools/hardware/config.py, RISCVConfig.get_device_page_bits).
 *  - seL4 tools/hardware/config.py RISCVConfig: the first 2 MiB of RAM
 *    (one megapage) are left to the SBI firmware (OpenSBI) and are not
 *    kernel memory; physBase is the start of the first memory region.
 *  - seL4 include/arch/riscv/arch/64/mode/hardware.h:
 *    KERNEL_ELF_PADDR_BASE = physBase + 0x4000000 (the elfloader loads the
 *    kernel ELF at its physical link address).
 *  - seL4 src/kernel/boot.c create_untypeds: device untypeds cover every gap
 *    between reserved regions (kernel RAM and non-user kernel device frames)
 *    in [0, CONFIG_PADDR_USER_DEVICE_TOP), with CONFIG_PADDR_USER_DEVICE_TOP =
 *    1 << 39 for Sv39 (src/arch/riscv/config.cmake), cut into naturally
 *    aligned power-of-two blocks of 2^4 .. 2^38 bytes (seL4_MinUntypedBits,
 *    seL4_MaxUntypedBits). The SBI megapage is neither kernel RAM nor
 *    reserved, so it is handed out inside a device untyped (seL4 PR #1403
 *    shows the resulting device ranges for this platform).
 *  - seL4 src/arch/riscv/platform_gen.h.in: the kernel timer IRQ is the
 *    number after PLIC_MAX_IRQ and is maxIRQ without SMP; irqInvalid = 0.
 *    src/arch/riscv/object/interrupt.c Arch_checkIRQ accepts 1..PLIC_MAX_IRQ.
 *    PLIC_MAX_IRQ is taken to be the platform's MAX_IRQ (128); the stored
 *    template names the value CONFIGURE_PLIC_MAX_NUM_INT, so that mapping
 *    is an assumption.
 */

import type { DeviceRegion, MemoryRegion } from './memory.js';
import { MmioBus } from './devices/mmio.js';
import { Plic } from './devices/plic.js';
import { MachineTimer, TIMER_FREQUENCY_HZ } from './devices/timer.js';
import { Uart16550 } from './devices/uart16550.js';

export { TIMER_FREQUENCY_HZ };

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

// ------------------------------------------------------------ qemu memory map

export const VIRT_DEBUG_BASE = 0x0;
export const VIRT_DEBUG_SIZE = 0x100;
export const VIRT_MROM_BASE = 0x1000;
export const VIRT_MROM_SIZE = 0xf000;
export const VIRT_TEST_BASE = 0x100000;
export const VIRT_TEST_SIZE = 0x1000;
export const VIRT_RTC_BASE = 0x101000;
export const VIRT_RTC_SIZE = 0x1000;
export const VIRT_CLINT_BASE = 0x2000000;
export const VIRT_CLINT_SIZE = 0x10000;
export const VIRT_PCIE_PIO_BASE = 0x3000000;
export const VIRT_PCIE_PIO_SIZE = 0x10000;
export const VIRT_PLATFORM_BUS_BASE = 0x4000000;
export const VIRT_PLATFORM_BUS_SIZE = 0x2000000;
export const VIRT_PLIC_BASE = 0xc000000;
/** VIRT_PLIC_SIZE(VIRT_CPUS_MAX * 2) = 0x200000 + 1024 * 0x1000. */
export const VIRT_PLIC_SIZE = 0x600000;
export const VIRT_UART0_BASE = 0x10000000;
export const VIRT_UART0_SIZE = 0x100;
export const VIRT_VIRTIO_BASE = 0x10001000;
export const VIRT_VIRTIO_SIZE = 0x1000;
export const VIRT_VIRTIO_COUNT = 8;
export const VIRT_FW_CFG_BASE = 0x10100000;
export const VIRT_FW_CFG_SIZE = 0x18;
export const VIRT_FLASH_BASE = 0x20000000;
/** Two CFI flash banks of half this size each. */
export const VIRT_FLASH_SIZE = 0x4000000;
export const VIRT_PCIE_ECAM_BASE = 0x30000000;
export const VIRT_PCIE_ECAM_SIZE = 0x10000000;
export const VIRT_PCIE_MMIO_BASE = 0x40000000;
export const VIRT_PCIE_MMIO_SIZE = 0x40000000;
/** rv64: the high PCIe window is 16 GiB, placed at the end of RAM rounded up to 16 GiB. */
export const VIRT64_HIGH_PCIE_MMIO_SIZE = 16 * GiB;
export const VIRT_DRAM_BASE = 0x80000000;

// ------------------------------------------------------- PLIC interrupt lines

export const VIRTIO_IRQ = 1; // virtio-mmio slot n uses VIRTIO_IRQ + n (1..8)
export const UART0_IRQ = 10;
export const RTC_IRQ = 11;
export const PCIE_IRQ = 0x20; // 32..35
export const PCIE_IRQ_COUNT = 4;
export const VIRT_PLATFORM_BUS_IRQ = 64; // 64..95
export const VIRT_PLATFORM_BUS_NUM_IRQS = 32;
/** PLIC sources including source 0 (VIRT_IRQCHIP_NUM_SOURCES); the device tree says riscv,ndev = 95. */
export const VIRT_IRQCHIP_NUM_SOURCES = 96;
export const VIRT_IRQCHIP_NUM_PRIO_BITS = 3;

// ------------------------------------------------------------- seL4 constants

/** seL4 MAX_IRQ for qemu-riscv-virt: the highest PLIC IRQ seL4 hands out (PLIC_MAX_IRQ). */
export const SEL4_PLIC_MAX_IRQ = 128;
/** seL4 KERNEL_TIMER_IRQ = PLIC_MAX_IRQ + 1; also maxIRQ without SMP. */
export const SEL4_KERNEL_TIMER_IRQ = SEL4_PLIC_MAX_IRQ + 1;
export const SEL4_MAX_IRQ = SEL4_KERNEL_TIMER_IRQ;
export const SEL4_IRQ_INVALID = 0;
/** CONFIG_PADDR_USER_DEVICE_TOP for Sv39 (KernelPTLevels 3). */
export const PADDR_USER_DEVICE_TOP = 2 ** 39;
/** Kernel device frames on riscv64 are 2 MiB megapages. */
export const KERNEL_DEVICE_PAGE_BITS = 21;
/** RAM left to OpenSBI at the bottom of memory (one megapage). */
export const SBI_RESERVED_SIZE = 2 * MiB;
/** KERNEL_ELF_PADDR_BASE - physBase on riscv64. */
export const KERNEL_ELF_PHYS_OFFSET = 0x4000000;
export const SEL4_MIN_UNTYPED_BITS = 4;
export const SEL4_MAX_UNTYPED_BITS = 38;
export const PAGE_BITS = 12;
export const PAGE_SIZE = 1 << PAGE_BITS;

// ----------------------------------------------------------------- the config

export interface VirtConfig {
  /** First byte of RAM (qemu VIRT_DRAM). */
  readonly ramBase: number;
  /** RAM size in bytes (qemu -m). */
  readonly ramSize: number;
  /** Timebase frequency of the `time` CSR. */
  readonly timerFrequencyHz: number;
  /** PLIC sources including source 0, as qemu builds the PLIC. */
  readonly plicNumSources: number;
  /** Highest PLIC priority value. */
  readonly plicMaxPriority: number;
  /** seL4's highest PLIC IRQ (MAX_IRQ in the platform config). */
  readonly sel4PlicMaxIrq: number;
  /** RAM at ramBase left to the SBI firmware and never given to the kernel. */
  readonly sbiReservedSize: number;
  /** Offset of the kernel ELF from physBase. */
  readonly kernelElfOffset: number;
  /**
   * Bytes of RAM the kernel image occupies from KERNEL_ELF_PADDR_BASE. This
   * is a property of the build, not of the platform; the simulated kernel
   * has no ELF, so it is a modelling choice (rounded up to pages).
   */
  readonly kernelImageSize: number;
  /** Number of virtio-mmio transports (qemu always creates 8). */
  readonly virtioCount: number;
}

/** qemu virt as seL4 sees it, with 256 MiB of RAM unless overridden. */
export function defaultVirtConfig(overrides: Partial<VirtConfig> = {}): VirtConfig {
  const cfg: VirtConfig = {
    ramBase: VIRT_DRAM_BASE,
    ramSize: 256 * MiB,
    timerFrequencyHz: TIMER_FREQUENCY_HZ,
    plicNumSources: VIRT_IRQCHIP_NUM_SOURCES,
    plicMaxPriority: (1 << VIRT_IRQCHIP_NUM_PRIO_BITS) - 1,
    sel4PlicMaxIrq: SEL4_PLIC_MAX_IRQ,
    sbiReservedSize: SBI_RESERVED_SIZE,
    kernelElfOffset: KERNEL_ELF_PHYS_OFFSET,
    kernelImageSize: 1 * MiB,
    virtioCount: VIRT_VIRTIO_COUNT,
    ...overrides,
  };
  validateVirtConfig(cfg);
  return cfg;
}

function validateVirtConfig(cfg: VirtConfig): void {
  const pageAligned = (n: number) => Number.isInteger(n) && n >= 0 && n % PAGE_SIZE === 0;
  if (!pageAligned(cfg.ramBase) || !pageAligned(cfg.ramSize) || cfg.ramSize === 0) {
    throw new RangeError('VirtConfig: RAM base and size must be page aligned and non-zero');
  }
  if (!pageAligned(cfg.sbiReservedSize) || !pageAligned(cfg.kernelElfOffset)) {
    throw new RangeError('VirtConfig: SBI reservation and kernel offset must be page aligned');
  }
  if (cfg.ramBase + cfg.ramSize > PADDR_USER_DEVICE_TOP) {
    throw new RangeError('VirtConfig: RAM beyond the Sv39 physical address limit');
  }
  if (cfg.sbiReservedSize + cfg.kernelElfOffset + pageRoundUp(cfg.kernelImageSize) > cfg.ramSize) {
    throw new RangeError('VirtConfig: RAM too small for the firmware reservation and the kernel image');
  }
}

// ------------------------------------------------------------------ helpers

export function pageRoundUp(n: number, bits: number = PAGE_BITS): number {
  const s = 2 ** bits;
  return Math.ceil(n / s) * s;
}

export function pageRoundDown(n: number, bits: number = PAGE_BITS): number {
  const s = 2 ** bits;
  return Math.floor(n / s) * s;
}

/** Smallest [base, base + size) of whole 2^bits pages covering the region. */
export function alignRegionOut(r: MemoryRegion, bits: number = PAGE_BITS): MemoryRegion {
  const base = pageRoundDown(r.base, bits);
  return { base, size: pageRoundUp(r.base + r.size, bits) - base };
}

/** The high PCIe MMIO window on rv64: end of RAM rounded up to 16 GiB, 16 GiB long. */
export function highPcieMmio(cfg: VirtConfig): MemoryRegion {
  const s = VIRT64_HIGH_PCIE_MMIO_SIZE;
  return { base: Math.ceil((cfg.ramBase + cfg.ramSize) / s) * s, size: s };
}

// -------------------------------------------------------------- the devices

export interface VirtDevice {
  /** Short name (also used as DeviceRegion.name). */
  readonly name: string;
  /** Device tree node path, or null for regions qemu maps but does not describe. */
  readonly node: string | null;
  /** First compatible string, or null. */
  readonly compatible: string | null;
  readonly base: number;
  /** Size as qemu's memory map and the device tree give it (not page aligned). */
  readonly size: number;
  /** PLIC sources the device drives. */
  readonly irqs: readonly number[];
  /** Listed in seL4,kernel-devices: mapped and reserved by the kernel. */
  readonly kernel: boolean;
}

const hex = (n: number) => n.toString(16);

/**
 * Every MMIO region of qemu virt in address order: the device tree's `reg`
 * entries (plus the PCIe I/O and MMIO windows from `ranges`) and the regions
 * qemu maps without a device tree node (boot ROM, platform bus). VIRT_DEBUG
 * is only a hole in qemu's map (nothing is mapped there), so it is absent.
 */
export function virtDevices(cfg: VirtConfig = defaultVirtConfig()): VirtDevice[] {
  const devs: VirtDevice[] = [
    { name: 'mrom', node: null, compatible: null, base: VIRT_MROM_BASE, size: VIRT_MROM_SIZE, irqs: [], kernel: false },
    { name: 'test', node: `/soc/test@${hex(VIRT_TEST_BASE)}`, compatible: 'sifive,test1', base: VIRT_TEST_BASE, size: VIRT_TEST_SIZE, irqs: [], kernel: false },
    { name: 'rtc', node: `/soc/rtc@${hex(VIRT_RTC_BASE)}`, compatible: 'google,goldfish-rtc', base: VIRT_RTC_BASE, size: VIRT_RTC_SIZE, irqs: [RTC_IRQ], kernel: false },
    { name: 'clint', node: `/soc/clint@${hex(VIRT_CLINT_BASE)}`, compatible: 'sifive,clint0', base: VIRT_CLINT_BASE, size: VIRT_CLINT_SIZE, irqs: [], kernel: true },
    { name: 'pcie-pio', node: null, compatible: null, base: VIRT_PCIE_PIO_BASE, size: VIRT_PCIE_PIO_SIZE, irqs: [], kernel: false },
    { name: 'platform-bus', node: null, compatible: null, base: VIRT_PLATFORM_BUS_BASE, size: VIRT_PLATFORM_BUS_SIZE, irqs: [], kernel: false },
    { name: 'plic', node: `/soc/plic@${hex(VIRT_PLIC_BASE)}`, compatible: 'sifive,plic-1.0.0', base: VIRT_PLIC_BASE, size: VIRT_PLIC_SIZE, irqs: [], kernel: true },
    { name: 'uart0', node: `/soc/serial@${hex(VIRT_UART0_BASE)}`, compatible: 'ns16550a', base: VIRT_UART0_BASE, size: VIRT_UART0_SIZE, irqs: [UART0_IRQ], kernel: false },
  ];
  for (let i = 0; i < cfg.virtioCount; i++) {
    const base = VIRT_VIRTIO_BASE + i * VIRT_VIRTIO_SIZE;
    devs.push({ name: `virtio${i}`, node: `/soc/virtio_mmio@${hex(base)}`, compatible: 'virtio,mmio', base, size: VIRT_VIRTIO_SIZE, irqs: [VIRTIO_IRQ + i], kernel: false });
  }
  const bank = VIRT_FLASH_SIZE / 2;
  const pcieIrqs = Array.from({ length: PCIE_IRQ_COUNT }, (_, i) => PCIE_IRQ + i);
  const high = highPcieMmio(cfg);
  devs.push(
    { name: 'fw-cfg', node: `/fw-cfg@${hex(VIRT_FW_CFG_BASE)}`, compatible: 'qemu,fw-cfg-mmio', base: VIRT_FW_CFG_BASE, size: VIRT_FW_CFG_SIZE, irqs: [], kernel: false },
    { name: 'flash0', node: `/flash@${hex(VIRT_FLASH_BASE)}`, compatible: 'cfi-flash', base: VIRT_FLASH_BASE, size: bank, irqs: [], kernel: false },
    { name: 'flash1', node: `/flash@${hex(VIRT_FLASH_BASE)}`, compatible: 'cfi-flash', base: VIRT_FLASH_BASE + bank, size: bank, irqs: [], kernel: false },
    { name: 'pcie-ecam', node: `/soc/pci@${hex(VIRT_PCIE_ECAM_BASE)}`, compatible: 'pci-host-ecam-generic', base: VIRT_PCIE_ECAM_BASE, size: VIRT_PCIE_ECAM_SIZE, irqs: pcieIrqs, kernel: false },
    { name: 'pcie-mmio', node: null, compatible: null, base: VIRT_PCIE_MMIO_BASE, size: VIRT_PCIE_MMIO_SIZE, irqs: [], kernel: false },
    { name: 'pcie-mmio-high', node: null, compatible: null, base: high.base, size: high.size, irqs: [], kernel: false },
  );
  return devs.sort((a, b) => a.base - b.base);
}

/** RAM of the machine: one region at ramBase (all of it, firmware area included). */
export function ramRegions(cfg: VirtConfig = defaultVirtConfig()): MemoryRegion[] {
  return [{ base: cfg.ramBase, size: cfg.ramSize }];
}

/**
 * Device regions that are not kernel-reserved, page aligned (4 KiB): what a
 * user-level driver can map from device untypeds. Suitable for
 * PhysicalMemory's `devices` argument.
 */
export function deviceRegions(cfg: VirtConfig = defaultVirtConfig()): DeviceRegion[] {
  const out: DeviceRegion[] = [];
  for (const d of virtDevices(cfg)) {
    if (d.kernel) continue;
    const a = alignRegionOut(d);
    const prev = out[out.length - 1];
    if (prev !== undefined && a.base < prev.base + prev.size) {
      throw new RangeError(`device regions ${prev.name} and ${d.name} share a page`);
    }
    out.push({ name: d.name, base: a.base, size: a.size });
  }
  return out;
}

// ------------------------------------------------------ what seL4 reserves

export interface KernelDeviceFrame extends DeviceRegion {
  /** False: reserved by the kernel, never part of a device untyped. */
  readonly userAvailable: boolean;
}

/**
 * The kernel device frames for qemu-riscv-virt (kernel_device_frames in the
 * generated devices_gen.h): CLINT and PLIC, each clipped to the rule's
 * kernel_size and rounded out to 2 MiB.
 */
export function kernelDeviceFrames(cfg: VirtConfig = defaultVirtConfig()): KernelDeviceFrame[] {
  const maxSize: Record<string, number> = {
    plic: 0x4000000, // hardware.yml kernel_size for riscv,plic0
    clint: 2 ** KERNEL_DEVICE_PAGE_BITS, // no kernel_size: one device page
  };
  const out: KernelDeviceFrame[] = [];
  for (const d of virtDevices(cfg)) {
    if (!d.kernel) continue;
    const size = Math.min(d.size, maxSize[d.name] ?? d.size);
    const a = alignRegionOut({ base: d.base, size }, KERNEL_DEVICE_PAGE_BITS);
    out.push({ name: d.name, base: a.base, size: a.size, userAvailable: false });
  }
  return out;
}

/** physBase: the start of the first memory region (RISCVConfig.align_memory). */
export function physBase(cfg: VirtConfig = defaultVirtConfig()): number {
  return cfg.ramBase;
}

/** KERNEL_ELF_PADDR_BASE: where the elfloader puts the kernel image. */
export function kernelElfPaddr(cfg: VirtConfig = defaultVirtConfig()): number {
  return physBase(cfg) + cfg.kernelElfOffset;
}

/** The RAM the SBI firmware keeps (not given to the kernel, but inside a device untyped). */
export function sbiRegion(cfg: VirtConfig = defaultVirtConfig()): MemoryRegion {
  return { base: cfg.ramBase, size: cfg.sbiReservedSize };
}

/** The kernel image in RAM (reserved at boot: neither free memory nor device memory). */
export function kernelImageRegion(cfg: VirtConfig = defaultVirtConfig()): MemoryRegion {
  return { base: kernelElfPaddr(cfg), size: pageRoundUp(cfg.kernelImageSize) };
}

/** avail_p_regs: the RAM seL4 considers its own (RAM minus the SBI megapage). */
export function kernelAvailableRam(cfg: VirtConfig = defaultVirtConfig()): MemoryRegion[] {
  return [{ base: cfg.ramBase + cfg.sbiReservedSize, size: cfg.ramSize - cfg.sbiReservedSize }];
}

/**
 * Free RAM after boot reservations (kernel image), which seL4 turns into
 * non-device untypeds. The root server's own frames and boot info would be
 * carved from this by the boot code, so they are not subtracted here.
 */
export function kernelFreeRam(cfg: VirtConfig = defaultVirtConfig()): MemoryRegion[] {
  return subtractRegions(kernelAvailableRam(cfg), [kernelImageRegion(cfg)]);
}

/** Regions of `from` not covered by any of `minus` (both lists any order). */
export function subtractRegions(from: readonly MemoryRegion[], minus: readonly MemoryRegion[]): MemoryRegion[] {
  let cur: MemoryRegion[] = from.map((r) => ({ base: r.base, size: r.size }));
  for (const m of minus) {
    const mEnd = m.base + m.size;
    const next: MemoryRegion[] = [];
    for (const r of cur) {
      const rEnd = r.base + r.size;
      if (mEnd <= r.base || m.base >= rEnd) {
        next.push(r);
        continue;
      }
      if (m.base > r.base) next.push({ base: r.base, size: m.base - r.base });
      if (mEnd < rEnd) next.push({ base: mEnd, size: rEnd - mEnd });
    }
    cur = next;
  }
  return cur.filter((r) => r.size > 0).sort((a, b) => a.base - b.base);
}

/**
 * The physical ranges seL4 covers with device untypeds: everything in
 * [0, PADDR_USER_DEVICE_TOP) that is neither kernel RAM (avail_p_regs) nor a
 * kernel-reserved device frame. The SBI megapage falls inside one of them.
 */
export function deviceUntypedRanges(cfg: VirtConfig = defaultVirtConfig()): MemoryRegion[] {
  const reserved: MemoryRegion[] = [...kernelAvailableRam(cfg)];
  for (const f of kernelDeviceFrames(cfg)) if (!f.userAvailable) reserved.push(f);
  return subtractRegions([{ base: 0, size: PADDR_USER_DEVICE_TOP }], reserved);
}

export interface UntypedBlock {
  readonly paddr: number;
  readonly sizeBits: number;
}

/**
 * Cut [start, end) into the blocks seL4's create_untypeds_for_region makes:
 * at each step the largest power of two that fits, limited by the alignment
 * of the start and by maxBits; blocks below minBits are skipped.
 */
export function untypedBlocks(
  start: number,
  end: number,
  minBits: number = SEL4_MIN_UNTYPED_BITS,
  maxBits: number = SEL4_MAX_UNTYPED_BITS,
): UntypedBlock[] {
  const out: UntypedBlock[] = [];
  let cur = start;
  while (cur < end) {
    let sizeBits = Math.floor(Math.log2(end - cur));
    // Guard against floating-point log2 rounding up at exact powers of two.
    while (2 ** sizeBits > end - cur) sizeBits--;
    while (2 ** (sizeBits + 1) <= end - cur) sizeBits++;
    if (cur !== 0) {
      let alignBits = 0;
      while (alignBits < 63 && cur % 2 ** (alignBits + 1) === 0) alignBits++;
      if (alignBits < sizeBits) sizeBits = alignBits;
    }
    if (sizeBits > maxBits) sizeBits = maxBits;
    if (sizeBits >= minBits) out.push({ paddr: cur, sizeBits });
    cur += 2 ** sizeBits;
  }
  return out;
}

/** The device untypeds seL4 hands to the root task on this machine, in boot order. */
export function deviceUntypeds(cfg: VirtConfig = defaultVirtConfig()): UntypedBlock[] {
  const out: UntypedBlock[] = [];
  for (const r of deviceUntypedRanges(cfg)) out.push(...untypedBlocks(r.base, r.base + r.size));
  return out;
}

/** Which IRQ numbers a user may request from IRQControl (seL4 Arch_checkIRQ: 1..PLIC_MAX_IRQ). */
export function isUserIrq(irq: number, cfg: VirtConfig = defaultVirtConfig()): boolean {
  return Number.isInteger(irq) && irq >= 1 && irq <= cfg.sel4PlicMaxIrq;
}

// ------------------------------------------------------------ device models

export interface VirtDeviceModels {
  readonly bus: MmioBus;
  readonly uart: Uart16550;
  readonly plic: Plic;
  readonly timer: MachineTimer;
}

export interface VirtDeviceModelOptions {
  /** Console output (UART transmit). */
  onTransmit?: (byte: number) => void;
  /** S-mode external interrupt line (SEIP) from the PLIC. */
  onExternalInterrupt?: (level: boolean) => void;
  /** Supervisor timer interrupt line (STIP). */
  onTimerInterrupt?: (pending: boolean) => void;
}

/**
 * The modelled devices of the machine, wired as qemu wires them: UART0 on
 * PLIC source 10, both mapped on an MmioBus at their qemu addresses, plus
 * the machine timer. Other devices (virtio-mmio, RTC, ...) are not modelled;
 * their addresses are unmapped on the bus.
 */
export function createVirtDeviceModels(cfg: VirtConfig = defaultVirtConfig(), opts: VirtDeviceModelOptions = {}): VirtDeviceModels {
  const plic = new Plic({
    base: VIRT_PLIC_BASE,
    size: VIRT_PLIC_SIZE,
    numSources: cfg.plicNumSources,
    maxPriority: cfg.plicMaxPriority,
    ...(opts.onExternalInterrupt !== undefined ? { onExternalInterrupt: opts.onExternalInterrupt } : {}),
  });
  const uart = new Uart16550({
    base: VIRT_UART0_BASE,
    onIrq: (level) => plic.setLevel(UART0_IRQ, level),
    ...(opts.onTransmit !== undefined ? { onTransmit: opts.onTransmit } : {}),
  });
  const timer = new MachineTimer({
    frequencyHz: cfg.timerFrequencyHz,
    ...(opts.onTimerInterrupt !== undefined ? { onTimerInterrupt: opts.onTimerInterrupt } : {}),
  });
  const bus = new MmioBus();
  bus.attach(plic);
  bus.attach(uart);
  return { bus, uart, plic, timer };
}
