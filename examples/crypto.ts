/**
 * crypto: the passive PD of examples/retrofit.system. Only the mission
 * manager can call it (a PPC on its channel 0); it seals the bytes in
 * crypto_buffer in place with a key no other PD can read and returns a
 * 32-bit authentication tag in MR0.
 */
import {
  microkit_dbg_puts,
  microkit_mr_get,
  microkit_mr_set,
  microkit_msginfo,
  microkit_msginfo_get_label,
  microkit_msginfo_new,
  microkit_name,
  microkit_read_bytes,
  microkit_work,
  microkit_write_bytes,
} from '../src/microkit/libmicrokit.js';
import { CRYPTO_SEAL } from './retrofit-protocol.js';

export const setvar = { crypto_buffer: 0 };

const KEY = new TextEncoder().encode('never leaves the crypto PD');

/** FNV-1a over key || data: a stand-in for a real MAC. */
function tag(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of [...KEY, ...data]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export function* init() {
  yield* microkit_dbg_puts(`${microkit_name()}: ready (passive)\n`);
}

export function* notified(ch: number) {
  yield* microkit_dbg_puts(`${microkit_name()}: unexpected notification on channel ${ch}\n`);
}

function* protected_(_ch: number, msginfo: microkit_msginfo): Generator<unknown, microkit_msginfo, unknown> {
  if (microkit_msginfo_get_label(msginfo) !== CRYPTO_SEAL) return microkit_msginfo_new(1, 0);
  const length = Math.min(microkit_mr_get(0), 4096);
  const data = yield* microkit_read_bytes(setvar.crypto_buffer, length);
  const t = tag(data);
  for (let i = 0; i < data.length; i++) data[i]! ^= KEY[i % KEY.length]!;
  yield* microkit_work(20_000);
  yield* microkit_write_bytes(setvar.crypto_buffer, data);
  microkit_mr_set(0, t);
  return microkit_msginfo_new(0, 1);
}
export { protected_ as protected };
