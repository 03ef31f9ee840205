/**
 * MCS refills: the budget-replenishment queue of a scheduling context.
 *
 * This mirrors seL4's sporadic-server machinery (kernel/sporadic.c,
 * include/kernel/sporadic.h) as of the newest release, for the MCS
 * configuration on riscv64:
 *
 * - A scheduling context (SC) holds a period and a circular queue of refills.
 *   Each refill is (rTime, rAmount): `rAmount` ticks of budget usable from the
 *   absolute time `rTime`. The queue is never empty while the SC is active.
 * - The sum of all refill amounts is the SC's budget. Charging, unblocking
 *   and merging never change that sum; only reconfiguration (refillNew,
 *   refillUpdate) does.
 * - Every amount of time charged is scheduled to come back one period after
 *   the start of the refill it was taken from, so a sporadic SC cannot run
 *   for more than its budget in any window of one period (up to the kernel
 *   WCET slack documented on {@link RefillQueue}).
 * - Round-robin SCs (configured with budget == period) are stored with
 *   period 0 and exactly two refills: the head is the budget still
 *   available, the tail accumulates what has been consumed in this
 *   timeslice. Charging moves time from head to tail; exhausting the head
 *   moves it all back (seL4's commitTime and chargeBudget do the same).
 *
 * Time unit: one tick is one nanosecond here, because our simulated clock
 * counts nanoseconds. All times and amounts are plain numbers holding
 * integers. While the clock stays below MAX_RELEASE_TIME (seL4 asserts the
 * same of ksCurTime) and periods are at most MAX_PERIOD_US, every refill time
 * stays below 2^53, so the arithmetic is exact.
 *
 * Allocation: the refill store is two typed arrays owned by the queue. The
 * charging and unblocking paths (refillBudgetCheck, refillUnblockCheck,
 * refillCommitTime, refillChargeBudget, the accessors) never allocate. The
 * store is sized when the SC is configured (refillNew / refillUpdate), which
 * is the only place it may grow, up to the SC's absolute maximum.
 */

/** Ticks per microsecond: one tick is one nanosecond in this kernel. */
export const TICKS_PER_US = 1000;

/** seL4's usToTicks for our clock. */
export function usToTicks(us: number): number {
  return us * TICKS_PER_US;
}

/** seL4's ticksToUs for our clock (rounds down, as seL4's division does). */
export function ticksToUs(ticks: number): number {
  return Math.floor(ticks / TICKS_PER_US);
}

/** MIN_REFILLS: every active SC has room for at least two refills. */
export const MIN_REFILLS = 2;

/** seL4_MinSchedContextBits: smallest scheduling context object, 2^7 bytes. */
export const SEL4_MIN_SCHED_CONTEXT_BITS = 7;

/**
 * seL4_CoreSchedContextBytes on riscv64: 10 words plus 6 * 8 bytes (two
 * tick counters and the two minimum refills) = 128 bytes. This is the size
 * of the SC struct plus MIN_REFILLS refills.
 */
export const SEL4_CORE_SCHED_CONTEXT_BYTES = 10 * 8 + 6 * 8;

/** seL4_RefillSizeBytes: one refill is two 64-bit tick values. */
export const SEL4_REFILL_SIZE_BYTES = 2 * 8;

/**
 * sizeof(sched_context_t) on riscv64: the core size less the two minimum
 * refills (96 bytes); the refill array starts right after it.
 */
export const SCHED_CONTEXT_STRUCT_BYTES =
  SEL4_CORE_SCHED_CONTEXT_BYTES - MIN_REFILLS * SEL4_REFILL_SIZE_BYTES;

/**
 * refill_absolute_max for a scheduling context of 2^sizeBits bytes: how many
 * refills fit after the SC struct. Equals seL4_MaxExtraRefills(sizeBits) +
 * MIN_REFILLS. Returns 0 below seL4_MinSchedContextBits (no such SC exists).
 * 2^7 -> 2, 2^8 -> 10, 2^9 -> 26, 2^10 -> 58.
 */
