/**
 * The kernel's objects sorted by kind into reused arrays, computed once per
 * checkInvariants run (or on every call of a single invariant).
 */
import type { Kernel } from '../kernel.js';
import type { ASIDPool } from '../object/asidpool.js';
import type { Endpoint } from '../object/endpoint.js';
import { ObjectKind } from '../object/kobject.js';
import type { Notification } from '../object/notification.js';
import type { Reply } from '../object/reply.js';
import type { SchedContext } from '../object/schedcontext.js';

export class ObjScan {
  readonly endpoints: Endpoint[] = [];
  readonly notifications: Notification[] = [];
  readonly replies: Reply[] = [];
  readonly scs: SchedContext[] = [];
  readonly pools: ASIDPool[] = [];
}

const objs = new ObjScan();
let batch = 0;
let cachedFor: Kernel | null = null;

export function beginObjBatch(): void {
  batch++;
  cachedFor = null;
}
export function endObjBatch(): void {
  batch--;
  cachedFor = null;
}

export function objScan(k: Kernel): ObjScan {
  if (batch > 0 && cachedFor === k) return objs;
  objs.endpoints.length = 0;
  objs.notifications.length = 0;
  objs.replies.length = 0;
  objs.scs.length = 0;
  objs.pools.length = 0;
  for (const o of k.objects) {
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
  cachedFor = batch > 0 ? k : null;
  return objs;
}
