/**
 * worker: a PD of examples/multicore.system (three PDs share this program).
 * It computes for three rounds of 2 ms; after each round it writes the
 * round number into its word of the shared results region and notifies the
 * collector on channel 0.
 */
import { microkit_name, microkit_notify, microkit_store, microkit_work } from '../src/microkit/libmicrokit.js';

const COLLECTOR = 0;
const ROUNDS = 3;
const ROUND_NS = 2_000_000;

export const setvar = { results: 0 };

export function* init() {
  // worker1 writes word 1, worker2 word 2, ...
  const index = Number(microkit_name().replace(/[^0-9]/g, ''));
  for (let round = 1; round <= ROUNDS; round++) {
    yield* microkit_work(ROUND_NS);
    yield* microkit_store(setvar.results + 8 * index, round);
    yield* microkit_notify(COLLECTOR);
  }
}

export function* notified(_ch: number) {}
