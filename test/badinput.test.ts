/**
 * Bad input to every invocation family: cptrs that do not resolve, depths 0
 * and 65, labels of another family, too-short messages, words of 2^64 - 1,
 * and random invocations. The kernel must always answer with a seL4 error
 * (or a fault), never a host exception, and a failed invocation must leave
 * the capability space exactly as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { InvocationLabel as L, seL4_Error as E } from '../src/abi/constants.js';
import type { Machine } from '../src/machine/machine.js';
import type { Kernel } from '../src/kernel/kernel.js';
import type { Slot } from '../src/kernel/slot.js';
import { Cap, CapType } from '../src/kernel/cap.js';
import { TCB, TCB_CTABLE, ThreadState } from '../src/kernel/object/tcb.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import { root, invoke, CNODE, W } from './support/invoke.js';
import type { Gen, Result } from './support/invoke.js';

const MAX = 2n ** 64n - 1n;




function tcbOf(m: Machine, slot: number): TCB {
  return (m.booted.rootTCB.slots[TCB_CTABLE]!.cap.obj as CNode).slots[slot]!.cap.obj as TCB;
}

function describe(c: Cap): string {
  return [
    CapType[c.type],
    c.paddr.toString(16),
    c.sizeBits,
    c.rights,
    c.badge,
    c.guard,
    c.guardSize,
    c.radix,
    c.freeIndex,
    c.isDevice,
    c.isMapped,
    c.mappedASID,
    c.mappedAddr.toString(16),
    c.word,
  ].join(',');
}

/** Every slot's cap, MDB links and flags, and every thread's scheduling state. */
function snapshot(k: Kernel): string[] {
  const ids = new Map<Slot, string>();
  for (const cn of k.cnodes) cn.slots.forEach((x, i) => ids.set(x, `cnode@${cn.paddr.toString(16)}[${i}]`));
  for (const t of k.tcbs) t.slots.forEach((x, i) => ids.set(x, `tcb@${t.paddr.toString(16)}[${i}]`));
  k.irqs.slots.forEach((x, i) => ids.set(x, `irq[${i}]`));
  const out: string[] = [];
  for (const [x, id] of ids) {
    if (x.isEmpty && x.mdbPrev === null && x.mdbNext === null) continue;
    const link = (y: Slot | null) => (y === null ? '-' : (ids.get(y) ?? '?'));
    out.push(`${id} ${describe(x.cap)} r=${x.revocable} f=${x.firstBadged} <${link(x.mdbPrev)} >${link(x.mdbNext)}`);
  }
  for (const t of k.tcbs) out.push(`${t.name}@${t.paddr.toString(16)} state=${t.state} prio=${t.priority} mcp=${t.mcp} sc=${t.sc !== null}`);
  for (const o of k.objects) out.push(`obj@${o.paddr.toString(16)} live=${o.live}`);
  return out.sort();
}

/** The objects every test invokes: one of each invocable kind that is safe to break. */
interface Fixture {
  ut: number;
  cn: number;
  tcb: number;
  sc: number;
  ep: number;
  ntfn: number;
  frame: number;
  pt: number;
  irq: number;
  /** An untyped of seL4_ASIDPoolBits, as ASIDControl_MakePool needs. */
  ut4k: number;
  empty: number;
}

function* fixture(_m: Machine, vka: s.Vka): Gen<Fixture> {
  const ut = yield* vka.allocObject(s.seL4_UntypedObject, 16);
  const cn = yield* vka.allocObject(s.seL4_CapTableObject, 4);
  const tcb = yield* vka.allocObject(s.seL4_TCBObject);
  const sc = yield* vka.allocObject(s.seL4_SchedContextObject, 8);
  const ep = yield* vka.allocObject(s.seL4_EndpointObject);
  const ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
  const frame = yield* vka.allocObject(s.seL4_RISCV_4K_Page);
  const pt = yield* vka.allocObject(s.seL4_RISCV_PageTableObject);
  const irq = vka.allocSlot();
  assert.equal(yield* s.seL4_IRQControl_Get(s.seL4_CapIRQControl, 5, CNODE, irq, W), E.seL4_NoError);
  const ut4k = yield* vka.allocObject(s.seL4_UntypedObject, 12);
  return { ut, cn, tcb, sc, ep, ntfn, frame, pt, irq, ut4k, empty: vka.allocSlot() };
}

