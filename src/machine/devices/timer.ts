/**
 * The machine timer as seL4 (MCS) uses it on qemu-riscv-virt:
 *  - the current time is the `time` CSR (rdtime), a 64-bit counter running at
 *    the timebase frequency, 10 MHz on qemu virt (RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ,
 *    and seL4's TIMER_FREQUENCY for the platform);
 *  - the deadline is programmed with SBI set_timer(stime_value): the
 *    supervisor timer interrupt (STIP) is pending while time >= stime_value,
 *    and every set_timer call first clears a pending timer interrupt (seL4's
 *    setDeadline relies on this to acknowledge the previous one).
 *
 * Ticks are plain numbers: exact below 2^53, i.e. for about 28 years of
 * simulated time at 10 MHz. A deadline of 2^64 - 1 (or Infinity) never fires.
 *
 * The simulated clock only moves when the machine calls advanceTo/advanceBy.
 */

/** qemu virt timebase and seL4 TIMER_CLOCK_HZ for qemu-riscv-virt. */
export const TIMER_FREQUENCY_HZ = 10_000_000;
export const NS_IN_S = 1_000_000_000;
export const US_IN_S = 1_000_000;

/** seL4 TICKS_IN_US = TIMER_CLOCK_HZ / (US_IN_MS * MS_IN_S) (integer division). */
export function ticksPerUs(frequencyHz: number = TIMER_FREQUENCY_HZ): number {
  return Math.floor(frequencyHz / US_IN_S);
}

/** seL4 usToTicks: us * TICKS_IN_US. */
export function usToTicks(us: number, frequencyHz: number = TIMER_FREQUENCY_HZ): number {
  return us * ticksPerUs(frequencyHz);
}

/** seL4 ticksToUs: ticks / TICKS_IN_US, rounded down. */
export function ticksToUs(ticks: number, frequencyHz: number = TIMER_FREQUENCY_HZ): number {
  return Math.floor(ticks / ticksPerUs(frequencyHz));
}

/** Nanoseconds in `ticks` (rounded down); exact integer arithmetic. */
export function ticksToNs(ticks: number, frequencyHz: number = TIMER_FREQUENCY_HZ): number {
  if (NS_IN_S % frequencyHz === 0) return ticks * (NS_IN_S / frequencyHz);
  return Number((BigInt(Math.floor(ticks)) * BigInt(NS_IN_S)) / BigInt(frequencyHz));
}

/** Whole ticks in `ns` nanoseconds (rounded down); exact integer arithmetic. */
export function nsToTicks(ns: number, frequencyHz: number = TIMER_FREQUENCY_HZ): number {
  if (NS_IN_S % frequencyHz === 0) return Math.floor(ns / (NS_IN_S / frequencyHz));
  return Number((BigInt(Math.floor(ns)) * BigInt(frequencyHz)) / BigInt(NS_IN_S));
}

/** seL4 getTimerPrecision on RISC-V: usToTicks(1). */
export function timerPrecisionTicks(frequencyHz: number = TIMER_FREQUENCY_HZ): number {
  return usToTicks(1, frequencyHz);
}

/** seL4 getKernelWcetUs on RISC-V. */
export const KERNEL_WCET_US = 10;

/** The value seL4/SBI use for "no deadline" (UINT64_MAX), as a number. */
export const NO_DEADLINE = 2 ** 64 - 1;

export interface MachineTimerOptions {
  frequencyHz?: number;
  /** Initial value of the time counter. */
  start?: number;
  /** Called when the supervisor timer interrupt (STIP) changes level. */
  onTimerInterrupt?: (pending: boolean) => void;
}

export class MachineTimer {
  readonly frequencyHz: number;
  onTimerInterrupt: ((pending: boolean) => void) | null;

  private time: number;
  private cmp = Infinity;
  private stip = false;

  constructor(opts: MachineTimerOptions = {}) {
    this.frequencyHz = opts.frequencyHz ?? TIMER_FREQUENCY_HZ;
    this.time = opts.start ?? 0;
    this.onTimerInterrupt = opts.onTimerInterrupt ?? null;
  }

  /** The `time` CSR: ticks since reset. */
  now(): number {
    return this.time;
  }

  /** The programmed deadline (Infinity when none has been set). */
  get deadline(): number {
    return this.cmp;
  }

  /** Supervisor timer interrupt pending (time >= deadline). */
  get pending(): boolean {
    return this.stip;
  }

  /**
   * SBI set_timer: program the absolute deadline in ticks. Clears a pending
   * timer interrupt; if the deadline is already due it is pending again at once.
   */
  setDeadline(ticks: number): void {
    this.cmp = ticks;
    this.setStip(false);
    this.evaluate();
  }

  /** Remove the deadline (set_timer(UINT64_MAX)); clears STIP. */
  clearDeadline(): void {
    this.setDeadline(Infinity);
  }

  /**
   * Move the counter forward to `ticks` (never backwards). Returns true when
   * the deadline has been reached, i.e. the timer interrupt is pending.
   */
  advanceTo(ticks: number): boolean {
    if (ticks > this.time) this.time = ticks;
    this.evaluate();
    return this.stip;
  }

  /** advanceTo(now() + delta). */
  advanceBy(delta: number): boolean {
    return this.advanceTo(this.time + (delta > 0 ? delta : 0));
  }

  /** Ticks left until the deadline: 0 when due, Infinity when none is set. */
  ticksUntilDeadline(): number {
    if (this.cmp === Infinity || this.cmp >= NO_DEADLINE) return Infinity;
    return this.cmp > this.time ? this.cmp - this.time : 0;
  }

  nowNs(): number {
    return ticksToNs(this.time, this.frequencyHz);
  }

  nowUs(): number {
    return ticksToUs(this.time, this.frequencyHz);
  }

  private evaluate(): void {
    if (!this.stip && this.time >= this.cmp) this.setStip(true);
  }

  private setStip(level: boolean): void {
    if (level === this.stip) return;
    this.stip = level;
    if (this.onTimerInterrupt !== null) this.onTimerInterrupt(level);
  }
}
