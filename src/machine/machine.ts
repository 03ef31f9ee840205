/**
 * The simulated machine: one or more RISC-V cores over the kernel, devices
 * and physical memory. It runs each core's current thread's user code (a
 * TypeScript program or the emulated hart), advances simulated time by the
 * cost model, and enters the kernel on system calls, faults, timer and
 * device interrupts, exactly where hardware would trap.
 *
 * Several cores (KernelConfig.numCores) are interleaved deterministically
 * as a discrete-event simulation: every core has its own clock, and the
 * core whose next event is earliest runs next (ties go to the lower core):
 * a core with a thread to run steps its user code for at most one quantum
 * (cost.smpQuantumNs) past the next event of any other core; an idle core's
 * next event is its timer deadline. Kernel entries are atomic (seL4's big
 * kernel lock); the IPIs one core sends are taken by their targets when the
 * entry ends, at the target's clock but never before the sender's.
 * Device interrupts go to core 0.
 */
import { Booted, BootOptions, bootKernel } from '../kernel/boot.js';
import type { Kernel } from '../kernel/kernel.js';
import { REG_A0, REG_NEXT_IP, TCB, ThreadState } from '../kernel/object/tcb.js';
import {
  handleInterruptEntry,
  handleSyscall,
  handleThreadExit,
  handleUserLevelFault,
  handleVMFaultEvent,
} from '../kernel/syscall.js';
import { UserThread, Program } from '../user/thread.js';
import { CostModel, defaultCostModel } from './cost.js';
import type { PhysicalMemory } from './memory.js';
import { createVirtDeviceModels, VirtDeviceModels } from './virt.js';
import { hartThreadFactory } from './hartthread.js';

/** Entry addresses handed out for TypeScript programs: high in the user address space. */
const PROGRAM_BASE = 0x3f00000000;

export interface MachineOptions extends BootOptions {
  cost?: Partial<CostModel>;
  /** Run the kernel invariant checker after every kernel entry. */
  checkInvariants?: (k: Kernel) => void;
  /** Echo console output to this function as it is produced. */
  onConsole?: (text: string) => void;
}

export interface RunOptions {
  /** Stop when simulated time reaches this (ns). */
  untilNs?: number;
  /** Stop after this many machine steps (user slices and idle jumps). */
  maxSteps?: number;
}

export interface RunResult {
  reason: 'quiescent' | 'time' | 'steps' | 'halted';
  now: number;
  steps: number;
}

/** What runs a thread's user code: a TypeScript program or the emulated hart. */
export interface ThreadContext {
  /** Run until the thread blocks, is preempted or stops; false when it has finished for good. */
  resume(): boolean;
}

export interface ProgramEntry {
  name: string;
  program: Program;
}

export class Machine {
  readonly booted: Booted;
  readonly kernel: Kernel;
  readonly mem: PhysicalMemory;
  readonly devices: VirtDeviceModels;
  readonly cost: CostModel;
  /** Each core's clock (ns of simulated time). */
  readonly clocks: Float64Array;
  /** Each core's time spent in its idle thread. */
  readonly idleTimes: Float64Array;
  /** The core whose code runs now. */
  private active = 0;
  /** Incremented whenever the kernel changes page tables (sfence.vma). */
  tlbGeneration = 0;
  /** Time limit of the run in progress (see yieldRequested). */
  private stopAt = Infinity;
  console = '';
  private readonly programs = new Map<number, ProgramEntry>();
  private nextProgram = 0;
  private readonly onConsole: ((text: string) => void) | null;
  /** Creates the context that runs a thread whose pc is not a TypeScript program (the RISC-V hart). */
  hartFactory: ((m: Machine, t: TCB) => ThreadContext | null) | null = null;

