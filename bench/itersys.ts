/**
 * A prototype of an allocation-free libsel4 syscall layer, to measure what
 * the generator-based user runtime could reach (bench only; the real libsel4
 * is src/user/libsel4.ts).
 *
 * Programs keep the `yield*` style, but a system call returns a reusable
 * iterator owned by the thread instead of creating two generator objects
 * (the libsel4 stub's and UserThread.syscall's) per call: its next() runs
 * the same state machine as UserThread.syscall (user time, trap, wait while
 * another thread runs, re-issue after a restart) and then the stub's epilogue
 * (message registers back to the IPC buffer, badge, message info), returning
 * preallocated iterator results.
 */
import type { Kernel } from '../src/kernel/kernel.js';
import { IPCBUF_MSG } from '../src/kernel/kernel.js';
import { REG_A0, REG_A1, REG_A2, REG_A6, REG_NEXT_IP, REG_PC, TCB } from '../src/kernel/object/tcb.js';
import type { Machine } from '../src/machine/machine.js';
import { currentThread, SYSCALL_SITE, UserThread } from '../src/user/thread.js';
import type { WordOut } from '../src/user/word.js';

const SYS_CALL = -1;
const SYS_REPLY_RECV = -2;
const SYS_NB_SEND_RECV = -3;
const SYS_SEND = -5;
const SYS_RECV = -7;
const SYS_WAIT = -9;

/** The result an iterator gives while its thread is not running (shared, never changed). */
const SUSPENDED: IteratorResult<unknown, number> = Object.freeze({ value: 0, done: false }) as IteratorResult<unknown, number>;

export class SyscallIterator implements Iterator<unknown, number, unknown>, Iterable<unknown> {
  private readonly t: TCB;
  private readonly m: Machine;
  private readonly k: Kernel;
  private readonly done: { value: number; done: true } = { value: 0, done: true };
  private n = 0;
  private phase = 0;
  /** Copy a2..a5 back to the IPC buffer (and the badge out) when the call completes. */
  private store = false;
  private badge: WordOut | null = null;
  /** IPC buffer message area as a u32 array and index of MR0 (resolved once: the prototype's buffer never moves). */
  private readonly buf: Uint32Array;
  private readonly mr0: number;

  constructor(readonly u: UserThread) {
    this.t = u.tcb;
    this.m = u.machine;
    this.k = this.m.kernel;
    const p = u.ipcBufferOrThrow();
    const r = this.m.mem.regionOf(p, 8)!;
    this.buf = r.u32;
    this.mr0 = (p - r.base + IPCBUF_MSG) >>> 2;
  }

  [Symbol.iterator](): this {
    return this;
  }

  private begin(n: number, store: boolean, badge: WordOut | null): this {
    this.n = n;
    this.phase = 0;
    this.store = store;
    this.badge = badge;
    return this;
  }

  private setWord(reg: number, v: number): void {
    const r = this.t.regs32;
    r[2 * reg] = v >>> 0;
    r[2 * reg + 1] = (v / 4294967296) >>> 0;
  }

  /** MR0..MR(n-1) (n <= 4) from the IPC buffer into a2..a5, as libsel4's stubs do. */
  private loadMRs(info: number): void {
    const n = info % 128 < 4 ? info % 128 : 4;
    const r = this.t.regs32;
    const b = this.buf;
    for (let i = 0; i < 2 * n; i++) r[2 * REG_A2 + i] = b[this.mr0 + i]!;
  }

  next(): IteratorResult<unknown, number> {
    const t = this.t;
    const m = this.m;
    const k = this.k;
    for (;;) {
      if (this.phase === 0) {
        t.regs32[2 * REG_PC] = SYSCALL_SITE;
        t.regs32[2 * REG_PC + 1] = 0;
        t.regs32[2 * REG_NEXT_IP] = SYSCALL_SITE + 4;
        t.regs32[2 * REG_NEXT_IP + 1] = 0;
        this.phase = 1;
        m.userTime(m.cost.userNsPerSyscall);
        if (k.curThread !== t) return SUSPENDED;
      }
      if (this.phase === 1) {
        this.phase = 2;
        m.syscall(this.n);
        if (k.curThread !== t) return SUSPENDED;
      }
      if (t.regs32[2 * REG_NEXT_IP] === SYSCALL_SITE) {
        this.phase = 0; // restarted: issue it again
        continue;
      }
      const r = t.regs32;
      if (this.store) {
        const b = this.buf;
        for (let i = 0; i < 8; i++) b[this.mr0 + i] = r[2 * REG_A2 + i]!;
      }
      if (this.badge !== null) {
        this.badge.lo = r[2 * REG_A0]!;
        this.badge.hi = r[2 * REG_A0 + 1]!;
      }
      this.done.value = r[2 * REG_A1 + 1]! * 4294967296 + r[2 * REG_A1]!;
      return this.done;
    }
  }

  // ---------------------------------------------------- libsel4's system calls

  call(dest: number, info: number): this {
    this.setWord(REG_A0, dest);
    this.setWord(REG_A1, info);
    this.loadMRs(info);
    return this.begin(SYS_CALL, true, null);
  }

  replyRecv(src: number, info: number, badge: WordOut | null, reply: number): this {
    this.setWord(REG_A0, src);
    this.setWord(REG_A1, info);
    this.setWord(REG_A6, reply);
    this.loadMRs(info);
    return this.begin(SYS_REPLY_RECV, true, badge);
  }

  nbSendRecv(dest: number, info: number, src: number, badge: WordOut | null, reply: number): this {
    this.setWord(24, dest); // t0
    this.setWord(REG_A0, src);
    this.setWord(REG_A1, info);
    this.setWord(REG_A6, reply);
    this.loadMRs(info);
    return this.begin(SYS_NB_SEND_RECV, true, badge);
  }

  send(dest: number, info: number): this {
    this.setWord(REG_A0, dest);
    this.setWord(REG_A1, info);
    this.loadMRs(info);
    return this.begin(SYS_SEND, false, null);
  }

  recv(src: number, badge: WordOut | null, reply: number): this {
    this.setWord(REG_A0, src);
    this.setWord(REG_A6, reply);
    return this.begin(SYS_RECV, true, badge);
  }

  wait(src: number, badge: WordOut | null): this {
    this.setWord(REG_A0, src);
    return this.begin(SYS_WAIT, true, badge);
  }

  signal(dest: number): this {
    this.setWord(REG_A0, dest);
    this.setWord(REG_A1, 0);
    return this.begin(SYS_SEND, false, null);
  }
}

/** The calling thread's syscall iterator (create once, at the start of a program). */
export function iterSys(): SyscallIterator {
  return new SyscallIterator(currentThread());
}
