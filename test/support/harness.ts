/**
 * Test harness: a machine booted with the invariant checker after every
 * kernel entry, running a TypeScript root task.
 */
import { Machine, MachineOptions, RunResult } from '../../src/machine/machine.js';
import { checkInvariants } from '../../src/kernel/invariants/index.js';
import { Vka } from '../../src/user/vka.js';
import type { BootInfo } from '../../src/kernel/boot.js';

export interface RootEnv {
  m: Machine;
  bi: BootInfo;
  vka: Vka;
}

/** A machine with invariant checking on (RAM defaults to 128 MiB to keep tests light). */
export function testMachine(opts: MachineOptions = {}): Machine {
  return new Machine({ checkInvariants, virt: { ramSize: 128 * 1024 * 1024 }, ...opts });
}

/**
 * Boot, run `root` as the root task until the system is quiescent (or the
 * time limit), and return the machine. Exceptions thrown by any TypeScript
 * thread (including failed assertions) propagate to the test.
 */
export function runRoot(
  root: (env: RootEnv) => Generator<unknown, void, unknown>,
  opts: MachineOptions & { untilNs?: number; setup?: (m: Machine) => void } = {},
): { m: Machine; result: RunResult } {
  const m = testMachine(opts);
  const bi = m.booted.bootInfo;
  const env: RootEnv = { m, bi, vka: new Vka(bi) };
  if (opts.setup) opts.setup(m);
  m.startRoot(function* () {
    yield* root(env);
  });
  const result = m.run({ untilNs: opts.untilNs ?? 10_000_000_000 });
  return { m, result };
}