  constructor(opts: MachineOptions = {}) {
    this.booted = bootKernel(opts);
    this.kernel = this.booted.kernel;
    this.mem = this.kernel.mem;
    this.cost = { ...defaultCostModel(), ...(opts.cost ?? {}) };
    this.clocks = new Float64Array(this.kernel.numCores);
    this.idleTimes = new Float64Array(this.kernel.numCores);
    this.onConsole = opts.onConsole ?? null;
    const out = (b: number) => this.emitConsole(b);
    this.devices = createVirtDeviceModels(this.booted.virt, { onTransmit: out });
    const plic = this.devices.plic;
    for (let i = 1; i < plic.numSources; i++) plic.setPriority(i, 1);
    plic.setThreshold(0);
    const k = this.kernel;
    k.console = out;
    k.irqs.controller = {
      complete: (irq) => plic.complete(irq),
      setTrigger: () => {},
      mask: (irq, disable) => plic.setEnabled(irq, !disable),
    };
    k.tlbFlush = () => {
      this.tlbGeneration++;
    };
    if (opts.checkInvariants !== undefined) k.invariantHook = opts.checkInvariants;
    k.coreClock = (c, atLeast, entry) => this.reachCore(c, atLeast, entry);
    this.hartFactory = hartThreadFactory();
  }

  private emitConsole(b: number): void {
    const ch = String.fromCharCode(b);
    this.console += ch;
    if (this.onConsole !== null) this.onConsole(ch);
  }

  /**
   * Register a TypeScript program and return its entry address: a thread whose
   * pc is set to it (TCB_WriteRegisters) runs the program, with a0..a2 as arguments.
   */
  registerProgram(program: Program, name = program.name): number {
    const entry = PROGRAM_BASE + 16 * this.nextProgram++;
    this.programs.set(entry, { name, program });
    return entry;
  }

  /** Give the root task its program (what the ELF image is for a real seL4 root task). */
  startRoot(program: Program): UserThread {
    const t = this.booted.rootTCB;
    const u = new UserThread(this, t, program, [this.booted.bootInfo.vaddr]);
    t.userContext = u;
    return u;
  }

  // ---------------------------------------------------------------- time

  /** The running core's clock: simulated time in ns. */
  get now(): number {
    return this.clocks[this.active]!;
  }
  set now(t: number) {
    this.clocks[this.active] = t;
  }

  /** Time all cores spent idle. */
  get idleTime(): number {
    let s = 0;
    for (let c = 0; c < this.idleTimes.length; c++) s += this.idleTimes[c]!;
    return s;
  }

  /** The number of cores. */
  get numCores(): number {
    return this.clocks.length;
  }

  /** The core whose code runs now (the executing core of the kernel too). */
  get activeCore(): number {
    return this.active;
  }

  private setActive(c: number): void {
    this.active = c;
    this.kernel.enterCore(c);
  }

  /** Move core c's clock forward to t (never back); time an idle core waits is idle time. */
  private advanceCore(c: number, t: number): void {
    const gap = t - this.clocks[c]!;
    if (gap <= 0) return;
    const n = this.kernel.nodes[c]!;
    if (n.curThread === n.idleThread) this.idleTimes[c] = this.idleTimes[c]! + gap;
    n.curThread.cpuTime += gap;
    this.clocks[c] = t;
  }

  /**
   * Kernel.coreClock: another core's kernel entry reaches core c (a stall
   * or an IPI) at `atLeast`; the core's clock moves up to it, plus the cost
   * of the interrupt entry when it takes one. Returns the core's time.
   */
  private reachCore(c: number, atLeast: number, entry: boolean): number {
    this.advanceCore(c, atLeast);
    if (entry) {
      this.clocks[c] = this.clocks[c]! + this.cost.kernelNsPerInterrupt;
      const n = this.kernel.nodes[c]!;
      n.curThread.cpuTime += this.cost.kernelNsPerInterrupt;
    }
    // Core c may have work now: the running core's step ends within a quantum of it.
    this.stopAt = Math.min(this.stopAt, this.clocks[c]! + this.cost.smpQuantumNs);
    return this.clocks[c]!;
  }

  /**
   * Charge ns of user time to the current thread, then take the timer
   * interrupt if the kernel's deadline has passed (or a pending device
   * interrupt). Callers step user code so as not to run far past k.deadline.
   */
  userTime(ns: number): void {
    const k = this.kernel;
    this.now += ns;
    k.curThread.cpuTime += ns;
    if (this.now >= k.deadline) this.interrupt(-1);
    else if (this.active === 0 && this.devices.plic.hasPending()) this.deviceInterrupt();
  }

