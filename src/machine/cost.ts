/**
 * The simulated time cost model: how many nanoseconds each kind of work takes.
 * Every kernel entry and every step of user code consumes time, so budgets run
 * out and timeouts fire deterministically. The defaults approximate seL4 on a
 * 1 GHz in-order RISC-V core (sel4bench reports a few hundred cycles for the
 * IPC fastpath and about a thousand for slowpath invocations).
 *
 * How time is charged: the machine adds a kernel entry's cost to the clock
 * before the kernel reads it (updateTimestamp), so the entry is billed to the
 * scheduling context that was running when it was taken, as is all user time
 * since the previous entry. The timer interrupt is taken as soon as user code
 * reaches the kernel's deadline (user steps are cut at it); the idle thread
 * lets time jump to the deadline.
 */
export interface CostModel {
  /** User-level time a TypeScript thread spends between two syscalls. */
  userNsPerSyscall: number;
  /** Kernel entry, work and exit for one system call. */
  kernelNsPerSyscall: number;
  /** Kernel entry and exit for an interrupt or a fault. */
  kernelNsPerInterrupt: number;
  /** Time per instruction executed by the emulated hart. */
  hartNsPerInstruction: number;
  /**
   * With several cores: how far one core's user code may run past the next
   * event of another core before the simulator switches cores (the bound on
   * the skew between core clocks).
   */
  smpQuantumNs: number;
}

export function defaultCostModel(): CostModel {
  return {
    userNsPerSyscall: 50,
    kernelNsPerSyscall: 400,
    kernelNsPerInterrupt: 300,
    hartNsPerInstruction: 1,
    smpQuantumNs: 2000,
  };
}
