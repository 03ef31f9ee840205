/**
 * IPC benchmarks, as sel4bench's ipc and signal suites on an MCS kernel:
 * Call + ReplyRecv round trips between two processes (separate VSpaces and
 * CSpaces) with a passive server running on the client's scheduling
 * context, one-way Send/Recv, notification Signal/Wait, and a Microkit-style
 * protected procedure call.
 */
import { setFastpathEnabled } from '../src/kernel/fastpath.js';
import type { Machine } from '../src/machine/machine.js';
import {
  seL4_Call,
  seL4_EndpointObject,
  seL4_GetMR,
  seL4_MessageInfo_new,
  seL4_NBSendRecv,
  seL4_NotificationObject,
  seL4_Recv,
  seL4_ReplyObject,
  seL4_ReplyRecv,
  seL4_SchedContext_Unbind,
  seL4_Send,
  seL4_SetMR,
  seL4_Signal,
  seL4_TCB_BindNotification,
  seL4_Wait,
  Vka,
  WordOut,
} from '../src/user/index.js';
import type { Word } from '../src/user/index.js';
import { createProcess, check } from './process.js';
import { iterSys } from './itersys.js';
import { REG_A0, REG_A1, REG_A6 } from '../src/kernel/object/tcb.js';
import { Meter, Plan, runSystem } from './meter.js';
import { Result, toResult } from './stats.js';

type Gen<T> = Generator<unknown, T, unknown>;

/** Cap slots in every benchmark process's own CNode (cptr = slot). */
const EP = 1;
const REPLY = 2;
const READY = 3;

/** Create a server that signals READY and waits on EP in one system call, then make it passive, as sel4bench and Microkit do. */
function* passiveServer(m: Machine, vka: Vka, program: () => Gen<void>, priority: number, caps: (number | [number, Word])[], ready: number, ntfn = 0): Gen<number> {
  const p = yield* createProcess(m, vka, { program, priority, caps });
  if (ntfn !== 0) check(yield* seL4_TCB_BindNotification(p.tcb, ntfn), 'TCB_BindNotification');
  yield* seL4_Wait(ready, null);
  check(yield* seL4_SchedContext_Unbind(p.sc), 'SchedContext_Unbind');
  return p.tcb;
}

export interface RoundTripOptions {
  name: string;
  clientPrio: number;
  serverPrio: number;
  fastpath: boolean;
  /** Message length in words (0..4 fit the fastpath). */
  length: number;
  /** The user runtime: src/user/libsel4.ts, or the allocation-free prototype in bench/itersys.ts. */
  runtime?: 'libsel4' | 'iter';
}

/** Call + ReplyRecv between a client and a passive server in another address space. */
export function ipcRoundTrip(plan: Plan, o: RoundTripOptions): Result {
  let meter: Meter | null = null;
  const info = seL4_MessageInfo_new(0, 0, 0, o.length);
  function* server(): Gen<void> {
    const badge = new WordOut();
    yield* seL4_NBSendRecv(READY, 0, EP, badge, REPLY);
    for (;;) yield* seL4_ReplyRecv(EP, info, badge, REPLY);
  }
  function* client(): Gen<void> {
    const mt = meter!;
    for (let i = 0; i < plan.warmup; i++) yield* seL4_Call(EP, info);
    for (let s = 0; s < plan.samples; s++) {
      mt.begin();
      for (let i = 0; i < plan.perSample; i++) yield* seL4_Call(EP, info);
      mt.end();
    }
  }
  function* iterServer(): Gen<void> {
    const sys = iterSys();
    const badge = new WordOut();
    yield* sys.nbSendRecv(READY, 0, EP, badge, REPLY);
    for (;;) yield* sys.replyRecv(EP, info, badge, REPLY);
  }
  function* iterClient(): Gen<void> {
    const mt = meter!;
    const sys = iterSys();
    for (let i = 0; i < plan.warmup; i++) yield* sys.call(EP, info);
    for (let s = 0; s < plan.samples; s++) {
      mt.begin();
      for (let i = 0; i < plan.perSample; i++) yield* sys.call(EP, info);
      mt.end();
    }
  }
  const iter = o.runtime === 'iter';
  setFastpathEnabled(o.fastpath);
  try {
    runSystem(function* (m, vka) {
      meter = new Meter(m, plan);
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const reply = yield* vka.allocObject(seL4_ReplyObject);
      const ready = yield* vka.allocObject(seL4_NotificationObject);
      yield* passiveServer(m, vka, iter ? iterServer : server, o.serverPrio, [ep, reply, ready], ready);
      yield* createProcess(m, vka, { program: iter ? iterClient : client, priority: o.clientPrio, caps: [ep] });
    });
  } finally {
    setFastpathEnabled(true);
  }
  const fp = o.fastpath ? 'fastpath' : 'slow path only';
  const rt = iter ? ', prototype allocation-free syscall iterators (bench/itersys.ts)' : '';
  return toResult(o.name, `seL4_Call + seL4_ReplyRecv round trip, ${o.length}-word message, ${fp}${rt}`, meter!.samples);
}