export function refillsForSizeBits(sizeBits: number): number {
  if (!Number.isInteger(sizeBits) || sizeBits < SEL4_MIN_SCHED_CONTEXT_BITS) return 0;
  return Math.floor((2 ** sizeBits - SCHED_CONTEXT_STRUCT_BYTES) / SEL4_REFILL_SIZE_BYTES);
}

/**
 * seL4_MaxExtraRefills(sizeBits): the largest extra_refills argument that
 * SchedControl_ConfigureFlags accepts for an SC of this size.
 */
export function maxExtraRefills(sizeBits: number): number {
  const n = refillsForSizeBits(sizeBits);
  return n === 0 ? 0 : n - MIN_REFILLS;
}

/**
 * getKernelWcetUs() on qemu-riscv-virt: the platform sets no KERNEL_WCET, so
 * seL4's generic default of 10 us applies.
 */
export const KERNEL_WCET_US = 10;

/** CONFIG_KERNEL_WCET_SCALE (default 1). */
export const KERNEL_WCET_SCALE = 1;

/** getKernelWcetTicks() = usToTicks(10 us) = 10_000 ticks (10 us). */
export const KERNEL_WCET_TICKS = usToTicks(KERNEL_WCET_US);

/** MIN_BUDGET_US = 2 * WCET_US * WCET_SCALE = 20 us. */
export const MIN_BUDGET_US = 2 * KERNEL_WCET_US * KERNEL_WCET_SCALE;

/**
 * MIN_BUDGET = 2 * getKernelWcetTicks() * CONFIG_KERNEL_WCET_SCALE = 20_000
 * ticks (20 us): the least budget a refill at the head must hold so the
 * thread can enter and leave the kernel.
 */
export const MIN_BUDGET = 2 * KERNEL_WCET_TICKS * KERNEL_WCET_SCALE;

/**
 * MAX_PERIOD_US. seL4 (with CONFIG_KERNEL_STATIC_MAX_PERIOD_US = 0) uses an
 * eighth of the largest microsecond count that converts to ticks without
 * overflowing 64 bits. Our ticks are exact numbers below 2^53, so the same
 * rule is applied to Number.MAX_SAFE_INTEGER: 1_125_899_906_842 us (about
 * 13 days).
 */
export const MAX_PERIOD_US = Math.floor(Math.floor(Number.MAX_SAFE_INTEGER / TICKS_PER_US) / 8);

/**
 * MAX_RELEASE_TIME = top of the time range - 5 * usToTicks(MAX_PERIOD_US).
 * refillBudgetCheck stops pushing refills into the future past this time, so
 * times never leave the exact range.
 */
export const MAX_RELEASE_TIME = Number.MAX_SAFE_INTEGER - 5 * usToTicks(MAX_PERIOD_US);

/** Configuration of a queue's kernel-time constants. */
export interface RefillQueueOptions {
  /** getKernelWcetTicks(); default KERNEL_WCET_TICKS (10_000 ticks = 10 us). */
  wcetTicks?: number;
  /** CONFIG_KERNEL_WCET_SCALE; default 1. */
  wcetScale?: number;
  /** MIN_BUDGET; default 2 * wcetTicks * wcetScale. Must be a positive integer. */
  minBudget?: number;
  /** MAX_RELEASE_TIME; default {@link MAX_RELEASE_TIME}. */
  maxReleaseTime?: number;
}

/** Refills preallocated at construction (more are added at configure time). */
const INITIAL_STORE = 64;

function refillAssert(cond: boolean, what: string): void {
  if (!cond) throw new Error('refill: ' + what);
}

function checkTick(v: number, what: string): void {
  refillAssert(Number.isSafeInteger(v) && v >= 0, what);
}