/**
 * Every method of every invocation family with arguments and caps that pass
 * every check before the length checks: [name, service, label, words, caps].
 */
function methods(f: Fixture, schedControl: number): [string, number, number, s.Word[], number[]][] {
  const VS = s.seL4_CapInitThreadVSpace;
  const TCB = s.seL4_CapInitThreadTCB;
  return [
    ['Untyped_Retype', f.ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, f.cn, W, 1, 1], [CNODE]],
    ['CNode_Revoke', f.cn, L.CNodeRevoke, [1, 4], []],
    ['CNode_Delete', f.cn, L.CNodeDelete, [1, 4], []],
    ['CNode_CancelBadgedSends', f.cn, L.CNodeCancelBadgedSends, [1, 4], []],
    ['CNode_Copy', f.cn, L.CNodeCopy, [1, 4, f.ep, W, 15], [CNODE]],
    ['CNode_Mint', f.cn, L.CNodeMint, [1, 4, f.ep, W, 15, 0], [CNODE]],
    ['CNode_Move', f.cn, L.CNodeMove, [1, 4, f.ep, W], [CNODE]],
    ['CNode_Mutate', f.cn, L.CNodeMutate, [1, 4, f.ep, W, 0], [CNODE]],
    ['CNode_Rotate', f.cn, L.CNodeRotate, [1, 4, 0, 2, 4, 0, 3, 4], [f.cn, f.cn]],
    ['TCB_ReadRegisters', f.tcb, L.TCBReadRegisters, [0, 1], []],
    ['TCB_WriteRegisters', f.tcb, L.TCBWriteRegisters, [0, 1, 0], []],
    ['TCB_CopyRegisters', f.tcb, L.TCBCopyRegisters, [0], [f.tcb]],
    ['TCB_Configure', f.tcb, L.TCBConfigure, [0, 0, 0], [f.cn, VS, f.frame]],
    ['TCB_SetPriority', f.tcb, L.TCBSetPriority, [10], [TCB]],
    ['TCB_SetMCPriority', f.tcb, L.TCBSetMCPriority, [10], [TCB]],
    ['TCB_SetSchedParams', f.tcb, L.TCBSetSchedParams, [10, 10], [TCB, f.sc, f.ep]],
    ['TCB_SetTimeoutEndpoint', f.tcb, L.TCBSetTimeoutEndpoint, [], [f.ep]],
    ['TCB_SetIPCBuffer', f.tcb, L.TCBSetIPCBuffer, [0], [f.frame]],
    ['TCB_SetSpace', f.tcb, L.TCBSetSpace, [0, 0], [f.ep, f.cn, VS]],
    ['TCB_BindNotification', f.tcb, L.TCBBindNotification, [], [f.ntfn]],
    ['TCB_SetTLSBase', f.tcb, L.TCBSetTLSBase, [0], []],
    ['IRQControl_Get', s.seL4_CapIRQControl, L.IRQIssueIRQHandler, [7, f.empty, W], [CNODE]],
    ['IRQControl_GetTrigger', s.seL4_CapIRQControl, L.RISCVIRQIssueIRQHandlerTrigger, [7, 0, f.empty, W], [CNODE]],
    ['IRQHandler_SetNotification', f.irq, L.IRQSetIRQHandler, [], [f.ntfn]],
    ['DomainSet_Set', s.seL4_CapDomain, L.DomainSetSet, [0], [f.tcb]],
    ['SchedControl_ConfigureFlags', schedControl, L.SchedControlConfigureFlags, [1000, 1000, 0, 0, 0], [f.sc]],
    ['SchedContext_Bind', f.sc, L.SchedContextBind, [], [f.tcb]],
    ['SchedContext_UnbindObject', f.sc, L.SchedContextUnbindObject, [], [f.tcb]],
    ['RISCV_Page_Map', f.frame, L.RISCVPageMap, [0x10000000, 3, 0], [VS]],
    ['RISCV_PageTable_Map', f.pt, L.RISCVPageTableMap, [0x10000000, 0], [VS]],
    ['RISCV_ASIDControl_MakePool', s.seL4_CapASIDControl, L.RISCVASIDControlMakePool, [f.empty, W], [f.ut4k, CNODE]],
    ['RISCV_ASIDPool_Assign', s.seL4_CapInitThreadASIDPool, L.RISCVASIDPoolAssign, [], [VS]],
  ];
}

