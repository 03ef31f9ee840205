/**
 * Refinement: the kernel against the abstract model of src/spec/model.ts on
 * random traces (fast-check). Three threads, each with its own CSpace, issue
 * CNode operations, Untyped_Retype, Send/NBSend/Wait/NBWait/Recv/NBRecv and
 * Signal/Wait/Poll
 * (and lookups of bad cptrs); after every step the error code, what receivers
 * got in their registers, and the abstract state (every slot's cap with its
 * derivation-tree parent and original flag, live CNodes, endpoint and
 * notification queues, thread states) must agree. The invariant checker runs
 * after every kernel entry.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RefineWorld, RADIX, SpecOp, describe as describeOp } from '../src/spec/refine.js';
import { InvocationLabel } from '../src/abi/constants.js';

const slot = fc.integer({ min: 0, max: 15 });
/** Use slot numbers as given (mostly wrong ones) instead of an empty destination and a full source. */
const raw = fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
const depth = fc.oneof(
  { weight: 8, arbitrary: fc.constant(RADIX) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 3, 5, 64, 65) },
);
const data = fc.oneof(fc.bigInt({ min: 0n, max: 7n }), fc.constant(BigInt(64 - RADIX)), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const cnodeOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('cnode' as const),
  label: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(InvocationLabel.CNodeRevoke, InvocationLabel.CNodeDelete, InvocationLabel.CNodeCopy, InvocationLabel.CNodeMint, InvocationLabel.CNodeMove, InvocationLabel.CNodeMutate, InvocationLabel.CNodeCancelBadgedSends) },
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
const retypeOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('retype' as const),
  type: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 2, 3, 4) }, { weight: 2, arbitrary: fc.constantFrom(1, 5, 8, 9, 10) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 12 }) }),
  size: fc.oneof(fc.integer({ min: 0, max: 14 }), fc.constantFrom(2, 4, 7, 8, 13, 40, 64)),
  offset: fc.oneof({ weight: 6, arbitrary: slot }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }) }),
  count: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 16, 257) }),
  depth: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: depth }),
  root: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: slot }),
  index: slot,
  cut: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }) }),
  raw,
});
const sendOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('send' as const),
  slot,
  blocking: fc.boolean(),
  label: fc.integer({ min: 0, max: 1000 }),
  mr0: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
});
const recvOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('recv' as const),
  slot,
  blocking: fc.boolean(),
  reply: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});
const badOp: fc.Arbitrary<SpecOp> = fc.record({
  kind: fc.constant('badcptr' as const),
  syscall: fc.constantFrom('call' as const, 'send' as const, 'nbsend' as const, 'recv' as const),
  cptr: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
});
const op = fc.oneof(
  { weight: 10, arbitrary: cnodeOp },
  { weight: 6, arbitrary: retypeOp },
  { weight: 6, arbitrary: sendOp },
  { weight: 5, arbitrary: recvOp },
  { weight: 1, arbitrary: badOp },
);

/** Run a trace on a fresh world; the first disagreement, or null. */
function run(ops: SpecOp[]): string | null {
  const w = new RefineWorld(3);
  const [real, model] = w.snapshots();
  assert.deepEqual(real, model, 'the initial states agree');
  for (const o of ops) {
    const bad = w.step(o);
    if (bad !== null) return bad;
  }
  return null;
}

describe('refinement of the abstract capability/IPC model', () => {
  it('agrees with the kernel on a hand-written trace (copy, mint, badged IPC, revoke)', () => {
    const ops: SpecOp[] = [
      { kind: 'cnode', label: InvocationLabel.CNodeMint, dest: 9, destDepth: RADIX, src: 3, srcDepth: RADIX, rights: 15, data: 77n, srcRoot: 0, cut: 0, raw: true },
      { kind: 'retype', type: 2, size: 0, offset: 10, count: 2, depth: 0, root: 0, index: 0, cut: 0, raw: true },
      { kind: 'recv', slot: 0, blocking: true, reply: false },
      { kind: 'send', slot: 0, blocking: true, label: 5, mr0: 42n },
      { kind: 'cnode', label: InvocationLabel.CNodeRevoke, dest: 2, destDepth: RADIX, src: 0, srcDepth: RADIX, rights: 0, data: 0n, srcRoot: 0, cut: 0, raw: true },
      { kind: 'cnode', label: InvocationLabel.CNodeDelete, dest: 3, destDepth: RADIX, src: 0, srcDepth: RADIX, rights: 0, data: 0n, srcRoot: 0, cut: 0, raw: true },
    ];
    assert.equal(run(ops), null);
  });

  it('agrees with the kernel on random traces', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 15, maxLength: 60 }), (ops) => {
        const bad = run(ops);
        if (bad !== null) throw new Error(`${bad}\ntrace: ${ops.map(describeOp).join('\n  ')}`);
      }),
      { numRuns: Number(process.env.SPEC_RUNS ?? 60), seed: Number(process.env.SPEC_SEED ?? 4242) },
    );
  });
});
