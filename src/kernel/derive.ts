/**
 * Cap derivation rules: seL4's deriveCap (what a copy may produce) and
 * updateCapData (what Mint and Mutate may change: badges and CNode guards).
 */
import { ASID_INVALID, Cap, CapType } from './cap.js';
import { SeL4Error } from './errors.js';
import type { Kernel } from './kernel.js';
import { hasChildren } from './mdb.js';
import type { Slot } from './slot.js';
import { r, shrMask } from './word.js';

/** Badge bits usable on 64-bit seL4 (seL4_BadgeBits). */
export const BADGE_BITS = 64;

/**
 * seL4's deriveCap. Returns the derived cap (possibly the null cap), or null
 * with the syscall error set.
 */
export function deriveCap(k: Kernel, slot: Slot, cap: Cap): Cap | null {
  switch (cap.type) {
    case CapType.Zombie:
    case CapType.IRQControl:
      return Cap.NULL;
    // With CONFIG_KERNEL_MCS reply caps name Reply objects and derive like
    // any other cap (seL4 nulls them only in the non-MCS kernel).
    case CapType.Untyped:
      if (hasChildren(slot)) {
        k.error(SeL4Error.RevokeFirst);
        return null;
      }
      return cap;
    case CapType.PageTable:
      if (!cap.isMapped) {
        k.error(SeL4Error.IllegalOperation);
        return null;
      }
      return cap;
    case CapType.Frame: {
      const c = cap.clone();
      c.mappedAddr = 0;
      c.mappedASID = ASID_INVALID;
      c.isMapped = false;
      return c;
    }
    default:
      return cap;
  }
}

/**
 * seL4's updateCapData. `preserve` is true for Mutate/Rotate: an endpoint or
 * notification cap may then not be re-badged. Returns the null cap when the
 * update is not allowed.
 */
export function updateCapData(preserve: boolean, dataHi: number, dataLo: number, cap: Cap): Cap {
  switch (cap.type) {
    case CapType.Endpoint:
    case CapType.Notification: {
      if (!preserve && !cap.hasBadge()) {
        const c = cap.clone();
        c.badgeHi = dataHi >>> 0;
        c.badgeLo = dataLo >>> 0;
        return c;
      }
      return Cap.NULL;
    }
    case CapType.CNode: {
      // seL4_CNode_CapData: guardSize in bits 0..5, guard in bits 6..63.
      const guardSize = dataLo & 0x3f;
      if (guardSize + cap.radix > 64) return Cap.NULL;
      shrMask(dataHi, dataLo, 6, guardSize);
      const c = cap.clone();
      c.guardSize = guardSize;
      c.guardHi = r.hi;
      c.guardLo = r.lo;
      return c;
    }
    default:
      return cap;
  }
}
