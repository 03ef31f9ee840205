/**
 * Multicore scheduling (seL4's ENABLE_SMP_SUPPORT parts of thread.c,
 * smp.c and ipi.c, MCS configuration).
 *
 * A thread runs on one core, its affinity, which is the core of the
 * scheduling context it runs on: binding, donation and SchedControl
 * configuration migrate it (migrateTCB). Only one core executes kernel code
 * at a time (seL4's big kernel lock), so a kernel entry can read and change
 * any core's state; it must first stall a thread that another core is
 * running (remoteTCBStall), and it wakes other cores with reschedule IPIs
 * (Kernel.ipiPending), which are taken when the entry ends.
 */
import type { Kernel } from '../kernel.js';
import type { TCB } from '../object/tcb.js';
import { switchSchedContext, setNextInterrupt, updateTimestamp, commitTime } from './time.js';
import { schedContextResume } from './schedcontext.js';
import { isSchedulable, switchToIdleThread } from './thread.js';
import { tcbSchedEnqueue } from './queues.js';
import { SchedulerAction } from '../node.js';

/**
 * seL4's migrateTCB: the thread now belongs to `core`. Callers make sure it
 * is in no ready or release queue (those are per core) and not running.
 */
export function migrateTCB(k: Kernel, t: TCB, core: number): void {
  if (t.affinity === core) return;
  if (t.inReadyQueue || t.inReleaseQueue) throw new Error(`kernel bug: migrating queued thread ${t.name}`);
  t.affinity = core;
  if (k.observer !== null) k.emit('migrate', { thread: t.name, to: core });
}

/**
 * seL4's remoteTCBStall: if another core is running t, make that core stop
 * running it before this kernel entry changes it. The other core takes the
 * stall IPI at once: its clock is read (the time t ran is charged to t's
 * scheduling context), t goes back to that core's ready queue (or release
 * queue, if its budget ran out meanwhile), the core runs its idle thread,
 * and it reschedules when this entry ends (a reschedule IPI). seL4's stall
 * handler also leaves the core idle; the extra reschedule makes it pick its
 * next thread at once instead of at its next interrupt.
 */
export function remoteTCBStall(k: Kernel, t: TCB): void {
  const c = t.affinity;
  const self = k.node;
  if (c === self.core) return;
  const n = k.nodes[c]!;
  if (n.curThread !== t) return;
  k.enterCore(c);
  try {
    updateTimestamp(k, k.clockOf(c, self.curTime, false));
    commitTime(k);
    // Back to its ready queue, or to the release queue if its head refill cannot be used now.
    schedContextResume(k, t.sc);
    if (isSchedulable(t)) tcbSchedEnqueue(k, t);
    k.sliceEndHint = 'preempted';
    switchToIdleThread(k);
    k.schedulerAction = SchedulerAction.ResumeCurrentThread;
    k.schedulerTarget = null;
    switchSchedContext(k);
    setNextInterrupt(k);
    k.reprogram = false;
  } finally {
    k.node = self;
  }
  k.ipiPending |= 1 << c;
}
