/**
 * SiFive-compatible PLIC as qemu builds it for the riscv virt machine with one
 * hart (hw/intc/sifive_plic.c, hw/riscv/virt.c):
 *  - sources 1 .. numSources-1 (qemu VIRT_IRQCHIP_NUM_SOURCES = 96, source 0
 *    means "no interrupt"), priorities 0..7 (3 priority bits, WARL: writes
 *    keep value % 8), priority 0 never interrupts;
 *  - hart 0 has two contexts: 0 = M-mode, 1 = S-mode. seL4 uses the S-mode
 *    context (PLIC_SVC_CONTEXT = 1 in drivers/irq/riscv_plic0.h), whose
 *    enable bits live at 0x2080 and threshold/claim at 0x201000/0x201004;
 *  - a claim returns the enabled, pending, unclaimed source with the highest
 *    priority strictly above the context threshold (ties: lowest id), clears
 *    its pending bit and marks it claimed; a claimed source is never offered
 *    again until it is completed;
 *  - sources are level triggered: a device line high makes the source
 *    pending, a line low clears a not-yet-claimed pending bit (qemu copies
 *    the line into the pending bit), and a completion of a source whose line
 *    is still high makes it pending again;
 *  - registers are 32 bits wide and only 4-byte accesses are valid; reads of
 *    unimplemented registers inside the aperture return 0, writes are ignored.
 *
 * The kernel may drive the model through the typed methods (claim, complete,
 * enable, setPriority, setThreshold ...) or through MMIO at the standard
 * offsets; both act on the same state. Out-of-range source numbers are
 * ignored, never thrown on.
 */

import type { AccessSize, MmioDevice } from './mmio.js';

export const PLIC_PRIORITY_BASE = 0x0;
export const PLIC_PENDING_BASE = 0x1000;
export const PLIC_ENABLE_BASE = 0x2000;
export const PLIC_ENABLE_STRIDE = 0x80;
export const PLIC_CONTEXT_BASE = 0x200000;
export const PLIC_CONTEXT_STRIDE = 0x1000;
export const PLIC_CONTEXT_THRESHOLD = 0x0;
export const PLIC_CONTEXT_CLAIM = 0x4;

/** qemu virt: number of sources including source 0 (VIRT_IRQCHIP_NUM_SOURCES). */
export const PLIC_VIRT_NUM_SOURCES = 96;
/** qemu virt: highest priority value ((1 << VIRT_IRQCHIP_NUM_PRIO_BITS) - 1). */
export const PLIC_VIRT_MAX_PRIORITY = 7;
/** qemu virt: aperture size, VIRT_PLIC_SIZE(VIRT_CPUS_MAX * 2) = 0x200000 + 1024 * 0x1000. */
export const PLIC_VIRT_SIZE = 0x600000;

/** Hart 0 contexts on qemu virt (hart config "MS"). */
export const PLIC_CONTEXT_M = 0;
export const PLIC_CONTEXT_S = 1;

export interface PlicOptions {
  base?: number;
  size?: number;
  numSources?: number;
  maxPriority?: number;
  /** Called when the S-mode external interrupt line (SEIP) changes. */
  onExternalInterrupt?: (level: boolean) => void;
  /** Called when the M-mode external interrupt line (MEIP) changes. */
  onMachineExternalInterrupt?: (level: boolean) => void;
  name?: string;
}

const NUM_CONTEXTS = 2;

export class Plic implements MmioDevice {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly numSources: number;
  readonly maxPriority: number;
  /** Number of 32-bit words in each bit array. */
  readonly words: number;

  onExternalInterrupt: ((level: boolean) => void) | null;
  onMachineExternalInterrupt: ((level: boolean) => void) | null;

  private readonly priority: Uint32Array;
  private readonly pending: Uint32Array;
  private readonly claimed: Uint32Array;
  /** Current device line levels (not architectural; drives level triggering). */
  private readonly lines: Uint32Array;
  /** enable[ctx * words + w]. */
  private readonly enables: Uint32Array;
  private readonly thresholds: Uint32Array;
  private readonly outputs: boolean[] = [false, false];

  constructor(opts: PlicOptions = {}) {
    this.name = opts.name ?? 'plic';
    this.base = opts.base ?? 0x0c000000;
    this.size = opts.size ?? PLIC_VIRT_SIZE;
    this.numSources = opts.numSources ?? PLIC_VIRT_NUM_SOURCES;
    this.maxPriority = opts.maxPriority ?? PLIC_VIRT_MAX_PRIORITY;
    if (!(this.numSources >= 2) || this.numSources > 1024) throw new RangeError(`bad PLIC source count ${this.numSources}`);
    this.words = (this.numSources + 31) >>> 5;
    this.priority = new Uint32Array(this.numSources);
    this.pending = new Uint32Array(this.words);
    this.claimed = new Uint32Array(this.words);
    this.lines = new Uint32Array(this.words);
    this.enables = new Uint32Array(this.words * NUM_CONTEXTS);
    this.thresholds = new Uint32Array(NUM_CONTEXTS);
    this.onExternalInterrupt = opts.onExternalInterrupt ?? null;
    this.onMachineExternalInterrupt = opts.onMachineExternalInterrupt ?? null;
  }

