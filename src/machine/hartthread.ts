/**
 * Hart threads: the ThreadContext of a TCB whose pc is not a registered
 * TypeScript program. Its user code runs as RISC-V instructions on the
 * machine's one emulated hart (hart.ts), over the Sv39 page tables of the
 * thread's own VSpace, and enters the kernel exactly where seL4's trap
 * handler would:
 *
 * - ecall: registers go back to the TCB with FaultIP = pc of the ecall and
 *   NextIP = pc + 4, then the syscall numbered by a7 (signed) runs;
 * - page and access faults: a VM fault with seL4's normalised FSR
 *   (load 5, store 7, instruction 1 with PrefetchFault);
 * - anything else (illegal instruction, breakpoint, misaligned LR/SC/AMO):
 *   a user exception (scause, 0).
 *
 * The hart runs in slices that end at the kernel's timer deadline; each
 * instruction costs cost.hartNsPerInstruction of simulated time. Interrupts
 * become due between slices (Machine.userTime), before the instruction that
 * stopped the slice, which is then re-executed when the thread runs again.
 * After every kernel entry the TCB is the only truth: registers are reloaded
 * from it if the thread is still the current, running one, and the hart
 * stops otherwise.
 */
import { CapType } from '../kernel/cap.js';
import type { Kernel } from '../kernel/kernel.js';
import { REG_NEXT_IP, REG_PC, TCB, TCB_VTABLE, ThreadState } from '../kernel/object/tcb.js';
import { nsToTicks } from './devices/timer.js';
import { Hart, MmioBus as HartBus, TrapKind } from './hart.js';
import type { Machine, ThreadContext } from './machine.js';
import {
  CAUSE_FETCH_ACCESS,
  CAUSE_FETCH_PAGE_FAULT,
  CAUSE_LOAD_ACCESS,
  CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_ACCESS,
  CAUSE_STORE_PAGE_FAULT,
} from './sv39.js';

/**
 * TCB register index (seL4_UserContext order: pc, ra, sp, gp, s0..s11, a0..a7,
 * t0..t6, tp) of hart register x1..x31; x0 has none.
 */
const TCB_INDEX_OF_X: readonly number[] = [
  -1, // zero
  1, 2, 3, 31, // ra sp gp tp
  24, 25, 26, // t0 t1 t2
  4, 5, // s0 s1
  16, 17, 18, 19, 20, 21, 22, 23, // a0..a7
  6, 7, 8, 9, 10, 11, 12, 13, 14, 15, // s2..s11
  27, 28, 29, 30, // t3..t6
];
const X_A7 = 17;

/** Most instructions run in one slice (the deadline usually ends it sooner). */
const MAX_SLICE = 20_000;
/** Instructions per resume() before handing control back to the machine loop. */
const MAX_PER_RESUME = 200_000;

/** seL4's normalised VM fault status (vspace.c handleVMFault). */
function vmFaultFSR(cause: number): number {
  switch (cause) {
    case CAUSE_LOAD_ACCESS:
    case CAUSE_LOAD_PAGE_FAULT:
      return CAUSE_LOAD_ACCESS;
    case CAUSE_STORE_ACCESS:
    case CAUSE_STORE_PAGE_FAULT:
      return CAUSE_STORE_ACCESS;
    default:
      return CAUSE_FETCH_ACCESS;
  }
}

function isInstructionFault(cause: number): boolean {
  return cause === CAUSE_FETCH_ACCESS || cause === CAUSE_FETCH_PAGE_FAULT;
}

/**
 * seL4's setVMRoot: the thread's root page table if its VTable cap names a
 * page table that is the root of the VSpace of its ASID, else none (the
 * kernel's own table, in which every user access faults).
 */
export function threadVSpaceRoot(k: Kernel, t: TCB): number {
  const c = t.slots[TCB_VTABLE]!.cap;
  if (c.type !== CapType.PageTable || !c.isMapped) return -1;
  const pool = k.asids.pools[c.mappedASID >>> 9] ?? null;
  if (pool === null) return -1;
  return pool.entries[c.mappedASID & 511] === c.paddr ? c.paddr : -1;
}

/** The machine's single hart, shared by every hart thread. */
export class HartCore {
  readonly hart: Hart;
  /** machine.tlbGeneration the hart's TLB reflects. */
  tlbGeneration = -1;

  constructor(readonly machine: Machine) {
    const bus = machine.devices.bus;
    const mmio: HartBus = {
      read: (paddr, size) => {
        const v = bus.read(paddr, size);
        return v < 0 ? 0 : v;
      },
      write: (paddr, size, value) => {
        const v = typeof value === 'bigint' ? Number(BigInt.asUintN(size === 8 ? 53 : 32, value)) : value;
        bus.write(paddr, size, v);
      },
    };
    this.hart = new Hart(machine.mem, mmio);
    this.hart.readTime = () => nsToTicks(machine.now);
  }
}

