/**
 * Benchmark statistics and results, in the spirit of sel4bench: each
 * benchmark runs many iterations after a warm-up, grouped in samples; a
 * sample's host wall time and simulated machine time are divided by the
 * number of operations it did, and the samples are summarised by their
 * median and spread.
 */

/** The simulated core's clock: the cost model's defaults model a 1 GHz core. */
export const SIM_CPU_HZ = 1e9;

export interface Spread {
  median: number;
  p10: number;
  p90: number;
  /** Median absolute deviation from the median. */
  mad: number;
  min: number;
  max: number;
}

export interface Result {
  /** Short identifier, e.g. `ipc.call_replyrecv.same_prio`. */
  name: string;
  /** What one operation is. */
  op: string;
  /** Measured operations (warm-up excluded) and how they were grouped. */
  ops: number;
  samples: number;
  opsPerSample: number;
  warmup: number;
  /** Host wall time per operation (ns). */
  hostNs: Spread;
  /** Operations per second at the median host time. */
  opsPerSec: number;
  /** Median host CPU time (user + system) of this process per operation (ns): less disturbed than wall time on a busy machine. */
  hostCpuNs: number;
  /** Simulated machine time per operation from the cost model (ns and cycles), or null if not applicable. */
  simNs: Spread | null;
  simCycles: number | null;
  /** Kernel entries per operation and how many of them took the IPC fastpath. */
  kernelEntriesPerOp: number | null;
  fastpathPerOp: number | null;
  notes?: string;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  const dev = s.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
  return {
    median,
    p10: quantile(s, 0.1),
    p90: quantile(s, 0.9),
    mad: quantile(dev, 0.5),
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
  };
}

/** Raw measurements of one benchmark, filled in by the thread or loop that measures. */
export class Samples {
  readonly host: number[] = [];
  readonly cpu: number[] = [];
  readonly sim: number[] = [];
  entries = 0;
  fastpaths = 0;
  constructor(
    readonly opsPerSample: number,
    readonly warmup: number,
  ) {}
}

export function toResult(name: string, op: string, s: Samples, notes?: string): Result {
  const hostNs = spread(s.host);
  const simNs = s.sim.length > 0 ? spread(s.sim) : null;
  const ops = s.host.length * s.opsPerSample;
  const r: Result = {
    name,
    op,
    ops,
    samples: s.host.length,
    opsPerSample: s.opsPerSample,
    warmup: s.warmup,
    hostNs,
    opsPerSec: hostNs.median > 0 ? 1e9 / hostNs.median : Infinity,
    hostCpuNs: s.cpu.length > 0 ? spread(s.cpu).median : NaN,
    simNs,
    simCycles: simNs === null ? null : (simNs.median * SIM_CPU_HZ) / 1e9,
    kernelEntriesPerOp: s.entries > 0 ? s.entries / ops : null,
    fastpathPerOp: s.entries > 0 ? s.fastpaths / ops : null,
  };
  if (notes !== undefined) r.notes = notes;
  return r;
}

function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return String(n);
  if (n >= 1e6) return (n / 1e6).toFixed(2) + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return n.toFixed(digits);
}

/** A fixed-width table of results for people. */
export function formatTable(results: readonly Result[]): string {
  const head = ['benchmark', 'host ns/op', 'p10..p90', 'MAD', 'ops/s', 'cpu ns/op', 'sim ns/op', 'sim cyc', 'entries', 'fastpath'];
  const rows = results.map((r) => [
    r.name,
    fmt(r.hostNs.median),
    `${fmt(r.hostNs.p10)}..${fmt(r.hostNs.p90)}`,
    fmt(r.hostNs.mad),
    fmt(r.opsPerSec, 0),
    fmt(r.hostCpuNs),
    r.simNs === null ? '-' : fmt(r.simNs.median, 0),
    r.simCycles === null ? '-' : fmt(r.simCycles, 0),
    r.kernelEntriesPerOp === null ? '-' : r.kernelEntriesPerOp.toFixed(2),
    r.fastpathPerOp === null ? '-' : r.fastpathPerOp.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