/** The labels each invocable cap type accepts. */
function families(f: Fixture, schedControl: number): [string, number, number[]][] {
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  return [
    ['Untyped', f.ut, [L.UntypedRetype]],
    ['CNode', f.cn, range(L.CNodeRevoke, L.CNodeRotate)],
    ['TCB', f.tcb, range(L.TCBReadRegisters, L.TCBSetTLSBase)],
    ['IRQControl', s.seL4_CapIRQControl, [L.IRQIssueIRQHandler, L.RISCVIRQIssueIRQHandlerTrigger]],
    ['IRQHandler', f.irq, [L.IRQAckIRQ, L.IRQSetIRQHandler, L.IRQClearIRQHandler]],
    ['Domain', s.seL4_CapDomain, [L.DomainSetSet]],
    ['SchedControl', schedControl, [L.SchedControlConfigureFlags]],
    ['SchedContext', f.sc, range(L.SchedContextBind, L.SchedContextYieldTo)],
    ['Frame', f.frame, [L.RISCVPageMap, L.RISCVPageUnmap, L.RISCVPageGetAddress]],
    ['PageTable', f.pt, [L.RISCVPageTableMap, L.RISCVPageTableUnmap]],
    ['ASIDControl', s.seL4_CapASIDControl, [L.RISCVASIDControlMakePool]],
    ['ASIDPool', s.seL4_CapInitThreadASIDPool, [L.RISCVASIDPoolAssign]],
  ];
}

test('labels of another family are IllegalOperation for every invocable cap type, and change nothing', () => {
  root(function* ({ m, bi, vka }) {
    const f = yield* fixture(m, vka);
    const before = snapshot(m.kernel);
    for (const [name, service, own] of families(f, bi.schedcontrol.start)) {
      for (let label = 0; label <= 50; label++) {
        if (own.includes(label)) continue;
        const r = yield* invoke(service, label, [1, 2, 3, 4, 5, 6, 7, 8], [f.cn, f.cn, f.cn]);
        assert.equal(r.err, E.seL4_IllegalOperation, `${name} with label ${label}`);
        assert.deepEqual(r.mrs, []);
      }
    }
    assert.deepEqual(snapshot(m.kernel), before);
  });
});

test('too-short messages: one word or one cap fewer than a method needs is TruncatedMessage, and changes nothing', () => {
  root(function* ({ m, bi, vka }) {
    const f = yield* fixture(m, vka);
    const before = snapshot(m.kernel);
    for (const [name, service, label, args, caps] of methods(f, bi.schedcontrol.start)) {
      if (args.length > 0) {
        const r = yield* invoke(service, label, args.slice(0, args.length - 1), caps);
        assert.equal(r.err, E.seL4_TruncatedMessage, `${name} with ${args.length - 1} words`);
        const r0 = yield* invoke(service, label, [], caps);
        assert.equal(r0.err, E.seL4_TruncatedMessage, `${name} with no words`);
      }
      if (caps.length > 0) {
        const r = yield* invoke(service, label, args, caps.slice(0, caps.length - 1));
        assert.equal(r.err, E.seL4_TruncatedMessage, `${name} with ${caps.length - 1} caps`);
      }
    }
    assert.deepEqual(snapshot(m.kernel), before);
  });
});

