// Demo systems for the web view. Each demo boots a machine, attaches a trace
// recorder, runs TypeScript threads against the kernel and returns the trace.
// The modules are passed in (lib) so that the same code runs in the browser
// (importing ../dist/src/...) and in Node tests.
//
// lib = { Machine, s /* dist/src/user/index.js */, recordMachine }

const RAM = 128 * 1024 * 1024;

function boot(lib, opts) {
  const m = new lib.Machine({ virt: { ramSize: RAM }, kernel: { numCores: opts.cores ?? 1 } });
  const rec = lib.recordMachine(m, { title: opts.title, snapshotEvery: opts.snapshotEvery ?? 0 });
  return { m, rec, bi: m.booted.bootInfo };
}

function check(err, what) {
  if (err !== 0) throw new Error(`${what} failed with seL4 error ${err}`);
}

/** Echo: a client Calls a server that adds one and replies (seL4_Call / seL4_ReplyRecv). */
function echo(lib, opts = {}) {
  const { s } = lib;
  const { m, rec, bi } = boot(lib, { title: 'echo client/server', snapshotEvery: opts.snapshotEvery ?? 8 });
  const caps = { ep: 0, badged: 0, reply: 0 };
  const results = [];
  const server = m.registerProgram(function* server() {
    const badge = new s.WordOut();
    yield* s.seL4_Recv(caps.ep, badge, caps.reply);
    for (;;) {
      const x = s.seL4_GetMR(0);
      yield* s.sel4ts_Work(2000);
      s.seL4_SetMR(0, x + 1);
      yield* s.seL4_ReplyRecv(caps.ep, s.seL4_MessageInfo_new(0, 0, 0, 1), badge, caps.reply);
    }
  });
  const client = m.registerProgram(function* client(n) {
    for (let i = 0; i < n; i++) {
      yield* s.sel4ts_Work(3000);
      s.seL4_SetMR(0, i * 10);
      yield* s.seL4_Call(caps.badged, s.seL4_MessageInfo_new(7, 0, 0, 1));
      results.push(s.seL4_GetMR(0));
    }
    yield* s.seL4_DebugPutString('client: done\n');
  });
  m.startRoot(function* root() {
    const vka = new s.Vka(bi);
    caps.ep = yield* vka.allocObject(s.seL4_EndpointObject);
    caps.badged = vka.allocSlot();
    check(yield* s.seL4_CNode_Mint(2, caps.badged, 64, 2, caps.ep, 64, s.seL4_AllRights, 0x42), 'CNode_Mint');
    caps.reply = yield* vka.allocObject(s.seL4_ReplyObject);
    const srv = yield* vka.createThread({ entry: server, priority: 200 });
    yield* s.seL4_DebugNameThread(srv.tcb, 'server');
    const cli = yield* vka.createThread({ entry: client, priority: 100, args: [opts.rounds ?? 6] });
    yield* s.seL4_DebugNameThread(cli.tcb, 'client');
    yield* s.seL4_DebugPutString('root: started server and client\n');
  });
  // No time limit: with one, Machine.run idles up to it instead of stopping when quiescent.
  const result = m.run({ maxSteps: opts.maxSteps ?? 100_000 });
  return { machine: m, result, trace: rec.finish(), results };
}

/**
 * MCS: a passive server running on its clients' donated scheduling contexts,
 * two budget-limited periodic clients, a notification producer/consumer, a
 * round-robin background thread, and a thread whose page fault a pager handles.
 */
