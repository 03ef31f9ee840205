/** Kernel build configuration (the CONFIG_* values of the seL4 build we mirror). */
export interface KernelConfig {
  /** CONFIG_NUM_PRIORITIES */
  numPriorities: number;
  /** CONFIG_NUM_DOMAINS */
  numDomains: number;
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
    retypeFanOutLimit: 256,
    rootCNodeSizeBits: 12,
    maxBootInfoUntypedCaps: 230,
    bootThreadTimeSliceUs: 5000,
    checkInvariants: false,
  };
}
