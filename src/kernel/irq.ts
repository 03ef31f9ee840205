/**
 * Interrupts (seL4's interrupt.c with the RISC-V PLIC): IRQControl and
 * IRQHandler invocations, and delivery of an interrupt to the notification
 * bound to its handler. A delivered IRQ stays claimed (masked) at the PLIC
 * until the handler acknowledges it with IRQHandler_Ack.
 */
import { Cap, CapType } from './cap.js';
import { SeL4Error } from './errors.js';
import type { Kernel } from './kernel.js';
import { InvocationLabel } from './labels.js';
import { lookupTargetSlot } from './lookup.js';
import { cteInsert } from './mdb.js';
import type { Notification } from './object/notification.js';
import { ThreadState } from './object/tcb.js';
import { Slot } from './slot.js';
import { setThreadState } from './sched/thread.js';
import { sendSignal } from './ipc/notification.js';
import { cteDelete } from './delete.js';

/** PLIC_MAX_IRQ for qemu-riscv-virt (seL4's platform config). */
export const PLIC_MAX_IRQ = 128;
/** The kernel's own timer interrupt number on RISC-V (KERNEL_TIMER_IRQ = INTERRUPT_CORE_TIMER). */
export const KERNEL_TIMER_IRQ = 129;
/** seL4's maxIRQ on riscv without SMP: the core timer, right after the PLIC sources. */
export const MAX_IRQ = KERNEL_TIMER_IRQ;

export enum IRQState {
  Inactive = 0,
  Signal = 1,
  Timer = 2,
  Reserved = 3,
}

/** What the kernel needs of the interrupt controller (the PLIC model implements it). */
export interface InterruptController {
  /** Complete a claim: the source may interrupt again (seL4's maskInterrupt(false) / plic_complete_claim). */
  complete(irq: number): void;
  /** Level or edge trigger for a source. */
  setTrigger(irq: number, edge: boolean): void;
  /** Enable (false) or disable (true) a source (seL4's maskInterrupt). */
  mask(irq: number, disable: boolean): void;
}

/** IRQ bookkeeping the kernel keeps (intStateIRQTable and intStateIRQNode). */
export class IRQTable {
  readonly state = new Uint8Array(KERNEL_TIMER_IRQ + 1);
  /** Slot per IRQ holding the notification cap set by IRQHandler_SetNotification. */
  readonly slots: Slot[] = [];
  /** IRQs delivered and not yet acknowledged. */
  readonly claimed = new Uint8Array(KERNEL_TIMER_IRQ + 1);
  controller: InterruptController | null = null;

  constructor() {
    for (let i = 0; i <= KERNEL_TIMER_IRQ; i++) this.slots.push(new Slot(null, i));
    this.state[KERNEL_TIMER_IRQ] = IRQState.Timer;
  }
}

/** seL4's Arch_checkIRQ (riscv): 1..maxIRQ; the timer (maxIRQ) then fails as already active. */
function checkIRQ(k: Kernel, irq: number): boolean {
  if (irq > MAX_IRQ || irq === 0) {
    k.rangeError(1, MAX_IRQ);
    return false;
  }
  return true;
}