test('depth 0 and 65 wherever a CSpace depth is taken: RangeError [1, 64], nothing changes', () => {
  root(function* ({ m, vka }) {
    const f = yield* fixture(m, vka);
    const before = snapshot(m.kernel);
    for (const depth of [0, 65, 128, MAX]) {
      const cases: [string, number, number, s.Word[], number[]][] = [
        ['CNode_Delete dest', f.cn, L.CNodeDelete, [0, depth], []],
        ['CNode_Revoke dest', f.cn, L.CNodeRevoke, [0, depth], []],
        ['CNode_CancelBadgedSends dest', f.cn, L.CNodeCancelBadgedSends, [0, depth], []],
        ['CNode_Copy dest', f.cn, L.CNodeCopy, [0, depth, f.ep, W, 15], [CNODE]],
        ['CNode_Copy src', f.cn, L.CNodeCopy, [0, 4, f.ep, depth, 15], [CNODE]],
        ['CNode_Mint src', f.cn, L.CNodeMint, [0, 4, f.ep, depth, 15, 1], [CNODE]],
        ['CNode_Move src', f.cn, L.CNodeMove, [0, 4, f.ep, depth], [CNODE]],
        ['CNode_Mutate src', f.cn, L.CNodeMutate, [0, 4, f.ep, depth, 0], [CNODE]],
        ['CNode_Rotate src', f.cn, L.CNodeRotate, [0, 4, 0, 1, 4, 0, f.ep, depth], [f.cn, CNODE]],
        ['CNode_Rotate pivot', f.cn, L.CNodeRotate, [0, 4, 0, 1, depth, 0, f.ep, W], [f.cn, CNODE]],
        ['IRQControl_Get', s.seL4_CapIRQControl, L.IRQIssueIRQHandler, [7, f.empty, depth], [CNODE]],
        ['ASIDControl_MakePool', s.seL4_CapASIDControl, L.RISCVASIDControlMakePool, [f.empty, depth], [f.ut4k, CNODE]],
      ];
      if (depth !== 0) cases.push(['Untyped_Retype nodeDepth', f.ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, f.cn, depth, 0, 1], [CNODE]]);
      for (const [name, service, label, args, caps] of cases) {
        const r = yield* invoke(service, label, args, caps);
        assert.equal(r.err, E.seL4_RangeError, `${name} depth ${depth}`);
        assert.deepEqual(r.mrs, [1n, 64n], `${name} depth ${depth}: MRs`);
      }
    }
    // nodeDepth 0 means "the root cap itself": with an endpoint as the root that is a missing capability.
    const r = yield* invoke(f.ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, 0, 0, 0, 1], [f.ep]);
    assert.equal(r.err, E.seL4_FailedLookup);
    assert.deepEqual(r.mrs, [0n, 2n, 0n]);
    assert.deepEqual(snapshot(m.kernel), before);
  });
});

test('cptrs of 2^64 - 1 in every index argument: FailedLookup naming source or destination, nothing changes', () => {
  root(function* ({ m, vka }) {
    const f = yield* fixture(m, vka);
    const before = snapshot(m.kernel);
    const guard = [4n, 64n, 0n, 52n]; // guard mismatch at the root CNode: bitsLeft 64, guardFound 0, bitsFound 52
    const cases: [string, number, number, s.Word[], number[], number][] = [
      ['CNode_Copy dest', CNODE, L.CNodeCopy, [MAX, W, f.ep, W, 15], [CNODE], 0],
      ['CNode_Copy src', CNODE, L.CNodeCopy, [f.empty, W, MAX, W, 15], [CNODE], 1],
      ['CNode_Mint src', CNODE, L.CNodeMint, [f.empty, W, MAX, W, 15, MAX], [CNODE], 1],
      ['CNode_Move src', CNODE, L.CNodeMove, [f.empty, W, MAX, W], [CNODE], 1],
      ['CNode_Mutate src', CNODE, L.CNodeMutate, [f.empty, W, MAX, W, MAX], [CNODE], 1],
      ['CNode_Rotate pivot', CNODE, L.CNodeRotate, [f.empty, W, 0, MAX, W, 0, f.ep, W], [CNODE, CNODE], 1],
      ['CNode_Delete', CNODE, L.CNodeDelete, [MAX, W], [], 0],
      ['CNode_Revoke', CNODE, L.CNodeRevoke, [MAX, W], [], 0],
      ['Untyped_Retype node', f.ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, MAX, W, 0, 1], [CNODE], 0],
      ['IRQControl_Get dest', s.seL4_CapIRQControl, L.IRQIssueIRQHandler, [7, MAX, W], [CNODE], 0],
      ['ASIDControl_MakePool dest', s.seL4_CapASIDControl, L.RISCVASIDControlMakePool, [MAX, W], [f.ut4k, CNODE], 0],
    ];
    for (const [name, service, label, args, caps, src] of cases) {
      const r = yield* invoke(service, label, args, caps);
      assert.equal(r.err, E.seL4_FailedLookup, name);
      assert.deepEqual(r.mrs, [BigInt(src), ...guard], `${name}: MRs`);
    }
    // Huge offsets and windows in Retype.
    let r = yield* invoke(f.ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, f.cn, W, MAX, 1], [CNODE]);
    assert.equal(r.err, E.seL4_RangeError);
    assert.deepEqual(r.mrs, [0n, 15n]);
    r = yield* invoke(f.ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, f.cn, W, 0, MAX], [CNODE]);
    assert.deepEqual([r.err, ...r.mrs], [E.seL4_RangeError, 1n, 256n]);
    assert.deepEqual(snapshot(m.kernel), before);
  });
});

