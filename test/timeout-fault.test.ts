/**
 * Timeout faults (MCS): when a thread with a timeout endpoint
 * (TCB_SetTimeoutEndpoint) runs out of budget on a sporadic (not
 * round-robin) SC, seL4 13.0.0's endTimeslice sends a seL4_Fault_Timeout
 * message (seL4_Timeout_Msg: MR0 Data = the SC's badge, MR1 Consumed in us)
 * instead of postponing it; a reply with label 0 restarts the thread and
 * writes back up to 32 registers in seL4_TimeoutReply_Msg order, another
 * label leaves it inactive.
 * Mirrors sel4test TIMEOUTFAULT0001 (timeout fault) and TIMEOUTFAULT0002
 * (timeout fault in a passive server, handled by replying to the client and
 * resetting the server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot } from './support/harness.js';
import {
  seL4_Call,
  seL4_GetMR,
  seL4_GetMRWord,
  seL4_MessageInfo_get_label,
  seL4_MessageInfo_get_length,
  seL4_MessageInfo_new,
  seL4_NBRecv,
  seL4_NBSendRecv,
  seL4_Recv,
  seL4_ReplyRecv,
  seL4_SchedContext_Bind,
  seL4_SchedContext_Unbind,
  seL4_SchedControl_ConfigureFlags,
  seL4_Send,
  seL4_SetMR,
  seL4_TCB_ReadRegisters,
  seL4_TCB_Resume,
  seL4_TCB_SetTimeoutEndpoint,
  seL4_Wait,
  seL4_CapInitThreadCNode,
  seL4_CNode_Mint,
  seL4_EndpointObject,
  seL4_ReplyObject,
  sel4ts_Work,
  WordOut,
} from '../src/user/index.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';
import type { Machine } from '../src/machine/machine.js';
import { attachSchedTrace, SchedTrace } from '../src/trace/sched.js';

function objAt<T>(m: Machine, cptr: number): T {
  const root = m.booted.rootTCB.slots[0]!.cap.obj as CNode;
  return root.slots[cptr]!.cap.obj as T;
}

const EMPTY = seL4_MessageInfo_new(0, 0, 0, 0);
const FAULT_TIMEOUT = 5;

interface Fault {
  time: number;
  label: number;
  length: number;
  data: bigint;
  consumed: number;
}

test('TIMEOUTFAULT0001: budget expiry sends seL4_Timeout_Msg to the timeout endpoint; reply label 0 restarts', () => {
  let trace = null as SchedTrace | null;
  let helper = -1;
  const faults: Fault[] = [];
  runRoot(function* ({ m, bi, vka }) {
    const tfep = yield* vka.allocObject(seL4_EndpointObject);
    const ro = yield* vka.allocObject(seL4_ReplyObject);
    const spin = m.registerProgram(function* () {
      for (;;) yield* sel4ts_Work(10_000_000);
    });
    const h = yield* vka.createThread({ entry: spin, priority: 100, suspended: true });
    // 1 ms every 2 ms, badge (seL4_Timeout_Data) 0x1_0000_0001: all 64 bits are delivered.
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, h.sc, 1000, 2000, 0, 0x1_0000_0001, 0), 0);
    assert.equal(yield* seL4_TCB_SetTimeoutEndpoint(h.tcb, tfep), 0);
    helper = objAt<TCB>(m, h.tcb).id;
    trace = attachSchedTrace(m, { idle: false });
    yield* seL4_TCB_Resume(h.tcb);
    let info = yield* seL4_Recv(tfep, null, ro);
    for (let i = 0; i < 5; i++) {
      faults.push({
        time: m.now,
        label: seL4_MessageInfo_get_label(info),
        length: seL4_MessageInfo_get_length(info),
        data: seL4_GetMRWord(0),
        consumed: seL4_GetMR(1),
      });
      info = yield* seL4_ReplyRecv(tfep, EMPTY, null, ro);
    }
  }, { untilNs: 30_000_000 });
  const slices = trace!.slices.filter((s) => s.tid === helper);
  assert.equal(faults.length, 5);
  for (let i = 0; i < 5; i++) {
    const f = faults[i]!;
    assert.equal(f.label, FAULT_TIMEOUT);
    assert.equal(f.length, 2);
    assert.equal(f.data, 0x1_0000_0001n);
    // One fault per budget: the slice that ended with it, reported in us (rounded down).
    const s = slices[i]!;
    assert.equal(s.reason, 'fault');
    assert.equal(f.consumed, Math.floor((s.end - s.start) / 1000));
    if (i > 0) {
      // The thread restarts at its next refill, one period (2 ms) after the last one began.
      const gap = s.start - slices[i - 1]!.start;
      assert.ok(Math.abs(gap - 2_000_000) <= 10_000, `gap ${gap}`);
    }
  }
});

test('timeout fault reply: label 0 writes back the registers (seL4_TimeoutReply_Msg), another label stops the thread', () => {
  const seen: string[] = [];
  let trace = null as SchedTrace | null;
  let helper = -1;
  runRoot(function* ({ m, bi, vka }) {
    const tfep = yield* vka.allocObject(seL4_EndpointObject);
    const ro = yield* vka.allocObject(seL4_ReplyObject);
    const spin = m.registerProgram(function* () {
      for (;;) yield* sel4ts_Work(10_000_000);
    });
    const h = yield* vka.createThread({ entry: spin, priority: 100, suspended: true });
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, h.sc, 500, 1000, 0, 7, 0), 0);
    assert.equal(yield* seL4_TCB_SetTimeoutEndpoint(h.tcb, tfep), 0);
    const H = objAt<TCB>(m, h.tcb);
    helper = H.id;
    trace = attachSchedTrace(m, { idle: false });
    yield* seL4_TCB_Resume(h.tcb);
    yield* seL4_Recv(tfep, null, ro);
    const regs: bigint[] = [];
    assert.equal(yield* seL4_TCB_ReadRegisters(h.tcb, false, 0, 32, regs), 0);
    // Reply with all 32 registers in seL4_UserContext order, s0 (index 4) and t6 (index 30) changed.
    regs[4] = 0x1234n;
    regs[30] = 0xfeedn;
    for (let i = 0; i < 32; i++) seL4_SetMR(i, regs[i]!);
    yield* seL4_ReplyRecv(tfep, seL4_MessageInfo_new(0, 0, 0, 32), null, ro);
    const after: bigint[] = [];
    assert.equal(yield* seL4_TCB_ReadRegisters(h.tcb, false, 0, 32, after), 0);
    seen.push(`s0 ${after[4]!.toString(16)} t6 ${after[30]!.toString(16)}`);
    // A non-zero label: the thread does not restart.
    yield* seL4_Send(ro, seL4_MessageInfo_new(1, 0, 0, 0));
    seen.push(`state ${ThreadState[H.state]}`);
    // Nothing more arrives.
    const badge = new WordOut();
    yield* sel4ts_Work(5_000_000);
    yield* seL4_NBRecv(tfep, badge, ro);
    seen.push(`more faults: ${badge.lo !== 0 || badge.hi !== 0}`);
  }, { untilNs: 30_000_000 });
  assert.deepEqual(seen, ['s0 1234 t6 feed', 'state Inactive', 'more faults: false']);
  const slices = trace!.slices.filter((s) => s.tid === helper);
  assert.equal(slices.length, 2);
});

test('no timeout fault for a round-robin SC, nor for a thread without a timeout endpoint', () => {
  let trace = null as SchedTrace | null;
  const ids: number[] = [];
  let received = false;
  runRoot(function* ({ m, bi, vka }) {
    const tfep = yield* vka.allocObject(seL4_EndpointObject);
    const spin = m.registerProgram(function* () {
      for (;;) yield* sel4ts_Work(10_000_000);
    });
    // Round robin (budget == period) with a timeout endpoint.
    const a = yield* vka.createThread({ entry: spin, priority: 100, budgetUs: 1000, periodUs: 1000 });
    assert.equal(yield* seL4_TCB_SetTimeoutEndpoint(a.tcb, tfep), 0);
    // Sporadic without a timeout endpoint.
    const b = yield* vka.createThread({ entry: spin, priority: 100, suspended: true });
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(bi.schedcontrol.start, b.sc, 1000, 3000, 0, 0, 0), 0);
    yield* seL4_TCB_Resume(b.tcb);
    ids.push(objAt<TCB>(m, a.tcb).id, objAt<TCB>(m, b.tcb).id);
    trace = attachSchedTrace(m, { idle: false });
    yield* seL4_Wait(tfep, null);
    received = true;
  }, { untilNs: 20_000_000 });
  assert.equal(received, false);
  const s = trace!.slices.filter((x) => ids.includes(x.tid));
  assert.ok(s.length > 10);
  assert.ok(s.every((x) => x.reason === 'budget'));
});

test('TIMEOUTFAULT0002: timeout fault in a passive server, handled by answering the client and resetting the server', () => {
  const replies: bigint[] = [];
  const faults: Array<[number, number, bigint, number]> = [];
  runRoot(function* ({ m, bi, vka }) {
    const ctrl = bi.schedcontrol.start;
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const init = yield* vka.allocObject(seL4_EndpointObject);
    const tfep = yield* vka.allocObject(seL4_EndpointObject);
    const ro = yield* vka.allocObject(seL4_ReplyObject);
    const serverReply = yield* vka.allocObject(seL4_ReplyObject);
    const reset = { pending: false };
    const server = m.registerProgram(function* () {
      yield* seL4_NBSendRecv(init, EMPTY, ep, null, ro);
      for (;;) {
        reset.pending = false;
        // Spin: this uses up the client's budget.
        while (!reset.pending) yield* sel4ts_Work(100_000);
        yield* seL4_NBSendRecv(init, EMPTY, ep, null, ro);
      }
    });
    const client = m.registerProgram(function* () {
      for (let i = 0; i < 3; i++) {
        yield* seL4_Call(ep, EMPTY);
        replies.push(seL4_GetMRWord(0));
      }
    });
    // The server starts on its own SC, announces itself, then becomes passive.
    const s = yield* vka.createThread({ entry: server, priority: 200 });
    yield* seL4_Wait(init, null);
    assert.equal(yield* seL4_SchedContext_Unbind(s.sc), 0);
    const badged = vka.allocSlot();
    assert.equal(yield* seL4_CNode_Mint(seL4_CapInitThreadCNode, badged, 64, seL4_CapInitThreadCNode, tfep, 64, 15, 2), 0);
    assert.equal(yield* seL4_TCB_SetTimeoutEndpoint(s.tcb, badged), 0);
    const c = yield* vka.createThread({ entry: client, priority: 150, suspended: true });
    assert.equal(yield* seL4_SchedControl_ConfigureFlags(ctrl, c.sc, 1000, 1010, 0, 1, 0), 0);
    yield* seL4_TCB_Resume(c.tcb);
    const badge = new WordOut();
    for (let i = 0; i < 3; i++) {
      const info = yield* seL4_Recv(tfep, badge, serverReply);
      faults.push([seL4_MessageInfo_get_label(info), seL4_MessageInfo_get_length(info), seL4_GetMRWord(0), badge.lo]);
      // Answer the client on the server's behalf.
      seL4_SetMR(0, (1n << 64n) - 1n);
      yield* seL4_Send(ro, seL4_MessageInfo_new(0, 0, 0, 1));
      // Restart the server on its own SC and let it announce itself again.
      reset.pending = true;
      assert.equal(yield* seL4_SchedContext_Bind(s.sc, s.tcb), 0);
      yield* seL4_ReplyRecv(init, EMPTY, null, serverReply);
      assert.equal(yield* seL4_SchedContext_Unbind(s.sc), 0);
    }
  }, { untilNs: 100_000_000 });
  assert.deepEqual(faults, [
    [FAULT_TIMEOUT, 2, 1n, 2],
    [FAULT_TIMEOUT, 2, 1n, 2],
    [FAULT_TIMEOUT, 2, 1n, 2],
  ]);
  assert.deepEqual(replies, [(1n << 64n) - 1n, (1n << 64n) - 1n, (1n << 64n) - 1n]);
});
