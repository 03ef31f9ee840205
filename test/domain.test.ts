/**
 * The domain scheduler (CONFIG_NUM_DOMAINS > 1): DomainSet_Set and the
 * static domain schedule (KernelConfig.domainSchedule). seL4 13.0.0: a thread
 * only runs while its domain's slot is current (chooseThread looks at
 * ksCurDomain's queues only), the slot ends when less than MIN_BUDGET of it
 * is left (updateTimestamp), and the kernel then moves to the next entry
 * (nextDomain) with a timer deadline at the slot's end (setNextInterrupt).
 * Mirrors sel4test DOMAINS0001 (change domain), DOMAINS0002 (bad domain),
 * DOMAINS0003 (invoking a non-domain cap), DOMAINS0004 (threads run in
 * their domains) and DOMAINS0005 (moving a thread between domains).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot } from './support/harness.js';
import {
  seL4_Call,
  seL4_DomainSet_Set,
  seL4_GetMR,
  seL4_MessageInfo_get_label,
  seL4_MessageInfo_new,
  seL4_SetCap,
  seL4_SetMR,
  seL4_TCB_Resume,
  seL4_TCB_SetPriority,
  seL4_Wait,
  seL4_CapDomain,
  seL4_CapInitThreadTCB,
  seL4_EndpointObject,
  sel4ts_Work,
} from '../src/user/index.js';
import { InvocationLabel, seL4_Error } from '../src/abi/constants.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { TCB } from '../src/kernel/object/tcb.js';
import type { Machine } from '../src/machine/machine.js';
import { attachSchedTrace, DomainSwitch, SchedSlice, SchedTrace } from '../src/trace/sched.js';
import { Machine as MachineClass } from '../src/machine/machine.js';

function objAt<T>(m: Machine, cptr: number): T {
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  return root.slots[cptr]!.cap.obj as T;
}

const SCHEDULE = [
  { domain: 0, length: 2_000_000 },
  { domain: 1, length: 3_000_000 },
];
const DOMAINS = { kernel: { numDomains: 2, domainSchedule: SCHEDULE } };

/** The domain whose slot covers time t, from the trace's domain switches. */
function domainAt(switches: readonly DomainSwitch[], t: number): number {
  let d = switches[0]!.domain;
  for (const s of switches) if (s.time <= t) d = s.domain;
  return d;
}

test('DOMAINS0001-0003: DomainSet_Set success and errors', () => {
  const results: number[] = [];
  runRoot(
    function* ({ m }) {
      const k = m.kernel;
      const root = objAt<TCB>(m, seL4_CapInitThreadTCB);
      // Boot: the root task is in the first scheduled domain.
      assert.equal(root.domain, 0);
      assert.equal(k.curDomain, 0);
      // A domain that does not exist: InvalidArgument, MR0 = 0.
      results.push(yield* seL4_DomainSet_Set(seL4_CapDomain, 12, seL4_CapInitThreadTCB));
      assert.equal(seL4_GetMR(0), 0);
      // The thread argument is not a TCB: InvalidArgument, MR0 = 1.
      results.push(yield* seL4_DomainSet_Set(seL4_CapDomain, 1, seL4_CapDomain));
      assert.equal(seL4_GetMR(0), 1);
      // No domain word, or no thread cap: TruncatedMessage.
      results.push(yield* raw(seL4_CapDomain, InvocationLabel.DomainSetSet, [], [seL4_CapInitThreadTCB]));
      results.push(yield* raw(seL4_CapDomain, InvocationLabel.DomainSetSet, [1], []));
      // Another label on the domain cap, and the DomainSet label on a TCB cap: IllegalOperation.
      results.push(yield* raw(seL4_CapDomain, InvocationLabel.TCBSuspend, [1], [seL4_CapInitThreadTCB]));
      results.push(yield* raw(seL4_CapInitThreadTCB, InvocationLabel.DomainSetSet, [0], [seL4_CapInitThreadTCB]));
      // Moving ourselves to domain 1: we only run again in domain 1's slot.
      const before = m.now;
      results.push(yield* seL4_DomainSet_Set(seL4_CapDomain, 1, seL4_CapInitThreadTCB));
      assert.equal(root.domain, 1);
      assert.equal(k.curDomain, 1);
      assert.ok(m.now >= before + 2_000_000 - 30_000, 'waited for the end of the domain 0 slot');
    },
    DOMAINS,
  );
  assert.deepEqual(results, [
    seL4_Error.seL4_InvalidArgument,
    seL4_Error.seL4_InvalidArgument,
    seL4_Error.seL4_TruncatedMessage,
    seL4_Error.seL4_TruncatedMessage,
    seL4_Error.seL4_IllegalOperation,
    seL4_Error.seL4_IllegalOperation,
    seL4_Error.seL4_NoError,
  ]);
});

function* raw(service: number, label: number, mrs: number[], caps: number[]): Generator<unknown, number, unknown> {
  caps.forEach((c, i) => seL4_SetCap(i, c));
  mrs.forEach((v, i) => seL4_SetMR(i, v));
  const tag = yield* seL4_Call(service, seL4_MessageInfo_new(label, 0, caps.length, mrs.length));
  return seL4_MessageInfo_get_label(tag);
}

