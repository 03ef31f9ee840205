/**
 * client: the PD of examples/ppc-passive.system that calls the passive server
 * with protected procedure calls on channel 0 and then notifies it.
 */
import {
  microkit_dbg_puts,
  microkit_mr_get,
  microkit_mr_set,
  microkit_msginfo_get_label,
  microkit_msginfo_new,
  microkit_name,
  microkit_notify,
  microkit_ppcall,
  microkit_read_string,
  microkit_write_string,
} from '../src/microkit/libmicrokit.js';
import { OP_ADD, OP_UPPER } from './server.js';

const SERVER = 0;

export const setvar = { request_buffer: 0 };

export function* init() {
  const me = microkit_name();
  microkit_mr_set(0, 2);
  microkit_mr_set(1, 3);
  let reply = yield* microkit_ppcall(SERVER, microkit_msginfo_new(OP_ADD, 2));
  yield* microkit_dbg_puts(`${me}: 2 + 3 = ${microkit_mr_get(0)} (reply label ${microkit_msginfo_get_label(reply)})\n`);

  yield* microkit_write_string(setvar.request_buffer, 'hello, passive server');
  reply = yield* microkit_ppcall(SERVER, microkit_msginfo_new(OP_UPPER, 0));
  const text = yield* microkit_read_string(setvar.request_buffer, 256);
  yield* microkit_dbg_puts(`${me}: server replied '${text}' (${microkit_mr_get(0)} characters)\n`);

  reply = yield* microkit_ppcall(SERVER, microkit_msginfo_new(99, 0));
  yield* microkit_dbg_puts(`${me}: unknown operation -> error label ${microkit_msginfo_get_label(reply)}\n`);

  yield* microkit_notify(SERVER);
  yield* microkit_dbg_puts(`${me}: done\n`);
}

export function* notified(_ch: number) {}
