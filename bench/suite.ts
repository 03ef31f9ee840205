/**
 * The sel4ts benchmark suite (in the manner of sel4bench): IPC round trips,
 * one-way IPC, notifications, cap lookup by depth, Untyped_Retype and a
 * Microkit-style protected procedure call. `runBenchmarks` is what
 * `npm run bench` and `sel4ts bench [--json]` run.
 */
import { cpus, loadavg } from 'node:os';
import { capLookup } from './caplookup.js';
import { ipcCrossCore, ipcKernelOnly, ipcOneWay, ipcRoundTrip, microkitPPC, notificationSignalWait } from './ipc.js';
import type { Plan } from './meter.js';
import { retypeBenchmarks } from './retype.js';
import { formatTable, Result, Samples, toResult } from './stats.js';

export type { Result } from './stats.js';

export interface BenchOptions {
  /** Print JSON instead of a table. */
  json?: boolean;
  /** A few-second run for CI: fewer iterations, same benchmarks. */
  quick?: boolean;
  /** Print the results to stdout (default true); the results are returned either way. */
  print?: boolean;
  /** Only run benchmarks whose name contains this. */
  filter?: string;
}

/** Iteration plans: full (sel4bench-like counts, under a minute) and quick. */
function plans(quick: boolean): { ipc: Plan; lookup: Plan; retype: Plan } {
  return quick
    ? {
        ipc: { warmup: 2_000, samples: 20, perSample: 200 },
        lookup: { warmup: 10_000, samples: 20, perSample: 1_000 },
        retype: { warmup: 64, samples: 5, perSample: 64 },
      }
    : {
        ipc: { warmup: 20_000, samples: 200, perSample: 1_000 },
        lookup: { warmup: 200_000, samples: 200, perSample: 10_000 },
        retype: { warmup: 512, samples: 60, perSample: 256 },
      };
}

function noop(x: number): number {
  return x + 1;
}

/** How fast this host runs plain JavaScript right now (an empty function call); a busy machine shows here first. */
function calibration(plan: Plan): Result {
  const s = new Samples(plan.perSample * 10, plan.warmup);
  let x = 0;
  for (let i = 0; i < plan.warmup; i++) x = noop(x);
  for (let k = 0; k < plan.samples; k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < s.opsPerSample; i++) x = noop(x);
    s.host.push(((performance.now() - t0) * 1e6) / s.opsPerSample);
    const c = process.cpuUsage(c0);
    s.cpu.push(((c.user + c.system) * 1e3) / s.opsPerSample);
  }
  if (x < 0) throw new Error('unreachable');
  return toResult('host.calibration', 'a trivial JavaScript function call (about 1 ns on an idle core)', s);
}

interface Entry {
  name: string;
  run: () => Result[];
}

function entries(p: ReturnType<typeof plans>): Entry[] {
  const rt = (name: string, clientPrio: number, serverPrio: number, fastpath: boolean, runtime: 'libsel4' | 'iter' = 'libsel4') => ({
    name,
    run: () => [ipcRoundTrip(p.ipc, { name, clientPrio, serverPrio, fastpath, length: 0, runtime })],
  });
  return [
    { name: 'host.calibration', run: () => [calibration(p.lookup)] },
    rt('ipc.call_replyrecv.same_prio', 100, 100, true),
    rt('ipc.call_replyrecv.server_higher_prio', 100, 150, true),
    rt('ipc.call_replyrecv.server_higher_prio.slowpath', 100, 150, false),
    rt('ipc.call_replyrecv.server_higher_prio.iter_runtime', 100, 150, true, 'iter'),
    { name: 'ipc.call_replyrecv.kernel_only', run: () => [ipcKernelOnly(p.ipc, true, 'ipc.call_replyrecv.kernel_only')] },
    { name: 'ipc.call_replyrecv.kernel_only.slowpath', run: () => [ipcKernelOnly(p.ipc, false, 'ipc.call_replyrecv.kernel_only.slowpath')] },
    { name: 'ipc.call_replyrecv.cross_core', run: () => [ipcCrossCore(p.ipc)] },
    { name: 'ipc.send_recv.one_way', run: () => [ipcOneWay(p.ipc)] },
    { name: 'notification.signal_wait', run: () => [notificationSignalWait(p.ipc)] },
    { name: 'microkit.ppc', run: () => [microkitPPC(p.ipc)] },
    { name: 'cspace', run: () => capLookup(p.lookup) },
    { name: 'untyped.retype', run: () => retypeBenchmarks(p.retype) },
  ];
}

/** The suite's results as one JSON document, with what is needed to read them. */
export function benchmarkJSON(results: readonly Result[], quick: boolean): string {
  return JSON.stringify(
    {
      suite: 'sel4ts-bench',
      mode: quick ? 'quick' : 'full',
      units: { hostNs: 'host wall ns per operation', hostCpuNs: 'host CPU ns per operation', simNs: 'simulated ns per operation (cost model)', simCycles: 'simulated cycles at 1 GHz' },
      node: process.version,
      host: { cpus: cpus().length, loadavg: loadavg() },
      date: new Date().toISOString(),
      results,
    },
    null,
    2,
  );
}

/** Run the suite (or the benchmarks matching `filter`); prints a table or JSON unless `print` is false. */
export function runBenchmarks(opts: BenchOptions = {}): Result[] {
  const quick = opts.quick === true;
  const results: Result[] = [];
  for (const e of entries(plans(quick))) {
    if (opts.filter !== undefined && !e.name.includes(opts.filter)) continue;
    results.push(...e.run());
  }
  if (opts.print !== false) {
    if (opts.json === true) process.stdout.write(benchmarkJSON(results, quick) + '\n');
    else {
      process.stdout.write(formatTable(results) + '\n');
      process.stdout.write(
        `\nhost: ns per operation (median over samples; p10..p90 and MAD of the samples), cpu: this process's CPU time per operation;\n` +
          `sim: simulated machine time per operation from the cost model (cycles at 1 GHz); entries: kernel entries per operation, fastpath: how many of them took the IPC fastpath.\n` +
          `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} CPUs.\n`,
      );
    }
  }
  return results;
}

