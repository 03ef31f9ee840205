/**
 * Stopping and starting threads (seL4 13.0.0 thread.c suspend and restart).
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

/**
 * seL4's updateRestartPC: FaultIP := NextIP, so that a Running thread that is
 * stopped resumes where it was (a restart sets NextIP from FaultIP).
 */
function updateRestartPC(t: TCB): void {
  t.setReg(REG_PC, t.getRegHi(REG_NEXT_IP), t.getRegLo(REG_NEXT_IP));
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
