/**
 * The simulated machine: one RISC-V hart's worth of execution over the
 * kernel, devices and physical memory. It runs the current thread's user code
 * (a TypeScript program, or later the emulated hart), advances simulated time
 * by the cost model, and enters the kernel on system calls, faults, timer and
 * device interrupts, exactly where hardware would trap.
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
  /** Simulated time in ns. */
  now = 0;
  /** Incremented whenever the kernel changes page tables (sfence.vma). */
  tlbGeneration = 0;
  idleTime = 0;
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
    else if (this.devices.plic.hasPending()) this.deviceInterrupt();
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
    if (!plic.hasPending()) return false;
    const irq = plic.claim();
    if (irq === 0) return false;
    this.interrupt(irq);
    return true;
  }

  /**
   * Whether nothing can ever run again without outside input: the idle
   * thread runs, no thread waits for a refill, and no thread is ready in any
   * domain (with several domains a ready thread waits for its slot). The
   * idle thread's own timer tick (its SC's budget) changes nothing then.
   */
  private quiescent(): boolean {
    const k = this.kernel;
    if (k.curThread !== k.idleThread || k.releaseHead !== null) return false;
    const bm = k.readyBitmap;
    for (let i = 0; i < bm.length; i++) if (bm[i] !== 0) return false;
    return !this.devices.plic.hasPending();
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
    this.stopAt = until;
    try {
      return this.runLoop(until, opts.maxSteps ?? Infinity);
    } finally {
      this.stopAt = Infinity;
    }
  }

  /**
   * Whether user code that keeps the CPU (a thread that is never preempted)
   * should hand control back to the run loop now: its time limit is reached.
   */
  yieldRequested(): boolean {
    return this.now >= this.stopAt;
  }

  private runLoop(until: number, maxSteps: number): RunResult {
    const k = this.kernel;
    let steps = 0;
    for (;;) {
      if (k.halted) return { reason: 'halted', now: this.now, steps };
      if (this.now >= until) return { reason: 'time', now: this.now, steps };
      if (steps >= maxSteps) return { reason: 'steps', now: this.now, steps };
      steps++;
      if (this.deviceInterrupt()) continue;
      const t = k.curThread;
      if (t === k.idleThread) {
        // Idle: time passes until the kernel's next deadline (a release, the
        // end of a domain slot, or the idle SC's tick), then its interrupt.
        if (this.quiescent()) return { reason: 'quiescent', now: this.now, steps };
        const next = Math.min(k.deadline, until);
        if (next > this.now) {
          this.idleTime += next - this.now;
          t.cpuTime += next - this.now;
          this.now = next;
        }
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

  /** Threads known to the kernel, for summaries. */
  threads(): TCB[] {
    return [...this.kernel.tcbs];
  }
}
