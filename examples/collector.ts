/**
 * collector: the PD of examples/multicore.system on core 0. Worker k
 * notifies it on channel k after each round and leaves the round number in
 * word k of the shared results region; the collector prints each report and
 * a line when all workers have finished.
 */
import { microkit_dbg_puts, microkit_load, microkit_name } from '../src/microkit/libmicrokit.js';

const WORKERS = 3;
const ROUNDS = 3;

export const setvar = { results: 0 };

let finished = 0;

export function* init() {
  yield* microkit_dbg_puts(`${microkit_name()}: waiting for ${WORKERS} workers\n`);
}

export function* notified(ch: number) {
  const round = yield* microkit_load(setvar.results + 8 * ch);
  yield* microkit_dbg_puts(`${microkit_name()}: worker${ch} finished round ${round}\n`);
  if (round === ROUNDS && ++finished === WORKERS) yield* microkit_dbg_puts(`${microkit_name()}: all workers done\n`);
}