  // ---------------------------------------------------------------- helpers

  private validSource(irq: number): boolean {
    return Number.isInteger(irq) && irq > 0 && irq < this.numSources;
  }

  private static bit(arr: Uint32Array, irq: number): boolean {
    return (arr[irq >>> 5]! & (1 << (irq & 31))) !== 0;
  }

  private static setBit(arr: Uint32Array, irq: number, on: boolean): void {
    const w = irq >>> 5;
    const m = 1 << (irq & 31);
    arr[w] = on ? arr[w]! | m : arr[w]! & ~m;
  }

  /** Priority registers are WARL when maxPriority + 1 is a power of two (qemu). */
  private legalPriority(value: number): number | null {
    const n = this.maxPriority;
    if (((n + 1) & n) === 0) return (value >>> 0) % (n + 1);
    return value >>> 0 <= n ? value >>> 0 : null;
  }

  /** The source a claim by context ctx would return (0 if none). */
  private best(ctx: number): number {
    let maxIrq = 0;
    let maxPrio = this.thresholds[ctx]!;
    const base = ctx * this.words;
    for (let w = 0; w < this.words; w++) {
      let cand = this.pending[w]! & ~this.claimed[w]! & this.enables[base + w]!;
      while (cand !== 0) {
        const j = 31 - Math.clz32(cand & -cand);
        cand &= cand - 1;
        const irq = (w << 5) + j;
        if (irq >= this.numSources) break;
        const p = this.priority[irq]!;
        if (p > maxPrio) {
          maxPrio = p;
          maxIrq = irq;
        }
      }
    }
    return maxIrq;
  }

  /** Recompute the external interrupt outputs and signal changes. */
  private update(): void {
    for (let ctx = 0; ctx < NUM_CONTEXTS; ctx++) {
      const level = this.best(ctx) !== 0;
      if (level !== this.outputs[ctx]) {
        this.outputs[ctx] = level;
        const cb = ctx === PLIC_CONTEXT_S ? this.onExternalInterrupt : this.onMachineExternalInterrupt;
        if (cb !== null) cb(level);
      }
    }
  }

  // -------------------------------------------------------------- device side

  /** A device drives its interrupt line (level triggered). */
  setLevel(irq: number, level: boolean): void {
    if (!this.validSource(irq)) return;
    Plic.setBit(this.lines, irq, level);
    Plic.setBit(this.pending, irq, level);
    this.update();
  }

  /** Current level of a device line as last driven. */
  lineLevel(irq: number): boolean {
    return this.validSource(irq) && Plic.bit(this.lines, irq);
  }

  // ---------------------------------------------------------------- typed API

  /** True when the S-mode external interrupt (SEIP) is asserted. */
  hasPending(): boolean {
    return this.outputs[PLIC_CONTEXT_S]!;
  }

  /** True when the M-mode external interrupt (MEIP) is asserted. */
  hasPendingMachine(): boolean {
    return this.outputs[PLIC_CONTEXT_M]!;
  }

  isPending(irq: number): boolean {
    return this.validSource(irq) && Plic.bit(this.pending, irq);
  }

  isClaimed(irq: number): boolean {
    return this.validSource(irq) && Plic.bit(this.claimed, irq);
  }

  setPriority(irq: number, prio: number): void {
    if (!Number.isInteger(irq) || irq < 0 || irq >= this.numSources) return;
    const v = this.legalPriority(prio);
    if (v === null) return;
    this.priority[irq] = v;
    this.update();
  }

  getPriority(irq: number): number {
    if (!Number.isInteger(irq) || irq < 0 || irq >= this.numSources) return 0;
    return this.priority[irq]!;
  }

  enable(irq: number, ctx: number = PLIC_CONTEXT_S): void {
    this.setEnabled(irq, true, ctx);
  }

  disable(irq: number, ctx: number = PLIC_CONTEXT_S): void {
    this.setEnabled(irq, false, ctx);
  }

  setEnabled(irq: number, on: boolean, ctx: number = PLIC_CONTEXT_S): void {
    if (!this.validSource(irq) || !(ctx === 0 || ctx === 1)) return;
    const w = ctx * this.words + (irq >>> 5);
    const m = 1 << (irq & 31);
    this.enables[w] = on ? this.enables[w]! | m : this.enables[w]! & ~m;
    this.update();
  }

  isEnabled(irq: number, ctx: number = PLIC_CONTEXT_S): boolean {
    if (!this.validSource(irq) || !(ctx === 0 || ctx === 1)) return false;
    return (this.enables[ctx * this.words + (irq >>> 5)]! & (1 << (irq & 31))) !== 0;
  }

