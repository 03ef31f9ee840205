import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RefillQueue,
  refillsForSizeBits,
  maxExtraRefills,
  usToTicks,
  ticksToUs,
  MIN_REFILLS,
  MIN_BUDGET,
  MIN_BUDGET_US,
  KERNEL_WCET_TICKS,
  KERNEL_WCET_US,
  SEL4_CORE_SCHED_CONTEXT_BYTES,
  SEL4_REFILL_SIZE_BYTES,
  SCHED_CONTEXT_STRUCT_BYTES,
  SEL4_MIN_SCHED_CONTEXT_BITS,
  MAX_PERIOD_US,
  MAX_RELEASE_TIME,
} from '../src/kernel/sched/refill.js';

/** A queue with small kernel-time constants so examples stay readable. */
function smallQueue(capacity: number, wcetTicks = 1, minBudget?: number, maxReleaseTime?: number): RefillQueue {
  const opts: { wcetTicks: number; minBudget?: number; maxReleaseTime?: number } = { wcetTicks };
  if (minBudget !== undefined) opts.minBudget = minBudget;
  if (maxReleaseTime !== undefined) opts.maxReleaseTime = maxReleaseTime;
  return new RefillQueue(capacity, opts);
}

function ok(q: RefillQueue, budget?: number): void {
  assert.equal(q.checkInvariants(budget), null);
}

describe('refill constants and sizes (riscv64)', () => {
  it('uses seL4 riscv64 SC layout numbers', () => {
    assert.equal(SEL4_CORE_SCHED_CONTEXT_BYTES, 128);
    assert.equal(SEL4_REFILL_SIZE_BYTES, 16);
    assert.equal(SCHED_CONTEXT_STRUCT_BYTES, 96);
    assert.equal(SEL4_MIN_SCHED_CONTEXT_BITS, 7);
    assert.equal(MIN_REFILLS, 2);
  });

  it('refillsForSizeBits computes refill_absolute_max', () => {
    assert.equal(refillsForSizeBits(6), 0);
    assert.equal(refillsForSizeBits(7), 2);
    assert.equal(refillsForSizeBits(8), 10);
    assert.equal(refillsForSizeBits(9), 26);
    assert.equal(refillsForSizeBits(10), 58);
    assert.equal(maxExtraRefills(7), 0);
    assert.equal(maxExtraRefills(8), 8);
    for (let b = 7; b <= 40; b++) {
      // seL4_MaxExtraRefills + MIN_REFILLS == refill_absolute_max
      assert.equal(refillsForSizeBits(b), Math.floor((2 ** b - 128) / 16) + 2);
    }
  });

  it('derives MIN_BUDGET from the riscv kernel WCET (10 us, 1 tick = 1 ns)', () => {
    assert.equal(usToTicks(1), 1000);
    assert.equal(ticksToUs(1999), 1);
    assert.equal(KERNEL_WCET_US, 10);
    assert.equal(KERNEL_WCET_TICKS, 10_000);
    assert.equal(MIN_BUDGET, 20_000);
    assert.equal(MIN_BUDGET_US, 20);
    const q = new RefillQueue(10);
    assert.equal(q.wcetTicks, 10_000);
    assert.equal(q.minBudget, 20_000);
    assert.equal(q.maxReleaseTime, MAX_RELEASE_TIME);
    assert.equal(new RefillQueue(10, { wcetTicks: 3, wcetScale: 2 }).minBudget, 12);
    assert.equal(new RefillQueue(10, { minBudget: 7 }).minBudget, 7);
  });

  it('keeps MAX_RELEASE_TIME plus a few periods exact', () => {
    assert.ok(MAX_RELEASE_TIME > 0);
    assert.ok(Number.isSafeInteger(MAX_RELEASE_TIME + 5 * usToTicks(MAX_PERIOD_US) - 1));
    assert.equal(MAX_RELEASE_TIME + 5 * usToTicks(MAX_PERIOD_US), Number.MAX_SAFE_INTEGER);
  });
});