/** The user context of one TCB running on the hart. */
export class HartThread implements ThreadContext {
  constructor(
    readonly core: HartCore,
    readonly tcb: TCB,
  ) {}

  /** Copy the TCB's registers, resume address and VSpace into the hart. */
  private load(): void {
    const h = this.core.hart;
    const m = this.core.machine;
    const r = this.tcb.regs32;
    const x = h.x;
    for (let i = 1; i < 32; i++) {
      const j = TCB_INDEX_OF_X[i]!;
      x[2 * i] = r[2 * j]! | 0;
      x[2 * i + 1] = r[2 * j + 1]! | 0;
    }
    h.setPcHiLo(r[2 * REG_NEXT_IP + 1]! | 0, r[2 * REG_NEXT_IP]! | 0);
    h.satpRoot = threadVSpaceRoot(m.kernel, this.tcb);
    if (this.core.tlbGeneration !== m.tlbGeneration) {
      h.tlb.flush();
      this.core.tlbGeneration = m.tlbGeneration;
    }
  }

  /** Copy the hart's registers back into the TCB; FaultIP = NextIP = pc. */
  private save(): void {
    const h = this.core.hart;
    const r = this.tcb.regs32;
    const x = h.x;
    for (let i = 1; i < 32; i++) {
      const j = TCB_INDEX_OF_X[i]!;
      r[2 * j] = x[2 * i]!;
      r[2 * j + 1] = x[2 * i + 1]!;
    }
    const lo = h.getPcLo32();
    const hi = h.getPcHi32();
    this.tcb.setReg(REG_PC, hi, lo);
    this.tcb.setReg(REG_NEXT_IP, hi, lo);
  }

  private stillRunning(k: Kernel): boolean {
    return k.curThread === this.tcb && this.tcb.state === ThreadState.Running;
  }

  resume(): boolean {
    const m = this.core.machine;
    const k = m.kernel;
    const h = this.core.hart;
    const nsPer = m.cost.hartNsPerInstruction;
    if (!this.stillRunning(k)) return true;
    // Another thread may have run since: no LR reservation survives a switch.
    h.clearReservation();
    this.load();
    let done = 0;
    while (done < MAX_PER_RESUME) {
      let budget = MAX_SLICE;
      const end = m.sliceEnd();
      if (end !== Infinity && nsPer > 0) {
        const left = Math.ceil((end - m.now) / nsPer);
        budget = Math.max(1, Math.min(MAX_SLICE, left));
      }
      const before = h.instret;
      const kind = h.run(budget);
      const executed = h.instret - before + (kind === TrapKind.None ? 0 : 1);
      done += executed;
      this.save();
      // Time passes first: an interrupt due now is taken before the trapping instruction.
      m.userTime(executed * nsPer);
      if (!this.stillRunning(k)) return true;
      if (kind === TrapKind.None && m.yieldRequested()) return true;
      if (kind !== TrapKind.None) {
        this.trap(kind);
        if (!this.stillRunning(k)) return true;
      }
      this.load();
    }
    return true;
  }

  /** Enter the kernel for the trap the hart stopped on (registers already saved). */
  private trap(kind: TrapKind): void {
    const m = this.core.machine;
    const h = this.core.hart;
    const t = this.tcb;
    switch (kind) {
      case TrapKind.Ecall: {
        const lo = h.getPcLo32();
        const next = lo + 4;
        t.setReg(REG_NEXT_IP, (h.getPcHi32() + (next > 0xffffffff ? 1 : 0)) >>> 0, next >>> 0);
        m.syscall(h.x[2 * X_A7 + 1]! * 4294967296 + (h.x[2 * X_A7]! >>> 0));
        return;
      }
      case TrapKind.MemoryFault: {
        const cause = h.cause;
        m.vmFault(h.getTvalHi32() * 4294967296 + h.getTvalLo32(), vmFaultFSR(cause), isInstructionFault(cause));
        return;
      }
      default:
        m.userException(h.cause, 0);
        return;
    }
  }
}

/** Machine.hartFactory: every thread that is not a TypeScript program runs on the hart. */
export function hartThreadFactory(): (m: Machine, t: TCB) => ThreadContext | null {
  let core: HartCore | null = null;
  return (m, t) => {
    if (core === null || core.machine !== m) core = new HartCore(m);
    return new HartThread(core, t);
  };
}
