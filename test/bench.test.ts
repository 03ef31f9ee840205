/**
 * The benchmark suite (quick mode) runs and produces sane results and JSON.
 * No timing is asserted: only that every figure is a positive finite
 * number, the spread brackets the median, and the deterministic counts
 * (kernel entries and fastpath hits per operation, simulated time) are what
 * each benchmark does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { benchmarkJSON, runBenchmarks } from '../bench/suite.js';
import type { Result } from '../bench/suite.js';
import { fastpathConfig } from '../src/kernel/fastpath.js';

describe('benchmark suite (quick)', () => {
  const results: Result[] = runBenchmarks({ quick: true, print: false });
  const byName = new Map(results.map((r) => [r.name, r]));

  it('runs every benchmark once, with distinct names, and leaves the fastpath on', () => {
    assert.equal(byName.size, results.length);
    for (const name of [
      'ipc.call_replyrecv.same_prio',
      'ipc.call_replyrecv.server_higher_prio',
      'ipc.call_replyrecv.server_higher_prio.slowpath',
      'ipc.call_replyrecv.kernel_only',
      'ipc.send_recv.one_way',
      'notification.signal_wait',
      'microkit.ppc',
      'cspace.resolveAddressBits.depth3',
      'cspace.invoke.depth1',
      'untyped.retype.endpoint',
    ]) {
      assert.ok(byName.has(name), name);
    }
    assert.equal(fastpathConfig.enabled, true);
  });

  it('every figure is a positive finite number and the spread brackets the median', () => {
    for (const r of results) {
      const h = r.hostNs;
      for (const v of [h.median, h.p10, h.p90, h.min, h.max, r.opsPerSec]) assert.ok(Number.isFinite(v) && v > 0, `${r.name}: ${v}`);
      assert.ok(h.min <= h.p10 && h.p10 <= h.median && h.median <= h.p90 && h.p90 <= h.max, r.name);
      assert.ok(h.mad >= 0, r.name);
      assert.ok(Math.abs(r.opsPerSec * h.median - 1e9) < 1, r.name);
      assert.equal(r.ops, r.samples * r.opsPerSample, r.name);
      assert.ok(r.samples >= 5, r.name);
    }
  });

  it('simulated time, kernel entries and fastpath hits per operation are what each benchmark does', () => {
    const expect: [string, number, number][] = [
      ['ipc.call_replyrecv.same_prio', 2, 2],
      ['ipc.call_replyrecv.server_higher_prio', 2, 2],
      ['ipc.call_replyrecv.server_higher_prio.slowpath', 2, 0],
      ['ipc.call_replyrecv.server_higher_prio.iter_runtime', 2, 2],
      ['ipc.call_replyrecv.kernel_only', 2, 2],
      ['ipc.call_replyrecv.kernel_only.slowpath', 2, 0],
      ['ipc.send_recv.one_way', 2, 0],
      ['notification.signal_wait', 2, 0],
      ['microkit.ppc', 2, 2],
      ['cspace.invoke.depth1', 1, 0],
      ['cspace.invoke.depth3', 1, 0],
      ['untyped.retype.endpoint', 1, 0],
      ['untyped.retype.4k_frame', 1, 0],
    ];
    for (const [name, entries, fast] of expect) {
      const r = byName.get(name)!;
      assert.equal(r.kernelEntriesPerOp, entries, name);
      assert.equal(r.fastpathPerOp, fast, name);
      assert.ok(r.simNs !== null && r.simNs.median > 0 && r.simCycles === r.simNs.median, name);
    }
    // Host-only loops over kernel functions have no simulated time.
    const direct = byName.get('cspace.resolveAddressBits.depth2')!;
    assert.equal(direct.simNs, null);
    assert.equal(direct.kernelEntriesPerOp, null);
  });

  it('the JSON document holds every result', () => {
    const doc = JSON.parse(benchmarkJSON(results, true)) as { mode: string; results: Result[] };
    assert.equal(doc.mode, 'quick');
    assert.deepEqual(
      doc.results.map((r) => r.name),
      results.map((r) => r.name),
    );
    assert.equal(doc.results[1]!.hostNs.median, results[1]!.hostNs.median);
  });
});