describe('refillNew', () => {
  it('configures a sporadic SC with one full refill from now', () => {
    const q = smallQueue(10);
    assert.equal(q.active, false);
    q.refillNew(4, 30, 100, 7);
    assert.equal(q.active, true);
    assert.deepEqual(q.toArray(), [[7, 30]]);
    assert.equal(q.period, 100);
    assert.equal(q.maxRefills, 4);
    assert.equal(q.head, 0);
    assert.equal(q.tail, 0);
    assert.equal(q.budget, 30);
    assert.equal(q.refillSingle(), true);
    assert.equal(q.isRoundRobin(), false);
    ok(q, 30);
  });

  it('configures a round-robin SC (period 0) with an empty tail', () => {
    const q = smallQueue(10);
    q.refillNew(MIN_REFILLS, 50, 0, 5);
    assert.deepEqual(q.toArray(), [
      [5, 50],
      [5, 0],
    ]);
    assert.equal(q.isRoundRobin(), true);
    assert.equal(q.budget, 50);
    ok(q, 50);
  });

  it('rejects a budget below MIN_BUDGET and bad refill counts', () => {
    const q = smallQueue(4, 1); // MIN_BUDGET 2
    assert.throws(() => q.refillNew(2, 1, 100, 0));
    assert.throws(() => q.refillNew(1, 10, 100, 0));
    assert.throws(() => q.refillNew(5, 10, 100, 0));
    q.refillNew(4, 2, 100, 0);
    ok(q, 2);
  });

  it('grows the store at configure time up to the SC capacity', () => {
    const cap = refillsForSizeBits(14); // 1018 refills, more than preallocated
    const q = new RefillQueue(cap);
    const B = MIN_BUDGET * 1000;
    const P = usToTicks(1_000_000);
    q.refillNew(cap, B, P, 0);
    // charge small pieces that are never adjacent: each leaves its own refill
    let now = 0;
    for (let i = 0; i < 200; i++) {
      now += 3 * MIN_BUDGET;
      assert.equal(q.refillUnblockCheck(now), true);
      q.refillCommitTime(MIN_BUDGET);
    }
    assert.equal(q.refillSize(), 201);
    assert.equal(q.tailTime, now + P);
    ok(q, B);
  });
});

describe('refill queries', () => {
  it('refillCapacity and refillSufficient use the head only', () => {
    const q = smallQueue(4, 1); // MIN_BUDGET 2
    q.debugLoad(100, 4, [
      [0, 10],
      [50, 20],
    ]);
    assert.equal(q.refillCapacity(0), 10);
    assert.equal(q.refillCapacity(4), 6);
    assert.equal(q.refillCapacity(10), 0);
    assert.equal(q.refillCapacity(11), 0);
    assert.equal(q.refillSufficient(8), true);
    assert.equal(q.refillSufficient(9), false);
  });

  it('refillReady allows one kernel WCET early', () => {
    const q = smallQueue(4, 5);
    q.debugLoad(100, 4, [[100, 20]]);
    assert.equal(q.refillReady(94), false);
    assert.equal(q.refillReady(95), true);
    assert.equal(q.refillReady(100), true);
    assert.equal(q.released(95), true);
  });

  it('indexes a wrapped circular buffer from the head', () => {
    const q = smallQueue(4, 1);
    q.debugLoad(
      100,
      4,
      [
        [0, 5],
        [10, 5],
        [20, 5],
      ],
      3,
    );
    assert.equal(q.head, 3);
    assert.equal(q.tail, 1);
    assert.equal(q.refillSize(), 3);
    assert.equal(q.refillNext(3), 0);
    assert.equal(q.timeAt(1), 10);
    assert.equal(q.indexTime(0), 10);
    assert.equal(q.headTime, 0);
    assert.equal(q.tailTime, 20);
    assert.equal(q.tailAmount, 5);
    assert.equal(q.refillSum(), 15);
    assert.equal(q.refillFull(), false);
    ok(q, 15);
  });

  it('reports the sporadic / constant-bandwidth flag', () => {
    const q = smallQueue(4);
    q.sporadic = true;
    assert.equal(q.isSporadic(), false); // not active yet
    q.refillNew(2, 10, 100, 0);
    assert.equal(q.isSporadic(), true);
    assert.equal(q.isConstantBandwidth(), false);
  });
});

