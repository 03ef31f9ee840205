/**
 * The error an invariant check throws, and small helpers for naming kernel
 * state in violation messages.
 */
import { describeCap } from '../cap.js';
import { ObjectKind } from '../object/kobject.js';
import type { KernelObject } from '../object/kobject.js';
import type { TCB } from '../object/tcb.js';
import type { Slot } from '../slot.js';

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    readonly detail: string,
  ) {
    super(`invariant ${invariant} violated: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

/** Throw the violation of `invariant` if `detail` is not null. */
export function report(invariant: string, detail: string | null): void {
  if (detail !== null) throw new InvariantViolation(invariant, detail);
}

export function hex(n: number): string {
  return '0x' + n.toString(16);
}

export function objName(o: KernelObject | null): string {
  if (o === null) return 'null';
  if (o.kind === ObjectKind.TCB) return `tcb ${(o as TCB).name}`;
  return `${ObjectKind[o.kind]}@${hex(o.paddr)}`;
}

/** A slot named by its owner (CNode, TCB or IRQ node) and index, with its cap. */
export function slotName(s: Slot): string {
  const where = s.owner === null ? `irq node[${s.index}]` : `${objName(s.owner)}[${s.index}]`;
  return `${where} (${describeCap(s.cap)})`;
}