/**
 * The refill queue of one scheduling context (the scRefill* fields of
 * sched_context_t plus the refill array behind it).
 *
 * The sporadic guarantee and its slack. For an SC with budget B < period P,
 * the time its thread runs in any window of P ticks is at most
 *
 *     B + wcetTicks + overshoot   (= B + MIN_BUDGET when overshoot <= WCET)
 *
 * where `overshoot` bounds how late the kernel is entered after the budget
 * deadline it programmed (head amount after the last commit) or after a
 * release time. The wcetTicks term is seL4's refill_ready slack: a refill due
 * within one kernel WCET already counts as ready, so the thread may start
 * that early. The overshoot term is time run past the end of the head
 * refill, which refill_budget_check charges to the following refills (the
 * next one is delayed by as much, so the excess does not build up). This
 * holds as long as refillUnblockCheck runs whenever the thread resumes after
 * waiting, which is what seL4 does on unblock for sporadic-flagged SCs and on
 * every switch-in for constant-bandwidth SCs. A sporadic-flagged SC whose
 * thread is preempted while runnable keeps its refill times, exactly as in
 * seL4, and is not bound this way after the preemption. test/refill.test.ts
 * checks the bound, and that it is reached, on a model of those kernel paths.
 */
export class RefillQueue {
  /** refill_absolute_max: refills that fit in the SC object. */
  readonly capacity: number;
  /** getKernelWcetTicks() used by refillReady. */
  readonly wcetTicks: number;
  /** MIN_BUDGET used by refillSufficient and the charging merge. */
  readonly minBudget: number;
  /** MAX_RELEASE_TIME used by refillBudgetCheck. */
  readonly maxReleaseTime: number;

  /** scPeriod; 0 for a round-robin SC (configured with budget == period). */
  period = 0;
  /** scRefillMax: slots in use by the circular buffer; 0 = not configured. */
  maxRefills = 0;
  /** scRefillHead: index of the head refill. */
  head = 0;
  /** scRefillTail: index of the tail refill. */
  tail = 0;
  /**
   * scSporadic (seL4_SchedContext_Sporadic): refills are delayed to the time
   * the thread becomes runnable (refillUnblockCheck on unblock) rather than
   * the time it becomes current (constant bandwidth).
   */
  sporadic = false;

  private rTime: Float64Array;
  private rAmount: Float64Array;

  /**
   * @param capacity refill_absolute_max of the SC, normally
   *   refillsForSizeBits(sizeBits).
   */
  constructor(capacity: number, options: RefillQueueOptions = {}) {
    refillAssert(Number.isSafeInteger(capacity) && capacity >= 0, 'capacity must be a count');
    this.capacity = capacity;
    const wcet = options.wcetTicks ?? KERNEL_WCET_TICKS;
    const scale = options.wcetScale ?? KERNEL_WCET_SCALE;
    checkTick(wcet, 'wcetTicks must be a tick count');
    checkTick(scale, 'wcetScale must be a count');
    this.wcetTicks = wcet;
    this.minBudget = options.minBudget ?? 2 * wcet * scale;
    refillAssert(Number.isSafeInteger(this.minBudget) && this.minBudget > 0, 'minBudget must be positive');
    this.maxReleaseTime = options.maxReleaseTime ?? MAX_RELEASE_TIME;
    checkTick(this.maxReleaseTime, 'maxReleaseTime must be a tick count');
    const n = Math.min(capacity, INITIAL_STORE);
    this.rTime = new Float64Array(n);
    this.rAmount = new Float64Array(n);
  }

  // ---------------------------------------------------------------- storage

  /** Grow the store to hold n refills (configure time only). */
  private ensureStore(n: number): void {
    if (n <= this.rTime.length) return;
    const size = Math.min(this.capacity, Math.max(n, this.rTime.length * 2));
    const t = new Float64Array(size);
    const a = new Float64Array(size);
    t.set(this.rTime);
    a.set(this.rAmount);
    this.rTime = t;
    this.rAmount = a;
  }

