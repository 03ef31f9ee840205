/**
 * IRQControl_Get / GetTrigger and IRQHandler_SetNotification / Ack / Clear
 * (src/object/interrupt.c, src/arch/riscv/object/interrupt.c), and an
 * interrupt from the simulated UART (PLIC source 10) reaching the bound
 * notification: a driver maps the UART registers through a device frame,
 * enables the receive interrupt, and an unacknowledged IRQ is not delivered
 * again until IRQHandler_Ack.
 */
import assert from 'node:assert/strict';
import { errorMRs, rawInvoke, rootCap, rootTest } from './support/vspacehelp.js';
import {
  seL4_CapInitThreadCNode,
  seL4_CapInitThreadVSpace,
  seL4_CapIRQControl,
  seL4_CNode_Delete,
  seL4_CNode_Mint,
  seL4_EndpointObject,
  seL4_NotificationObject,
  seL4_IRQControl_Get,
  seL4_IRQControl_GetTrigger,
  seL4_IRQHandler_Ack,
  seL4_IRQHandler_Clear,
  seL4_IRQHandler_SetNotification,
  seL4_RISCV_4K_Page,
  seL4_RISCV_Page_Map,
  seL4_RISCV_PageTable_Map,
  seL4_RISCV_PageTableObject,
  seL4_Untyped_Retype,
  seL4_Poll,
  seL4_Wait,
  seL4_AllRights,
  seL4_ReadWrite,
  sel4ts_Load,
  sel4ts_Store,
  WordOut,
} from '../src/user/index.js';
import { InvocationLabel } from '../src/abi/constants.js';
import { CapType } from '../src/kernel/cap.js';
import { IRQState } from '../src/kernel/irq.js';

const E = { NoError: 0, InvalidCapability: 2, IllegalOperation: 3, RangeError: 4, TruncatedMessage: 7, DeleteFirst: 8, RevokeFirst: 9 };
const CN = seL4_CapInitThreadCNode;
const UART0_IRQ = 10;
const UART0 = 0x1000_0000;
const CanRead = 2;
const CanWrite = 1;

rootTest('IRQControl_Get: 1..maxIRQ (129, the kernel timer) or RangeError(1, 129); an active IRQ is RevokeFirst; the slot must be empty', function* ({ m, vka }) {
  let slot = vka.allocSlot();
  assert.equal(yield* seL4_IRQControl_Get(seL4_CapIRQControl, 0, CN, slot, 64), E.RangeError);
  assert.deepEqual(errorMRs(2), [1, 129]);
  assert.equal(yield* seL4_IRQControl_Get(seL4_CapIRQControl, 130, CN, slot, 64), E.RangeError);
  assert.deepEqual(errorMRs(2), [1, 129]);
  assert.equal(yield* seL4_IRQControl_Get(seL4_CapIRQControl, 129, CN, slot, 64), E.RevokeFirst, 'the kernel timer is always active');
  assert.equal(yield* seL4_IRQControl_Get(seL4_CapIRQControl, UART0_IRQ, CN, slot, 64), E.NoError);
  const h = rootCap(m, slot);
  assert.equal(h.type, CapType.IRQHandler);
  assert.equal(h.word, UART0_IRQ);
  assert.equal(m.kernel.irqs.state[UART0_IRQ], IRQState.Signal);
  assert.equal(m.devices.plic.isEnabled(UART0_IRQ), true, 'the source is unmasked at the PLIC');
  assert.equal(yield* seL4_IRQControl_Get(seL4_CapIRQControl, UART0_IRQ, CN, vka.allocSlot(), 64), E.RevokeFirst, 'issued twice');
  assert.equal(yield* seL4_IRQControl_Get(seL4_CapIRQControl, 128, CN, slot, 64), E.DeleteFirst, 'destination occupied');
  assert.equal(m.kernel.irqs.state[128], IRQState.Inactive, 'nothing changed on error');
  // Truncated messages and other labels.
  let r = yield* rawInvoke(seL4_CapIRQControl, InvocationLabel.IRQIssueIRQHandler, [11, vka.allocSlot()], [CN]);
  assert.equal(r[0], E.TruncatedMessage);
  r = yield* rawInvoke(seL4_CapIRQControl, InvocationLabel.IRQIssueIRQHandler, [11, vka.allocSlot(), 64], []);
  assert.equal(r[0], E.TruncatedMessage);
  r = yield* rawInvoke(seL4_CapIRQControl, InvocationLabel.RISCVIRQIssueIRQHandlerTrigger, [11, 1, vka.allocSlot()], [CN]);
  assert.equal(r[0], E.TruncatedMessage);
  r = yield* rawInvoke(seL4_CapIRQControl, InvocationLabel.IRQAckIRQ, [], []);
  assert.equal(r[0], E.IllegalOperation);
  // GetTrigger (the PLIC driver supports it): the same checks, then a handler.
  slot = vka.allocSlot();
  assert.equal(yield* seL4_IRQControl_GetTrigger(seL4_CapIRQControl, 200, 1, CN, slot, 64), E.RangeError);
  assert.deepEqual(errorMRs(2), [1, 129]);
  assert.equal(yield* seL4_IRQControl_GetTrigger(seL4_CapIRQControl, UART0_IRQ, 1, CN, slot, 64), E.RevokeFirst);
  assert.equal(yield* seL4_IRQControl_GetTrigger(seL4_CapIRQControl, 11, 1, CN, slot, 64), E.NoError);
  assert.equal(rootCap(m, slot).word, 11);
  // Deleting the last handler cap makes the IRQ inactive (masked) and available again.
  assert.equal(yield* seL4_CNode_Delete(CN, slot, 64), E.NoError);
  assert.equal(m.kernel.irqs.state[11], IRQState.Inactive);
  assert.equal(m.devices.plic.isEnabled(11), false);
  assert.equal(yield* seL4_IRQControl_Get(seL4_CapIRQControl, 11, CN, slot, 64), E.NoError);
});

