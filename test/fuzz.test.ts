/**
 * The random-syscall fuzzer (src/fuzz): a short fixed-seed campaign with the
 * invariant checker after every kernel entry finds no violation and no host
 * exception; and the machinery works: a planted violation is found, its
 * trace shrunk to the few ops that matter, and the shrunk trace replays to the
 * same failure.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { replay, runCampaign, runEpisode, shrink, signature } from '../src/fuzz/campaign.js';
import { describeOp, opFromJSON, opToJSON, OpKind } from '../src/fuzz/ops.js';
import { InvariantViolation, INVARIANTS } from '../src/kernel/invariants/index.js';
import { Rng } from '../src/fuzz/rng.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 12);

describe('fuzzer', () => {
  it(`a ${SECONDS} s fixed-seed campaign (invariants after every kernel entry) finds nothing`, () => {
    const lines: string[] = [];
    const r = runCampaign({ seed: 20240701, seconds: SECONDS, maxOps: 4000, shrinkSeconds: 20, log: (l) => lines.push(l) });
    const detail = r.failure === null ? '' : `${r.failure.message}\n${r.trace.map((o, i) => `#${i} [${r.actors[i]}] ${describeOp(o)}`).join('\n')}`;
    assert.equal(r.failure, null, detail);
    assert.ok(r.syscalls > 1000, `only ${r.syscalls} syscalls ran`);
    assert.ok(r.entries >= r.syscalls);
  });

  it('a 6 s campaign on 3 cores (threads on every core, stalls, IPIs, migration) finds nothing', () => {
    const r = runCampaign({ seed: 424242, seconds: 6, cores: 3, maxOps: 4000, shrinkSeconds: 20 });
    const detail = r.failure === null ? '' : `${r.failure.message}\n${r.trace.map((o, i) => `#${i} [${r.actors[i]}] ${describeOp(o)}`).join('\n')}`;
    assert.equal(r.failure, null, detail);
    assert.ok(r.syscalls > 1000, `only ${r.syscalls} syscalls ran`);
  });

  it('3-core episodes are deterministic and replay identically', () => {
    const o = { seed: 91, threads: 6, cores: 3, sample: 1, rootCNodeSizeBits: 8, maxOps: 1500, replay: null, deadline: Infinity, annotate: true };
    const a = runEpisode(o);
    const b = runEpisode(o);
    assert.equal(a.failure, null);
    assert.deepEqual(a.ops.map(opToJSON), b.ops.map(opToJSON));
    assert.equal(a.entries, b.entries);
    const again = replay(91, a.ops, { threads: 6, cores: 3, rootCNodeSizeBits: 8, maxOps: 1500 });
    assert.equal(again.entries, a.entries);
  });

  it('episodes are deterministic: the same seed gives the same ops and the same kernel entries', () => {
    const a = runEpisode({ seed: 77, threads: 4, sample: 1, rootCNodeSizeBits: 8, maxOps: 300, replay: null, deadline: Infinity, annotate: true });
    const b = runEpisode({ seed: 77, threads: 4, sample: 1, rootCNodeSizeBits: 8, maxOps: 300, replay: null, deadline: Infinity, annotate: true });
    assert.equal(a.failure, null);
    assert.deepEqual(a.ops.map(opToJSON), b.ops.map(opToJSON));
    assert.equal(a.entries, b.entries);
    const who = (xs: string[]) => xs.map((x) => x.split(' (')[0]);
    assert.deepEqual(who(a.actors), who(b.actors));
    const again = replay(77, a.ops.map((o) => opFromJSON(JSON.parse(JSON.stringify(opToJSON(o))))), { threads: 4, rootCNodeSizeBits: 8, maxOps: 300 });
    assert.equal(again.entries, a.entries, 'a trace round-tripped through JSON replays identically');
  });

  it('finds, shrinks and replays a planted invariant violation', () => {
    // Plant a "bug": an extra invariant that fails once the kernel has taken a user exception.
    const entry: [string, (k: import('../src/kernel/kernel.js').Kernel) => void] = [
      'planted',
      (k) => {
        for (const t of k.tcbs) if (t.fault.type === 3 /* UserException */) throw new InvariantViolation('planted', `${t.name} took a user exception`);
      },
    ];
    (INVARIANTS as [string, unknown][]).push(entry);
    try {
      const base = { threads: 4, rootCNodeSizeBits: 8, maxOps: 3000 };
      let found = null as ReturnType<typeof runEpisode> | null;
      let seed = 1;
      for (; seed < 50 && found === null; seed++) {
        const r = runEpisode({ ...base, seed, sample: 1, replay: null, deadline: Infinity, annotate: false });
        if (r.failure !== null) found = r;
      }
      assert.ok(found !== null && found.failure !== null, 'the planted violation was found');
      seed--;
      assert.equal(signature(found.failure!), 'invariant:planted');
      const failing = found.ops.slice(0, found.failure!.opIndex + 1);
      const small = shrink(seed, failing, 'invariant:planted', base, 20_000);
      assert.ok(small.length <= failing.length);
      assert.ok(small.some((o) => o.kind === OpKind.Exception), 'the shrunk trace keeps a user exception');
      const again = replay(seed, small, base);
      assert.ok(again.failure !== null && signature(again.failure) === 'invariant:planted', 'the shrunk trace reproduces the failure');
    } finally {
      (INVARIANTS as unknown[]).pop();
    }
  });

  it('the PRNG is deterministic and uniform enough', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 10000; i++) {
      const x = a.int(10);
      assert.equal(x, b.int(10));
      counts[x]!++;
    }
    for (const c of counts) assert.ok(c > 850 && c < 1150, `bucket ${c}`);
  });
});
