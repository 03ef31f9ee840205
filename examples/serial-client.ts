/**
 * client: the PD of examples/driver-irq.system that prints through the serial
 * driver: it writes a string into the shared transmit buffer and notifies the
 * driver (channel 2); the driver notifies back once the text has gone out.
 */
import { microkit_dbg_puts, microkit_name, microkit_notify, microkit_write_string } from '../src/microkit/libmicrokit.js';

const DRIVER = 2;
const LINES = ['hello from the client, through the serial driver\n', 'second line, sent after the driver said it was done\n'];

export const setvar = { tx_buffer: 0 };

let next = 0;

function* send() {
  yield* microkit_write_string(setvar.tx_buffer, LINES[next++]!);
  yield* microkit_notify(DRIVER);
}

export function* init() {
  yield* send();
}

export function* notified(ch: number) {
  if (ch !== DRIVER) return;
  if (next < LINES.length) yield* send();
  else yield* microkit_dbg_puts(`${microkit_name()}: all ${LINES.length} lines sent\n`);
}