  // --------------------------------------------------------------- queries

  /** sc_active: configured with refills. */
  get active(): boolean {
    return this.maxRefills > 0;
  }

  /** isRoundRobin: period 0. */
  isRoundRobin(): boolean {
    return this.period === 0;
  }

  /** sc_sporadic: active and flagged sporadic. */
  isSporadic(): boolean {
    return this.maxRefills > 0 && this.sporadic;
  }

  /** sc_constant_bandwidth: not flagged sporadic. */
  isConstantBandwidth(): boolean {
    return !this.sporadic;
  }

  /** refill_next: the slot after index in the circular buffer. */
  refillNext(index: number): number {
    return index === this.maxRefills - 1 ? 0 : index + 1;
  }

  /** refill_size: number of refills in the queue. */
  refillSize(): number {
    if (this.head <= this.tail) return this.tail - this.head + 1;
    return this.tail + 1 + (this.maxRefills - this.head);
  }

  /** refill_full: every slot is in use. */
  refillFull(): boolean {
    return this.refillSize() === this.maxRefills;
  }

  /** refill_single: only one refill. */
  refillSingle(): boolean {
    return this.head === this.tail;
  }

  /** Time of the head refill. */
  get headTime(): number {
    return this.rTime[this.head];
  }

  /** Amount of the head refill. */
  get headAmount(): number {
    return this.rAmount[this.head];
  }

  /** Time of the tail refill. */
  get tailTime(): number {
    return this.rTime[this.tail];
  }

  /** Amount of the tail refill. */
  get tailAmount(): number {
    return this.rAmount[this.tail];
  }

  /** rTime of the refill in buffer slot `index` (refill_index). */
  indexTime(index: number): number {
    return this.rTime[index];
  }

  /** rAmount of the refill in buffer slot `index` (refill_index). */
  indexAmount(index: number): number {
    return this.rAmount[index];
  }

  private slotAt(k: number): number {
    const i = this.head + k;
    return i >= this.maxRefills ? i - this.maxRefills : i;
  }

  /** rTime of the k-th refill counted from the head (0 <= k < refillSize()). */
  timeAt(k: number): number {
    return this.rTime[this.slotAt(k)];
  }

  /** rAmount of the k-th refill counted from the head (0 <= k < refillSize()). */
  amountAt(k: number): number {
    return this.rAmount[this.slotAt(k)];
  }

  /** refill_sum: total of all refill amounts. */
  refillSum(): number {
    let sum = this.rAmount[this.head];
    let cur = this.head;
    while (cur !== this.tail) {
      cur = this.refillNext(cur);
      sum += this.rAmount[cur];
    }
    return sum;
  }

  /** The SC's budget: per seL4, the sum of its refills (0 when inactive). */
  get budget(): number {
    return this.maxRefills > 0 ? this.refillSum() : 0;
  }

  /** refill_capacity: head budget left once `usage` is charged (0 if more). */
  refillCapacity(usage: number): number {
    const amount = this.rAmount[this.head];
    if (usage > amount) return 0;
    return amount - usage;
  }

  /**
   * refill_sufficient: the head keeps at least MIN_BUDGET after `usage`, so
   * the thread can still get into and out of the kernel.
   */
  refillSufficient(usage: number): boolean {
    return this.refillCapacity(usage) >= this.minBudget;
  }

  /**
   * refill_ready: the head may be used at `now`. As in seL4, a head due
   * within one kernel WCET of now counts as ready.
   */
  refillReady(now: number): boolean {
    return this.rTime[this.head] <= now + this.wcetTicks;
  }

  /** sc_released: active and its head ready at `now`. */
  released(now: number): boolean {
    return this.maxRefills > 0 && this.refillReady(now);
  }

  // --------------------------------------------------------- queue plumbing