  /** Kernel entry and exit time, charged to the thread that entered the kernel. */
  private kernelTime(ns: number): void {
    this.now += ns;
    this.kernel.curThread.cpuTime += ns;
  }

  /** Interrupt entry: irq -1 is the kernel's timer (the deadline it programmed). */
  private interrupt(irq: number): void {
    this.kernelTime(this.cost.kernelNsPerInterrupt);
    handleInterruptEntry(this.kernel, irq, this.now);
  }

  private deviceInterrupt(): boolean {
    const plic = this.devices.plic;
    if (this.active !== 0 || !plic.hasPending()) return false;
    const irq = plic.claim();
    if (irq === 0) return false;
    this.interrupt(irq);
    return true;
  }

  /**
   * Whether core c can do nothing without outside input: it runs its idle
   * thread, no thread waits for a refill there, and no thread is ready on it
   * in any domain (with several domains a ready thread waits for its slot);
   * core 0 also has no device interrupt pending. The idle thread's own timer
   * tick (its SC's budget) changes nothing then, and another core that makes
   * a thread ready here sends a reschedule IPI.
   */
  private coreQuiescent(c: number): boolean {
    const n = this.kernel.nodes[c]!;
    if (n.curThread !== n.idleThread || n.releaseHead !== null) return false;
    const bm = n.readyBitmap;
    for (let i = 0; i < bm.length; i++) if (bm[i] !== 0) return false;
    return c !== 0 || !this.devices.plic.hasPending();
  }

  /**
   * The time of core c's next event: now for a core with a thread to run (or
   * a device interrupt to take), the timer deadline for an idle core, never
   * for a quiescent one.
   */
  private nextEvent(c: number): number {
    const n = this.kernel.nodes[c]!;
    const now = this.clocks[c]!;
    if (n.curThread !== n.idleThread) return now;
    if (c === 0 && this.devices.plic.hasPending()) return now;
    if (this.coreQuiescent(c)) return Infinity;
    return Math.max(now, n.deadline);
  }

  // ------------------------------------------------------- kernel entries

  syscall(n: number): void {
    this.kernelTime(this.cost.kernelNsPerSyscall);
    handleSyscall(this.kernel, n, this.now);
  }

  vmFault(vaddr: number, fsr: number, instruction: boolean): void {
    this.kernelTime(this.cost.kernelNsPerInterrupt);
    handleVMFaultEvent(this.kernel, vaddr, fsr, instruction, this.now);
  }

  userException(number: number, code: number): void {
    this.kernelTime(this.cost.kernelNsPerInterrupt);
    handleUserLevelFault(this.kernel, number, code, this.now);
  }

  // ---------------------------------------------------------------- memory

  physRead(paddr: number, size: 1 | 2 | 4 | 8): bigint {
    const m = this.mem;
    if (m.isRam(paddr, size)) {
      switch (size) {
        case 1:
          return BigInt(m.read8(paddr));
        case 2:
          return BigInt(m.read16(paddr));
        case 4:
          return BigInt(m.read32(paddr));
        default:
          return m.read64(paddr);
      }
    }
    const v = this.devices.bus.read(paddr, size === 8 ? 4 : size);
    return v < 0 ? 0n : BigInt(v);
  }

  physWrite(paddr: number, size: 1 | 2 | 4 | 8, value: bigint): void {
    const m = this.mem;
    if (m.isRam(paddr, size)) {
      switch (size) {
        case 1:
          m.write8(paddr, Number(value & 0xffn));
          return;
        case 2:
          m.write16(paddr, Number(value & 0xffffn));
          return;
        case 4:
          m.write32(paddr, Number(value & 0xffffffffn));
          return;
        default:
          m.write64(paddr, value);
          return;
      }
    }
    this.devices.bus.write(paddr, size === 8 ? 4 : size, Number(value & 0xffffffffn));
  }

  // ------------------------------------------------------------------ run

