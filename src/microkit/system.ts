/**
 * Running a Microkit system on sel4ts: parse the .system file, load the PD
 * programs, boot a machine whose root task is the Microkit initialiser
 * (builder.ts), then run PDs and the monitor under the kernel. Used by the
 * `sel4ts` command line and by tests.
 */
import { dirname, resolve } from 'node:path';
import { Machine, RunResult } from '../machine/machine.js';
import type { KernelObserver } from '../kernel/kernel.js';
import { ThreadState, type TCB } from '../kernel/object/tcb.js';
import { checkInvariants } from '../kernel/invariants/index.js';
import { recordMachine, type RecorderOptions, type TraceRecorder } from '../trace/recorder.js';
import { BuildError } from './alloc.js';
import { buildSystem, type BuiltSystem } from './builder.js';
import { checkSystemFile } from './check.js';
import { loadPrograms, type ProgramSource } from './images.js';
import { microkitMain, type MicrokitProgram, type PdImageInfo } from './libmicrokit.js';
import { monitorProgram, type MonitorFault } from './monitor.js';
import type { ProtectionDomain, SystemDescription } from './sdf.js';

export interface SystemOptions {
  /** Path of the .system file (read from disk unless `xml` is given). */
  file: string;
  /** The file's text, when it is not to be read from `file`. */
  xml?: string;
  /** Programs given directly, by program_image string (tests, embedders). */
  programs?: Record<string, ProgramSource>;
  /** Bytes to type into the UART (qemu virt UART0) before the system starts. */
  input?: string;
  /** Check the kernel invariants after every kernel entry (slow). */
  invariants?: boolean;
  /** Record a trace (src/trace/recorder.ts). */
  trace?: boolean | RecorderOptions;
  /** Console output (seL4_DebugPutChar and UART transmit) as it is produced. */
  onConsole?: (text: string) => void;
  /** Machine RAM in bytes (default 256 MiB). */
  ramSize?: number;
  /** Cores of the machine and kernel (CONFIG_MAX_NUM_NODES); a PD runs on its `cpu`. Default 1. */
  cores?: number;
}

export interface PdSummary {
  name: string;
  priority: number;
  budgetUs: number;
  periodUs: number;
  passive: boolean;
  /** Simulated CPU time charged to the PD's thread, ns (kernel entries included). */
  cpuNs: number;
  syscalls: number;
  /** IPC messages delivered to the PD (PPCs, fault messages for parents). */
  ipcIn: number;
  /** Signals sent to the PD's notification (channel notifications and IRQs). */
  signalsIn: number;
  faults: number;
  state: string;
  /** The PD's cpu attribute (the core its SC is configured on). */
  cpu: number;
}

export interface RunOptions {
  /** Stop at this simulated time (ns); default: run until quiescent. */
  untilNs?: number;
  /** Called every `progressSteps` machine steps. */
  onProgress?: (m: Machine) => void;
  progressSteps?: number;
}

export { checkSystemFile } from './check.js';

function imageInfo(sys: SystemDescription, pd: ProtectionDomain): PdImageInfo {
  let notifications = 0n;
  let pps = 0n;
  for (const ch of sys.channels) {
    for (const end of [ch.a, ch.b]) {
      if (end.pd !== pd.name) continue;
      if (end.notify) notifications |= 1n << BigInt(end.id);
      if (end.pp) pps |= 1n << BigInt(end.id);
    }
  }
  let irqs = 0n;
  for (const irq of pd.irqs) irqs |= 1n << BigInt(irq.id);
  return { name: pd.name, passive: pd.passive, notifications, pps, irqs };
}

/** Counts kernel events per receiver for the summary; chains the observer it replaces. */
class Statistics implements KernelObserver {
  readonly ipcIn = new Map<string, number>();
  readonly signals = new Map<number, number>();
  constructor(readonly prev: KernelObserver | null) {}
  onEvent(kind: string, detail: Record<string, unknown>): void {
    if (kind === 'ipc' && typeof detail['to'] === 'string') {
      const to = detail['to'];
      this.ipcIn.set(to, (this.ipcIn.get(to) ?? 0) + 1);
    } else if (kind === 'signal' && typeof detail['ntfn'] === 'number') {
      const n = detail['ntfn'];
      this.signals.set(n, (this.signals.get(n) ?? 0) + 1);
    }
    if (this.prev !== null) this.prev.onEvent(kind, detail);
  }
}

