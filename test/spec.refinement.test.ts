/**
 * Refinement: the kernel against the abstract model of src/spec/model*.ts on
 * random traces (fast-check). Three threads, each with its own CSpace, issue
 * CNode operations, Untyped_Retype, every IPC system call (Send, NBSend,
 * Call, Recv, NBRecv, ReplyRecv, NBSendRecv, Wait, NBWait) with message
 * registers, extra caps and receive slots, and TCB, SchedContext,
 * SchedControl and VSpace invocations, and faults (bad cptrs, unknown
 * system calls, user exceptions, VM faults; delivered to fault handlers
 * installed at start or by TCB_SetSchedParams, or stopping the thread); after
 * every step the error code, what receivers got in their registers and IPC
 * buffers, and the abstract state (every slot's cap with its derivation-tree
 * parent and original flag, live CNodes, thread states and priorities,
 * endpoint and notification queues and bindings, scheduling contexts with
 * their call stacks, reply objects, page tables, ASIDs) must agree. The
 * invariant checker runs after every kernel entry.
 *
 * The random test also counts what ran (SPEC_COVERAGE=1 prints the table)
 * and fails if an operation never succeeds or a key IPC event never happens.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CapArg, Coverage, FREE, MsgArg, RADIX, RcvArg, RefineWorld, SLOT, SpecOp, describe as describeOp } from '../src/spec/refine.js';
import { InvocationLabel as L } from '../src/abi/constants.js';
import { CapType } from '../src/kernel/cap.js';

const slot = fc.integer({ min: 0, max: 31 });
const pick = fc.nat(63);
const word = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
/** Use slot numbers as given (mostly wrong ones) instead of an empty destination and a full source. */
const raw = fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
const depth = fc.oneof({ weight: 8, arbitrary: fc.constant(RADIX) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 4, 6, 64, 65) });
const data = fc.oneof(fc.bigInt({ min: 0n, max: 7n }), fc.constant(BigInt(64 - RADIX)), word);

/** A cap argument of one of the types, sometimes a wrong or missing one. */
function capOf(types: CapType[], wrong = 1): fc.Arbitrary<CapArg> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.record({ want: fc.constant(types), pick }) },
    { weight: wrong, arbitrary: fc.record({ want: fc.constantFrom<CapArg['want']>('empty', 'any', 'bad'), pick }) },
  );
}
const capIs = (want: CapArg['want']): fc.Arbitrary<CapArg> => fc.record({ want: fc.constant(want), pick });

const cnodeOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('cnode' as const),
  label: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(L.CNodeRevoke, L.CNodeDelete, L.CNodeCopy, L.CNodeMint, L.CNodeMove, L.CNodeMutate, L.CNodeCancelBadgedSends) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1, 16, 25, 99) },
  ),
  dest: slot,
  destDepth: depth,
  src: slot,
  srcDepth: depth,
  rights: fc.integer({ min: 0, max: 15 }),
  data,
  srcRoot: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: slot }),
  cut: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }) }),
  raw,
});
/** Revoke the thread's untyped: every object retyped from it goes. */
const revokeUntypedOp: fc.Arbitrary<SpecOp> = fc.constant({
  kind: 'cnode', label: L.CNodeRevoke, dest: SLOT.Untyped, destDepth: RADIX, src: 0, srcDepth: RADIX, rights: 0, data: 0n, srcRoot: 0, cut: 0, raw: true,
});
const retypeOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('retype' as const),
  type: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(0, 2, 3, 4, 6, 8, 10) },
    { weight: 2, arbitrary: fc.constantFrom(1, 5, 9) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 12 }) },
  ),
  size: fc.oneof(fc.integer({ min: 0, max: 14 }), fc.constantFrom(2, 4, 7, 8, 13, 40, 64)),
  offset: fc.oneof({ weight: 6, arbitrary: slot }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }) }),
  count: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 32, 257) }),
  depth: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: depth }),
  root: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: slot }),
  index: slot,
  cut: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }) }),
  raw,
});

// ------------------------------------------------------------------ IPC