rootTest('IRQHandler_SetNotification needs a notification cap with send rights; Clear empties the IRQ slot', function* ({ m, vka }) {
  const h = vka.allocSlot();
  assert.equal(yield* seL4_IRQControl_Get(seL4_CapIRQControl, 5, CN, h, 64), E.NoError);
  const ep = yield* vka.allocObject(seL4_EndpointObject);
  const n = yield* vka.allocObject(seL4_NotificationObject);
  assert.equal(yield* seL4_IRQHandler_SetNotification(h, ep), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [0]);
  const readOnly = vka.allocSlot();
  assert.equal(yield* seL4_CNode_Mint(CN, readOnly, 64, CN, n, 64, CanRead, 0), E.NoError);
  assert.equal(yield* seL4_IRQHandler_SetNotification(h, readOnly), E.InvalidCapability);
  assert.deepEqual(errorMRs(1), [0]);
  const r = yield* rawInvoke(h, InvocationLabel.IRQSetIRQHandler, [], []);
  assert.equal(r[0], E.TruncatedMessage);
  const r2 = yield* rawInvoke(h, InvocationLabel.IRQIssueIRQHandler, [1, 2, 3], [CN]);
  assert.equal(r2[0], E.IllegalOperation);
  const sendOnly = vka.allocSlot();
  assert.equal(yield* seL4_CNode_Mint(CN, sendOnly, 64, CN, n, 64, CanWrite, 7), E.NoError);
  assert.equal(yield* seL4_IRQHandler_SetNotification(h, sendOnly), E.NoError);
  const irqSlot = m.kernel.irqs.slots[5]!;
  assert.equal(irqSlot.cap.type, CapType.Notification);
  assert.equal(irqSlot.cap.badge, 7n);
  // Setting again replaces the cap.
  assert.equal(yield* seL4_IRQHandler_SetNotification(h, n), E.NoError);
  assert.equal(irqSlot.cap.badge, 0n);
  assert.equal(yield* seL4_IRQHandler_Clear(h), E.NoError);
  assert.equal(irqSlot.cap.type, CapType.Null);
  assert.equal(yield* seL4_IRQHandler_Clear(h), E.NoError, 'clearing twice is fine');
  assert.equal(yield* seL4_IRQHandler_Ack(h), E.NoError, 'acking an IRQ that never fired is fine');
});

