/**
 * Deleting capabilities and revoking derivation subtrees (seL4's cteDelete,
 * finaliseSlot, finaliseCap, cteRevoke). seL4 makes deletion preemptible with
 * zombie caps; sel4ts deletes atomically, emptying a slot before finalising the
 * object it named so that cyclic CNode structures terminate.
 */
import { Cap, CapType } from './cap.js';
import type { Kernel } from './kernel.js';
import { isFinalCapability, isMDBParentOf, mdbRemove } from './mdb.js';
import type { CNode } from './object/cnode.js';
import type { Endpoint } from './object/endpoint.js';
import type { Notification } from './object/notification.js';
import type { Reply } from './object/reply.js';
import type { SchedContext } from './object/schedcontext.js';
import { TCB, ThreadState } from './object/tcb.js';
import type { Slot } from './slot.js';
import { cancelAllIPC, cancelIPC } from './ipc/endpoint.js';
import { cancelAllSignals, unbindMaybeNotification, unbindNotification } from './ipc/notification.js';
import { replyRemove } from './ipc/reply.js';
import { remoteTCBStall } from './sched/smp.js';
import {
  schedContextUnbindAllTCBs,
  schedContextUnbindNtfn,
  schedContextUnbindTCB,
  schedContextCancelYieldTo,
} from './sched/schedcontext.js';
import { suspend } from './sched/lifecycle.js';
import { schedContextCompleteYieldTo } from './schedinvocation.js';
import { archFinaliseCap } from './vspace/finalise.js';
import { deletedIRQHandler } from './irq.js';

/** seL4's cteDelete: remove the cap in slot, finalising its object if it was the last. */
export function cteDelete(k: Kernel, slot: Slot, exposed: boolean): void {
  const cap = slot.cap;
  if (cap.isNull) return;
  const final = isFinalCapability(slot);
  // Empty the slot first: finalisation may reach this slot again through cycles.
  mdbRemove(slot);
  if (cap.type === CapType.IRQHandler && final) deletedIRQHandler(k, cap.word);
  finaliseCap(k, cap, final, exposed);
}

/** seL4's cteRevoke: delete every MDB descendant of slot. */
export function cteRevoke(k: Kernel, slot: Slot): void {
  for (;;) {
    const next = slot.mdbNext;
    if (next === null || !isMDBParentOf(slot, next)) break;
    cteDelete(k, next, false);
  }
}

function deleteSlots(k: Kernel, slots: Iterable<Slot>): void {
  for (const s of [...slots]) {
    if (!s.isEmpty) cteDelete(k, s, false);
  }
}

/** seL4's finaliseCap: what happens to an object when a (final) cap to it goes. */
export function finaliseCap(k: Kernel, cap: Cap, final: boolean, _exposed: boolean): void {
  switch (cap.type) {
    case CapType.Endpoint:
      if (final) {
        const ep = cap.obj as Endpoint;
        cancelAllIPC(k, ep);
        ep.live = false;
        k.objects.delete(ep);
      }
      return;
    case CapType.Notification:
      if (final) {
        const n = cap.obj as Notification;
        unbindMaybeNotification(n);
        if (n.sc !== null) schedContextUnbindNtfn(n.sc);
        cancelAllSignals(k, n);
        n.live = false;
        k.objects.delete(n);
      }
      return;
    case CapType.Reply:
      if (final) {
        const r = cap.obj as Reply;
        const t = r.tcb;
        if (t !== null) {
          if (t.state === ThreadState.BlockedOnReply) replyRemove(k, r, t);
          else if (t.state === ThreadState.BlockedOnReceive) cancelIPC(k, t);
        }
        r.live = false;
        k.objects.delete(r);
      }
      return;
    case CapType.CNode:
      if (final) {
        const cn = cap.obj as CNode;
        if (!cn.live) return;
        cn.live = false;
        k.cnodes.delete(cn);
        k.objects.delete(cn);
        deleteSlots(k, cn.allocatedSlots());
      }
      return;
    case CapType.Thread:
      if (final) {
        const t = cap.obj as TCB;
        if (!t.live) return;
        remoteTCBStall(k, t);
        unbindNotification(t);
        if (t.sc !== null) schedContextUnbindTCB(k, t.sc, t);
        suspend(k, t);
        schedContextCancelYieldTo(t);
        t.live = false;
        k.tcbs.delete(t);
        k.objects.delete(t);
        deleteSlots(k, t.slots);
        if (k.curThread === t) {
          // The running thread deleted itself: the scheduler picks another.
          t.state = ThreadState.Inactive;
        }
      }
      return;
    case CapType.SchedContext:
      if (final) {
        const sc = cap.obj as SchedContext;
        schedContextUnbindAllTCBs(k, sc);
        schedContextUnbindNtfn(sc);
        if (sc.reply !== null) {
          sc.reply.nextSC = null;
          sc.reply = null;
        }
        // seL4 completes a pending YieldTo to this SC (the yielder gets its consumed time).
        if (sc.yieldFrom !== null) schedContextCompleteYieldTo(k, sc.yieldFrom);
        sc.refills.maxRefills = 0;
        sc.live = false;
        k.objects.delete(sc);
        if (k.curSC === sc) k.curSC = null;
      }
      return;
    default:
      archFinaliseCap(k, cap, final);
      return;
  }
}
