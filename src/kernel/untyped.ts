/**
 * Untyped memory: Untyped_Retype (seL4's decodeUntypedInvocation,
 * invokeUntyped_Retype, createNewObjects) and object creation.
 */
import { Cap, CapType, RIGHT_GRANT, ALL_RIGHTS, RIGHT_READ, RIGHT_WRITE, VMRights } from './cap.js';
import { LookupFailure } from './cspace.js';
import { SeL4Error } from './errors.js';
import type { Kernel } from './kernel.js';
import { lookupTargetSlot } from './lookup.js';
import { hasChildren, insertNewCap } from './mdb.js';
import { CNode } from './object/cnode.js';
import { Endpoint } from './object/endpoint.js';
import { Notification } from './object/notification.js';
import { Reply } from './object/reply.js';
import { SchedContext } from './object/schedcontext.js';
import { TCB, ThreadState } from './object/tcb.js';
import {
  getObjectSize,
  isFrameType,
  OBJECT_TYPE_COUNT,
  ObjectType,
  seL4_MaxUntypedBits,
  seL4_MinSchedContextBits,
  seL4_MinUntypedBits,
  seL4_WordBits,
} from './objecttype.js';
import type { Slot } from './slot.js';
import { setThreadState } from './sched/thread.js';
import { InvocationLabel } from './labels.js';

function alignUp(v: number, bits: number): number {
  const a = 2 ** bits;
  return Math.ceil(v / a) * a;
}

export function decodeUntypedInvocation(k: Kernel, label: number, length: number, slot: Slot, cap: Cap): SeL4Error {
  if (label !== InvocationLabel.UntypedRetype) return k.error(SeL4Error.IllegalOperation);
  const rootSlot = k.extraCaps[0];
  if (length < 6 || rootSlot === null) return k.error(SeL4Error.TruncatedMessage);

  const newType = k.argNumber(0);
  const userObjSize = k.argNumber(1);
  const nodeDepth = k.argNumber(3);
  const nodeOffset = k.argNumber(4);
  const nodeWindow = k.argNumber(5);

  if (newType >= OBJECT_TYPE_COUNT) return k.invalidArgument(0);
  const type = newType as ObjectType;
  if (userObjSize >= seL4_WordBits) return k.rangeError(0, seL4_MaxUntypedBits);
  const objectSize = getObjectSize(type, userObjSize);
  if (objectSize > seL4_MaxUntypedBits) return k.rangeError(0, seL4_MaxUntypedBits);
  if (type === ObjectType.CapTable && userObjSize === 0) return k.invalidArgument(1);
  if (type === ObjectType.Untyped && userObjSize < seL4_MinUntypedBits) return k.invalidArgument(1);
  if (type === ObjectType.SchedContext && userObjSize < seL4_MinSchedContextBits) return k.invalidArgument(1);

  let destCNode: Cap;
  if (nodeDepth === 0) {
    destCNode = rootSlot.cap;
  } else {
    const dest = lookupTargetSlot(k, rootSlot.cap, k.argHi(2), k.argLo(2), nodeDepth);
    if (dest === null) return k.err.type;
    destCNode = dest.cap;
  }
  if (destCNode.type !== CapType.CNode) {
    k.lookupFault.type = LookupFailure.MissingCapability;
    k.lookupFault.bitsLeft = nodeDepth;
    return k.failedLookup(false);
  }

  const nodeSize = 2 ** destCNode.radix;
  if (nodeOffset > nodeSize - 1) return k.rangeError(0, nodeSize - 1);
  if (nodeWindow < 1 || nodeWindow > k.config.retypeFanOutLimit) return k.rangeError(1, k.config.retypeFanOutLimit);
  if (nodeWindow > nodeSize - nodeOffset) return k.rangeError(1, nodeSize - nodeOffset);

  const slots = destCNode.obj as CNode;
  for (let i = nodeOffset; i < nodeOffset + nodeWindow; i++) {
    if (!slots.slot(i).isEmpty) return k.error(SeL4Error.DeleteFirst);
  }

  // An untyped without children is reset: retyping starts again from its base.
  const reset = !hasChildren(slot);
  const freeIndex = reset ? 0 : cap.freeIndex;
  const freeRef = cap.paddr + freeIndex;
  const untypedFreeBytes = 2 ** cap.sizeBits - freeIndex;
  if (Math.floor(untypedFreeBytes / 2 ** objectSize) < nodeWindow) return k.notEnoughMemory(untypedFreeBytes);

  if (cap.isDevice && !isFrameType(type) && type !== ObjectType.Untyped) return k.invalidArgument(1);

  const alignedFreeRef = alignUp(freeRef, objectSize);
  setThreadState(k, k.curThread, ThreadState.Restart);
  invokeUntypedRetype(k, slot, reset, alignedFreeRef, type, userObjSize, slots, nodeOffset, nodeWindow, cap.isDevice);
  return SeL4Error.NoError;
}