/** The UART's register page as a device frame mapped in the root VSpace at `vaddr`. */
function* mapUart(bi: { untypedList: { paddr: number; isDevice: boolean }[]; untyped: { start: number } }, vka: { allocSlot(): number; allocObject(t: number): Generator<unknown, number, unknown> }, vaddr: number): Generator<unknown, void, unknown> {
  const i = bi.untypedList.findIndex((u) => u.isDevice && u.paddr === UART0);
  assert.ok(i >= 0, 'a device untyped starts at the UART');
  const frame = vka.allocSlot();
  assert.equal(yield* seL4_Untyped_Retype(bi.untyped.start + i, seL4_RISCV_4K_Page, 0, CN, 0, 0, frame, 1), E.NoError);
  for (let level = 0; level < 3; level++) {
    const err = yield* seL4_RISCV_Page_Map(frame, seL4_CapInitThreadVSpace, vaddr, seL4_ReadWrite, 1);
    if (err === E.NoError) return;
    assert.equal(err, 6);
    const pt = yield* vka.allocObject(seL4_RISCV_PageTableObject);
    assert.equal(yield* seL4_RISCV_PageTable_Map(pt, seL4_CapInitThreadVSpace, vaddr, 0), E.NoError);
  }
  assert.fail('could not map the UART');
}

rootTest('a UART receive interrupt signals the bound notification; unacknowledged it stays masked until IRQHandler_Ack', function* ({ m, bi, vka }) {
  const U = 0x6000_0000;
  yield* mapUart(bi, vka, U);
  const h = vka.allocSlot();
  assert.equal(yield* seL4_IRQControl_Get(seL4_CapIRQControl, UART0_IRQ, CN, h, 64), E.NoError);
  const n = yield* vka.allocObject(seL4_NotificationObject);
  const badged = vka.allocSlot();
  assert.equal(yield* seL4_CNode_Mint(CN, badged, 64, CN, n, 64, seL4_AllRights, 0x4), E.NoError);
  assert.equal(yield* seL4_IRQHandler_SetNotification(h, badged), E.NoError);
  const uart = m.devices.uart;
  // Nothing happens while the driver has not enabled the receive interrupt.
  uart.inject('a');
  const w = new WordOut();
  yield* seL4_Poll(n, w);
  assert.equal(w.lo, 0, 'IER = 0: no interrupt');
  // The driver enables "received data available" (IER bit 0) through the device frame.
  yield* sel4ts_Store(U + 1, 1, 1);
  assert.equal(yield* sel4ts_Load(U + 1, 1), 1n);
  yield* seL4_Wait(n, w);
  assert.equal(w.lo, 4, 'the interrupt arrived with the handler cap badge');
  assert.equal(yield* sel4ts_Load(U + 0, 1), BigInt('a'.charCodeAt(0)), 'RBR holds the byte');
  assert.equal(m.kernel.irqs.claimed[UART0_IRQ], 1, 'claimed, waiting for Ack');
  // More input before the Ack: the line is high but the IRQ is not delivered.
  uart.inject('b');
  for (let i = 0; i < 3; i++) {
    yield* seL4_Poll(n, w);
    assert.equal(w.lo, 0, 'no second signal before Ack');
  }
  assert.equal(yield* seL4_IRQHandler_Ack(h), E.NoError);
  yield* seL4_Wait(n, w);
  assert.equal(w.lo, 4, 'delivered again after Ack');
  assert.equal(yield* sel4ts_Load(U + 0, 1), BigInt('b'.charCodeAt(0)));
  // Cleared handler: the IRQ still fires (and is claimed) but signals nobody.
  assert.equal(yield* seL4_IRQHandler_Clear(h), E.NoError);
  assert.equal(yield* seL4_IRQHandler_Ack(h), E.NoError);
  uart.inject('c');
  yield* seL4_Poll(n, w);
  assert.equal(w.lo, 0);
  assert.equal(m.kernel.irqs.claimed[UART0_IRQ], 1);
  // Bound again and acked: the pending input interrupts once more.
  assert.equal(yield* seL4_IRQHandler_SetNotification(h, badged), E.NoError);
  assert.equal(yield* seL4_IRQHandler_Ack(h), E.NoError);
  yield* seL4_Wait(n, w);
  assert.equal(w.lo, 4);
  assert.equal(yield* sel4ts_Load(U + 0, 1), BigInt('c'.charCodeAt(0)));
});