/** Extra caps of a message: caps to the endpoint the message goes through (unwrapped), any caps, missing ones. */
const ipcCap: fc.Arbitrary<CapArg> = fc.oneof(
  { weight: 3, arbitrary: capIs('same') },
  { weight: 5, arbitrary: capIs('any') },
  { weight: 1, arbitrary: capIs('empty') },
  { weight: 1, arbitrary: capIs('bad') },
);
const msg: fc.Arbitrary<MsgArg> = fc.record({
  // Label 0 often: a reply with label 0 restarts a thread after an unknown-syscall or user-exception fault.
  label: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 0, max: 1000 }) }),
  mrs: fc.array(fc.oneof(word, fc.bigInt({ min: 0n, max: 9n })), { maxLength: 6 }),
  caps: fc.oneof({ weight: 3, arbitrary: fc.constant<CapArg[]>([]) }, { weight: 2, arbitrary: fc.array(ipcCap, { minLength: 1, maxLength: 3 }) }),
});
const rcv: fc.Arbitrary<RcvArg | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 4,
    arbitrary: fc.record({
      cnode: fc.oneof({ weight: 8, arbitrary: fc.constant(SLOT.CNode) }, { weight: 1, arbitrary: slot }),
      index: fc.oneof({ weight: 8, arbitrary: capIs('empty') }, { weight: 1, arbitrary: capIs('any') }),
      depth: fc.oneof({ weight: 8, arbitrary: fc.constant(RADIX) }, { weight: 1, arbitrary: fc.constantFrom(0, 4, 64, 65) }),
    }),
  },
);
const endpoint = capOf([CapType.Endpoint]);
/** Mostly a reply cap a caller is waiting on. */
const replyCap = fc.oneof({ weight: 2, arbitrary: capIs('reply-pending') }, { weight: 1, arbitrary: capOf([CapType.Reply]) });
/** Mostly an endpoint someone is waiting on. */
const waiting = fc.oneof({ weight: 2, arbitrary: capIs('waiting') }, { weight: 1, arbitrary: endpoint });
const sendOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('send' as const),
  target: fc.oneof({ weight: 6, arbitrary: waiting }, { weight: 3, arbitrary: capOf([CapType.Notification]) }, { weight: 1, arbitrary: capOf([CapType.Reply]) }),
  blocking: fc.boolean(),
  msg,
});
const callOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('call' as const),
  target: fc.oneof({ weight: 8, arbitrary: waiting }, { weight: 1, arbitrary: capOf([CapType.Notification]) }, { weight: 2, arbitrary: replyCap }),
  msg,
  rcv,
});
const recvOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('recv' as const),
  target: fc.oneof({ weight: 6, arbitrary: endpoint }, { weight: 2, arbitrary: capOf([CapType.Notification]) }),
  blocking: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  reply: fc.oneof({ weight: 6, arbitrary: capOf([CapType.Reply]) }, { weight: 2, arbitrary: fc.constant(null) }),
  rcv,
});
const replyRecvOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('replyRecv' as const),
  reply: replyCap,
  target: endpoint,
  dest: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: capOf([CapType.Endpoint, CapType.Notification]) }),
  msg,
  rcv,
});

// ------------------------------------------------------- invocations