/** seL4's invokeUntyped_Retype: reset if needed, advance the watermark, create the objects. */
export function invokeUntypedRetype(
  k: Kernel,
  srcSlot: Slot,
  reset: boolean,
  retypeBase: number,
  type: ObjectType,
  userSize: number,
  destCNode: CNode,
  destOffset: number,
  destLength: number,
  deviceMemory: boolean,
): void {
  const cap = srcSlot.cap;
  if (reset) resetUntypedCap(k, srcSlot);
  const objectSize = getObjectSize(type, userSize);
  const totalObjectSize = destLength * 2 ** objectSize;
  cap.freeIndex = retypeBase + totalObjectSize - cap.paddr;
  for (let i = 0; i < destLength; i++) {
    const newCap = createObject(k, type, retypeBase + i * 2 ** objectSize, userSize, deviceMemory);
    insertNewCap(srcSlot, destCNode.slot(destOffset + i), newCap);
  }
  k.emit('retype', { type: ObjectType[type], count: destLength, paddr: retypeBase, sizeBits: objectSize });
}

/** seL4's resetUntypedCap: clear the memory used so far and set the free index to 0. */
function resetUntypedCap(k: Kernel, slot: Slot): void {
  const cap = slot.cap;
  if (cap.freeIndex === 0) return;
  if (!cap.isDevice) k.mem.zero(cap.paddr, cap.freeIndex);
  cap.freeIndex = 0;
}

/** seL4's createObject: make the object and return the cap to it. */
export function createObject(k: Kernel, type: ObjectType, paddr: number, userSize: number, device: boolean): Cap {
  switch (type) {
    case ObjectType.Untyped: {
      const c = new Cap(CapType.Untyped, null, paddr, userSize);
      c.isDevice = device;
      return c;
    }
    case ObjectType.TCB: {
      const t = new TCB(paddr, getObjectSize(type, 0), k.curDomain);
      k.tcbs.add(t);
      k.objects.add(t);
      return new Cap(CapType.Thread, t, paddr, t.sizeBits);
    }
    case ObjectType.Endpoint: {
      const e = new Endpoint(paddr, getObjectSize(type, 0));
      k.objects.add(e);
      const c = new Cap(CapType.Endpoint, e, paddr, e.sizeBits);
      c.rights = ALL_RIGHTS;
      return c;
    }
    case ObjectType.Notification: {
      const n = new Notification(paddr, getObjectSize(type, 0));
      k.objects.add(n);
      const c = new Cap(CapType.Notification, n, paddr, n.sizeBits);
      c.rights = RIGHT_READ | RIGHT_WRITE;
      return c;
    }
    case ObjectType.CapTable: {
      const cn = new CNode(paddr, userSize);
      k.cnodes.add(cn);
      k.objects.add(cn);
      const c = new Cap(CapType.CNode, cn, paddr, cn.sizeBits);
      c.radix = userSize;
      return c;
    }
    case ObjectType.SchedContext: {
      const sc = new SchedContext(paddr, userSize);
      k.objects.add(sc);
      return new Cap(CapType.SchedContext, sc, paddr, userSize);
    }
    case ObjectType.Reply: {
      const r = new Reply(paddr, getObjectSize(type, 0));
      k.objects.add(r);
      const c = new Cap(CapType.Reply, r, paddr, r.sizeBits);
      c.rights = RIGHT_GRANT;
      return c;
    }
    case ObjectType.RISCV_4K_Page:
    case ObjectType.RISCV_Mega_Page:
    case ObjectType.RISCV_Giga_Page: {
      const bits = getObjectSize(type, 0);
      if (!device) k.mem.zero(paddr, 2 ** bits);
      const c = new Cap(CapType.Frame, null, paddr, bits);
      c.rights = VMRights.ReadWrite;
      c.isDevice = device;
      return c;
    }
    case ObjectType.RISCV_PageTable: {
      const bits = getObjectSize(type, 0);
      k.mem.zero(paddr, 2 ** bits);
      return new Cap(CapType.PageTable, null, paddr, bits);
    }
  }
}