describe('refillBudgetCheck', () => {
  it('splits a partial charge off the head and schedules it one period on', () => {
    const q = smallQueue(4);
    q.refillNew(4, 30, 100, 0);
    q.refillBudgetCheck(10);
    assert.deepEqual(q.toArray(), [
      [10, 20],
      [100, 10],
    ]);
    ok(q, 30);
  });

  it('merges incremental charges into an adjacent tail (schedule_used)', () => {
    const q = smallQueue(4);
    q.refillNew(4, 30, 100, 0);
    q.refillBudgetCheck(10);
    q.refillBudgetCheck(10);
    assert.deepEqual(q.toArray(), [
      [20, 10],
      [100, 20],
    ]);
    ok(q, 30);
  });

  it('moves a single exhausted refill one period on in place', () => {
    const q = smallQueue(4);
    q.refillNew(4, 30, 100, 0);
    q.refillBudgetCheck(30);
    assert.deepEqual(q.toArray(), [[100, 30]]);
    assert.equal(q.head, 0);
    ok(q, 30);
  });

  it('pops an exhausted head and appends it a period later', () => {
    const q = smallQueue(4);
    q.debugLoad(100, 4, [
      [0, 10],
      [50, 10],
      [70, 10],
    ]);
    q.refillBudgetCheck(10);
    assert.deepEqual(q.toArray(), [
      [50, 10],
      [70, 10],
      [100, 10],
    ]);
    ok(q, 30);
  });

  it('charges an overrun to the following refill, delaying it', () => {
    const q = smallQueue(4);
    q.debugLoad(100, 4, [
      [0, 10],
      [50, 10],
    ]);
    q.refillBudgetCheck(13);
    assert.deepEqual(q.toArray(), [
      [53, 7],
      [100, 10],
      [150, 3],
    ]);
    ok(q, 20);
  });

  it('merges into a delayed tail when max refills is reached', () => {
    const q = smallQueue(2);
    q.debugLoad(100, 2, [
      [0, 10],
      [50, 10],
    ]);
    q.refillBudgetCheck(4);
    // used (100, 4) does not fit: the tail moves to end at 104 and absorbs it
    assert.deepEqual(q.toArray(), [
      [4, 6],
      [90, 14],
    ]);
    assert.equal(q.refillSize(), 2);
    ok(q, 20);
  });

  it('merges a head left below MIN_BUDGET into the next refill, ending at the same time', () => {
    const q = smallQueue(4, 1, 5);
    q.debugLoad(100, 4, [
      [0, 10],
      [50, 10],
    ]);
    q.refillBudgetCheck(7);
    // head (7, 3) < 5: merged into (50, 10) as (47, 13), which still ends at 60
    assert.deepEqual(q.toArray(), [
      [47, 13],
      [100, 7],
    ]);
    ok(q, 20);
  });

  it('charges several whole refills and a partial in one go', () => {
    const q = smallQueue(6);
    q.debugLoad(100, 6, [
      [0, 5],
      [10, 5],
      [20, 10],
    ]);
    q.refillBudgetCheck(12);
    assert.deepEqual(q.toArray(), [
      [22, 8],
      [100, 5],
      [110, 5],
      [120, 2],
    ]);
    ok(q, 20);
  });

  it('charges more than the whole budget around the queue again', () => {
    const q = smallQueue(4);
    q.refillNew(4, 10, 100, 0);
    q.refillBudgetCheck(25);
    // 10 -> (100, 10); 10 -> (200, 10); 5 split: head (205, 5), used (300, 5)
    assert.deepEqual(q.toArray(), [
      [205, 5],
      [300, 5],
    ]);
    ok(q, 10);
  });

  it('stops pushing refills past MAX_RELEASE_TIME', () => {
    const q = smallQueue(4, 1, 2, 1000);
    q.debugLoad(100, 4, [[990, 10]]);
    q.refillBudgetCheck(25);
    // one whole refill moves to 1090; then the head is past MAX_RELEASE_TIME
    assert.deepEqual(q.toArray(), [[1090, 10]]);
    q.refillBudgetCheck(5);
    assert.deepEqual(q.toArray(), [[1090, 10]]);
  });

  it('does nothing for zero usage', () => {
    const q = smallQueue(4);
    q.debugLoad(100, 4, [
      [0, 10],
      [50, 10],
    ]);
    q.refillBudgetCheck(0);
    assert.deepEqual(q.toArray(), [
      [0, 10],
      [50, 10],
    ]);
  });

  it('refuses round-robin SCs', () => {
    const q = smallQueue(4);
    q.refillNew(2, 10, 0, 0);
    assert.throws(() => q.refillBudgetCheck(3));
  });

  it('works with the real constants (ns ticks, 20 us MIN_BUDGET)', () => {
    const q = new RefillQueue(refillsForSizeBits(8));
    const P = usToTicks(1000);
    const B = usToTicks(300);
    q.refillNew(10, B, P, 5_000_000);
    q.refillBudgetCheck(B - usToTicks(10)); // leaves 10 us < MIN_BUDGET
    // the 10 us remnant merges into the used refill, 10 us earlier
    assert.deepEqual(q.toArray(), [[5_000_000 + P - usToTicks(10), B]]);
    ok(q, B);
  });
});