/** An invocation, sometimes with its last arguments or caps cut off (TruncatedMessage). */
function invoke(label: fc.Arbitrary<number>, target: fc.Arbitrary<CapArg>, caps: fc.Arbitrary<CapArg[]>, args: fc.Arbitrary<bigint[]>): fc.Arbitrary<SpecOp> {
  const cut = fc.oneof({ weight: 15, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) });
  return fc.record({ label, target, caps, args, cutArgs: cut, cutCaps: cut }).map(
    ({ label, target, caps, args, cutArgs, cutCaps }): SpecOp => ({
      kind: 'invoke',
      label,
      target,
      caps: caps.slice(0, Math.max(0, caps.length - cutCaps)),
      args: args.slice(0, Math.max(0, args.length - cutArgs)),
    }),
  );
}
const thread = capOf([CapType.Thread]);
const prio = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 255 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 256, 2 ** 40) }).map(BigInt);
const small = (max: number): fc.Arbitrary<bigint> => fc.integer({ min: 0, max }).map(BigInt);
const tcbOp = fc.oneof(
  invoke(fc.constantFrom(L.TCBSetPriority, L.TCBSetMCPriority), thread, fc.tuple(thread), prio.map((p) => [p])),
  invoke(
    fc.constant(L.TCBSetSchedParams),
    thread,
    fc.tuple(thread, fc.oneof({ weight: 3, arbitrary: capOf([CapType.SchedContext]) }, { weight: 2, arbitrary: capIs('empty') }), fc.oneof({ weight: 8, arbitrary: capIs('empty') }, { weight: 1, arbitrary: capIs('any') }, { weight: 5, arbitrary: capOf([CapType.Endpoint]) })),
    fc.tuple(prio, prio),
  ),
  invoke(fc.constantFrom(L.TCBSuspend, L.TCBResume), thread, fc.constant([]), fc.constant([])),
  invoke(fc.constant(L.TCBUnbindNotification), fc.oneof(capIs('tcb-bound'), thread), fc.constant([]), fc.constant([])),
  invoke(fc.constant(L.TCBBindNotification), thread, fc.tuple(fc.oneof(capOf([CapType.Notification]), capIs('ntfn-busy'))), fc.constant([])),
  invoke(fc.constant(L.TCBReadRegisters), thread, fc.constant([]), fc.tuple(small(1), fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 32 }).map(BigInt) }, { weight: 1, arbitrary: fc.constantFrom(0n, 33n) }))),
  invoke(
    fc.constant(L.TCBWriteRegisters),
    thread,
    fc.constant([]),
    fc.tuple(small(1), fc.array(word, { maxLength: 8 }), fc.integer({ min: -1, max: 1 })).map(([flags, regs, skew]) => [flags, BigInt(Math.max(0, regs.length + skew)), ...regs]),
  ),
  invoke(fc.constant(L.TCBSetTLSBase), thread, fc.constant([]), fc.tuple(word)),
);

const VALID_US = [200_000n, 500_000n, 1_000_000n];
const BAD_US = [0n, 19n, 1_125_899_906_843n];
const us = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...VALID_US) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_US) });
const schedContext = capOf([CapType.SchedContext]);
const schedOp = fc.oneof(
  invoke(
    fc.oneof({ weight: 12, arbitrary: fc.constant(L.SchedControlConfigureFlags) }, { weight: 1, arbitrary: fc.constant(L.SchedContextBind) }),
    capOf([CapType.SchedControl]),
    fc.tuple(schedContext),
    fc.record({ budget: us, period: fc.oneof(fc.constant(null), us), extra: fc.oneof({ weight: 6, arbitrary: small(8) }, { weight: 1, arbitrary: fc.constantFrom(2n ** 40n) }), badge: word, flags: small(1) })
      .map(({ budget, period, extra, badge, flags }) => [budget, period ?? budget, extra, badge, flags]),
  ),
  invoke(fc.constantFrom(L.SchedContextBind, L.SchedContextUnbindObject), schedContext, fc.tuple(capOf([CapType.Thread, CapType.Notification])), fc.constant([])),
  invoke(fc.constantFrom(L.SchedContextUnbind, L.SchedContextConsumed, L.SchedContextYieldTo), schedContext, fc.constant([]), fc.constant([])),
);

/** The actor makes the next thread passive (unbinds the SC it holds a cap to), or gives it back. */
const slotAt = (p: number): CapArg => ({ want: 'raw', pick: p });
const passiveOp = fc.oneof(
  { weight: 3, arbitrary: invoke(fc.constant(L.SchedContextUnbind), capIs('server-sc'), fc.constant([]), fc.constant([])) },
  { weight: 3, arbitrary: invoke(fc.constant(L.SchedContextUnbind), capIs('sc-busy'), fc.constant([]), fc.constant([])) },
  { weight: 2, arbitrary: invoke(fc.constant(L.TCBSetSchedParams), capIs('server-tcb'), fc.constant([slotAt(SLOT.OwnTCB), slotAt(0), slotAt(0)]), fc.tuple(prio, prio)) },
  { weight: 1, arbitrary: invoke(fc.constant(L.SchedContextUnbindObject), fc.constant(slotAt(SLOT.NextSC)), fc.constant([slotAt(SLOT.NextTCB)]), fc.constant([])) },
  { weight: 1, arbitrary: invoke(fc.constant(L.SchedContextBind), fc.constant(slotAt(SLOT.NextSC)), fc.constant([slotAt(SLOT.NextTCB)]), fc.constant([])) },
);

