/**
 * The kernel's registries (k.objects, k.tcbs, k.cnodes) copied into reused
 * arrays, with the objects also sorted by kind, computed once per
 * checkInvariants run (or on every call of a single invariant).
 *
 * Most kernel entries create and delete no object, so a scan first compares
 * the registries with its arrays (same objects in the same order) and keeps
 * them if nothing changed; `version` counts the changes, so a user of the
 * arrays (the capability scan) can tell whether they are the ones it saw.
 * An object's kind never changes, so equal registries mean equal per-kind
 * arrays.
 */
import type { Kernel } from '../kernel.js';
import { batchToken } from './batch.js';
import type { ASIDPool } from '../object/asidpool.js';
import type { CNode } from '../object/cnode.js';
import type { Endpoint } from '../object/endpoint.js';
import { KernelObject, ObjectKind } from '../object/kobject.js';
import type { Notification } from '../object/notification.js';
import type { Reply } from '../object/reply.js';
import type { SchedContext } from '../object/schedcontext.js';
import type { TCB } from '../object/tcb.js';

export class ObjScan {
  /** k.objects, k.tcbs and k.cnodes in iteration order. */
  readonly objects: KernelObject[] = [];
  readonly tcbs: TCB[] = [];
  readonly cnodes: CNode[] = [];
  // k.objects by kind.
  readonly endpoints: Endpoint[] = [];
  readonly notifications: Notification[] = [];
  readonly replies: Reply[] = [];
  readonly scs: SchedContext[] = [];
  readonly pools: ASIDPool[] = [];
  /** The kernel the arrays describe. */
  kernel: Kernel | null = null;
  /** Incremented whenever the arrays are rebuilt (another kernel, or its registries changed). */
  version = 0;
}

const objs = new ObjScan();
/** The batch the arrays were last checked in (see batch.ts). */
let cachedBatch = -1;

/** The set holds exactly the array's elements, in the array's order. */
function sameSequence<T>(set: Set<T>, arr: readonly T[]): boolean {
  if (set.size !== arr.length) return false;
  let i = 0;
  for (const x of set) if (arr[i++] !== x) return false;
  return true;
}

function copyInto<T>(set: Set<T>, arr: T[]): void {
  arr.length = 0;
  for (const x of set) arr.push(x);
}

export function objScan(k: Kernel): ObjScan {
  const b = batchToken();
  if (b >= 0 && b === cachedBatch && objs.kernel === k) return objs;
  cachedBatch = b;
  if (objs.kernel === k && sameSequence(k.objects, objs.objects) && sameSequence(k.tcbs, objs.tcbs) && sameSequence(k.cnodes, objs.cnodes)) {
    return objs;
  }
  objs.kernel = k;
  objs.version++;
  copyInto(k.objects, objs.objects);
  copyInto(k.tcbs, objs.tcbs);
  copyInto(k.cnodes, objs.cnodes);
  objs.endpoints.length = 0;
  objs.notifications.length = 0;
  objs.replies.length = 0;
  objs.scs.length = 0;
  objs.pools.length = 0;
  for (const o of objs.objects) {
    switch (o.kind) {
      case ObjectKind.Endpoint:
        objs.endpoints.push(o as Endpoint);
        break;
      case ObjectKind.Notification:
        objs.notifications.push(o as Notification);
        break;
      case ObjectKind.Reply:
        objs.replies.push(o as Reply);
        break;
      case ObjectKind.SchedContext:
        objs.scs.push(o as SchedContext);
        break;
      case ObjectKind.ASIDPool:
        objs.pools.push(o as ASIDPool);
        break;
      default:
        break;
    }
  }
  return objs;
}