describe('refillUnblockCheck', () => {
  it('leaves a head that is not ready alone', () => {
    const q = smallQueue(4, 1);
    q.debugLoad(100, 4, [
      [100, 10],
      [200, 10],
    ]);
    assert.equal(q.refillUnblockCheck(50), false);
    assert.deepEqual(q.toArray(), [
      [100, 10],
      [200, 10],
    ]);
  });

  it('moves a head ready within the WCET to now', () => {
    const q = smallQueue(4, 1);
    q.debugLoad(100, 4, [
      [100, 10],
      [200, 10],
    ]);
    assert.equal(q.refillUnblockCheck(99), true);
    assert.deepEqual(q.toArray(), [
      [99, 10],
      [200, 10],
    ]);
  });

  it('moves a past head to now and merges refills that overlap it', () => {
    const q = smallQueue(4, 1);
    q.debugLoad(100, 4, [
      [10, 5],
      [20, 5],
      [40, 5],
    ]);
    assert.equal(q.refillUnblockCheck(18), true);
    assert.deepEqual(q.toArray(), [
      [18, 10],
      [40, 5],
    ]);
    ok(q, 15);
  });

  it('merges a chain of overlapping refills', () => {
    const q = smallQueue(4, 1);
    q.debugLoad(100, 4, [
      [0, 5],
      [10, 5],
      [14, 5],
    ]);
    q.refillUnblockCheck(9);
    assert.deepEqual(q.toArray(), [[9, 15]]);
    ok(q, 15);
  });

  it('does nothing for round-robin SCs', () => {
    const q = smallQueue(4, 1);
    q.refillNew(2, 10, 0, 0);
    assert.equal(q.refillUnblockCheck(500), false);
    assert.deepEqual(q.toArray(), [
      [0, 10],
      [0, 0],
    ]);
  });
});

describe('refillUpdate', () => {
  it('trims a head holding more than the new budget', () => {
    const q = smallQueue(4, 1);
    q.refillNew(4, 30, 100, 0);
    q.refillUpdate(200, 20, 3, 5);
    assert.deepEqual(q.toArray(), [[5, 20]]);
    assert.equal(q.period, 200);
    assert.equal(q.maxRefills, 3);
    ok(q, 20);
  });

  it('schedules extra budget one new period after the head', () => {
    const q = smallQueue(4, 1);
    q.debugLoad(100, 4, [
      [10, 20],
      [100, 10],
    ]);
    q.refillUpdate(200, 50, 4, 15);
    assert.deepEqual(q.toArray(), [
      [15, 20],
      [215, 30],
    ]);
    ok(q, 50);
  });

  it('keeps the time of a head that is not ready', () => {
    const q = smallQueue(4, 1);
    q.debugLoad(100, 4, [
      [100, 20],
      [150, 10],
    ]);
    q.refillUpdate(150, 40, 4, 50);
    assert.deepEqual(q.toArray(), [
      [100, 20],
      [250, 20],
    ]);
    ok(q, 40);
  });

  it('moves a wrapped head to slot 0 and shrinks max refills', () => {
    const q = smallQueue(8, 1);
    q.debugLoad(
      100,
      8,
      [
        [0, 5],
        [10, 5],
        [20, 5],
      ],
      7,
    );
    q.refillUpdate(100, 15, 2, 3);
    assert.equal(q.head, 0);
    assert.equal(q.maxRefills, 2);
    assert.deepEqual(q.toArray(), [
      [3, 5],
      [103, 10],
    ]);
    ok(q, 15);
  });

  it('refuses an unconfigured SC', () => {
    const q = smallQueue(4, 1);
    assert.throws(() => q.refillUpdate(100, 10, 2, 0));
  });
});