const USER_TOP = 0x3ffffff000n;
/** Virtual addresses in a few 4 KiB pages of two 2 MiB regions of two 1 GiB regions, and bad ones. */
const vaddr = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.constantFrom(0n, 0n, 0n, 1n), fc.constantFrom(0n, 0n, 1n), small(1)).map(([g, m, p]) => (g << 30n) + (m << 21n) + (p << 12n)) },
  { weight: 1, arbitrary: fc.constantFrom(8n, 0x1008n, USER_TOP, USER_TOP - 0x1000n, (1n << 64n) - 0x1000n) },
);
const frame = capOf([CapType.Frame]);
const pageTable = capOf([CapType.PageTable]);
/** Mostly a VSpace root / a page table not mapped yet. */
const vspace = fc.oneof({ weight: 4, arbitrary: capIs('vspace') }, { weight: 1, arbitrary: pageTable });
const freePT = fc.oneof({ weight: 4, arbitrary: capIs('pt-free') }, { weight: 1, arbitrary: pageTable });
const vspaceOp = fc.oneof(
  { weight: 3, arbitrary: invoke(fc.constant(L.RISCVPageMap), frame, fc.tuple(vspace), fc.tuple(vaddr, fc.oneof(fc.constantFrom(3n, 15n), small(15)), small(1))) },
  { weight: 2, arbitrary: invoke(fc.constantFrom(L.RISCVPageUnmap, L.RISCVPageGetAddress), frame, fc.constant([]), fc.constant([])) },
  { weight: 3, arbitrary: invoke(fc.constant(L.RISCVPageTableMap), freePT, fc.tuple(vspace), fc.tuple(vaddr, small(1))) },
  { weight: 1, arbitrary: invoke(fc.constant(L.RISCVPageTableUnmap), pageTable, fc.constant([]), fc.constant([])) },
  { weight: 1, arbitrary: invoke(fc.constant(L.RISCVASIDPoolAssign), capOf([CapType.ASIDPool]), fc.tuple(freePT), fc.constant([])) },
);
const badOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('badcptr' as const),
  syscall: fc.constantFrom('call' as const, 'send' as const, 'nbsend' as const, 'recv' as const, 'recv-reply' as const, 'recv-notreply' as const),
  cptr: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
});
/** Faults other than cap faults: unknown syscall numbers (never seL4's -1..-18), user exceptions, VM faults. */
const faultOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('fault' as const),
  what: fc.constantFrom('unknown-syscall' as const, 'user-exception' as const, 'vm' as const),
  n: fc.constantFrom(0n, 1n, 2n, 3n, 5n, 7n, 12n, 13n, 15n, 100n, (1n << 64n) - 19n),
  addr: fc.oneof(fc.constantFrom(0n, 0x1000n, 0x2000_0000n), fc.bigInt({ min: 0n, max: (1n << 38n) - 1n })),
  regs: fc.array(word, { minLength: 10, maxLength: 10 }),
}).map((o): SpecOp =>
  // VM faults come with a page-fault or access-fault cause; user exceptions with a small scause (the driver takes a number).
  o.what === 'vm' && ![1n, 5n, 7n, 12n, 13n, 15n].includes(o.n) ? { ...o, n: 13n } : o.what === 'user-exception' && o.n > 100n ? { ...o, n: 2n } : o,
);
/**
 * Install a fault handler in another thread (SetSchedParams with no SC, so
 * that the target need not be unbound first: it loses its SC, the root task
 * gives it back): one of the actor's endpoint caps, mostly ones that can
 * send and grant (thread 2's cap to the first endpoint cannot grant), or none.
 */
const faultHandlerOp = invoke(
  fc.constant(L.TCBSetSchedParams),
  fc.constantFrom(slotAt(SLOT.NextTCB), slotAt(SLOT.OtherTCB)),
  fc.tuple(fc.constant(slotAt(SLOT.OwnTCB)), capIs('empty'), fc.oneof({ weight: 6, arbitrary: capOf([CapType.Endpoint]) }, { weight: 1, arbitrary: capIs('empty') })),
  fc.constant([255n, 100n]),
);
const op: fc.Arbitrary<SpecOp> = fc.oneof(
  { weight: 5, arbitrary: cnodeOp },
  { weight: 1, arbitrary: revokeUntypedOp },
  { weight: 4, arbitrary: retypeOp },
  { weight: 4, arbitrary: sendOp },
  { weight: 7, arbitrary: callOp },
  { weight: 6, arbitrary: recvOp },
  { weight: 9, arbitrary: replyRecvOp },
  { weight: 5, arbitrary: tcbOp },
  { weight: 3, arbitrary: schedOp },
  { weight: 4, arbitrary: passiveOp },
  { weight: 4, arbitrary: vspaceOp },
  { weight: 2, arbitrary: badOp },
  { weight: 2, arbitrary: faultOp },
  { weight: 2, arbitrary: faultHandlerOp },
);

