/**
 * Kernel-internal exception status and the current syscall error
 * (seL4's exception_t and current_syscall_error).
 */

import { seL4_Error } from '../abi/constants.js';

export enum Exception {
  None = 0,
  Fault = 1,
  LookupFault = 2,
  SyscallError = 3,
  Preempted = 4,
}

/** The kernel's short names for seL4_Error (values from src/abi). */
export enum SeL4Error {
  NoError = seL4_Error.seL4_NoError,
  InvalidArgument = seL4_Error.seL4_InvalidArgument,
  InvalidCapability = seL4_Error.seL4_InvalidCapability,
  IllegalOperation = seL4_Error.seL4_IllegalOperation,
  RangeError = seL4_Error.seL4_RangeError,
  AlignmentError = seL4_Error.seL4_AlignmentError,
  FailedLookup = seL4_Error.seL4_FailedLookup,
  TruncatedMessage = seL4_Error.seL4_TruncatedMessage,
  DeleteFirst = seL4_Error.seL4_DeleteFirst,
  RevokeFirst = seL4_Error.seL4_RevokeFirst,
  NotEnoughMemory = seL4_Error.seL4_NotEnoughMemory,
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
