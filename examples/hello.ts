/**
 * hello: the PD program of examples/hello.system. Its init entry point
 * prints "hello, world" on the debug console; it never gets a notification.
 */
import { microkit_dbg_puts, microkit_name } from '../src/microkit/libmicrokit.js';

export function* init() {
  yield* microkit_dbg_puts(`${microkit_name()}: hello, world\n`);
}

export function* notified(_ch: number) {}