function mcs(lib, opts = {}) {
  const { s } = lib;
  const { m, rec, bi } = boot(lib, { title: 'MCS: passive server, budgets, notifications, faults', snapshotEvery: opts.snapshotEvery ?? 40 });
  const c = { ep: 0, clientA: 0, clientB: 0, reply: 0, ntfn: 0, init: 0, faultEP: 0, pagerReply: 0 };
  let vka = null;
  const FAULT_VADDR = 0x10000000;

  const server = m.registerProgram(function* server() {
    const badge = new s.WordOut();
    // Tell the root we are initialised and wait for the first request in one step.
    yield* s.seL4_NBSendRecv(c.init, s.seL4_MessageInfo_new(0, 0, 0, 0), c.ep, badge, c.reply);
    for (;;) {
      yield* s.sel4ts_Work(20_000);
      s.seL4_SetMR(0, s.seL4_GetMR(0) * 2);
      yield* s.seL4_ReplyRecv(c.ep, s.seL4_MessageInfo_new(0, 0, 0, 1), badge, c.reply);
    }
  });
  const periodic = m.registerProgram(function* periodic(cap, work) {
    for (let i = 0; ; i++) {
      yield* s.sel4ts_Work(work);
      s.seL4_SetMR(0, i);
      yield* s.seL4_Call(cap, s.seL4_MessageInfo_new(1, 0, 0, 1));
    }
  });
  const producer = m.registerProgram(function* producer() {
    for (;;) {
      yield* s.sel4ts_Work(150_000);
      yield* s.seL4_Signal(c.ntfn);
    }
  });
  const consumer = m.registerProgram(function* consumer() {
    const badge = new s.WordOut();
    for (;;) {
      yield* s.seL4_Wait(c.ntfn, badge);
      yield* s.sel4ts_Work(30_000);
    }
  });
  const background = m.registerProgram(function* background() {
    for (;;) yield* s.sel4ts_Work(1_000_000);
  });
  const faulter = m.registerProgram(function* faulter() {
    yield* s.sel4ts_Work(100_000);
    yield* s.sel4ts_Store(FAULT_VADDR, 0x5e14);
    const v = yield* s.sel4ts_Load(FAULT_VADDR);
    yield* s.seL4_DebugPutString(`faulter: read back 0x${v.toString(16)} after the pager mapped a frame\n`);
  });
  const pager = m.registerProgram(function* pager() {
    const badge = new s.WordOut();
    for (;;) {
      yield* s.seL4_Recv(c.faultEP, badge, c.pagerReply);
      const addr = s.seL4_GetMR(1);
      const frame = yield* vka.allocObject(s.seL4_RISCV_4K_Page);
      const vaddr = addr - (addr % 4096);
      let err = yield* s.seL4_RISCV_Page_Map(frame, s.seL4_CapInitThreadVSpace, vaddr, s.seL4_ReadWrite, 0);
      if (err === 6) {
        const pt = yield* vka.allocObject(s.seL4_RISCV_PageTableObject);
        check(yield* s.seL4_RISCV_PageTable_Map(pt, s.seL4_CapInitThreadVSpace, vaddr, 0), 'PageTable_Map');
        err = yield* s.seL4_RISCV_Page_Map(frame, s.seL4_CapInitThreadVSpace, vaddr, s.seL4_ReadWrite, 0);
      }
      if (err === 6) {
        const pt = yield* vka.allocObject(s.seL4_RISCV_PageTableObject);
        check(yield* s.seL4_RISCV_PageTable_Map(pt, s.seL4_CapInitThreadVSpace, vaddr, 0), 'PageTable_Map');
        err = yield* s.seL4_RISCV_Page_Map(frame, s.seL4_CapInitThreadVSpace, vaddr, s.seL4_ReadWrite, 0);
      }
      check(err, 'Page_Map');
      yield* s.seL4_Send(c.pagerReply, s.seL4_MessageInfo_new(0, 0, 0, 0));
    }
  });

  m.startRoot(function* root() {
    vka = new s.Vka(bi);
    c.ep = yield* vka.allocObject(s.seL4_EndpointObject);
    c.clientA = vka.allocSlot();
    check(yield* s.seL4_CNode_Mint(2, c.clientA, 64, 2, c.ep, 64, s.seL4_AllRights, 0xa), 'CNode_Mint');
    c.clientB = vka.allocSlot();
    check(yield* s.seL4_CNode_Mint(2, c.clientB, 64, 2, c.ep, 64, s.seL4_AllRights, 0xb), 'CNode_Mint');
    const copyB = vka.allocSlot();
    check(yield* s.seL4_CNode_Copy(2, copyB, 64, 2, c.clientB, 64, s.seL4_AllRights), 'CNode_Copy');
    c.reply = yield* vka.allocObject(s.seL4_ReplyObject);
    c.pagerReply = yield* vka.allocObject(s.seL4_ReplyObject);
    c.ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
    c.init = yield* vka.allocObject(s.seL4_NotificationObject);
    c.faultEP = yield* vka.allocObject(s.seL4_EndpointObject);

    // Passive server: run it once on its own SC until it waits for requests, then take the SC away.
    const srv = yield* vka.createThread({ entry: server, priority: 200, budgetUs: 1000 });
    yield* s.seL4_DebugNameThread(srv.tcb, 'server (passive)');
    yield* s.seL4_Wait(c.init, null);
    check(yield* s.seL4_SchedContext_Unbind(srv.sc), 'SchedContext_Unbind');

    const pg = yield* vka.createThread({ entry: pager, priority: 180, budgetUs: 500 });
    yield* s.seL4_DebugNameThread(pg.tcb, 'pager');
    const a = yield* vka.createThread({ entry: periodic, priority: 150, budgetUs: 300, periodUs: 1000, args: [c.clientA, 120_000] });
    yield* s.seL4_DebugNameThread(a.tcb, 'client A 300us/1ms');
    const b = yield* vka.createThread({ entry: periodic, priority: 140, budgetUs: 400, periodUs: 2000, args: [copyB, 90_000] });
    yield* s.seL4_DebugNameThread(b.tcb, 'client B 400us/2ms');
    const cons = yield* vka.createThread({ entry: consumer, priority: 120, budgetUs: 200, periodUs: 1000 });
    yield* s.seL4_DebugNameThread(cons.tcb, 'consumer');
    check(yield* s.seL4_TCB_BindNotification(cons.tcb, c.ntfn), 'TCB_BindNotification');
    const prod = yield* vka.createThread({ entry: producer, priority: 110, budgetUs: 500, periodUs: 1000 });
    yield* s.seL4_DebugNameThread(prod.tcb, 'producer');
    const f = yield* vka.createThread({ entry: faulter, priority: 100, budgetUs: 500, periodUs: 1000, faultEP: c.faultEP });
    yield* s.seL4_DebugNameThread(f.tcb, 'faulter');
    const bg = yield* vka.createThread({ entry: background, priority: 10, budgetUs: 2000 });
    yield* s.seL4_DebugNameThread(bg.tcb, 'background (round robin)');
    yield* s.seL4_DebugPutString('root: system started\n');
  });
  const result = m.run({ untilNs: opts.untilNs ?? 6_000_000 });
  return { machine: m, result, trace: rec.finish() };
}