describe('configure (SchedControl_ConfigureFlags choice)', () => {
  it('budget == period makes a round-robin SC with MIN_REFILLS', () => {
    const q = smallQueue(10, 1);
    q.configure(50, 50, 6, 3, false);
    assert.equal(q.isRoundRobin(), true);
    assert.equal(q.maxRefills, MIN_REFILLS);
    assert.deepEqual(q.toArray(), [
      [3, 50],
      [3, 0],
    ]);
  });

  it('an SC in use keeps its bandwidth, an idle one starts afresh', () => {
    const q = smallQueue(10, 1);
    q.configure(30, 100, 4, 0, false);
    q.refillBudgetCheck(25); // head (25, 5), used (100, 25)
    const busy = smallQueue(10, 1);
    busy.debugLoad(100, 4, q.toArray());
    busy.configure(40, 200, 5, 30, true);
    assert.deepEqual(busy.toArray(), [
      [30, 5],
      [230, 35],
    ]);
    q.configure(40, 200, 5, 30, false);
    assert.deepEqual(q.toArray(), [[30, 40]]);
    assert.equal(q.maxRefills, 5);
  });
});

describe('round-robin charging (commitTime / chargeBudget)', () => {
  it('moves consumed time to the tail and back on exhaustion', () => {
    const q = smallQueue(2, 1);
    q.refillNew(2, 100, 0, 0);
    q.refillCommitTime(30);
    assert.deepEqual(q.toArray(), [
      [0, 70],
      [0, 30],
    ]);
    q.refillCommitTime(0);
    assert.equal(q.headAmount, 70);
    assert.equal(q.refillReady(0), true);
    assert.equal(q.refillSufficient(69), false);
    q.refillChargeBudget(69);
    assert.deepEqual(q.toArray(), [
      [0, 100],
      [0, 0],
    ]);
    ok(q, 100);
  });

  it('refuses to commit more than the head can spare', () => {
    const q = smallQueue(2, 1);
    q.refillNew(2, 100, 0, 0);
    assert.throws(() => q.refillCommitTime(99));
  });

  it('sporadic SCs commit and charge through refillBudgetCheck', () => {
    const q = smallQueue(4, 1);
    q.refillNew(4, 30, 100, 0);
    q.refillCommitTime(10);
    assert.deepEqual(q.toArray(), [
      [10, 20],
      [100, 10],
    ]);
    q.refillChargeBudget(25);
    ok(q, 30);
  });
});

// ---------------------------------------------------------------------------
// Property tests: a one-thread model of seL4's MCS kernel paths around the
// refill queue.
//
// The thread runs, blocks and unblocks, makes syscalls that do or do not
// commit its consumed time, and (constant-bandwidth SCs only) is preempted.
// The kernel paths mirrored are checkBudget / chargeBudget / endTimeslice /
// postpone, commitTime on a switch, awaken from the release queue, the
// sporadic refill_unblock_check on unblock and the constant-bandwidth one in
// switchSchedContext. The kernel itself takes no time. The budget interrupt
// is programmed at (time of last commit) + head amount and taken up to L
// ticks late ("overshoot", 0 <= L <= WCET); a postponed thread is released
// when the kernel is entered between (head time - WCET) and (head time + L).
//
// Guarantee checked (with the invariants after every step): in every window
// [t, t + period) the thread runs at most
//     budget + WCET + L   (<= budget + MIN_BUDGET when L <= WCET, scale 1)
// The WCET term is seL4's refill_ready slack (a refill may be used from one
// WCET before its time); the L term is a late budget interrupt, whose
// overrun seL4 charges to later refills. Both are tight in this model.
//
// Not covered, by design of seL4: a sporadic (seL4_SchedContext_Sporadic)
// SC whose thread is preempted keeps its refill times while waiting in the
// ready queue (refill_unblock_check runs only on unblock), so it may run
// more than this after a preemption; constant-bandwidth SCs re-run the check
// on every switch in, and are tested with preemption.
// ---------------------------------------------------------------------------

