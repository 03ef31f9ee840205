/**
 * linux: the untrusted legacy software of examples/retrofit.system, boxed in
 * one PD. It reads the mission manager's reports from the shared mailbox and
 * acknowledges them on its only channel (0). Then it misbehaves, and the
 * system shows what it can reach:
 *   - notifying on a channel it does not have: libmicrokit refuses (and the
 *     kernel would too: there is no capability behind that channel);
 *   - reading crypto's buffer at the address crypto uses: nothing is mapped
 *     there in linux's VSpace, so the access faults and the monitor reports it.
 */
import {
  microkit_dbg_puts,
  microkit_load,
  microkit_name,
  microkit_notify,
  microkit_read_string,
  microkit_work,
  microkit_write_bytes,
  microkit_write_string,
} from '../src/microkit/libmicrokit.js';
import { MAILBOX_COUNT, MAILBOX_REPLY, MAILBOX_REPORT_SIZE, MAILBOX_REPORTS, FRAMES_TO_CAPTURE } from './retrofit-protocol.js';

const MISSION_MANAGER = 0;
/** Where crypto maps crypto_buffer (linux has nothing there). */
const CRYPTO_BUFFER_VADDR = 0x5000000;

export const setvar = { mailbox: 0, ram: 0 };

let seen = 0;

export function* init() {
  const me = microkit_name();
  yield* microkit_dbg_puts(`${me}: booting (untrusted)\n`);
  yield* microkit_write_bytes(setvar.ram, new Uint8Array(4096).fill(0x5a));
  yield* microkit_work(2_000_000);
  yield* microkit_dbg_puts(`${me}: boot complete\n`);
}

export function* notified(ch: number) {
  if (ch !== MISSION_MANAGER) return;
  const me = microkit_name();
  const count = yield* microkit_load(setvar.mailbox + MAILBOX_COUNT, 4);
  for (; seen < count; seen++) {
    const report = yield* microkit_read_string(setvar.mailbox + MAILBOX_REPORTS + seen * MAILBOX_REPORT_SIZE, MAILBOX_REPORT_SIZE);
    yield* microkit_dbg_puts(`${me}: report ${seen + 1}: ${report}\n`);
  }
  yield* microkit_write_string(setvar.mailbox + MAILBOX_REPLY, `ack ${seen}`);
  yield* microkit_notify(MISSION_MANAGER);
  if (seen >= FRAMES_TO_CAPTURE) yield* misbehave();
}

function* misbehave() {
  const me = microkit_name();
  yield* microkit_dbg_puts(`${me}: trying to notify crypto on channel 1...\n`);
  yield* microkit_notify(1);
  yield* microkit_dbg_puts(`${me}: trying to read crypto's buffer at 0x${CRYPTO_BUFFER_VADDR.toString(16)}...\n`);
  const v = yield* microkit_load(CRYPTO_BUFFER_VADDR, 8);
  yield* microkit_dbg_puts(`${me}: read ${v}: confinement is broken!\n`);
}