  /** refill_pop_head, dropping the value (callers read it first). */
  private popHead(): void {
    refillAssert(this.head !== this.tail, 'cannot pop the only refill');
    this.head = this.refillNext(this.head);
  }

  /** refill_add_tail. */
  private addTail(time: number, amount: number): void {
    refillAssert(this.refillSize() < this.maxRefills, 'refill queue full');
    const t = this.refillNext(this.tail);
    this.tail = t;
    this.rTime[t] = time;
    this.rAmount[t] = amount;
  }

  /** maybe_add_empty_tail: round-robin SCs track consumed time in the tail. */
  private maybeAddEmptyTail(): void {
    if (this.period === 0) {
      this.addTail(this.rTime[this.head], 0);
    }
  }

  /**
   * schedule_used: queue a charged amount to come back at `time`. A refill
   * that overlaps or touches the tail is merged into it; when the queue is
   * full the tail is delayed so that it ends where the new refill would
   * have ended, and absorbs it.
   */
  private scheduleUsed(time: number, amount: number): void {
    const t = this.tail;
    if (this.rTime[t] + this.rAmount[t] >= time) {
      this.rAmount[t] += amount;
    } else if (this.refillSize() < this.maxRefills) {
      this.addTail(time, amount);
    } else {
      this.rTime[t] = time - this.rAmount[t];
      this.rAmount[t] += amount;
    }
  }

  /** refill_head_overlapping: the next refill starts by the end of the head. */
  private refillHeadOverlapping(): boolean {
    if (this.head === this.tail) return false;
    const h = this.head;
    return this.rTime[this.refillNext(h)] <= this.rTime[h] + this.rAmount[h];
  }

  // ---------------------------------------------------------- operations

  /**
   * refill_new: configure an SC that is not in use. The whole budget is
   * available from `now`. Period 0 makes a round-robin SC (two refills: the
   * budget and an empty tail).
   */
  refillNew(maxRefills: number, budget: number, period: number, now: number): void {
    refillAssert(
      Number.isSafeInteger(maxRefills) && maxRefills >= MIN_REFILLS && maxRefills <= this.capacity,
      'maxRefills out of range',
    );
    checkTick(budget, 'budget must be a tick count');
    checkTick(period, 'period must be a tick count');
    checkTick(now, 'now must be a tick count');
    refillAssert(budget >= this.minBudget, 'budget below MIN_BUDGET');
    this.ensureStore(maxRefills);
    this.period = period;
    this.head = 0;
    this.tail = 0;
    this.maxRefills = maxRefills;
    this.rAmount[0] = budget;
    this.rTime[0] = now;
    this.maybeAddEmptyTail();
  }

  /**
   * refill_update: reconfigure an SC whose thread may be running, without
   * letting the new budget be exceeded over the new period. The queue is
   * cut to its head (moved to slot 0); the head starts now if it was ready,
   * keeps at most newBudget, and any budget beyond it comes one new period
   * after the head.
   */
  refillUpdate(newPeriod: number, newBudget: number, newMaxRefills: number, now: number): void {
    refillAssert(this.maxRefills > 0, 'refillUpdate on an unconfigured SC');
    refillAssert(
      Number.isSafeInteger(newMaxRefills) && newMaxRefills >= MIN_REFILLS && newMaxRefills <= this.capacity,
      'maxRefills out of range',
    );
    checkTick(newBudget, 'budget must be a tick count');
    checkTick(newPeriod, 'period must be a tick count');
    checkTick(now, 'now must be a tick count');
    refillAssert(newBudget >= this.minBudget, 'budget below MIN_BUDGET');
    this.ensureStore(newMaxRefills);

    this.rTime[0] = this.rTime[this.head];
    this.rAmount[0] = this.rAmount[this.head];
    this.head = 0;
    this.tail = 0;
    this.maxRefills = newMaxRefills;
    this.period = newPeriod;

    if (this.refillReady(now)) {
      this.rTime[0] = now;
    }

    if (this.rAmount[0] >= newBudget) {
      this.rAmount[0] = newBudget;
      this.maybeAddEmptyTail();
    } else {
      this.addTail(this.rTime[0] + newPeriod, newBudget - this.rAmount[0]);
    }
  }