/** Two spinning threads in domains 0 and 1; optionally move the first to domain 1 after `shiftAt` ns. */
function runDomains(shiftAt: number | null): { slices: SchedSlice[]; domains: DomainSwitch[]; ids: number[]; shiftTime: number } {
  let trace = null as SchedTrace | null;
  const ids: number[] = [];
  let shiftTime = -1;
  runRoot(
    function* ({ m, vka }) {
      const spin = m.registerProgram(function* () {
        for (;;) yield* sel4ts_Work(100_000);
      });
      const ts = [];
      for (let d = 0; d < 2; d++) {
        // With a shift, the threads leave half of each millisecond to the root (priority 10).
        const periodUs = shiftAt === null ? 500 : 1000;
        const t = yield* vka.createThread({ entry: spin, priority: 64, budgetUs: 500, periodUs, suspended: true });
        assert.equal(yield* seL4_DomainSet_Set(seL4_CapDomain, d, t.tcb), 0);
        ids.push(objAt<TCB>(m, t.tcb).id);
        ts.push(t);
      }
      trace = attachSchedTrace(m);
      for (const t of ts) yield* seL4_TCB_Resume(t.tcb);
      if (shiftAt !== null) {
        // The root (domain 0, below the threads) spins in domain 0's spare time, then moves thread 0.
        yield* seL4_TCB_SetPriority(seL4_CapInitThreadTCB, seL4_CapInitThreadTCB, 10);
        while (m.now < shiftAt) yield* sel4ts_Work(50_000);
        assert.equal(yield* seL4_DomainSet_Set(seL4_CapDomain, 1, ts[0]!.tcb), 0);
        shiftTime = m.now;
      }
      yield* seL4_Wait(yield* vka.allocObject(seL4_EndpointObject), null);
    },
    { ...DOMAINS, untilNs: 30_000_000 },
  );
  return { slices: trace!.snapshot(), domains: trace!.domains, ids, shiftTime };
}

test('DOMAINS0004: threads run only in their domain slots, which follow the static schedule', () => {
  const { slices, domains, ids } = runDomains(null);
  // The schedule alternates 0, 1, 0, 1...; each slot lasts its length (less the
  // MIN_BUDGET rule and timer precision: the kernel ends it on the first entry with
  // under 20 us left, at the deadline 1 us before its end).
  const sw = domains.slice(1);
  assert.ok(sw.length >= 8);
  for (let i = 1; i < sw.length; i++) {
    assert.equal(sw[i]!.domain, 1 - sw[i - 1]!.domain);
    const len = sw[i]!.time - sw[i - 1]!.time;
    const want = SCHEDULE[sw[i - 1]!.domain]!.length;
    assert.ok(len <= want && len > want - 21_000, `slot ${i}: ${len} vs ${want}`);
  }
  // Each thread's slices lie inside slots of its own domain, and both threads run.
  for (const [d, tid] of ids.entries()) {
    const mine = slices.filter((s) => s.tid === tid);
    assert.ok(mine.length >= 4);
    for (const s of mine) {
      assert.equal(domainAt(domains, s.start), d);
      assert.equal(domainAt(domains, (s.start + s.end) / 2), d);
      assert.equal(s.domain, d);
    }
  }
  // No idle time in either domain: something is always runnable there.
  const idle = slices.filter((s) => s.idle && s.start > domains[1]!.time);
  assert.ok(idle.every((s) => s.end - s.start < 2_000), 'no idle slot');
});

test('DOMAINS0005: a thread moved to another domain runs in that domain from then on', () => {
  const { slices, domains, ids, shiftTime } = runDomains(10_000_000);
  assert.ok(shiftTime > 0);
  const t0 = slices.filter((s) => s.tid === ids[0]);
  const before = t0.filter((s) => s.end <= shiftTime);
  const after = t0.filter((s) => s.start >= shiftTime);
  assert.ok(before.length > 0 && after.length > 0);
  assert.ok(before.every((s) => domainAt(domains, s.start) === 0));
  assert.ok(after.every((s) => domainAt(domains, s.start) === 1 && s.domain === 1));
  // After the move only the root (then blocked) and idle run in domain 0 slots.
  const late = slices.filter((s) => s.start > shiftTime + 5_000_000 && domainAt(domains, s.start) === 0);
  assert.ok(late.length > 0 && late.every((s) => s.idle));
  // In domain 1 both threads now share the slot.
  const lateD1 = slices.filter((s) => s.start > shiftTime + 5_000_000 && !s.idle && domainAt(domains, s.start) === 1);
  assert.deepEqual([...new Set(lateD1.map((s) => s.tid))].sort(), [...ids].sort());
});

test('domain schedule configuration is checked at boot', () => {
  assert.throws(() => new MachineClass({ kernel: { numDomains: 2, domainSchedule: [{ domain: 2, length: 1_000_000 }] } }), /numDomains/);
  assert.throws(() => new MachineClass({ kernel: { numDomains: 2, domainSchedule: [] } }), /empty/);
  assert.throws(() => new MachineClass({ kernel: { numDomains: 2, domainSchedule: [{ domain: 0, length: 10 }] } }), /MIN_BUDGET/);
});
