/**
 * Stopping and starting threads (seL4's suspend and restart).
 */
import type { Kernel } from '../kernel.js';
import { REG_NEXT_IP, REG_PC, TCB, ThreadState } from '../object/tcb.js';
import { cancelIPC } from '../ipc/endpoint.js';
import { tcbReleaseRemove, tcbSchedDequeue } from './queues.js';
import { isSchedulable, possibleSwitchTo, setThreadState } from './thread.js';
import { schedContextCancelYieldTo, schedContextResume } from './schedcontext.js';

export function isStopped(t: TCB): boolean {
  switch (t.state) {
    case ThreadState.Inactive:
    case ThreadState.BlockedOnReceive:
    case ThreadState.BlockedOnSend:
    case ThreadState.BlockedOnNotification:
    case ThreadState.BlockedOnReply:
      return true;
    default:
      return false;
  }
}

/** A running thread that is stopped will re-execute its current instruction when resumed. */
function updateRestartPC(t: TCB): void {
  t.setReg(REG_NEXT_IP, t.getRegHi(REG_PC), t.getRegLo(REG_PC));
}

export function suspend(k: Kernel, t: TCB): void {
  cancelIPC(k, t);
  if (t.state === ThreadState.Running) updateRestartPC(t);
  setThreadState(k, t, ThreadState.Inactive);
  tcbSchedDequeue(k, t);
  tcbReleaseRemove(k, t);
  schedContextCancelYieldTo(t);
}

export function restart(k: Kernel, t: TCB): void {
  if (!isStopped(t)) return;
  cancelIPC(k, t);
  setThreadState(k, t, ThreadState.Restart);
  const sc = t.sc;
  if (sc !== null && sc.refills.isSporadic() && sc !== k.curSC) sc.refills.refillUnblockCheck(k.curTime);
  schedContextResume(k, sc);
  if (isSchedulable(t)) possibleSwitchTo(k, t);
}