  /**
   * refill_budget_check: charge `usage` ticks to a sporadic (not round-robin)
   * SC. Whole refills covered by the usage are rescheduled one period after
   * their time; a remaining part is split off the head, which starts later
   * by that much, and rescheduled one period after the head's old time.
   * Rescheduled refills go through schedule_used (merge into the tail when
   * adjacent or when the queue is full). Finally a head left below
   * MIN_BUDGET is merged into the next refill, moved earlier by its amount
   * so that refill still ends at the same time.
   */
  refillBudgetCheck(usage: number): void {
    refillAssert(this.period !== 0, 'refillBudgetCheck on a round-robin SC');
    const period = this.period;
    const maxRelease = this.maxReleaseTime;
    const rTime = this.rTime;
    const rAmount = this.rAmount;

    while (rAmount[this.head] <= usage && rTime[this.head] < maxRelease) {
      const h = this.head;
      usage -= rAmount[h];
      if (h === this.tail) {
        rTime[h] += period;
      } else {
        const time = rTime[h] + period;
        const amount = rAmount[h];
        this.popHead();
        this.scheduleUsed(time, amount);
      }
    }

    if (usage > 0 && rTime[this.head] < maxRelease) {
      const h = this.head;
      refillAssert(rAmount[h] > usage, 'partial charge exceeds the head');
      const usedTime = rTime[h] + period;
      rAmount[h] -= usage;
      rTime[h] += usage;
      this.scheduleUsed(usedTime, usage);
    }

    while (rAmount[this.head] < this.minBudget) {
      const amount = rAmount[this.head];
      this.popHead();
      rAmount[this.head] += amount;
      rTime[this.head] -= amount;
    }
  }

  /**
   * refill_unblock_check: the thread becomes runnable (sporadic SC) or
   * current (constant-bandwidth SC) at `now`. If the head is ready it is
   * moved to now, and later refills that start by the end of the head are
   * merged into it. Nothing happens for round-robin SCs. Returns true when
   * the head was moved (seL4 then sets ksReprogram).
   */
  refillUnblockCheck(now: number): boolean {
    if (this.period === 0) return false;
    if (!this.refillReady(now)) return false;
    const rTime = this.rTime;
    const rAmount = this.rAmount;
    rTime[this.head] = now;
    while (this.refillHeadOverlapping()) {
      const time = rTime[this.head];
      const amount = rAmount[this.head];
      this.popHead();
      rTime[this.head] = time;
      rAmount[this.head] += amount;
    }
    refillAssert(rAmount[this.head] >= this.minBudget, 'head insufficient after unblock');
    return true;
  }

  /**
   * The refill part of seL4's commitTime: charge `consumed` ticks while the
   * head still holds enough (refillSufficient(consumed) must hold). A
   * round-robin SC moves the time from head to tail; a sporadic SC goes
   * through refillBudgetCheck. Zero does nothing.
   */
  refillCommitTime(consumed: number): void {
    if (consumed <= 0) return;
    refillAssert(this.refillCapacity(consumed) >= this.minBudget, 'commit of more than the head holds');
    if (this.period === 0) {
      this.rAmount[this.head] -= consumed;
      this.rAmount[this.tail] += consumed;
    } else {
      this.refillBudgetCheck(consumed);
    }
  }

  /**
   * The refill part of seL4's chargeBudget: the head is exhausted by
   * `consumed`. A round-robin SC gets its whole budget back in the head
   * (consumed is not charged: its period is 0); a sporadic SC goes through
   * refillBudgetCheck. Afterwards the head holds at least MIN_BUDGET.
   */
  refillChargeBudget(consumed: number): void {
    if (this.period === 0) {
      this.rAmount[this.head] += this.rAmount[this.tail];
      this.rAmount[this.tail] = 0;
    } else {
      this.refillBudgetCheck(consumed);
    }
  }

