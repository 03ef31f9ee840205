/**
 * camera_driver: a simulated camera in examples/retrofit.system (qemu virt
 * has none). It "captures" a frame into camera_frames, notifies the mission
 * manager (channel 0), and captures the next one when the mission manager
 * notifies back.
 */
import { microkit_dbg_puts, microkit_name, microkit_notify, microkit_store, microkit_work, microkit_write_bytes } from '../src/microkit/libmicrokit.js';
import { FRAME_BYTES, FRAME_DATA, FRAME_LENGTH, FRAME_NUMBER, FRAMES_TO_CAPTURE } from './retrofit-protocol.js';

const MISSION_MANAGER = 0;

export const setvar = { frames: 0 };

let captured = 0;

function* capture() {
  captured++;
  yield* microkit_work(300_000); // exposure and readout
  const pixels = new Uint8Array(FRAME_BYTES);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + captured * 31) & 0xff;
  yield* microkit_write_bytes(setvar.frames + FRAME_DATA, pixels);
  yield* microkit_store(setvar.frames + FRAME_LENGTH, FRAME_BYTES, 4);
  yield* microkit_store(setvar.frames + FRAME_NUMBER, captured, 4);
  yield* microkit_dbg_puts(`${microkit_name()}: captured frame ${captured}\n`);
  yield* microkit_notify(MISSION_MANAGER);
}

export function* init() {
  yield* capture();
}

export function* notified(ch: number) {
  if (ch !== MISSION_MANAGER) return;
  if (captured < FRAMES_TO_CAPTURE) yield* capture();
  else yield* microkit_dbg_puts(`${microkit_name()}: ${captured} frames captured, stopping\n`);
}
