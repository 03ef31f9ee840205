/**
 * mission_manager: the trusted core of examples/retrofit.system. For every
 * camera frame it has crypto seal the pixels (a PPC on channel 0), posts a
 * report in the mailbox it shares with the untrusted linux PD (and notifies
 * it on channel 2), and asks the camera for the next frame (channel 1).
 */
import {
  microkit_dbg_puts,
  microkit_load,
  microkit_mr_get,
  microkit_mr_set,
  microkit_msginfo_get_label,
  microkit_msginfo_new,
  microkit_name,
  microkit_notify,
  microkit_ppcall,
  microkit_read_bytes,
  microkit_read_string,
  microkit_store,
  microkit_write_bytes,
  microkit_write_string,
} from '../src/microkit/libmicrokit.js';
import {
  CRYPTO_SEAL,
  FRAME_DATA,
  FRAME_LENGTH,
  FRAME_NUMBER,
  MAILBOX_COUNT,
  MAILBOX_MAX_REPORTS,
  MAILBOX_REPLY,
  MAILBOX_REPORT_SIZE,
  MAILBOX_REPORTS,
} from './retrofit-protocol.js';

const CRYPTO = 0;
const CAMERA = 1;
const LINUX = 2;

export const setvar = { crypto_buffer: 0, frames: 0, linux_mailbox: 0 };

let reports = 0;

export function* init() {
  yield* microkit_dbg_puts(`${microkit_name()}: up\n`);
}

function* handleFrame() {
  const me = microkit_name();
  const n = yield* microkit_load(setvar.frames + FRAME_NUMBER, 4);
  const len = yield* microkit_load(setvar.frames + FRAME_LENGTH, 4);
  const pixels = yield* microkit_read_bytes(setvar.frames + FRAME_DATA, len);
  yield* microkit_write_bytes(setvar.crypto_buffer, pixels);
  microkit_mr_set(0, len);
  const reply = yield* microkit_ppcall(CRYPTO, microkit_msginfo_new(CRYPTO_SEAL, 1));
  if (microkit_msginfo_get_label(reply) !== 0) {
    yield* microkit_dbg_puts(`${me}: crypto refused frame ${n}\n`);
    return;
  }
  const tag = microkit_mr_get(0).toString(16).padStart(8, '0');
  yield* microkit_dbg_puts(`${me}: frame ${n} sealed, tag ${tag}\n`);
  if (reports < MAILBOX_MAX_REPORTS) {
    yield* microkit_write_string(setvar.linux_mailbox + MAILBOX_REPORTS + reports * MAILBOX_REPORT_SIZE, `frame ${n} sealed, tag ${tag}`);
    reports++;
    yield* microkit_store(setvar.linux_mailbox + MAILBOX_COUNT, reports, 4);
    yield* microkit_notify(LINUX);
  }
  yield* microkit_notify(CAMERA);
}

export function* notified(ch: number) {
  if (ch === CAMERA) {
    yield* handleFrame();
  } else if (ch === LINUX) {
    const msg = yield* microkit_read_string(setvar.linux_mailbox + MAILBOX_REPLY, 256);
    yield* microkit_dbg_puts(`${microkit_name()}: linux says '${msg}'\n`);
  }
}
