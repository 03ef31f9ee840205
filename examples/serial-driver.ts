/**
 * serial_driver: the PD of examples/driver-irq.system that owns UART0 of
 * qemu's virt machine (an NS16550A, mapped uncached at `uart_base`) and its
 * PLIC interrupt, delivered on channel 1.
 *
 * The FIFOs stay off (enabling them would flush input typed before init).
 * - Receive: the UART raises its IRQ when a byte arrives; the driver drains
 *   the receiver, reports the bytes on the UART, and acknowledges the IRQ
 *   (until then the kernel keeps it masked).
 * - Transmit: the client writes a NUL-terminated string into tx_buffer
 *   (mapped read-only here) and notifies channel 0; the driver sends it out
 *   and notifies back.
 */
import {
  microkit_dbg_puts,
  microkit_irq_ack,
  microkit_load,
  microkit_name,
  microkit_notify,
  microkit_read_string,
  microkit_store,
} from '../src/microkit/libmicrokit.js';

const CLIENT = 0;
const UART_IRQ = 1;

// NS16550A registers (byte offsets) and bits.
const RBR = 0;
const THR = 0;
const IER = 1;
const LCR = 3;
const LSR = 5;
const IER_RDI = 0x01;
const LCR_8N1 = 0x03;
const LSR_DR = 0x01;
const LSR_THRE = 0x20;

export const setvar = { uart_base: 0, tx_buffer: 0 };

function* reg(off: number) {
  return yield* microkit_load(setvar.uart_base + off, 1);
}

function* setReg(off: number, v: number) {
  yield* microkit_store(setvar.uart_base + off, v, 1);
}

function* putc(c: number) {
  while (((yield* reg(LSR)) & LSR_THRE) === 0) {
    // wait for the transmit holding register
  }
  yield* setReg(THR, c);
}

function* puts(s: string) {
  for (const b of new TextEncoder().encode(s)) yield* putc(b);
}

let received = 0;

export function* init() {
  yield* setReg(LCR, LCR_8N1);
  yield* setReg(IER, IER_RDI);
  yield* microkit_dbg_puts(`${microkit_name()}: UART at 0x${setvar.uart_base.toString(16)}, receive interrupts on\n`);
}

export function* notified(ch: number) {
  if (ch === UART_IRQ) {
    const bytes: number[] = [];
    while (((yield* reg(LSR)) & LSR_DR) !== 0) bytes.push(yield* reg(RBR));
    received += bytes.length;
    const text = new TextDecoder().decode(new Uint8Array(bytes));
    yield* puts(`[${microkit_name()}] received ${JSON.stringify(text)} (${received} bytes so far)\n`);
    yield* microkit_irq_ack(UART_IRQ);
  } else if (ch === CLIENT) {
    const text = yield* microkit_read_string(setvar.tx_buffer, 4096);
    yield* puts(text);
    yield* microkit_notify(CLIENT);
  } else {
    yield* microkit_dbg_puts(`${microkit_name()}: unexpected notification on channel ${ch}\n`);
  }
}
