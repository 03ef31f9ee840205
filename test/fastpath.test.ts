/**
 * The IPC fastpath is invisible: random IPC systems (clients calling passive
 * and active servers, nested calls that stack donated scheduling contexts,
 * long messages, extra caps, badges, missing rights, bound notifications
 * that get signalled, competing ready threads, budgets running out) run
 * with the fastpath on and off, and after every kernel entry the two
 * kernels must be in the same state: every register, thread state, queue,
 * reply-object call stack, SC binding and refill, the ready and release
 * queues and the thread chosen to run; and every thread must have seen the
 * same results.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runRoot } from './support/harness.js';
import * as s from '../src/user/index.js';
import { checkInvariants } from '../src/kernel/invariants/index.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { ObjectKind } from '../src/kernel/object/kobject.js';
import type { KernelObject } from '../src/kernel/object/kobject.js';
import type { Endpoint } from '../src/kernel/object/endpoint.js';
import type { Notification } from '../src/kernel/object/notification.js';
import type { Reply } from '../src/kernel/object/reply.js';
import type { SchedContext } from '../src/kernel/object/schedcontext.js';
import type { TCB } from '../src/kernel/object/tcb.js';
import { fastpathStats, resetFastpathStats, setFastpathEnabled } from '../src/kernel/fastpath.js';

type Gen<T = void> = Generator<unknown, T, unknown>;

// ------------------------------------------------------------ kernel state

function pa(o: KernelObject | null): string {
  return o === null ? '-' : o.paddr.toString(16);
}

/** Everything the fastpath could change, as text, with threads named by creation order. */
function snapshot(k: Kernel): string {
  const ids = new Map<TCB, number>();
  for (const t of k.tcbs) ids.set(t, ids.size);
  ids.set(k.idleThread, -1);
  const id = (t: TCB | null) => (t === null ? '-' : String(ids.get(t) ?? '?'));
  const out: string[] = [];
  out.push(`cur=${id(k.curThread)} curSC=${pa(k.curSC)} act=${k.schedulerAction} target=${id(k.schedulerTarget)}`);
  out.push(`time=${k.curTime} consumed=${k.consumed} deadline=${k.deadline} reprogram=${k.reprogram}`);
  const scs = new Set<SchedContext>();
  for (const t of k.tcbs) {
    if (t.sc !== null) scs.add(t.sc);
    out.push(
      `T${id(t)} st=${t.state} prio=${t.priority} sc=${pa(t.sc)} reply=${pa(t.replyObject)} blk=${pa(t.blockingObject)}` +
        ` bb=${t.blockingBadgeHi}:${t.blockingBadgeLo}:${t.blockingCanGrant}:${t.blockingCanGrantReply}:${t.blockingIsCall}` +
        ` ep=${id(t.epPrev)}/${id(t.epNext)} rq=${t.inReadyQueue} rel=${t.inReleaseQueue} fault=${t.fault.type}` +
        ` yt=${pa(t.yieldTo)} syscalls=${t.syscalls} regs=${Array.from(t.regs32).join(',')}`,
    );
  }
  for (const o of k.objects) {
    switch (o.kind) {
      case ObjectKind.Endpoint: {
        const e = o as Endpoint;
        const q: string[] = [];
        for (let t = e.queueHead; t !== null; t = t.epNext) q.push(id(t));
        out.push(`E${pa(e)} st=${e.state} q=${q.join(',')} tail=${id(e.queueTail)}`);
        break;
      }
      case ObjectKind.Notification: {
        const n = o as Notification;
        const q: string[] = [];
        for (let t = n.queueHead; t !== null; t = t.epNext) q.push(id(t));
        out.push(`N${pa(n)} st=${n.state} w=${n.wordHi}:${n.wordLo} q=${q.join(',')} bound=${id(n.boundTCB)} sc=${pa(n.sc)}`);
        break;
      }
      case ObjectKind.Reply: {
        const r = o as Reply;
        out.push(`R${pa(r)} tcb=${id(r.tcb)} prev=${pa(r.prev)} next=${pa(r.next)} nextSC=${pa(r.nextSC)}`);
        break;
      }
      case ObjectKind.SchedContext:
        scs.add(o as SchedContext);
        break;
      default:
        break;
    }
  }
  for (const sc of scs) {
    const rf = sc.refills;
    out.push(`S${pa(sc)} tcb=${id(sc.tcb)} reply=${pa(sc.reply)} consumed=${sc.consumed} head=${rf.headTime}+${rf.headAmount} active=${rf.active}`);
  }
  for (let i = 0; i < k.readyHead.length; i++) {
    if (k.readyHead[i] === null) continue;
    const q: string[] = [];
    for (let t: TCB | null = k.readyHead[i]!; t !== null; t = t.schedNext) q.push(id(t));
    out.push(`ready[${i}]=${q.join(',')} tail=${id(k.readyTail[i] ?? null)}`);
  }
  out.push(`bitmap=${Array.from(k.readyBitmap).join(',')}`);
  const rel: string[] = [];
  for (let t = k.releaseHead; t !== null; t = t.schedNext) rel.push(id(t));
  out.push(`release=${rel.join(',')}`);
  return out.join('\n');
}