  setThreshold(value: number, ctx: number = PLIC_CONTEXT_S): void {
    if (!(ctx === 0 || ctx === 1)) return;
    const v = this.legalPriority(value);
    if (v === null) return;
    this.thresholds[ctx] = v;
    this.update();
  }

  getThreshold(ctx: number = PLIC_CONTEXT_S): number {
    return ctx === 0 || ctx === 1 ? this.thresholds[ctx]! : 0;
  }

  /** Claim the best pending source for the context; 0 when there is none. */
  claim(ctx: number = PLIC_CONTEXT_S): number {
    if (!(ctx === 0 || ctx === 1)) return 0;
    const irq = this.best(ctx);
    if (irq !== 0) {
      Plic.setBit(this.pending, irq, false);
      Plic.setBit(this.claimed, irq, true);
    }
    this.update();
    return irq;
  }

  /**
   * Complete a claim. As in qemu, any in-range source id is accepted and its
   * claimed bit cleared; a line that is still high makes it pending again.
   */
  complete(irq: number, _ctx: number = PLIC_CONTEXT_S): void {
    if (!Number.isInteger(irq) || irq < 0 || irq >= this.numSources) return;
    if (irq === 0) return;
    Plic.setBit(this.claimed, irq, false);
    if (Plic.bit(this.lines, irq)) Plic.setBit(this.pending, irq, true);
    this.update();
  }

  /** Back to qemu's reset state (device lines are kept: they belong to the devices). */
  reset(): void {
    this.priority.fill(0);
    this.pending.fill(0);
    this.claimed.fill(0);
    this.enables.fill(0);
    this.thresholds.fill(0);
    for (let w = 0; w < this.words; w++) this.pending[w] = this.lines[w]!;
    this.update();
  }

  // -------------------------------------------------------------------- MMIO

  accepts(_offset: number, size: AccessSize): boolean {
    return size === 4;
  }

  read(offset: number, _size: AccessSize): number {
    if (offset >= PLIC_PRIORITY_BASE && offset < PLIC_PRIORITY_BASE + this.numSources * 4) {
      return this.priority[(offset - PLIC_PRIORITY_BASE) >>> 2]!;
    }
    if (offset >= PLIC_PENDING_BASE && offset < PLIC_PENDING_BASE + this.words * 4) {
      return this.pending[(offset - PLIC_PENDING_BASE) >>> 2]!;
    }
    if (offset >= PLIC_ENABLE_BASE && offset < PLIC_ENABLE_BASE + NUM_CONTEXTS * PLIC_ENABLE_STRIDE) {
      const ctx = Math.floor((offset - PLIC_ENABLE_BASE) / PLIC_ENABLE_STRIDE);
      const w = ((offset - PLIC_ENABLE_BASE) % PLIC_ENABLE_STRIDE) >>> 2;
      return w < this.words ? this.enables[ctx * this.words + w]! : 0;
    }
    if (offset >= PLIC_CONTEXT_BASE && offset < PLIC_CONTEXT_BASE + NUM_CONTEXTS * PLIC_CONTEXT_STRIDE) {
      const ctx = Math.floor((offset - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE);
      const reg = (offset - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE;
      if (reg === PLIC_CONTEXT_THRESHOLD) return this.thresholds[ctx]!;
      if (reg === PLIC_CONTEXT_CLAIM) return this.claim(ctx);
    }
    return 0;
  }

  write(offset: number, _size: AccessSize, value: number): void {
    const v = value >>> 0;
    if (offset >= PLIC_PRIORITY_BASE && offset < PLIC_PRIORITY_BASE + this.numSources * 4) {
      this.setPriority((offset - PLIC_PRIORITY_BASE) >>> 2, v);
      return;
    }
    if (offset >= PLIC_PENDING_BASE && offset < PLIC_PENDING_BASE + this.words * 4) {
      return; // pending bits are read-only
    }
    if (offset >= PLIC_ENABLE_BASE && offset < PLIC_ENABLE_BASE + NUM_CONTEXTS * PLIC_ENABLE_STRIDE) {
      const ctx = Math.floor((offset - PLIC_ENABLE_BASE) / PLIC_ENABLE_STRIDE);
      const w = ((offset - PLIC_ENABLE_BASE) % PLIC_ENABLE_STRIDE) >>> 2;
      if (w < this.words) {
        // Stored as written, as in qemu; bits for source 0 and for ids >= numSources never match a pending source.
        this.enables[ctx * this.words + w] = v;
        this.update();
      }
      return;
    }
    if (offset >= PLIC_CONTEXT_BASE && offset < PLIC_CONTEXT_BASE + NUM_CONTEXTS * PLIC_CONTEXT_STRIDE) {
      const ctx = Math.floor((offset - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE);
      const reg = (offset - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE;
      if (reg === PLIC_CONTEXT_THRESHOLD) this.setThreshold(v, ctx);
      else if (reg === PLIC_CONTEXT_CLAIM) this.complete(v, ctx);
    }
  }
}