/** Run a trace on a fresh world (thread 0 maybe starting as a passive server); the first disagreement, or null. */
function run(ops: SpecOp[], coverage?: Coverage, passiveServer = false, faultHandlers = false): string | null {
  const w = new RefineWorld(3, true, coverage, passiveServer, faultHandlers);
  const [real, model] = w.snapshots();
  assert.deepEqual(real, model, 'the initial states agree');
  for (const o of ops) {
    const bad = w.step(o);
    if (bad !== null) return bad;
  }
  return null;
}

const at = (types: CapType[], p = 0): CapArg => ({ want: types, pick: p });
const noMsg: MsgArg = { label: 0, mrs: [], caps: [] };
const ownCNodeSlot = (index: number): RcvArg => ({ cnode: SLOT.CNode, index: { want: 'raw', pick: index }, depth: RADIX });

describe('refinement of the abstract model', () => {
  it('agrees with the kernel on a hand-written trace (copy, mint, badged IPC, revoke)', () => {
    const ops: SpecOp[] = [
      { kind: 'cnode', label: L.CNodeMint, dest: FREE, destDepth: RADIX, src: 3, srcDepth: RADIX, rights: 15, data: 77n, srcRoot: 0, cut: 0, raw: true },
      { kind: 'retype', type: 2, size: 0, offset: FREE + 1, count: 2, depth: 0, root: 0, index: 0, cut: 0, raw: true },
      { kind: 'recv', target: at([CapType.Endpoint]), blocking: true, reply: null, rcv: null },
      { kind: 'send', target: at([CapType.Endpoint]), blocking: true, msg: { label: 5, mrs: [42n], caps: [] } },
      { kind: 'cnode', label: L.CNodeRevoke, dest: 2, destDepth: RADIX, src: 0, srcDepth: RADIX, rights: 0, data: 0n, srcRoot: 0, cut: 0, raw: true },
      { kind: 'cnode', label: L.CNodeDelete, dest: 3, destDepth: RADIX, src: 0, srcDepth: RADIX, rights: 0, data: 0n, srcRoot: 0, cut: 0, raw: true },
    ];
    assert.equal(run(ops), null);
  });

  it('agrees with the kernel on a passive server: Call donates the SC, ReplyRecv returns it, caps move both ways', () => {
    const coverage = new Coverage();
    const w = new RefineWorld(3, true, coverage);
    const raw = (p: number): CapArg => ({ want: 'raw', pick: p });
    const wait = (n: number): SpecOp => ({ kind: 'recv', target: raw(n), blocking: true, reply: null, rcv: null });
    const signal = (n: number): SpecOp => ({ kind: 'send', target: raw(n), blocking: false, msg: noMsg });
    // [expected actor, step]: thread 0 becomes a passive server, thread 1 its client; thread 2 unbinds thread 0's SC.
    const script: [number, SpecOp][] = [
      [2, wait(SLOT.Ntfn1)],
      [1, wait(SLOT.Ntfn0)],
      [0, signal(SLOT.Ntfn1)],
      [0, { kind: 'recv', target: raw(SLOT.EP0), blocking: true, reply: raw(SLOT.Reply0), rcv: ownCNodeSlot(FREE) }],
      [2, { kind: 'invoke', label: L.SchedContextUnbindObject, target: raw(SLOT.NextSC), caps: [raw(SLOT.NextTCB)], args: [] }],
      [2, signal(SLOT.Ntfn0)],
      [2, wait(SLOT.Ntfn1)],
      // The call carries five message registers and a notification cap; the server runs on the caller's SC.
      [1, { kind: 'call', target: raw(SLOT.EP0), msg: { label: 9, mrs: [1n, 2n, 3n, 4n, 5n], caps: [raw(SLOT.Ntfn0)] }, rcv: ownCNodeSlot(FREE + 1) }],
      // The reply carries a frame cap; the SC goes back to the caller.
      [0, { kind: 'replyRecv', reply: raw(SLOT.Reply0), target: raw(SLOT.EP0), dest: null, msg: { label: 3, mrs: [7n], caps: [raw(SLOT.Frame)] }, rcv: ownCNodeSlot(FREE + 2) }],
      // A cap to the endpoint itself is unwrapped into its badge.
      [1, { kind: 'call', target: raw(SLOT.EP0), msg: { label: 1, mrs: [], caps: [raw(SLOT.EP0)] }, rcv: null }],
      // NBSendRecv signals thread 2, then receives on a reply object still in use: the caller is cancelled.
      [0, { kind: 'replyRecv', reply: raw(SLOT.Reply0), target: raw(SLOT.EP0), dest: raw(SLOT.Ntfn1), msg: noMsg, rcv: null }],
    ];
    for (const [who, o] of script) {
      assert.equal(w.runEnvironment(), null);
      assert.equal(w.actor(), who, `thread ${who} runs for ${describeOp(o)}`);
      assert.equal(w.step(o), null, describeOp(o));
    }
    for (const e of ['donate', 'reply', 'sc-return', 'cap-transfer', 'cap-unwrap', 'reply-reused']) {
      assert.ok((coverage.events.get(e) ?? 0) > 0, `event ${e} happened`);
    }
  });

  it('agrees with the kernel when a donated SC with a call stack is unbound: the reply then returns no SC', () => {
    const coverage = new Coverage();
    const w = new RefineWorld(3, true, coverage);
    const raw = (p: number): CapArg => ({ want: 'raw', pick: p });
    const wait = (n: number): SpecOp => ({ kind: 'recv', target: raw(n), blocking: true, reply: null, rcv: null });
    const signal = (n: number): SpecOp => ({ kind: 'send', target: raw(n), blocking: false, msg: noMsg });
    const script: [number, SpecOp][] = [
      [2, wait(SLOT.Ntfn1)],
      [1, wait(SLOT.Ntfn0)],
      [0, signal(SLOT.Ntfn1)],
      [0, { kind: 'recv', target: raw(SLOT.EP0), blocking: true, reply: raw(SLOT.Reply0), rcv: null }],
      [2, { kind: 'invoke', label: L.SchedContextUnbindObject, target: raw(SLOT.NextSC), caps: [raw(SLOT.NextTCB)], args: [] }],
      [2, signal(SLOT.Ntfn0)],
      [2, wait(SLOT.Ntfn1)],
      // Thread 1 calls the passive server (thread 0), which runs on thread 1's SC and then waits on a notification.
      [1, { kind: 'call', target: raw(SLOT.EP0), msg: noMsg, rcv: null }],
      [0, wait(SLOT.Ntfn0)],
      // The root task restarts thread 2, which unbinds the SC carrying the call stack.
      [2, { kind: 'invoke', label: L.SchedContextUnbind, target: { want: 'sc-busy', pick: 0 }, caps: [], args: [] }],
      [2, signal(SLOT.Ntfn0)],
      [2, wait(SLOT.Ntfn1)],
      // Thread 0 gets its own SC back from the root task and replies: thread 1 gets the message but no SC.
      [0, { kind: 'replyRecv', reply: raw(SLOT.Reply0), target: raw(SLOT.EP0), dest: null, msg: { label: 4, mrs: [9n], caps: [] }, rcv: null }],
      [1, wait(SLOT.Ntfn0)],
    ];
    for (const [who, o] of script) {
      assert.equal(w.runEnvironment(), null);
      assert.equal(w.actor(), who, `thread ${who} runs for ${describeOp(o)}`);
      assert.equal(w.step(o), null, describeOp(o));
    }
    for (const e of ['donate', 'call-stack-dropped', 'reply']) assert.ok((coverage.events.get(e) ?? 0) > 0, `event ${e} happened`);
    assert.equal(coverage.events.get('sc-return') ?? 0, 0, 'no SC went back');
  });

  it('agrees with the kernel on bound notifications: binding refused with waiters, a passive bound thread borrows the notification SC', () => {
    const coverage = new Coverage();
    const w = new RefineWorld(3, true, coverage);
    const raw = (p: number): CapArg => ({ want: 'raw', pick: p });
    const script: [number, SpecOp][] = [
      [2, { kind: 'recv', target: raw(SLOT.Ntfn1), blocking: true, reply: null, rcv: null }],
      // A notification with a waiter cannot be bound; the other one can.
      [1, { kind: 'invoke', label: L.TCBBindNotification, target: raw(SLOT.OwnTCB), caps: [raw(SLOT.Ntfn1)], args: [] }],
      [1, { kind: 'invoke', label: L.TCBBindNotification, target: raw(SLOT.OwnTCB), caps: [raw(SLOT.Ntfn0)], args: [] }],
      // Thread 2's SC is taken from it and bound to that notification.
      [1, { kind: 'invoke', label: L.SchedContextUnbindObject, target: raw(SLOT.NextSC), caps: [raw(SLOT.NextTCB)], args: [] }],
      [1, { kind: 'invoke', label: L.SchedContextBind, target: raw(SLOT.NextSC), caps: [raw(SLOT.Ntfn0)], args: [] }],
      [1, { kind: 'recv', target: raw(SLOT.EP0), blocking: true, reply: raw(SLOT.Reply0), rcv: null }],
      // Thread 0 makes thread 1 passive, then signals its notification: thread 1 wakes on the notification's SC...
      [0, { kind: 'invoke', label: L.SchedContextUnbindObject, target: raw(SLOT.NextSC), caps: [raw(SLOT.NextTCB)], args: [] }],
      [0, { kind: 'send', target: raw(SLOT.Ntfn0), blocking: false, msg: noMsg }],
      [0, { kind: 'recv', target: raw(SLOT.EP1), blocking: true, reply: raw(SLOT.Reply1), rcv: null }],
      // ... and gives it back when it waits on the endpoint again.
      [1, { kind: 'recv', target: raw(SLOT.EP0), blocking: true, reply: raw(SLOT.Reply0), rcv: null }],
    ];
    for (const [who, o] of script) {
      assert.equal(w.runEnvironment(), null);
      assert.equal(w.actor(), who, `thread ${who} runs for ${describeOp(o)}`);
      assert.equal(w.step(o), null, describeOp(o));
    }
    for (const e of ['bind-refused-waiters', 'signal-wakes-bound', 'ntfn-donate', 'ntfn-return']) {
      assert.ok((coverage.events.get(e) ?? 0) > 0, `event ${e} happened`);
    }
  });

  it('agrees with the kernel on fault delivery: fault messages to a passive handler, replies that restart or stop the faulter', () => {
    const coverage = new Coverage();
    // Thread 0 is a passive server waiting on the second endpoint, every thread's fault handler.
    const w = new RefineWorld(3, true, coverage, true, true);
    const raw = (p: number): CapArg => ({ want: 'raw', pick: p });
    const regs = Array.from({ length: 10 }, (_, i) => 0x1111n * BigInt(i + 1));
    const reply = (label: number, mrs: bigint[]): SpecOp => ({ kind: 'replyRecv', reply: raw(SLOT.Reply1), target: raw(SLOT.EP1), dest: null, msg: { label, mrs, caps: [] }, rcv: null });
    const faults: [SpecOp, SpecOp, string][] = [
      // An unknown syscall; the reply (label 0) rewrites pc and sp: the faulter restarts at the new pc.
      [{ kind: 'fault', what: 'unknown-syscall', n: 77n, addr: 0n, regs }, reply(0, [0x4000n, 0x8000n]), 'fault-unknown-syscall-replied-restart'],
      // A user exception; a reply with a non-zero label stops the faulter.
      [{ kind: 'fault', what: 'user-exception', n: 2n, addr: 0n, regs }, reply(1, [0x5000n]), 'fault-user-exception-replied-stop'],
      // A VM fault (a store page fault, reported as a store access fault); any reply restarts it.
      [{ kind: 'fault', what: 'vm', n: 15n, addr: 0x123458n, regs }, reply(9, []), 'fault-vm-replied-restart'],
      // A cap fault on a Call's cptr; the reply restarts the faulter at its syscall.
      [{ kind: 'badcptr', syscall: 'call', cptr: 5n }, reply(0, [1n]), 'fault-cap-replied-restart'],
      // A cap fault on a Recv's reply cptr, in the receive phase.
      [{ kind: 'badcptr', syscall: 'recv-reply', cptr: 9n }, reply(0, []), 'fault-cap-replied-restart'],
    ];
    for (const [fault, answer, event] of faults) {
      assert.equal(w.runEnvironment(), null);
      assert.notEqual(w.actor(), 0, 'a client faults');
      assert.equal(w.step(fault), null, describeOp(fault));
      // The passive handler got the fault message (and the faulter's SC) and runs.
      assert.equal(w.runEnvironment(), null);
      assert.equal(w.actor(), 0, 'the fault handler runs');
      assert.equal(w.step(answer), null, describeOp(answer));
      assert.ok((coverage.events.get(event) ?? 0) > 0, `event ${event} happened`);
    }
    for (const e of ['fault-unknown-syscall-delivered', 'fault-user-exception-delivered', 'fault-vm-delivered', 'fault-cap-delivered', 'donate', 'sc-return']) {
      assert.ok((coverage.events.get(e) ?? 0) > 0, `event ${e} happened`);
    }
  });

  it('agrees with the kernel on random traces, and the traces exercise every operation', () => {
    const coverage = new Coverage();
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 60 }), fc.boolean(), fc.boolean(), (ops, passiveServer, faultHandlers) => {
        const bad = run(ops, coverage, passiveServer, faultHandlers);
        if (bad !== null) throw new Error(`${bad}\npassive server: ${passiveServer}, fault handlers: ${faultHandlers}\ntrace: ${ops.map(describeOp).join('\n  ')}`);
      }),
      { numRuns: Number(process.env.SPEC_RUNS ?? 120), seed: Number(process.env.SPEC_SEED ?? 4242) },
    );
    if (process.env.SPEC_COVERAGE) console.log(coverage.table());
    if (process.env.SPEC_RUNS !== undefined || process.env.SPEC_SEED !== undefined) return;
    const mustSucceed = [
      'CNodeCopy', 'CNodeMint', 'CNodeMove', 'CNodeMutate', 'CNodeDelete', 'CNodeRevoke', 'UntypedRetype', 'Call',
      'TCBSetPriority', 'TCBSetMCPriority', 'TCBSetSchedParams', 'TCBSuspend', 'TCBResume', 'TCBBindNotification', 'TCBUnbindNotification',
      'TCBReadRegisters', 'TCBWriteRegisters', 'TCBSetTLSBase',
      'SchedControlConfigureFlags', 'SchedContextBind', 'SchedContextUnbind', 'SchedContextUnbindObject', 'SchedContextConsumed',
      'RISCVPageMap', 'RISCVPageUnmap', 'RISCVPageGetAddress', 'RISCVPageTableMap', 'RISCVPageTableUnmap', 'RISCVASIDPoolAssign',
    ];
    for (const name of mustSucceed) assert.ok((coverage.ops.get(name)?.ok ?? 0) > 0, `${name} succeeded at least once\n${coverage.table()}`);
    const mustHappen = [
      'call-delivered', 'recv-delivered', 'call-blocked', 'send-blocked', 'recv-blocked', 'donate', 'reply', 'sc-return', 'reply-to-nobody',
      'cap-transfer', 'cap-unwrap', 'cap-transfer-stopped', 'signal-wakes', 'bound-signal', 'wait-blocked', 'fault',
      'fault-handler-installed',
    ];
    // Every fault type is delivered to a waiting handler, queued on the handler endpoint, and met with no handler.
    for (const f of ['cap', 'unknown-syscall', 'user-exception', 'vm']) for (const k of ['delivered', 'queued', 'no-handler']) mustHappen.push(`fault-${f}-${k}`);
    // Replies: cap and VM faults always restart; unknown-syscall and user-exception faults restart with label 0, else stop.
    mustHappen.push('fault-cap-replied-restart', 'fault-vm-replied-restart', 'fault-unknown-syscall-replied-restart', 'fault-unknown-syscall-replied-stop', 'fault-user-exception-replied-restart', 'fault-user-exception-replied-stop');
    for (const e of mustHappen) assert.ok((coverage.events.get(e) ?? 0) > 0, `event ${e} happened\n${coverage.table()}`);
  });
});
