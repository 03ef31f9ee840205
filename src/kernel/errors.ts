/**
 * Kernel-internal exception status and the current syscall error
 * (seL4's exception_t and current_syscall_error).
 */

export enum Exception {
  None = 0,
  Fault = 1,
  LookupFault = 2,
  SyscallError = 3,
  Preempted = 4,
}

/** seL4_Error values. */
export enum SeL4Error {
  NoError = 0,
  InvalidArgument = 1,
  InvalidCapability = 2,
  IllegalOperation = 3,
  RangeError = 4,
  AlignmentError = 5,
  FailedLookup = 6,
  TruncatedMessage = 7,
  DeleteFirst = 8,
  RevokeFirst = 9,
  NotEnoughMemory = 10,
}

export class SyscallError {
  type: SeL4Error = SeL4Error.NoError;
  invalidArgumentNumber = 0;
  invalidCapNumber = 0;
  rangeErrorMin = 0;
  rangeErrorMax = 0;
  memoryLeft = 0;
  failedLookupWasSource = false;
}
