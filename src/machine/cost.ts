/**
 * The simulated time cost model: how many nanoseconds each kind of work takes.
 * Every kernel entry and every step of user code consumes time, so budgets run
 * out and timeouts fire deterministically. The defaults approximate seL4 on a
 * 1 GHz in-order RISC-V core (sel4bench reports a few hundred cycles for the
 * IPC fastpath and about a thousand for slowpath invocations).
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
}

export function defaultCostModel(): CostModel {
  return {
    userNsPerSyscall: 50,
    kernelNsPerSyscall: 400,
    kernelNsPerInterrupt: 300,
    hartNsPerInstruction: 1,
  };
}
