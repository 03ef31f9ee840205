/**
 * CNode invocations (seL4's decodeCNodeInvocation and the invokeCNode* operations):
 * Revoke, Delete, CancelBadgedSends, Copy, Mint, Move, Mutate, Rotate.
 */
import { Cap, CapType, ALL_RIGHTS, maskCapRights } from './cap.js';
import { LookupFailure } from './cspace.js';
import { deriveCap, updateCapData } from './derive.js';
import { SeL4Error } from './errors.js';
import type { Kernel } from './kernel.js';
import { InvocationLabel } from './labels.js';
import { lookupPivotSlot, lookupSourceSlot, lookupTargetSlot } from './lookup.js';
import { cteInsert, cteMove, cteSwap } from './mdb.js';
import { cteDelete, cteRevoke } from './delete.js';
import { cancelBadgedSends } from './ipc/endpoint.js';
import type { Endpoint } from './object/endpoint.js';
import { ThreadState } from './object/tcb.js';
import { setThreadState } from './sched/thread.js';

function missingCapability(k: Kernel, wasSource: boolean, bitsLeft: number): SeL4Error {
  k.lookupFault.type = LookupFailure.MissingCapability;
  k.lookupFault.bitsLeft = bitsLeft;
  return k.failedLookup(wasSource);
}

export function decodeCNodeInvocation(k: Kernel, label: number, length: number, cap: Cap): SeL4Error {
  if (label < InvocationLabel.CNodeRevoke || label > InvocationLabel.CNodeRotate) {
    return k.error(SeL4Error.IllegalOperation);
  }
  if (length < 2) return k.error(SeL4Error.TruncatedMessage);
  const w = k.argNumber(1);
  const destSlot = lookupTargetSlot(k, cap, k.argHi(0), k.argLo(0), w);
  if (destSlot === null) return k.err.type;

  if (
    label === InvocationLabel.CNodeCopy ||
    label === InvocationLabel.CNodeMint ||
    label === InvocationLabel.CNodeMove ||
    label === InvocationLabel.CNodeMutate
  ) {
    const srcRootSlot = k.extraCaps[0];
    if (length < 4 || srcRootSlot === null) return k.error(SeL4Error.TruncatedMessage);
    const srcDepth = k.argNumber(3);
    if (!destSlot.isEmpty) return k.error(SeL4Error.DeleteFirst);
    const srcSlot = lookupSourceSlot(k, srcRootSlot.cap, k.argHi(2), k.argLo(2), srcDepth);
    if (srcSlot === null) return k.err.type;
    if (srcSlot.isEmpty) return missingCapability(k, true, srcDepth);

    let newCap: Cap;
    let isMove: boolean;
    if (label === InvocationLabel.CNodeCopy) {
      if (length < 5) return k.error(SeL4Error.TruncatedMessage);
      const rights = k.argLo(4) & ALL_RIGHTS;
      const d = deriveCap(k, srcSlot, maskCapRights(rights, srcSlot.cap));
      if (d === null) return k.err.type;
      newCap = d;
      isMove = false;
    } else if (label === InvocationLabel.CNodeMint) {
      if (length < 6) return k.error(SeL4Error.TruncatedMessage);
      const rights = k.argLo(4) & ALL_RIGHTS;
      const masked = maskCapRights(rights, srcSlot.cap);
      const d = deriveCap(k, srcSlot, updateCapData(false, k.argHi(5), k.argLo(5), masked));
      if (d === null) return k.err.type;
      newCap = d;
      isMove = false;
    } else if (label === InvocationLabel.CNodeMove) {
      newCap = srcSlot.cap;
      isMove = true;
    } else {
      if (length < 5) return k.error(SeL4Error.TruncatedMessage);
      newCap = updateCapData(true, k.argHi(4), k.argLo(4), srcSlot.cap);
      isMove = true;
    }
    if (newCap.isNull) return k.error(SeL4Error.IllegalOperation);

    setThreadState(k, k.curThread, ThreadState.Restart);
    if (isMove) cteMove(newCap, srcSlot, destSlot);
    else cteInsert(newCap, srcSlot, destSlot);
    return SeL4Error.NoError;
  }

  if (label === InvocationLabel.CNodeRevoke) {
    setThreadState(k, k.curThread, ThreadState.Restart);
    cteRevoke(k, destSlot);
    return SeL4Error.NoError;
  }
  if (label === InvocationLabel.CNodeDelete) {
    setThreadState(k, k.curThread, ThreadState.Restart);
    cteDelete(k, destSlot, true);
    return SeL4Error.NoError;
  }
  if (label === InvocationLabel.CNodeCancelBadgedSends) {
    const c = destSlot.cap;
    if (!hasCancelSendRights(c)) return k.error(SeL4Error.IllegalOperation);
    setThreadState(k, k.curThread, ThreadState.Restart);
    if (c.hasBadge()) cancelBadgedSends(k, c.obj as Endpoint, c.badgeHi, c.badgeLo);
    return SeL4Error.NoError;
  }
  // Rotate
  const pivotRootSlot = k.extraCaps[0];
  const srcRootSlot = k.extraCaps[1];
  if (length < 8 || pivotRootSlot === null || srcRootSlot === null) return k.error(SeL4Error.TruncatedMessage);
  const pivotDepth = k.argNumber(4);
  const srcDepth = k.argNumber(7);
  const srcSlot = lookupSourceSlot(k, srcRootSlot.cap, k.argHi(6), k.argLo(6), srcDepth);
  if (srcSlot === null) return k.err.type;
  const pivotSlot = lookupPivotSlot(k, pivotRootSlot.cap, k.argHi(3), k.argLo(3), pivotDepth);
  if (pivotSlot === null) return k.err.type;
  if (pivotSlot === srcSlot || pivotSlot === destSlot) return k.error(SeL4Error.IllegalOperation);
  if (srcSlot !== destSlot && !destSlot.isEmpty) return k.error(SeL4Error.DeleteFirst);
  if (srcSlot.isEmpty) return missingCapability(k, true, srcDepth);
  if (pivotSlot.isEmpty) return missingCapability(k, false, pivotDepth);
  const newSrcCap = updateCapData(true, k.argHi(5), k.argLo(5), srcSlot.cap);
  const newPivotCap = updateCapData(true, k.argHi(2), k.argLo(2), pivotSlot.cap);
  if (newSrcCap.isNull) return k.error(SeL4Error.IllegalOperation);
  if (newPivotCap.isNull) return k.error(SeL4Error.IllegalOperation);
  setThreadState(k, k.curThread, ThreadState.Restart);
  if (destSlot === srcSlot) {
    cteSwap(newSrcCap, srcSlot, newPivotCap, pivotSlot);
  } else {
    cteMove(newPivotCap, pivotSlot, destSlot);
    cteMove(newSrcCap, srcSlot, pivotSlot);
  }
  return SeL4Error.NoError;
}


/** An endpoint cap with all four rights may cancel badged sends. */
function hasCancelSendRights(c: Cap): boolean {
  return c.type === CapType.Endpoint && (c.rights & ALL_RIGHTS) === ALL_RIGHTS;
}