test('words of 2^64 - 1 in every argument of every method: a seL4 error or success, never a host exception', () => {
  root(function* ({ m, bi, vka }) {
    const f = yield* fixture(m, vka);
    const results: string[] = [];
    for (const [name, service, label, args, caps] of methods(f, bi.schedcontrol.start)) {
      const before = snapshot(m.kernel);
      const r = yield* invoke(service, label, args.map(() => MAX), caps);
      assert.ok(Number.isInteger(r.err) && r.err >= 0 && r.err <= 10, `${name}: seL4 error code ${r.err}`);
      if (r.err !== E.seL4_NoError) assert.deepEqual(snapshot(m.kernel), before, `${name} failed (${r.err}) but changed state`);
      results.push(`${name}=${r.err}`);
    }
    // A few whose answer is fixed by seL4's checks.
    const at = (n: string) => results.find((x) => x.startsWith(n + '='))!.split('=')[1];
    assert.equal(at('Untyped_Retype'), String(E.seL4_InvalidArgument), 'type 2^64 - 1');
    assert.equal(at('CNode_Copy'), String(E.seL4_RangeError), 'depth 2^64 - 1');
    assert.equal(at('TCB_SetPriority'), String(E.seL4_RangeError), 'priority 2^64 - 1 above the MCP');
    assert.equal(at('IRQControl_Get'), String(E.seL4_RangeError), 'IRQ 2^64 - 1');
    assert.equal(at('TCB_ReadRegisters'), String(E.seL4_RangeError), 'count 2^64 - 1');
  });
});

test('a thread invoking cptrs that do not resolve takes a cap fault; the CSpace is unchanged', () => {
  root(function* ({ m, vka }) {
    yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 50);
    const f = yield* fixture(m, vka);
    const fault = yield* vka.allocObject(s.seL4_EndpointObject);
    const reply = yield* vka.allocObject(s.seL4_ReplyObject);
    const bad = [4096n, 1n << 63n, MAX, 0x1000_0000_0000n];
    const prog = m.registerProgram(function* (i: number) {
      // The invoked cptr, then an extra cap that does not resolve.
      yield* s.seL4_Call(bad[i]! as unknown as number, s.seL4_MessageInfo_new(L.CNodeDelete, 0, 0, 2));
    });
    const progCap = m.registerProgram(function* (i: number) {
      s.seL4_SetCap(0, bad[i]! as unknown as number);
      s.seL4_SetMR(0, f.empty);
      s.seL4_SetMR(1, W);
      yield* s.seL4_Call(f.cn, s.seL4_MessageInfo_new(L.CNodeCopy, 0, 1, 5));
    });
    const caps = () => snapshot(m.kernel).filter((x) => !x.includes(' state='));
    for (let i = 0; i < bad.length; i++) {
      for (const p of [prog, progCap]) {
        const t = yield* vka.createThread({ entry: p, priority: 100, faultEP: fault, args: [i], suspended: true });
        const before = caps();
        assert.equal(yield* s.seL4_TCB_Resume(t.tcb), E.seL4_NoError);
        const info = yield* s.seL4_Recv(fault, null, reply);
        assert.equal(s.seL4_MessageInfo_get_label(info), 1, 'CapFault');
        assert.equal(s.seL4_GetMRWord(1), bad[i], 'the failing cptr');
        assert.equal(s.seL4_GetMR(3), 4, 'guard mismatch at the root CNode');
        assert.deepEqual(caps(), before, 'the cap fault changed no cap');
        assert.equal(tcbOf(m, t.tcb).state, ThreadState.BlockedOnReply, 'the faulter waits for its handler');
      }
    }
  });
});