// --------------------------------------------------------------- scenarios

interface ServerSpec {
  prio: number;
  passive: boolean;
  boundNtfn: boolean;
}
interface ClientSpec {
  prio: number;
  budgetUs: number;
  periodUs: number;
  steps: number;
}
interface Scenario {
  seed: number;
  servers: ServerSpec[];
  clients: ClientSpec[];
  noisePrio: number | null;
}

/** A small deterministic PRNG (mulberry32), one per thread, so both runs make the same choices. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) >>> 0;
  };
}

const prioArb = fc.constantFrom(80, 100, 100, 120, 150);
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.nat(),
  servers: fc.array(fc.record({ prio: prioArb, passive: fc.constantFrom(true, true, true, false), boundNtfn: fc.boolean() }), {
    minLength: 1,
    maxLength: 3,
  }),
  clients: fc.array(
    fc.record({
      prio: prioArb,
      budgetUs: fc.constantFrom(30, 300, 2000, 2000),
      periodUs: fc.constantFrom(0, 1000, 5000),
      steps: fc.integer({ min: 10, max: 80 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  noisePrio: fc.option(prioArb, { nil: null }),
});

/** Lengths mostly fit the fastpath (0..4); some do not (5, 6). */
function msgLength(rand: (n: number) => number): number {
  const l = rand(9);
  return l < 7 ? l % 5 : l - 2;
}

/**
 * Run a scenario; returns the kernel state after every kernel entry and
 * each thread's log of what it received.
 */