/**
 * Call + ReplyRecv between a client on core 0 and an active server (with its
 * own SC) on core 1: every message wakes the other core with a reschedule
 * IPI, so both directions take the slow path and the simulated time includes
 * the IPI entry on the receiving core.
 */
export function ipcCrossCore(plan: Plan): Result {
  let meter: Meter | null = null;
  const info = seL4_MessageInfo_new(0, 0, 0, 0);
  function* server(): Gen<void> {
    const badge = new WordOut();
    yield* seL4_Recv(EP, badge, REPLY);
    for (;;) yield* seL4_ReplyRecv(EP, info, badge, REPLY);
  }
  function* client(): Gen<void> {
    const mt = meter!;
    for (let i = 0; i < plan.warmup; i++) yield* seL4_Call(EP, info);
    for (let s = 0; s < plan.samples; s++) {
      mt.begin();
      for (let i = 0; i < plan.perSample; i++) yield* seL4_Call(EP, info);
      mt.end();
    }
  }
  runSystem(
    function* (m, vka) {
      meter = new Meter(m, plan);
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const reply = yield* vka.allocObject(seL4_ReplyObject);
      yield* createProcess(m, vka, { program: server, priority: 150, caps: [ep, reply], core: 1 });
      yield* createProcess(m, vka, { program: client, priority: 100, caps: [ep], core: 0 });
    },
    { kernel: { numCores: 2 } },
  );
  return toResult('ipc.call_replyrecv.cross_core', 'seL4_Call + seL4_ReplyRecv round trip, client on core 0, active server on core 1 (two IPIs per round trip)', meter!.samples);
}

/**
 * The kernel's share of a round trip: the client's program sets the
 * registers of both threads itself and traps for each (machine entry,
 * fastpath or slow path, exit), with no user runtime in between.
 */
export function ipcKernelOnly(plan: Plan, fastpath: boolean, name: string): Result {
  let meter: Meter | null = null;
  function* server(): Gen<void> {
    yield* seL4_NBSendRecv(READY, 0, EP, null, REPLY);
    throw new Error('bench: the kernel-only server is driven by its client');
  }
  function* client(): Gen<void> {
    const mt = meter!;
    const m = mt.m;
    const k = m.kernel;
    const c = k.curThread;
    const roundTrip = (): void => {
      const cr = c.regs32;
      cr[2 * REG_A0] = EP;
      cr[2 * REG_A0 + 1] = 0;
      cr[2 * REG_A1] = 0;
      cr[2 * REG_A1 + 1] = 0;
      m.syscall(-1);
      const sv = k.curThread;
      if (sv === c) throw new Error('bench: the Call did not reach the server');
      const sr = sv.regs32;
      sr[2 * REG_A0] = EP;
      sr[2 * REG_A0 + 1] = 0;
      sr[2 * REG_A1] = 0;
      sr[2 * REG_A1 + 1] = 0;
      sr[2 * REG_A6] = REPLY;
      sr[2 * REG_A6 + 1] = 0;
      m.syscall(-2);
      if (k.curThread !== c) throw new Error('bench: the reply did not come back');
    };
    for (let i = 0; i < plan.warmup; i++) roundTrip();
    for (let s = 0; s < plan.samples; s++) {
      mt.begin();
      for (let i = 0; i < plan.perSample; i++) roundTrip();
      mt.end();
    }
  }
  setFastpathEnabled(fastpath);
  try {
    runSystem(function* (m, vka) {
      meter = new Meter(m, plan);
      const ep = yield* vka.allocObject(seL4_EndpointObject);
      const reply = yield* vka.allocObject(seL4_ReplyObject);
      const ready = yield* vka.allocObject(seL4_NotificationObject);
      yield* passiveServer(m, vka, server, 150, [ep, reply, ready], ready);
      // A budget far beyond the run, so no timeout interrupts the hand-driven exchange.
      yield* createProcess(m, vka, { program: client, priority: 100, caps: [ep], budgetUs: 1e9 });
    });
  } finally {
    setFastpathEnabled(true);
  }
  const fp = fastpath ? 'fastpath' : 'slow path only';
  return toResult(name, `kernel share of a Call + ReplyRecv round trip (registers set by host code, two traps), ${fp}`, meter!.samples);
}

