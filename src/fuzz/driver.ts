/**
 * Drives the kernel directly through its entry points, as the trap handler of
 * a real machine would: a system call from the current thread with its
 * registers and IPC buffer set, timer and device interrupts, VM faults and
 * user exceptions. Time advances by a fixed cost per entry. No user code
 * runs: whoever drives (a fuzzer, a refinement test) decides what the current
 * thread does next.
 */
import { msgInfoGetLabel, msgInfoHi, msgInfoLo } from '../abi/messageinfo.js';
import type { Kernel } from '../kernel/kernel.js';
import { IPCBUF_CAPS_OR_BADGES, IPCBUF_MSG } from '../kernel/kernel.js';
import { REG_A0, REG_A1, REG_A2, REG_NEXT_IP, REG_PC, TCB } from '../kernel/object/tcb.js';
import {
  handleInterruptEntry,
  handleSyscall,
  handleUserLevelFault,
  handleVMFaultEvent,
  Syscall,
} from '../kernel/syscall.js';
import { Machine } from '../machine/machine.js';

/** The fake address of every system call instruction. */
export const SYSCALL_SITE = 0x1000;

export interface DriverOptions {
  /** CONFIG_ROOT_CNODE_SIZE_BITS (default 8: a small root CNode keeps scans cheap). */
  rootCNodeSizeBits?: number;
  /** RAM size in bytes (default 128 MiB). */
  ramSize?: number;
  /** Called after every kernel entry (the invariant checker). */
  check?: ((k: Kernel) => void) | null;
  /** Simulated ns per kernel entry. */
  nsPerEntry?: number;
  /** Cores of the kernel (CONFIG_MAX_NUM_NODES, default 1). */
  cores?: number;
}

export class KernelDriver {
  readonly m: Machine;
  readonly k: Kernel;
  readonly root: TCB;
  now = 0;
  /** Kernel entries made so far. */
  entries = 0;
  readonly nsPerEntry: number;

  constructor(o: DriverOptions = {}) {
    this.m = new Machine({
      virt: { ramSize: o.ramSize ?? 128 * 1024 * 1024 },
      kernel: { rootCNodeSizeBits: o.rootCNodeSizeBits ?? 8, numCores: o.cores ?? 1 },
    });
    this.k = this.m.kernel;
    this.k.invariantHook = o.check ?? null;
    this.root = this.m.booted.rootTCB;
    this.nsPerEntry = o.nsPerEntry ?? 1000;
  }

  /** Physical address of t's IPC buffer if t may write it (a read-write frame), else -1. */
  buffer(t: TCB): number {
    return this.k.lookupIPCBuffer(true, t);
  }

  /** Enter the kernel with system call n from the current thread (registers already set). */
  syscall(n: number): void {
    const t = this.k.curThread;
    t.setReg(REG_PC, 0, SYSCALL_SITE);
    t.setReg(REG_NEXT_IP, 0, SYSCALL_SITE + 4);
    this.now += this.nsPerEntry;
    this.entries++;
    handleSyscall(this.k, n, this.now);
  }

  /** The kernel's timer interrupt. */
  timer(): void {
    this.now += this.nsPerEntry;
    this.entries++;
    handleInterruptEntry(this.k, -1, this.now);
  }

  /** Raise device interrupt `irq` at the PLIC and take it, as the hart would (on core 0, where device interrupts go). */
  deviceIRQ(irq: number): void {
    const plic = this.m.devices.plic;
    this.k.enterCore(0);
    plic.setLevel(irq, true);
    if (plic.hasPending()) {
      const claimed = plic.claim();
      if (claimed !== 0) {
        this.now += this.nsPerEntry;
        this.entries++;
        handleInterruptEntry(this.k, claimed, this.now);
      }
    }
    plic.setLevel(irq, false);
  }

  vmFault(addr: number, fsr: number, instruction: boolean): void {
    this.now += this.nsPerEntry;
    this.entries++;
    handleVMFaultEvent(this.k, addr, fsr, instruction, this.now);
  }

  userException(num: number, code: number): void {
    this.now += this.nsPerEntry;
    this.entries++;
    handleUserLevelFault(this.k, num, code, this.now);
  }

  /** Let simulated time pass by ns, taking a timer interrupt if one falls due. */
  advance(ns: number): void {
    this.now += ns;
    if (this.now >= this.k.deadline) this.timer();
  }

  /**
   * Take due timer interrupts and let the idle thread wait for the next one,
   * until a user thread is current. Returns false if no thread can run before
   * `horizon` ns from now (idle, and the release queue empty or its head
   * further away; one domain): only a device interrupt would change that soon.
   */
  settle(horizon = 50_000_000): boolean {
    const k = this.k;
    for (let i = 0; i < 1000; i++) {
      if (this.now >= k.deadline) {
        this.timer();
        continue;
      }
      if (k.curThread !== k.idleThread) return true;
      if (k.deadline === Infinity || k.config.numDomains > 1) return false;
      const r = k.releaseHead;
      if (r === null || r.sc === null || r.sc.refills.headTime > this.now + horizon) return false;
      this.now = k.deadline;
    }
    return k.curThread !== k.idleThread;
  }

  /**
   * Perform an invocation as thread t (which must become current), re-issuing
   * it if the kernel restarts it, and return the reply's label (the seL4
   * error). MRs beyond the four register MRs go into t's IPC buffer.
   */
  invoke(t: TCB, cptr: number, label: number, args: readonly number[], caps: readonly number[]): number {
    const k = this.k;
    for (let tries = 0; tries < 100; tries++) {
      if (!this.runUntilCurrent(t)) throw new Error(`driver: ${t.name} never became current`);
      const buf = this.buffer(t);
      for (let i = 0; i < caps.length; i++) k.writeWord(buf + IPCBUF_CAPS_OR_BADGES + 8 * i, 0, caps[i]!);
      for (let i = 0; i < args.length; i++) {
        const v = args[i]!;
        const hi = Math.floor(v / 4294967296) >>> 0;
        if (i < 4) t.setReg(REG_A2 + i, hi, v >>> 0);
        else k.writeWord(buf + IPCBUF_MSG + 8 * i, hi, v >>> 0);
      }
      t.setReg(REG_A0, Math.floor(cptr / 4294967296) >>> 0, cptr >>> 0);
      t.setReg(REG_A1, msgInfoHi(label), msgInfoLo(label, 0, caps.length, args.length));
      this.syscall(Syscall.Call);
      if (!this.runUntilCurrent(t)) throw new Error(`driver: ${t.name} blocked in an invocation`);
      if (t.getRegLo(REG_NEXT_IP) === SYSCALL_SITE) continue;
      return msgInfoGetLabel(t.getRegHi(REG_A1), t.getRegLo(REG_A1));
    }
    throw new Error('driver: invocation restarted too often');
  }

  /**
   * With several cores: settle the cores in turn from `first` until one has
   * a user thread to run, and leave the kernel entered on that core (true);
   * false if none has. On one core this is settle().
   */
  settleAny(first: number): boolean {
    const n = this.k.numCores;
    for (let i = 0; i < n; i++) {
      this.k.enterCore((first + i) % n);
      if (this.settle()) return true;
    }
    return false;
  }

  /** Let time pass until t is the current thread (false if that cannot happen by time alone). */
  runUntilCurrent(t: TCB): boolean {
    this.k.enterCore(t.affinity);
    return this.settle() && this.k.curThread === t;
  }
}