interface Params {
  useDefaults: boolean;
  w: number;
  L: number;
  period: number;
  budget: number;
  maxRefills: number;
  sporadic: boolean;
  /** Run and pause lengths: 0 tiny, 1 up to two periods, 2 up to the budget, 3 mixed per op. */
  style: number;
}

interface Op {
  kind: number;
  style: number;
  run: number;
  block: number;
  overshoot: number;
  release: number;
}

// Unbiased: fast-check's default bias towards 0 and extremes makes runs and
// pauses mostly empty, which hides the interesting refill patterns.
const opArb: fc.Arbitrary<Op> = fc.noBias(
  fc.record({
    kind: fc.nat(3),
    style: fc.nat(3),
    run: fc.nat(1 << 30),
    block: fc.nat(1 << 30),
    overshoot: fc.nat(1 << 30),
    release: fc.nat(1 << 30),
  }),
);

function paramsArb(useDefaults: boolean): fc.Arbitrary<Params> {
  const wArb = useDefaults ? fc.constant(KERNEL_WCET_TICKS) : fc.integer({ min: 1, max: 40 });
  return wArb.chain((w) =>
    fc
      .noBias(
        fc.record({
        L: fc.integer({ min: 0, max: w }),
        period: fc.integer({ min: 2 * w + 1, max: useDefaults ? usToTicks(20_000) : 60 * w + 400 }),
        budgetFrac: fc.double({ min: 0, max: 1, noNaN: true }),
        maxRefills: fc.integer({ min: MIN_REFILLS, max: 12 }),
        sporadic: fc.boolean(),
        style: fc.nat(3),
        }),
      )
      .map(({ L, period, budgetFrac, maxRefills, sporadic, style }) => ({
        useDefaults,
        w,
        L,
        period,
        // sporadic: MIN_BUDGET <= budget < period
        budget: 2 * w + Math.floor(budgetFrac * (period - 1 - 2 * w)),
        maxRefills,
        sporadic,
        style,
      })),
  );
}

interface Outcome {
  intervals: number[]; // flattened [start, end) pairs, in order
  executed: number;
  charged: number;
  uncommitted: number;
}

