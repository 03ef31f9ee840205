/**
 * The user side of a TypeScript thread: its program (a generator), the
 * syscall boundary and memory access through the thread's own VSpace.
 *
 * Only the syscall instruction is simulated: arguments go into the TCB's
 * registers and IPC buffer exactly where a RISC-V binary would put them, the
 * kernel runs, and results come back the same way. A blocked thread's
 * generator is simply not resumed until the kernel schedules it again.
 */
import { Access, TranslateResult, translate } from '../machine/sv39.js';
import type { Machine } from '../machine/machine.js';
import { CapType } from '../kernel/cap.js';
import { REG_NEXT_IP, REG_PC, TCB, TCB_VTABLE, ThreadState } from '../kernel/object/tcb.js';

/** A TypeScript thread program: a generator function run by the machine. */
export type Program = (...args: number[]) => Generator<unknown, void, unknown>;

/** The fake "instruction address" of a TypeScript thread's syscall site. */
export const SYSCALL_SITE = 0x1000;

/** RISC-V scause values reported for VM faults (seL4 normalises them, see VMFault FSR). */
const FSR_LOAD = 5;
const FSR_STORE = 7;
const FSR_FETCH = 1;

/** Thrown inside a program when it uses its IPC buffer while none is mapped. */
export class NoIPCBufferError extends Error {}

let current: UserThread | null = null;

/** The TypeScript thread whose code is running now (libsel4's __sel4_ipc_buffer). */
export function currentThread(): UserThread {
  if (current === null) throw new Error('libsel4 call outside a running sel4ts thread');
  return current;
}

export class UserThread {
  readonly tcb: TCB;
  readonly machine: Machine;
  readonly name: string;
  private gen: Generator<unknown, void, unknown> | null = null;
  private readonly program: Program;
  private readonly args: number[];
  /** Cached translation of the IPC buffer page. */
  private ipcVaddr = -1;
  private ipcPaddr = -1;
  private ipcGen = -1;
  private ipcRoot = -1;
  private ipcWords: Uint32Array | null = null;
  /** Word index of the IPC buffer's start in the array ipcBufferWords returns. */
  ipcWordIndex = 0;
  private readonly tr = new TranslateResult();
  finished = false;
  /** Set once the program has been resumed at least once. */
  started = false;

  constructor(machine: Machine, tcb: TCB, program: Program, args: number[]) {
    this.machine = machine;
    this.tcb = tcb;
    this.program = program;
    this.args = args;
    this.name = tcb.name;
  }

  /** Run the program until it blocks, is preempted or returns. Returns false when it has returned. */
  resume(): boolean {
    this.started = true;
    current = this;
    try {
      if (this.gen === null) {
        this.gen = this.program(...this.args);
        // The thread has left its entry point: its pc is now inside the program.
        this.tcb.setReg(REG_PC, 0, SYSCALL_SITE);
        this.tcb.setReg(REG_NEXT_IP, 0, SYSCALL_SITE + 4);
      }
      const r = this.gen.next();
      if (r.done === true) {
        this.finished = true;
        return false;
      }
      return true;
    } finally {
      current = null;
    }
  }

  /** Root of the thread's VSpace (physical address), or -1. */
  vspaceRoot(): number {
    const c = this.tcb.slots[TCB_VTABLE]!.cap;
    return c.type === CapType.PageTable && c.isMapped ? c.paddr : -1;
  }

  /** Physical address of the IPC buffer (translated through the VSpace), or -1. */
  ipcBufferPaddr(): number {
    const t = this.tcb;
    const m = this.machine;
    const root = this.vspaceRoot();
    if (this.ipcVaddr === t.ipcBuffer && this.ipcGen === m.tlbGeneration && this.ipcRoot === root) return this.ipcPaddr;
    let p = -1;
    if (root >= 0 && t.ipcBuffer !== 0 && translate(m.mem, root, t.ipcBuffer, Access.Write, this.tr)) p = this.tr.paddr;
    this.ipcVaddr = t.ipcBuffer;
    this.ipcPaddr = p;
    this.ipcGen = m.tlbGeneration;
    this.ipcRoot = root;
    const r = p >= 0 ? m.mem.regionOf(p, 1024) : null;
    this.ipcWords = r === null ? null : r.u32;
    this.ipcWordIndex = r === null ? 0 : (p - r.base) >>> 2;
    return p;
  }

