/**
 * Measuring from inside a running system: a Meter brackets a sample of
 * operations and records host wall time, simulated machine time, kernel
 * entries and fastpath hits per operation.
 */
import { fastpathStats } from '../src/kernel/fastpath.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { Machine, MachineOptions } from '../src/machine/machine.js';
import { Vka } from '../src/user/vka.js';
import type { Program } from '../src/user/thread.js';
import { Samples } from './stats.js';

/** How many operations a benchmark measures: warm-up, then `samples` groups of `perSample`. */
export interface Plan {
  warmup: number;
  samples: number;
  perSample: number;
}

export function kernelEntries(k: Kernel): number {
  let n = 0;
  for (const t of k.tcbs) n += t.syscalls;
  return n;
}

export function fastpathHits(): number {
  return fastpathStats.call + fastpathStats.replyRecv;
}

export class Meter {
  readonly samples: Samples;
  private t0 = 0;
  private cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };
  private sim0 = 0;
  private e0 = 0;
  private f0 = 0;

  /** `simulated`: the operations run on the simulated machine (false for host-only loops over kernel functions). */
  constructor(
    readonly m: Machine,
    readonly plan: Plan,
    readonly simulated = true,
  ) {
    this.samples = new Samples(plan.perSample, plan.warmup);
  }

  begin(): void {
    this.e0 = kernelEntries(this.m.kernel);
    this.f0 = fastpathHits();
    this.sim0 = this.m.now;
    this.cpu0 = process.cpuUsage();
    this.t0 = performance.now();
  }

  end(): void {
    const t1 = performance.now();
    const cpu = process.cpuUsage(this.cpu0);
    const n = this.plan.perSample;
    const s = this.samples;
    s.host.push(((t1 - this.t0) * 1e6) / n);
    s.cpu.push(((cpu.user + cpu.system) * 1e3) / n);
    if (!this.simulated) return;
    s.sim.push((this.m.now - this.sim0) / n);
    s.entries += kernelEntries(this.m.kernel) - this.e0;
    s.fastpaths += fastpathHits() - this.f0;
  }
}

/** A benchmark machine: no invariant checker (as sel4bench runs a release kernel), 128 MiB of RAM. */
export function benchMachine(opts: MachineOptions = {}): Machine {
  return new Machine({ virt: { ramSize: 128 * 1024 * 1024 }, ...opts });
}

/**
 * Boot a machine, run `root` as the root task until the system is quiescent
 * and return the machine. `root` builds the benchmark's processes.
 */
export function runSystem(root: (m: Machine, vka: Vka) => Generator<unknown, void, unknown>, opts: MachineOptions = {}): Machine {
  const m = benchMachine(opts);
  const vka = new Vka(m.booted.bootInfo);
  const program: Program = function* rootTask() {
    yield* root(m, vka);
  };
  m.startRoot(program);
  const r = m.run();
  if (r.reason !== 'quiescent') throw new Error(`bench: system stopped with ${r.reason} at ${r.now} ns`);
  return m;
}