test('a root task deleting or revoking its own initial caps never makes the kernel throw', () => {
  const cases: [string, (bi: RootEnv['bi']) => Gen<number>][] = [
    ['delete its scheduling context', () => s.seL4_CNode_Delete(CNODE, s.seL4_CapInitThreadSC, W)],
    ['delete its TCB cap', () => s.seL4_CNode_Delete(CNODE, s.seL4_CapInitThreadTCB, W)],
    ['revoke its CNode cap (its TCB loses its CSpace)', () => s.seL4_CNode_Revoke(CNODE, CNODE, W)],
    ['revoke its VSpace cap', () => s.seL4_CNode_Revoke(CNODE, s.seL4_CapInitThreadVSpace, W)],
    ['suspend itself', () => s.seL4_TCB_Suspend(s.seL4_CapInitThreadTCB)],
    ['delete a paging cap of its image', (bi) => s.seL4_CNode_Delete(CNODE, bi.userImagePaging.start + 1, W)],
    ['revoke the first boot untyped', (bi) => s.seL4_CNode_Revoke(CNODE, bi.untyped.start, W)],
  ];
  for (const [name, act] of cases) {
    let err = -1;
    let putChar = false;
    const { m } = runRoot(function* ({ bi }) {
      err = yield* act(bi);
      // A debug call needs neither a CSpace nor an IPC buffer.
      yield* s.seL4_DebugPutChar(0x21);
      putChar = true;
    });
    if (putChar) assert.equal(err, E.seL4_NoError, name);
    assert.ok(m.kernel.halted === false, name);
  }
});

const SERVICE_KINDS = ['ut', 'cn', 'tcb', 'sc', 'frame', 'pt', 'irq', 'irqControl', 'domain', 'schedControl', 'asidControl', 'asidPool'] as const;
const wordArb = fc.oneof(
  fc.nat({ max: 20 }),
  fc.integer({ min: 60, max: 90 }),
  fc.constantFrom(0, 1, 63, 64, 65, 255, 256, 4095, 4096),
  fc.constantFrom(MAX, 2n ** 63n, 2n ** 32n, 2n ** 53n),
  fc.bigInt({ min: 0n, max: MAX }),
);
const callArb = fc.record({
  service: fc.constantFrom(...SERVICE_KINDS),
  // Mostly one of the service's own labels (to reach deep decode paths), sometimes any label.
  label: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 100 }).map((own) => ({ own })) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 50 }).map((raw) => ({ raw })) }),
  args: fc.array(wordArb, { maxLength: 10 }),
  caps: fc.array(fc.nat({ max: 9 }), { maxLength: 3 }),
});

test('random invocations on every kind of cap: always a seL4 error code, a failed one changes nothing', () => {
  fc.assert(
    fc.property(fc.array(callArb, { minLength: 1, maxLength: 25 }), (calls) => {
      root(function* ({ m, bi, vka }) {
        const f = yield* fixture(m, vka);
        const svc: Record<(typeof SERVICE_KINDS)[number], number> = {
          ut: f.ut,
          cn: f.cn,
          tcb: f.tcb,
          sc: f.sc,
          frame: f.frame,
          pt: f.pt,
          irq: f.irq,
          irqControl: s.seL4_CapIRQControl,
          domain: s.seL4_CapDomain,
          schedControl: bi.schedcontrol.start,
          asidControl: s.seL4_CapASIDControl,
          asidPool: s.seL4_CapInitThreadASIDPool,
        };
        // Extra caps: never the root CNode (a random Move/Revoke through it could take the root task's own caps).
        const extra = [f.cn, f.ut, f.tcb, f.sc, f.ep, f.ntfn, f.frame, s.seL4_CapInitThreadVSpace, f.empty, f.pt];
        const own = new Map(families(f, bi.schedcontrol.start).map(([, cptr, labels]) => [cptr, labels]));
        for (const c of calls) {
          const before = snapshot(m.kernel);
          const service = svc[c.service];
          const labels = own.get(service)!;
          const label = 'own' in c.label ? labels[c.label.own % labels.length]! : c.label.raw;
          const r = yield* invoke(service, label, c.args, c.caps.map((i) => extra[i]!));
          assert.ok(Number.isInteger(r.err) && r.err >= 0 && r.err <= 10, `seL4 error code, got ${r.err}`);
          if (r.err !== E.seL4_NoError) assert.deepEqual(snapshot(m.kernel), before, `${c.service} label ${label} failed with ${r.err} but changed state`);
        }
      });
    }),
    { numRuns: 60 },
  );
});