  /**
   * The IPC buffer as 32-bit words: returns the backing array and leaves the
   * word index of the buffer's start in ipcWordIndex (allocation free).
   */
  ipcBufferWords(): Uint32Array {
    this.ipcBufferOrThrow();
    return this.ipcWords!;
  }

  ipcBufferOrThrow(): number {
    const p = this.ipcBufferPaddr();
    if (p < 0) throw new NoIPCBufferError(`thread ${this.tcb.name} has no mapped IPC buffer at 0x${this.tcb.ipcBuffer.toString(16)}`);
    return p;
  }

  /**
   * Perform system call n with the registers already set. Yields while the
   * thread is not running and re-issues the call when the kernel restarts it.
   */
  *syscall(n: number): Generator<unknown, void, unknown> {
    const t = this.tcb;
    const m = this.machine;
    const k = m.kernel;
    for (;;) {
      t.setReg(REG_PC, 0, SYSCALL_SITE);
      t.setReg(REG_NEXT_IP, 0, SYSCALL_SITE + 4);
      m.userTime(m.cost.userNsPerSyscall);
      if (k.curThread !== t) yield 0;
      m.syscall(n);
      // Hand control back when another thread runs, or the run's time limit is reached.
      if (k.curThread !== t || m.yieldRequested()) yield 0;
      if (t.getRegLo(REG_NEXT_IP) === SYSCALL_SITE) continue; // restarted: run it again
      return;
    }
  }

  /** Consume ns of user-level computation (preemptible). */
  *work(ns: number): Generator<unknown, void, unknown> {
    const m = this.machine;
    const k = m.kernel;
    let left = ns;
    while (left > 0) {
      const step = Math.min(left, Math.max(1, m.sliceEnd() - m.now));
      m.userTime(step);
      left -= step;
      if (k.curThread !== this.tcb || m.yieldRequested()) yield 0;
    }
  }

  /** Translate a user access, raising a VM fault (and waiting for its handling) until it succeeds. */
  *translateUser(vaddr: number, access: Access): Generator<unknown, number, unknown> {
    const m = this.machine;
    const t = this.tcb;
    for (;;) {
      const root = this.vspaceRoot();
      if (root >= 0 && translate(m.mem, root, vaddr, access, this.tr)) return this.tr.paddr;
      t.setReg(REG_PC, 0, SYSCALL_SITE);
      t.setReg(REG_NEXT_IP, 0, SYSCALL_SITE);
      const fsr = access === Access.Write ? FSR_STORE : access === Access.Execute ? FSR_FETCH : FSR_LOAD;
      m.vmFault(vaddr, fsr, access === Access.Execute);
      if (m.kernel.curThread !== t || t.state !== ThreadState.Running) yield 0;
      if (t.getRegLo(REG_NEXT_IP) !== SYSCALL_SITE) throw new Error(`fault handler moved ${t.name} past a TypeScript memory access`);
    }
  }

  *load(vaddr: number, size: 1 | 2 | 4 | 8): Generator<unknown, bigint, unknown> {
    const p = yield* this.translateUser(vaddr, Access.Read);
    return this.machine.physRead(p, size);
  }

  *store(vaddr: number, size: 1 | 2 | 4 | 8, value: bigint | number): Generator<unknown, void, unknown> {
    const p = yield* this.translateUser(vaddr, Access.Write);
    this.machine.physWrite(p, size, typeof value === 'bigint' ? value : BigInt(value));
  }

  /**
   * Raise a user exception (as an illegal instruction at the current pc
   * would) and wait for it to be handled. Like the faulting instruction, it
   * is executed again whenever the thread is restarted at the same pc; it
   * completes once the handler moves the pc past it (reply MR0 = pc + 4).
   */
  *userException(number: number, code: number): Generator<unknown, void, unknown> {
    const m = this.machine;
    const t = this.tcb;
    for (;;) {
      t.setReg(REG_PC, 0, SYSCALL_SITE);
      t.setReg(REG_NEXT_IP, 0, SYSCALL_SITE);
      m.userException(number, code);
      if (m.kernel.curThread !== t || t.state !== ThreadState.Running) yield 0;
      if (t.getRegLo(REG_NEXT_IP) !== SYSCALL_SITE || t.getRegHi(REG_NEXT_IP) !== 0) return;
    }
  }
}
