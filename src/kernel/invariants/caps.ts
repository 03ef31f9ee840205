/**
 * Capability invariants: caps name live objects of their type, every live
 * object is named by a cap, physical caps sit inside an untyped ancestor below
 * its free index, and objects retyped from one untyped never overlap.
 */
import type { Kernel } from '../kernel.js';
import { capScan } from './capscan.js';
import { report } from './violation.js';

/** Every non-null cap names a live, registered object of its type at its address. */
export function capsNameLiveObjects(k: Kernel): void {
  report('capsNameLiveObjects', capScan(k).capsNameLiveObjects);
}

/** Every object the kernel keeps is named by at least one cap (no leaked objects). */
export function objectsHaveCaps(k: Kernel): void {
  report('objectsHaveCaps', capScan(k).objectsHaveCaps);
}

/**
 * A cap to physical memory with an untyped ancestor lies inside the nearest
 * one and below its free index; one without lies inside no untyped at all.
 */
export function capsInsideUntyped(k: Kernel): void {
  report('capsInsideUntyped', capScan(k).capsInsideUntyped);
}

/** Objects retyped from one untyped (and objects created at boot) never overlap. */
export function untypedObjectsDisjoint(k: Kernel): void {
  report('untypedObjectsDisjoint', capScan(k).untypedObjectsDisjoint);
}