  /**
   * The refill part of invokeSchedControl_ConfigureFlags (after decode has
   * checked MIN_BUDGET <= budget <= period): budget == period makes a
   * round-robin SC; an SC that is active with a runnable thread (`inUse`)
   * keeps its bandwidth through refillUpdate; otherwise refillNew starts
   * afresh. The caller commits the current thread's time first and sets the
   * sporadic flag afterwards, as seL4 does.
   */
  configure(budget: number, period: number, maxRefills: number, now: number, inUse: boolean): void {
    if (budget === period) {
      this.refillNew(MIN_REFILLS, budget, 0, now);
    } else if (inUse && this.maxRefills > 0) {
      this.refillUpdate(period, budget, maxRefills, now);
    } else {
      this.refillNew(maxRefills, budget, period, now);
    }
  }

  // ------------------------------------------------------------- checking

  /**
   * seL4's REFILL_SANITY checks and more: returns null when the queue is
   * well formed, else a description. Checks the head/tail indices and size
   * against maxRefills, integer ticks, positive amounts, order without
   * overlap (each refill ends by the start of the next; not for round
   * robin), the round-robin shape, the head holding at least MIN_BUDGET, and
   * (when given) the sum against the expected budget.
   */
  checkInvariants(expectedBudget?: number): string | null {
    if (this.maxRefills === 0) return null;
    if (this.maxRefills > this.capacity) return 'maxRefills above capacity';
    if (this.head >= this.maxRefills || this.tail >= this.maxRefills) return 'index out of range';
    const size = this.refillSize();
    if (size > this.maxRefills) return 'more refills than maxRefills';
    const rr = this.period === 0;
    if (rr && size !== MIN_REFILLS) return 'round-robin SC without exactly two refills';
    let sum = 0;
    for (let k = 0; k < size; k++) {
      const t = this.timeAt(k);
      const a = this.amountAt(k);
      if (!Number.isSafeInteger(t) || !Number.isSafeInteger(a)) return `refill ${k} not an integer`;
      if (a < 0 || (!rr && a === 0)) return `refill ${k} has amount ${a}`;
      if (!rr && k + 1 < size && t + a > this.timeAt(k + 1)) return `refill ${k} overlaps the next`;
      sum += a;
    }
    if (this.rAmount[this.head] < this.minBudget) return 'head below MIN_BUDGET';
    if (expectedBudget !== undefined && sum !== expectedBudget) {
      return `refills sum to ${sum}, expected ${expectedBudget}`;
    }
    return null;
  }

  /** The refills from head to tail as [rTime, rAmount] pairs (debugging). */
  toArray(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (this.maxRefills === 0) return out;
    const size = this.refillSize();
    for (let k = 0; k < size; k++) out.push([this.timeAt(k), this.amountAt(k)]);
    return out;
  }

  /**
   * Load an exact queue state (tests and debugging; seL4's proofs call this
   * setRefills). Refills are placed from slot `head` onwards, wrapping.
   */
  debugLoad(period: number, maxRefills: number, refills: ReadonlyArray<readonly [number, number]>, head = 0): void {
    refillAssert(maxRefills >= 1 && maxRefills <= this.capacity, 'maxRefills out of range');
    refillAssert(refills.length >= 1 && refills.length <= maxRefills, 'bad refill count');
    refillAssert(head >= 0 && head < maxRefills, 'bad head');
    this.ensureStore(maxRefills);
    this.period = period;
    this.maxRefills = maxRefills;
    this.head = head;
    for (let k = 0; k < refills.length; k++) {
      const i = this.slotAt(k);
      this.rTime[i] = refills[k][0];
      this.rAmount[i] = refills[k][1];
    }
    this.tail = this.slotAt(refills.length - 1);
  }
}