function runScenario(sc: Scenario, fastpath: boolean): { snaps: string[]; log: string[] } {
  const snaps: string[] = [];
  const log: string[] = [];
  setFastpathEnabled(fastpath);
  try {
    runRoot(
      function* (env) {
        const { vka, m } = env;
        const CNODE = s.seL4_CapInitThreadCNode;
        const nS = sc.servers.length;
        const eps: number[] = [];
        const replies: number[] = [];
        const ntfns: number[] = [];
        for (let i = 0; i < nS; i++) {
          eps.push(yield* vka.allocObject(s.seL4_EndpointObject));
          replies.push(yield* vka.allocObject(s.seL4_ReplyObject));
          ntfns.push(yield* vka.allocObject(s.seL4_NotificationObject));
        }
        const ready = yield* vka.allocObject(s.seL4_NotificationObject);
        const spare = yield* vka.allocObject(s.seL4_NotificationObject);
        // Per endpoint: a badged copy, and a copy with only write rights (no grant: Call does not block on a reply).
        const badged: number[] = [];
        const noGrant: number[] = [];
        for (let i = 0; i < nS; i++) {
          const b = vka.allocSlot();
          assert.equal(yield* s.seL4_CNode_Mint(CNODE, b, 64, CNODE, eps[i]!, 64, s.seL4_AllRights, 0x100 + i), 0);
          badged.push(b);
          const w = vka.allocSlot();
          assert.equal(yield* s.seL4_CNode_Mint(CNODE, w, 64, CNODE, eps[i]!, 64, 1, 0x200 + i), 0);
          noGrant.push(w);
        }
        const recvSlot = vka.allocSlot();

        const server = (i: number) =>
          function* (): Gen {
            const rand = prng(sc.seed * 31 + i + 1);
            const badge = new s.WordOut();
            let info: number;
            if (sc.servers[i]!.passive) info = yield* s.seL4_NBSendRecv(ready, 0, eps[i]!, badge, replies[i]!);
            else info = yield* s.seL4_Recv(eps[i]!, badge, replies[i]!);
            for (;;) {
              const len = s.seL4_MessageInfo_get_length(info);
              const mrs: number[] = [];
              for (let j = 0; j < len; j++) mrs.push(s.seL4_GetMR(j));
              log.push(`S${i} got label=${s.seL4_MessageInfo_get_label(info)} len=${len} ec=${s.seL4_MessageInfo_get_extraCaps(info)} cu=${s.seL4_MessageInfo_get_capsUnwrapped(info)} badge=${badge.hi}:${badge.lo} mrs=${mrs}`);
              const op = rand(20);
              if (op === 0 && i + 1 < nS) {
                // A nested call to the next server, on the SC this server runs on.
                s.seL4_SetMR(0, 7);
                const r = yield* s.seL4_Call(eps[i + 1]!, s.seL4_MessageInfo_new(9, 0, 0, 1));
                log.push(`S${i} nested reply label=${s.seL4_MessageInfo_get_label(r)} mr0=${s.seL4_GetMR(0)}`);
              } else if (op === 1) {
                yield* s.sel4ts_Work(1000 * (1 + rand(50)));
              } else if (op === 2 && !sc.servers[i]!.passive) {
                // A signal to its own (maybe bound) notification: the next receive completes it at once.
                yield* s.seL4_Signal(ntfns[i]!);
              }
              const rl = msgLength(rand);
              for (let j = 0; j < rl; j++) s.seL4_SetMR(j, 1000 * i + 10 * j + rand(10));
              const tag = s.seL4_MessageInfo_new(rand(4), rand(8), 0, rl);
              if (op === 3 && !sc.servers[i]!.passive) {
                // Reply with a Send on the reply cap, then wait again (a passive server would lose its SC at the Send).
                yield* s.seL4_Send(replies[i]!, tag);
                info = yield* s.seL4_Recv(eps[i]!, badge, replies[i]!);
              } else {
                info = yield* s.seL4_ReplyRecv(eps[i]!, tag, badge, replies[i]!);
              }
            }
          };

        const client = (c: number) =>
          function* (): Gen {
            const spec = sc.clients[c]!;
            const rand = prng(sc.seed * 17 + 100 + c);
            s.seL4_SetCapReceivePath(CNODE, recvSlot, 64);
            for (let step = 0; step < spec.steps; step++) {
              const target = rand(nS);
              const op = rand(20);
              const len = msgLength(rand);
              for (let j = 0; j < len; j++) s.seL4_SetMR(j, 100 * c + 10 * step + j);
              if (op < 14) {
                // A Call through a cap without grant rights leaves the caller Inactive (and a passive server without an SC): rare.
                const which = rand(40);
                const cap = which < 25 ? eps[target]! : which < 39 || sc.servers[target]!.passive ? badged[target]! : noGrant[target]!;
                const extra = rand(10) === 0 ? 1 : 0;
                if (extra === 1) s.seL4_SetCap(0, ntfns[0]!);
                const r = yield* s.seL4_Call(cap, s.seL4_MessageInfo_new(rand(16), rand(8), extra, len));
                const rlen = s.seL4_MessageInfo_get_length(r);
                const mrs: number[] = [];
                for (let j = 0; j < rlen; j++) mrs.push(s.seL4_GetMR(j));
                log.push(`C${c} reply label=${s.seL4_MessageInfo_get_label(r)} len=${rlen} cu=${s.seL4_MessageInfo_get_capsUnwrapped(r)} mrs=${mrs}`);
              } else if (op < 16) {
                // A plain message donates no SC: only active servers can run after it.
                if (!sc.servers[target]!.passive) yield* s.seL4_NBSend(eps[target]!, s.seL4_MessageInfo_new(1, 0, 0, len));
              } else if (op < 18) {
                yield* s.seL4_Signal(sc.servers[target]!.passive ? spare : ntfns[target]!);
              } else {
                yield* s.sel4ts_Work(1000 * (1 + rand(100)));
              }
            }
            log.push(`C${c} done`);
          };

        const noise = function* (): Gen {
          const rand = prng(sc.seed * 7 + 3);
          for (let i = 0; i < 40; i++) {
            if (rand(2) === 0) yield* s.seL4_Yield();
            else yield* s.sel4ts_Work(5000 * (1 + rand(10)));
          }
        };

        for (let i = 0; i < nS; i++) {
          const spec = sc.servers[i]!;
          const t = yield* vka.createThread({ entry: m.registerProgram(server(i)), priority: spec.prio });
          if (spec.boundNtfn) assert.equal(yield* s.seL4_TCB_BindNotification(t.tcb, ntfns[i]!), 0);
          if (spec.passive) {
            yield* s.seL4_Wait(ready, null);
            assert.equal(yield* s.seL4_SchedContext_Unbind(t.sc), 0);
          }
        }
        for (let c = 0; c < sc.clients.length; c++) {
          const spec = sc.clients[c]!;
          const period = Math.max(spec.budgetUs, spec.periodUs);
          yield* vka.createThread({ entry: m.registerProgram(client(c)), priority: spec.prio, budgetUs: spec.budgetUs, periodUs: period });
        }
        if (sc.noisePrio !== null) yield* vka.createThread({ entry: m.registerProgram(noise), priority: sc.noisePrio, budgetUs: 100, periodUs: 300 });
      },
      {
        untilNs: 200_000_000,
        checkInvariants: (k: Kernel) => {
          checkInvariants(k);
          snaps.push(snapshot(k));
        },
      },
    );
  } finally {
    setFastpathEnabled(true);
  }
  return { snaps, log };
}

