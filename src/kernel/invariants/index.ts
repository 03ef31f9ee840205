/**
 * Kernel invariants checked at run time (the properties seL4's proofs
 * establish, restated for sel4ts's data structures). Each check is a named
 * function that throws InvariantViolation naming itself; INVARIANTS registers
 * them and checkInvariants runs them all after a kernel entry. The checks are
 * linear in the number of objects and slots: one shared pass over the caps and
 * the MDB (capscan.ts) and one over the registries (objscan.ts) serve them all,
 * computed once per checkInvariants run (batch.ts). Every run checks the whole
 * state; the capability pass is reused only while provably nothing it read has
 * changed (capscan.ts, capgen.ts).
 */
import type { Kernel } from '../kernel.js';
import type { Slot } from '../slot.js';
import { beginBatch, endBatch } from './batch.js';
import { capsInsideUntyped, capsNameLiveObjects, objectsHaveCaps, untypedObjectsDisjoint } from './caps.js';
import { callStacks, endpointQueues, notificationBinding, notificationQueues, replyObjects } from './ipc.js';
import { mdbObjectRuns, mdbWellFormed } from './mdb.js';
import {
  currentThread,
  idleThread,
  readyQueues,
  releaseQueue,
  runnableHaveSchedContext,
  schedContexts,
  schedulableThreadsQueued,
} from './sched.js';
import { asidTable, vspaceMappings } from './vspace.js';

export { InvariantViolation } from './violation.js';
export {
  asidTable,
  callStacks,
  capsInsideUntyped,
  capsNameLiveObjects,
  currentThread,
  endpointQueues,
  idleThread,
  mdbObjectRuns,
  mdbWellFormed,
  notificationBinding,
  notificationQueues,
  objectsHaveCaps,
  readyQueues,
  releaseQueue,
  replyObjects,
  runnableHaveSchedContext,
  schedContexts,
  schedulableThreadsQueued,
  untypedObjectsDisjoint,
  vspaceMappings,
};

/** Every slot the kernel can reach: CNode slots, TCB slots and IRQ handler slots. */
export function allSlots(k: Kernel): Slot[] {
  const out: Slot[] = [];
  for (const cn of k.cnodes) for (const s of cn.allocatedSlots()) out.push(s);
  for (const t of k.tcbs) for (const s of t.slots) out.push(s);
  for (const s of k.irqs.slots) out.push(s);
  return out;
}

export const INVARIANTS: ReadonlyArray<[string, (k: Kernel) => void]> = [
  ['mdbWellFormed', mdbWellFormed],
  ['mdbObjectRuns', mdbObjectRuns],
  ['capsNameLiveObjects', capsNameLiveObjects],
  ['objectsHaveCaps', objectsHaveCaps],
  ['capsInsideUntyped', capsInsideUntyped],
  ['untypedObjectsDisjoint', untypedObjectsDisjoint],
  ['endpointQueues', endpointQueues],
  ['notificationQueues', notificationQueues],
  ['notificationBinding', notificationBinding],
  ['replyObjects', replyObjects],
  ['callStacks', callStacks],
  ['schedContexts', schedContexts],
  ['readyQueues', readyQueues],
  ['releaseQueue', releaseQueue],
  ['schedulableThreadsQueued', schedulableThreadsQueued],
  ['runnableHaveSchedContext', runnableHaveSchedContext],
  ['currentThread', currentThread],
  ['idleThread', idleThread],
  ['asidTable', asidTable],
  ['vspaceMappings', vspaceMappings],
];

/** Run every invariant over the current kernel state; throws the first InvariantViolation. */
export function checkInvariants(k: Kernel): void {
  beginBatch();
  try {
    for (let i = 0; i < INVARIANTS.length; i++) INVARIANTS[i]![1](k);
  } finally {
    endBatch();
  }
}

/** Names of the invariants that do not hold (all of them checked; for diagnostics and tests). */
export function violatedInvariants(k: Kernel): string[] {
  const out: string[] = [];
  beginBatch();
  try {
    for (const [name, f] of INVARIANTS) {
      try {
        f(k);
      } catch (e) {
        out.push(e instanceof Error && 'invariant' in e ? `${name}: ${e.message}` : `${name}: host exception ${String(e)}`);
      }
    }
  } finally {
    endBatch();
  }
  return out;
}
