/** Kernel build configuration (the CONFIG_* values of the seL4 build we mirror). */

/**
 * One entry of the static domain schedule (seL4's dschedule_t): the domain
 * that runs and for how long. seL4 (MCS) states lengths in milliseconds and
 * converts them with usToTicks(length * US_IN_MS); here they are given
 * directly in nanoseconds of the simulated clock.
 */
export interface DomainScheduleEntry {
  domain: number;
  /** Length of the slot in ns (at least MIN_BUDGET, 20 us). */
  length: number;
}

export interface KernelConfig {
  /** CONFIG_NUM_PRIORITIES */
  numPriorities: number;
  /** CONFIG_NUM_DOMAINS */
  numDomains: number;
  /**
   * The static domain schedule (ksDomSchedule). Only used when numDomains > 1;
   * seL4's default schedule is one 1 ms slot of domain 0.
   */
  domainSchedule: DomainScheduleEntry[];
  /**
   * CONFIG_MAX_NUM_NODES: the number of cores. Each has its own SchedControl
   * cap; a thread runs on the core of its scheduling context.
   */
  numCores: number;
  /** CONFIG_RETYPE_FAN_OUT_LIMIT */
  retypeFanOutLimit: number;
  /** CONFIG_ROOT_CNODE_SIZE_BITS */
  rootCNodeSizeBits: number;
  /** CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS */
  maxBootInfoUntypedCaps: number;
  /** CONFIG_BOOT_THREAD_TIME_SLICE in microseconds (root task budget and period). */
  bootThreadTimeSliceUs: number;
  /** Run the invariant checker after every kernel entry. */
  checkInvariants: boolean;
}

export function defaultKernelConfig(): KernelConfig {
  return {
    numPriorities: 256,
    numDomains: 1,
    numCores: 1,
    domainSchedule: [{ domain: 0, length: 1_000_000 }],
    retypeFanOutLimit: 256,
    rootCNodeSizeBits: 12,
    maxBootInfoUntypedCaps: 230,
    bootThreadTimeSliceUs: 5000,
    checkInvariants: false,
  };
}