/**
 * SMP: three cores. A client on core 0 calls a passive server (which runs on
 * the client's core), a producer on core 1 signals a consumer on core 2
 * (reschedule IPIs), and a busy thread moves from core 1 to core 2 when its
 * SC is reconfigured with core 2's SchedControl.
 */
function smp(lib, opts = {}) {
  const { s } = lib;
  const { m, rec, bi } = boot(lib, { title: 'SMP: 3 cores', snapshotEvery: opts.snapshotEvery ?? 40, cores: 3 });
  const c = { ep: 0, reply: 0, ntfn: 0, init: 0 };
  const ctl = (core) => bi.schedcontrol.start + core;
  const server = m.registerProgram(function* server() {
    yield* s.seL4_NBSendRecv(c.init, s.seL4_MessageInfo_new(0, 0, 0, 0), c.ep, null, c.reply);
    for (;;) {
      yield* s.sel4ts_Work(20_000);
      yield* s.seL4_ReplyRecv(c.ep, s.seL4_MessageInfo_new(0, 0, 0, 0), null, c.reply);
    }
  });
  const client = m.registerProgram(function* client() {
    for (let i = 0; i < 20; i++) {
      yield* s.sel4ts_Work(50_000);
      yield* s.seL4_Call(c.ep, s.seL4_MessageInfo_new(0, 0, 0, 0));
    }
    yield* s.seL4_DebugPutString('client (core 0): 20 calls served\n');
  });
  const producer = m.registerProgram(function* producer() {
    for (let i = 0; i < 30; i++) {
      yield* s.sel4ts_Work(40_000);
      yield* s.seL4_Signal(c.ntfn);
    }
  });
  const consumer = m.registerProgram(function* consumer() {
    for (;;) {
      yield* s.seL4_Wait(c.ntfn, null);
      yield* s.sel4ts_Work(15_000);
    }
  });
  const busy = m.registerProgram(function* busy() {
    for (;;) yield* s.sel4ts_Work(100_000);
  });
  m.startRoot(function* root() {
    const vka = new s.Vka(bi);
    c.ep = yield* vka.allocObject(s.seL4_EndpointObject);
    c.reply = yield* vka.allocObject(s.seL4_ReplyObject);
    c.ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
    c.init = yield* vka.allocObject(s.seL4_EndpointObject);
    const srv = yield* vka.createThread({ entry: server, priority: 200, core: 2 });
    yield* s.seL4_DebugNameThread(srv.tcb, 'server (passive)');
    yield* s.seL4_Wait(c.init, null);
    check(yield* s.seL4_SchedContext_Unbind(srv.sc), 'SchedContext_Unbind');
    const cl = yield* vka.createThread({ entry: client, priority: 100, budgetUs: 800, periodUs: 1000, core: 0 });
    yield* s.seL4_DebugNameThread(cl.tcb, 'client (core 0)');
    const pr = yield* vka.createThread({ entry: producer, priority: 120, budgetUs: 500, periodUs: 1000, core: 1 });
    yield* s.seL4_DebugNameThread(pr.tcb, 'producer (core 1)');
    const co = yield* vka.createThread({ entry: consumer, priority: 150, budgetUs: 300, periodUs: 1000, core: 2 });
    yield* s.seL4_DebugNameThread(co.tcb, 'consumer (core 2)');
    const bz = yield* vka.createThread({ entry: busy, priority: 50, budgetUs: 1000, periodUs: 1000, core: 1 });
    yield* s.seL4_DebugNameThread(bz.tcb, 'busy (core 1, then 2)');
    yield* s.seL4_DebugPutString('root: 3 cores started\n');
    // The root task (priority 255) keeps core 0 for itself for a while, then leaves.
    yield* s.sel4ts_Work(800_000);
    check(yield* s.seL4_SchedControl_ConfigureFlags(ctl(2), bz.sc, 1000, 1000, 0, 0, 0), 'SchedControl_ConfigureFlags');
    yield* s.seL4_DebugPutString('root: moved busy to core 2\n');
    yield* s.seL4_TCB_Suspend(s.seL4_CapInitThreadTCB);
  });
  const result = m.run({ untilNs: opts.untilNs ?? 4_000_000 });
  return { machine: m, result, trace: rec.finish() };
}

export const DEMOS = {
  echo: { title: 'Echo client/server (IPC, badges, reply objects)', run: echo },
  mcs: { title: 'MCS: passive server, budgets, notifications, a page fault', run: mcs },
  smp: { title: 'SMP: 3 cores, cross-core IPC and signals, migration', run: smp },
};