export function decodeIRQControlInvocation(k: Kernel, label: number, length: number, srcSlot: Slot): SeL4Error {
  let irq: number;
  let index = 1;
  let trigger = false;
  if (label === InvocationLabel.IRQIssueIRQHandler) {
    if (length < 3 || k.extraCaps[0] === null) return k.error(SeL4Error.TruncatedMessage);
    irq = k.argNumber(0);
  } else if (label === InvocationLabel.RISCVIRQIssueIRQHandlerTrigger) {
    if (length < 4 || k.extraCaps[0] === null) return k.error(SeL4Error.TruncatedMessage);
    irq = k.argNumber(0);
    trigger = k.argNumber(1) !== 0;
    index = 2;
  } else {
    return k.error(SeL4Error.IllegalOperation);
  }
  const depth = k.argNumber(index + 1);
  const cnodeCap = k.extraCaps[0]!.cap;
  if (!checkIRQ(k, irq)) return SeL4Error.RangeError;
  if (k.irqs.state[irq] !== IRQState.Inactive) return k.error(SeL4Error.RevokeFirst);
  const dest = lookupTargetSlot(k, cnodeCap, k.argHi(index), k.argLo(index), depth);
  if (dest === null) return k.err.type;
  if (!dest.isEmpty) return k.error(SeL4Error.DeleteFirst);
  setThreadState(k, k.curThread, ThreadState.Restart);
  if (label === InvocationLabel.RISCVIRQIssueIRQHandlerTrigger && k.irqs.controller !== null) {
    k.irqs.controller.setTrigger(irq, trigger);
  }
  k.irqs.state[irq] = IRQState.Signal;
  if (k.irqs.controller !== null) k.irqs.controller.mask(irq, false);
  const cap = new Cap(CapType.IRQHandler, null, 0, 0);
  cap.word = irq;
  cteInsert(cap, srcSlot, dest);
  return SeL4Error.NoError;
}

export function decodeIRQHandlerInvocation(k: Kernel, label: number, irq: number): SeL4Error {
  switch (label) {
    case InvocationLabel.IRQAckIRQ:
      setThreadState(k, k.curThread, ThreadState.Restart);
      ackIRQ(k, irq);
      return SeL4Error.NoError;
    case InvocationLabel.IRQSetIRQHandler: {
      const slot = k.extraCaps[0];
      if (slot === null) return k.error(SeL4Error.TruncatedMessage);
      const c = slot.cap;
      if (c.type !== CapType.Notification || !c.canWrite()) return k.invalidCapability(0);
      setThreadState(k, k.curThread, ThreadState.Restart);
      const irqSlot = k.irqs.slots[irq]!;
      cteDelete(k, irqSlot, true);
      cteInsert(c, slot, irqSlot);
      return SeL4Error.NoError;
    }
    case InvocationLabel.IRQClearIRQHandler:
      setThreadState(k, k.curThread, ThreadState.Restart);
      cteDelete(k, k.irqs.slots[irq]!, true);
      return SeL4Error.NoError;
    default:
      return k.error(SeL4Error.IllegalOperation);
  }
}

function ackIRQ(k: Kernel, irq: number): void {
  if (k.irqs.claimed[irq] !== 0) {
    k.irqs.claimed[irq] = 0;
    if (k.irqs.controller !== null) k.irqs.controller.complete(irq);
  }
}

/** The last handler cap for an IRQ was deleted (seL4's deletedIRQHandler). */
export function deletedIRQHandler(k: Kernel, irq: number): void {
  k.irqs.state[irq] = IRQState.Inactive;
  if (k.irqs.controller !== null) k.irqs.controller.mask(irq, true);
  cteDelete(k, k.irqs.slots[irq]!, true);
}

/**
 * An interrupt from the controller (after claim): signal the handler's
 * notification. The IRQ stays claimed until acknowledged.
 */
export function handleInterrupt(k: Kernel, irq: number): void {
  if (irq < 0) return;
  if (irq > MAX_IRQ) {
    // Out of range: masked and acknowledged as if it never happened.
    if (k.irqs.controller !== null) {
      k.irqs.controller.mask(irq, true);
      k.irqs.controller.complete(irq);
    }
    return;
  }
  const st = k.irqs.state[irq];
  if (st === IRQState.Signal) {
    k.irqs.claimed[irq] = 1;
    const c = k.irqs.slots[irq]!.cap;
    if (c.type === CapType.Notification && c.canWrite()) sendSignal(k, c.obj as Notification, c.badgeHi, c.badgeLo);
    k.emit('irq', { irq });
  } else if (st === IRQState.Inactive) {
    // Nobody owns it: mask the source (maskInterrupt(true, irq)) and leave the claim open.
    k.irqs.claimed[irq] = 1;
    if (k.irqs.controller !== null) k.irqs.controller.mask(irq, true);
  }
}
