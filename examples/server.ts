/**
 * server: the passive PD of examples/ppc-passive.system. It has no time of
 * its own after init: a protected procedure call runs it on the caller's
 * scheduling context, and a notification on the SC the monitor bound to its
 * notification object.
 *
 * Protocol (label = operation):
 *   OP_ADD   MR0, MR1 -> MR0 = MR0 + MR1
 *   OP_UPPER the NUL-terminated string in request_buffer is upper-cased in place; MR0 = its length
 */
import {
  microkit_dbg_puts,
  microkit_mr_get,
  microkit_mr_set,
  microkit_msginfo,
  microkit_msginfo_get_label,
  microkit_msginfo_new,
  microkit_name,
  microkit_read_string,
  microkit_write_string,
} from '../src/microkit/libmicrokit.js';

export const OP_ADD = 1;
export const OP_UPPER = 2;
export const ERR_UNKNOWN_OP = 1;

/** Patched by the builder from <map setvar_vaddr="request_buffer">. */
export const setvar = { request_buffer: 0 };

let calls = 0;

export function* init() {
  yield* microkit_dbg_puts(`${microkit_name()}: init, request buffer at 0x${setvar.request_buffer.toString(16)}\n`);
}

export function* notified(ch: number) {
  yield* microkit_dbg_puts(`${microkit_name()}: notified on channel ${ch} after ${calls} calls\n`);
}

export function* protected_(ch: number, msginfo: microkit_msginfo): Generator<unknown, microkit_msginfo, unknown> {
  calls++;
  switch (microkit_msginfo_get_label(msginfo)) {
    case OP_ADD: {
      microkit_mr_set(0, microkit_mr_get(0) + microkit_mr_get(1));
      return microkit_msginfo_new(0, 1);
    }
    case OP_UPPER: {
      const s = yield* microkit_read_string(setvar.request_buffer, 256);
      yield* microkit_write_string(setvar.request_buffer, s.toUpperCase());
      microkit_mr_set(0, s.length);
      return microkit_msginfo_new(0, 1);
    }
    default:
      yield* microkit_dbg_puts(`${microkit_name()}: unknown operation on channel ${ch}\n`);
      return microkit_msginfo_new(ERR_UNKNOWN_OP, 0);
  }
}
// `protected` is a reserved word in strict-mode identifiers, so the entry point is exported under that name.
export { protected_ as protected };