/** Run the model; throws (for fast-check to shrink) on any broken invariant. */
function simulate(p: Params, ops: readonly Op[], q: RefillQueue): Outcome {
  const { w, L, period, budget, maxRefills, sporadic } = p;
  q.sporadic = sporadic;
  let now = 1000;
  q.refillNew(maxRefills, budget, period, now);
  let mode: 'running' | 'blocked' | 'release' = 'running';
  let ksConsumed = 0;
  let runStart = now;
  let deadline = now + q.headAmount;
  let wakeAt = 0;
  let executed = 0;
  let charged = 0;
  const intervals: number[] = [];

  const check = (where: string): void => {
    const bad = q.checkInvariants(budget);
    if (bad !== null) throw new Error(`${where}: ${bad} ${JSON.stringify(q.toArray())}`);
    if (q.refillSize() > maxRefills) throw new Error(`${where}: queue larger than maxRefills`);
  };
  const dispatch = (where: string): void => {
    if (!q.refillReady(now) || !q.refillSufficient(0)) {
      throw new Error(`${where}: dispatched without a ready, sufficient head at ${now}: ${JSON.stringify(q.toArray())}`);
    }
    deadline = now + q.headAmount;
    runStart = now;
    mode = 'running';
  };
  const commit = (): void => {
    charged += ksConsumed;
    q.refillCommitTime(ksConsumed);
    ksConsumed = 0;
  };

  for (const op of ops) {
    if (mode === 'running') {
      const style = p.style === 3 ? op.style : p.style;
      let run: number;
      switch (style) {
        case 0:
          run = op.run % (3 * w + 1);
          break;
        case 1:
          run = op.run % (2 * period + 1);
          break;
        case 2:
          run = op.run % (budget + 1);
          break;
        default:
          run = op.run % (Math.floor(period / 10) + 1);
      }
      const syscallAt = runStart + run;
      const irqAt = deadline + (op.overshoot % (L + 1));
      const t = Math.min(syscallAt, irqAt);
      if (t > runStart) {
        const last = intervals.length;
        if (last > 0 && intervals[last - 1] === runStart) intervals[last - 1] = t;
        else intervals.push(runStart, t);
      }
      executed += t - runStart;
      ksConsumed += t - runStart;
      now = t;
      if (!q.refillSufficient(ksConsumed)) {
        // checkBudget fails: chargeBudget, then endTimeslice
        charged += ksConsumed;
        q.refillChargeBudget(ksConsumed);
        ksConsumed = 0;
        check('chargeBudget');
        if (q.refillReady(now) && q.refillSufficient(0)) dispatch('endTimeslice');
        else mode = 'release';
        continue;
      }
      if (t !== syscallAt) throw new Error('budget interrupt with budget left');
      const kind = op.kind === 3 && sporadic ? 2 : op.kind;
      const pause =
        style === 0 || op.block % 3 === 0 ? op.block % (5 * w + 1) : op.block % (2 * period + 1);
      if (kind === 0) {
        // block: switch to idle commits the consumed time
        commit();
        check('block');
        mode = 'blocked';
        wakeAt = now + pause;
      } else if (kind === 1) {
        // syscall without reprogramming: time stays in ksConsumed
        runStart = now;
      } else if (kind === 2) {
        // syscall that reprograms the timer: commitTime
        commit();
        check('commit');
        dispatch('commit');
      } else {
        // preempted by another SC, then switched back in (constant bandwidth)
        commit();
        check('preempt');
        now += pause;
        q.refillUnblockCheck(now);
        check('switch in');
        dispatch('switch in');
      }
    } else if (mode === 'release') {
      const delta = (op.release % (w + L + 1)) - w; // -WCET .. +L
      const at = q.headTime + delta;
      if (at < now) throw new Error('release in the past');
      now = at;
      if (!sporadic) q.refillUnblockCheck(now); // switchSchedContext
      check('awaken');
      dispatch('awaken');
    } else {
      now = wakeAt;
      q.refillUnblockCheck(now); // sporadic: on unblock; constant bandwidth: on switch in
      check('unblock');
      dispatch('unblock');
    }
  }
  return { intervals, executed, charged, uncommitted: ksConsumed };
}

/** Largest total run time inside any window [x, x + len). */
function maxWindow(iv: readonly number[], len: number): number {
  const n = iv.length / 2;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + (iv[2 * i + 1] - iv[2 * i]);
  const sumFrom = (x: number): number => {
    const end = x + len;
    // first interval ending after x
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (iv[2 * mid + 1] <= x) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    // first interval starting at or after end
    lo = i;
    hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (iv[2 * mid] < end) lo = mid + 1;
      else hi = mid;
    }
    const j = lo;
    if (j <= i) return 0;
    let s = prefix[j] - prefix[i];
    if (iv[2 * i] < x) s -= x - iv[2 * i];
    if (iv[2 * (j - 1) + 1] > end) s -= iv[2 * (j - 1) + 1] - end;
    return s;
  };
  let best = 0;
  for (let k = 0; k < n; k++) {
    best = Math.max(best, sumFrom(iv[2 * k]), sumFrom(iv[2 * k + 1] - len));
  }
  return best;
}

function checkScenario(p: Params, ops: readonly Op[]): void {
  const q = p.useDefaults ? new RefillQueue(12) : new RefillQueue(12, { wcetTicks: p.w });
  const out = simulate(p, ops, q);
  assert.equal(out.charged + out.uncommitted, out.executed, 'every tick run is charged');
  const worst = maxWindow(out.intervals, p.period);
  const allowed = p.budget + p.w + p.L;
  assert.ok(
    worst <= allowed,
    `ran ${worst} in a window of ${p.period}; budget ${p.budget}, allowed ${allowed}`,
  );
  assert.ok(allowed <= p.budget + q.minBudget);
}