/** One-way seL4_Send to a higher-priority receiver blocked in seL4_Recv (both active). */
export function ipcOneWay(plan: Plan): Result {
  let meter: Meter | null = null;
  const info = seL4_MessageInfo_new(0, 0, 0, 1);
  function* receiver(): Gen<void> {
    for (;;) yield* seL4_Recv(EP, null, REPLY);
  }
  function* sender(): Gen<void> {
    const mt = meter!;
    for (let i = 0; i < plan.warmup; i++) yield* seL4_Send(EP, info);
    for (let s = 0; s < plan.samples; s++) {
      mt.begin();
      for (let i = 0; i < plan.perSample; i++) yield* seL4_Send(EP, info);
      mt.end();
    }
  }
  runSystem(function* (m, vka) {
    meter = new Meter(m, plan);
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    yield* createProcess(m, vka, { program: receiver, priority: 150, caps: [ep, reply] });
    yield* createProcess(m, vka, { program: sender, priority: 100, caps: [ep] });
  });
  return toResult('ipc.send_recv.one_way', 'seL4_Send to a waiting higher-priority receiver + its seL4_Recv', meter!.samples);
}

/** seL4_Signal to a higher-priority thread blocked in seL4_Wait, and its next Wait. */
export function notificationSignalWait(plan: Plan): Result {
  let meter: Meter | null = null;
  function* waiter(): Gen<void> {
    for (;;) yield* seL4_Wait(EP, null);
  }
  function* signaller(): Gen<void> {
    const mt = meter!;
    for (let i = 0; i < plan.warmup; i++) yield* seL4_Signal(EP);
    for (let s = 0; s < plan.samples; s++) {
      mt.begin();
      for (let i = 0; i < plan.perSample; i++) yield* seL4_Signal(EP);
      mt.end();
    }
  }
  runSystem(function* (m, vka) {
    meter = new Meter(m, plan);
    const ntfn = yield* vka.allocObject(seL4_NotificationObject);
    yield* createProcess(m, vka, { program: waiter, priority: 150, caps: [ntfn] });
    yield* createProcess(m, vka, { program: signaller, priority: 100, caps: [ntfn] });
  });
  return toResult('notification.signal_wait', 'seL4_Signal waking a higher-priority waiter + its seL4_Wait', meter!.samples);
}

/** Microkit's badge bit marking a protected procedure call (PPC) on the input endpoint. */
const PPC_BADGE = 1n << 63n;
const CHANNEL = 3;

/**
 * A Microkit-style protected procedure call: the client PD calls channel 3
 * (a badged endpoint cap) with one message word; the server PD is passive,
 * of higher priority, has its notification bound, dispatches on the badge
 * as Microkit's event loop does, and replies with one word.
 */
export function microkitPPC(plan: Plan): Result {
  let meter: Meter | null = null;
  const info = seL4_MessageInfo_new(0, 0, 0, 1);
  function* server(): Gen<void> {
    const badge = new WordOut();
    yield* seL4_NBSendRecv(READY, 0, EP, badge, REPLY);
    let reply = 0;
    for (;;) {
      if ((badge.hi & 0x80000000) !== 0) {
        // protected(ch, msginfo): answer MR0 + ch
        seL4_SetMR(0, seL4_GetMR(0) + (badge.lo & 0x3f));
        reply = info;
      }
      yield* seL4_ReplyRecv(EP, reply, badge, REPLY);
    }
  }
  function* client(): Gen<void> {
    const mt = meter!;
    let x = 0;
    for (let i = 0; i < plan.warmup; i++) {
      seL4_SetMR(0, x);
      yield* seL4_Call(EP, info);
      x = seL4_GetMR(0) & 0xffff;
    }
    for (let s = 0; s < plan.samples; s++) {
      mt.begin();
      for (let i = 0; i < plan.perSample; i++) {
        seL4_SetMR(0, x);
        yield* seL4_Call(EP, info);
        x = seL4_GetMR(0) & 0xffff;
      }
      mt.end();
      if (x !== ((plan.warmup + (s + 1) * plan.perSample) * CHANNEL) % 65536) throw new Error('bench: wrong PPC answers');
    }
  }
  runSystem(function* (m, vka) {
    meter = new Meter(m, plan);
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    const ready = yield* vka.allocObject(seL4_NotificationObject);
    const ntfn = yield* vka.allocObject(seL4_NotificationObject);
    yield* passiveServer(m, vka, server, 150, [ep, reply, ready], ready, ntfn);
    yield* createProcess(m, vka, { program: client, priority: 100, caps: [[ep, PPC_BADGE | BigInt(CHANNEL)]] });
  });
  return toResult('microkit.ppc', 'Microkit-style protected procedure call (badged Call to a passive PD + ReplyRecv), 1 word each way', meter!.samples);
}