function firstDifference(a: string[], b: string[]): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      const la = a[i]!.split('\n');
      const lb = b[i]!.split('\n');
      const lines: string[] = [];
      for (let j = 0; j < Math.max(la.length, lb.length); j++) if (la[j] !== lb[j]) lines.push(`  on:  ${la[j]}\n  off: ${lb[j]}`);
      return `kernel exit ${i} differs:\n${lines.join('\n')}`;
    }
  }
  return `lengths differ: ${a.length} vs ${b.length}`;
}

describe('IPC fastpath equivalence', () => {
  const totals = { call: 0, replyRecv: 0, fallback: 0, runs: 0 };

  it('random IPC systems reach the same state after every kernel entry with the fastpath on and off', (t) => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        resetFastpathStats();
        const on = runScenario(sc, true);
        totals.call += fastpathStats.call;
        totals.replyRecv += fastpathStats.replyRecv;
        totals.fallback += fastpathStats.fallback;
        totals.runs++;
        resetFastpathStats();
        const off = runScenario(sc, false);
        assert.equal(fastpathStats.call + fastpathStats.replyRecv, 0, 'the fastpath ran while disabled');
        if (on.snaps.length !== off.snaps.length || on.snaps.some((x, i) => x !== off.snaps[i])) {
          assert.fail(firstDifference(on.snaps, off.snaps));
        }
        assert.deepEqual(on.log, off.log);
      }),
      { numRuns: 40, seed: 0x5e14 },
    );
    t.diagnostic(`fastpath: ${totals.call} calls, ${totals.replyRecv} reply-recvs, ${totals.fallback} slow-path Call/ReplyRecv in ${totals.runs} systems`);
    // The property means something only if both paths ran often.
    assert.ok(totals.call > 100, `fastpath_call ran only ${totals.call} times`);
    assert.ok(totals.replyRecv > 100, `fastpath_reply_recv ran only ${totals.replyRecv} times`);
    assert.ok(totals.fallback > 100, `the slow path was taken only ${totals.fallback} times`);
  });
});