describe('sporadic server properties', () => {
  it('maxWindow measures the busiest window', () => {
    assert.equal(maxWindow([0, 10, 20, 30, 100, 105], 50), 20);
    assert.equal(maxWindow([0, 10, 20, 30, 100, 105], 90), 20);
    assert.equal(maxWindow([0, 10, 20, 30, 95, 105], 90), 20);
    assert.equal(maxWindow([0, 10, 85, 105], 90), 20);
    assert.equal(maxWindow([0, 10, 80, 90], 90), 20);
    assert.equal(maxWindow([], 90), 0);
  });

  it('never runs more than budget + WCET + overshoot in any period (small ticks)', () => {
    fc.assert(
      fc.property(paramsArb(false), fc.array(opArb, { minLength: 1, maxLength: 500, size: 'max' }), (p, ops) => {
        checkScenario(p, ops);
      }),
      { numRuns: 2500 },
    );
  });

  it('never runs more than budget + MIN_BUDGET in any period (riscv constants, ns ticks)', () => {
    fc.assert(
      fc.property(paramsArb(true), fc.array(opArb, { minLength: 1, maxLength: 200, size: 'max' }), (p, ops) => {
        checkScenario(p, ops);
      }),
      { numRuns: 150 },
    );
  });

  it('the bound is reached: the slack is needed', () => {
    // Run exactly the budget and find windows holding budget + WCET + L.
    let reached = false;
    fc.assert(
      fc.property(paramsArb(false), fc.array(opArb, { minLength: 50, maxLength: 300, size: 'max' }), (p, ops) => {
        const q = new RefillQueue(12, { wcetTicks: p.w });
        const out = simulate(p, ops, q);
        if (maxWindow(out.intervals, p.period) > p.budget) reached = true;
      }),
      { numRuns: 200, seed: 42 },
    );
    assert.ok(reached, 'the slack was never used; the model may be too tame');
  });

  it('keeps the invariants under random reconfiguration (refillUpdate)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(
          fc.record({ run: fc.nat(1 << 20), period: fc.nat(1 << 20), budget: fc.nat(1 << 20), max: fc.nat(20), now: fc.nat(1 << 20) }),
          { minLength: 1, maxLength: 100, size: 'max' },
        ),
        (w, steps) => {
          const cap = 12;
          const q = new RefillQueue(cap, { wcetTicks: w });
          let period = 10 * w + 7;
          let budget = 2 * w + 3;
          q.refillNew(4, budget, period, 0);
          let now = 0;
          for (const s of steps) {
            now += s.now % (2 * period);
            q.refillUnblockCheck(now);
            // charge some time if the head is ready, as commitTime / chargeBudget would
            if (q.refillReady(now)) {
              const use = s.run % (q.headAmount + w);
              if (q.refillSufficient(use)) q.refillCommitTime(use);
              else q.refillChargeBudget(use);
              now += use;
            }
            assert.equal(q.checkInvariants(budget), null);
            const newPeriod = 2 * w + 1 + (s.period % 500);
            const newBudget = 2 * w + (s.budget % (newPeriod - 2 * w));
            const newMax = MIN_REFILLS + (s.max % (cap - MIN_REFILLS + 1));
            q.refillUpdate(newPeriod, newBudget, newMax, now);
            period = newPeriod;
            budget = newBudget;
            assert.equal(q.checkInvariants(budget), null);
            assert.ok(q.refillSize() <= newMax);
            assert.ok(q.headAmount <= budget);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-robin SCs keep two refills summing to the budget', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.nat(1 << 20), { minLength: 1, maxLength: 200, size: 'max' }),
        (w, extra, uses) => {
          const budget = 2 * w + extra;
          const q = new RefillQueue(2, { wcetTicks: w });
          q.refillNew(MIN_REFILLS, budget, 0, 0);
          let now = 0;
          for (const u of uses) {
            const use = u % (budget + w);
            now += use;
            if (q.refillSufficient(use)) q.refillCommitTime(use);
            else q.refillChargeBudget(use);
            assert.equal(q.refillUnblockCheck(now), false);
            assert.equal(q.checkInvariants(budget), null);
            assert.equal(q.refillReady(now), true);
            assert.ok(q.refillSufficient(0));
            assert.equal(q.refillSize(), 2);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