export class MicrokitSystem {
  readonly faults: MonitorFault[] = [];
  readonly passiveDone: string[] = [];
  buildError: string | null = null;
  built: BuiltSystem | null = null;
  private readonly stats: Statistics;
  readonly recorder: TraceRecorder | null;

  private constructor(
    readonly system: SystemDescription,
    readonly machine: Machine,
    programs: Map<string, MicrokitProgram>,
    trace: boolean | RecorderOptions | undefined,
  ) {
    const m = machine;
    const k = m.kernel;
    this.stats = new Statistics(k.observer);
    k.observer = this.stats;
    this.recorder = trace ? recordMachine(m, typeof trace === 'object' ? trace : { title: system.fileName }) : null;
    const entries = new Map<string, number>();
    for (const pd of system.protectionDomains) {
      entries.set(pd.name, m.registerProgram(microkitMain(imageInfo(system, pd), programs.get(pd.name)!), pd.name));
    }
    const monitorEntry = m.registerProgram(
      monitorProgram({
        pdNames: system.protectionDomains.map((p) => p.name),
        passive: system.protectionDomains.map((p) => p.passive),
        onFault: (f) => this.faults.push(f),
        onPassive: (name) => this.passiveDone.push(name),
        now: () => m.now,
      }),
      'monitor',
    );
    const bi = m.booted.bootInfo;
    // The root task is the initialiser: it builds the system, starts it, and exits.
    const self = this;
    m.startRoot(function* initialiser() {
      try {
        self.built = yield* buildSystem(bi, { system, entries, monitorEntry, programs });
      } catch (e) {
        if (!(e instanceof BuildError)) throw e;
        self.buildError = e.message;
      }
    });
  }

  /** Parse, load programs and boot (nothing runs until run()). Throws SdfError / ImageError. */
  static async load(opts: SystemOptions): Promise<MicrokitSystem> {
    const provided = new Map(Object.entries(opts.programs ?? {}));
    const cores = opts.cores ?? 1;
    const system = checkSystemFile(opts.file, opts.xml, new Set(provided.keys()), cores);
    const programs = await loadPrograms(system, dirname(resolve(opts.file)), provided);
    const machine = new Machine({
      rootName: 'initialiser',
      kernel: { numCores: cores },
      virt: opts.ramSize !== undefined ? { ramSize: opts.ramSize } : {},
      ...(opts.invariants === true ? { checkInvariants } : {}),
      ...(opts.onConsole !== undefined ? { onConsole: opts.onConsole } : {}),
    });
    if (opts.input !== undefined && opts.input.length > 0) machine.devices.uart.inject(opts.input);
    return new MicrokitSystem(system, machine, programs, opts.trace);
  }

  /** Run until quiescent, halted, or the time limit. */
  run(opts: RunOptions = {}): RunResult {
    const m = this.machine;
    const steps = opts.progressSteps ?? 20000;
    for (;;) {
      const r = m.run({ untilNs: opts.untilNs ?? Infinity, maxSteps: steps });
      if (r.reason !== 'steps') return r;
      if (opts.onProgress) opts.onProgress(m);
    }
  }

  /** The TCB running a PD (named with seL4_DebugNameThread by the initialiser). */
  tcbOf(name: string): TCB | undefined {
    const n = name.slice(0, 63);
    return this.machine.threads().find((t) => t.name === n);
  }

  summary(): PdSummary[] {
    return this.system.protectionDomains.map((pd) => {
      const t = this.tcbOf(pd.name);
      const ntfn = t?.boundNotification ?? null;
      return {
        name: pd.name,
        priority: pd.priority,
        cpu: pd.cpu,
        budgetUs: pd.budget,
        periodUs: pd.period,
        passive: pd.passive,
        cpuNs: t?.cpuTime ?? 0,
        syscalls: t?.syscalls ?? 0,
        ipcIn: t ? (this.stats.ipcIn.get(t.name) ?? 0) : 0,
        signalsIn: ntfn !== null ? (this.stats.signals.get(ntfn.paddr) ?? 0) : 0,
        faults: this.faults.filter((f) => f.pd === pd.name).length,
        state: t ? ThreadState[t.state] : 'not created',
      };
    });
  }

  /** The finished trace as JSON text (null when not recording). */
  traceJSON(): string | null {
    return this.recorder === null ? null : this.recorder.serialise();
  }
}

/** Load and run a system in one go. */
export async function runSystem(opts: SystemOptions & RunOptions): Promise<{ sys: MicrokitSystem; result: RunResult }> {
  const sys = await MicrokitSystem.load(opts);
  const result = sys.run(opts);
  return { sys, result };
}