  /** The user context of a thread, created from its pc the first time it runs. */
  private contextOf(t: TCB): ThreadContext | null {
    const entry = t.getRegNumber(REG_NEXT_IP);
    const p = this.programs.get(entry);
    const ctx = t.userContext as ThreadContext | null;
    // A thread keeps its context unless its pc was set to a program entry
    // (TCB_WriteRegisters): then the program starts afresh, as code at that pc would.
    if (ctx !== null && (p === undefined || (ctx instanceof UserThread && !ctx.started))) return ctx;
    if (p === undefined) {
      const h = this.hartFactory === null ? null : this.hartFactory(this, t);
      if (h !== null) t.userContext = h;
      return h;
    }
    const args = [t.getRegNumber(REG_A0), t.getRegNumber(REG_A0 + 1), t.getRegNumber(REG_A0 + 2)];
    const u = new UserThread(this, t, p.program, args);
    t.userContext = u;
    return u;
  }

  /** Run until quiescent (every thread blocked, no timer pending), a time limit, or a step limit. */
  run(opts: RunOptions = {}): RunResult {
    const until = opts.untilNs ?? Infinity;
    try {
      return this.runLoop(until, opts.maxSteps ?? Infinity);
    } finally {
      this.stopAt = Infinity;
    }
  }

  /**
   * Whether user code that keeps the CPU (a thread that is never preempted)
   * should hand control back to the run loop now: its time limit, or the
   * end of its quantum while other cores wait, is reached.
   */
  yieldRequested(): boolean {
    return this.now >= this.stopAt;
  }

  /** Where the running core's current user step must end: its timer deadline or its quantum. */
  sliceEnd(): number {
    return Math.min(this.kernel.deadline, this.stopAt);
  }

  private runLoop(until: number, maxSteps: number): RunResult {
    const k = this.kernel;
    const cores = this.clocks.length;
    const quantum = this.cost.smpQuantumNs;
    let steps = 0;
    for (;;) {
      if (k.halted) return this.result('halted', steps);
      if (steps >= maxSteps) return this.result('steps', steps);
      // The core with the earliest next event runs (ties: the lower core).
      let c = 0;
      let first = this.nextEvent(0);
      let second = Infinity;
      for (let i = 1; i < cores; i++) {
        const e = this.nextEvent(i);
        if (e < first) {
          second = first;
          first = e;
          c = i;
        } else if (e < second) second = e;
      }
      if (first === Infinity) return this.result('quiescent', steps);
      if (first >= until) {
        for (let i = 0; i < cores; i++) this.advanceCore(i, until);
        return this.result('time', steps);
      }
      steps++;
      this.setActive(c);
      this.stopAt = second === Infinity ? until : Math.min(until, second + quantum);
      if (this.deviceInterrupt()) continue;
      const t = k.curThread;
      if (t === k.idleThread) {
        // Idle: time passes until the kernel's next deadline (a release, the
        // end of a domain slot, or the idle SC's tick), then its interrupt.
        this.advanceCore(c, first);
        if (this.now >= k.deadline) this.interrupt(-1);
        continue;
      }
      if (this.now >= k.deadline) {
        this.interrupt(-1);
        continue;
      }
      const u = this.contextOf(t);
      if (u === null) {
        // Nothing to execute at this pc: an instruction fetch fault.
        this.vmFault(t.getRegNumber(REG_NEXT_IP), 1, true);
        continue;
      }
      if (!u.resume()) {
        if (k.curThread === t && t.state === ThreadState.Running) {
          this.kernelTime(this.cost.kernelNsPerSyscall);
          handleThreadExit(k, this.now);
        }
      }
    }
  }

  /** The result of a run; the machine's time is then the latest core clock. */
  private result(reason: RunResult['reason'], steps: number): RunResult {
    let latest = 0;
    for (let i = 1; i < this.clocks.length; i++) if (this.clocks[i]! > this.clocks[latest]!) latest = i;
    // At rest every core has reached the latest clock (idle cores idled until then).
    if (reason === 'quiescent') for (let i = 0; i < this.clocks.length; i++) this.advanceCore(i, this.clocks[latest]!);
    this.setActive(latest);
    return { reason, now: this.now, steps };
  }

  /** Threads known to the kernel, for summaries. */
  threads(): TCB[] {
    return [...this.kernel.tcbs];
  }
}
