/**
 * Shared helpers for capability tests: one invocation marshalled as libsel4
 * does (returning the reply label and every reply MR), error assertions, and
 * a root task that must run to its end.
 */
import assert from 'node:assert/strict';
import * as s from '../../src/user/index.js';
import type { Machine } from '../../src/machine/machine.js';
import { RootEnv, runRoot } from './harness.js';

export type Gen<T = void> = Generator<unknown, T, unknown>;
export const CNODE = s.seL4_CapInitThreadCNode;
/** seL4_WordBits: the depth of a full-word lookup. */
export const W = 64;

export interface Result {
  err: number;
  mrs: bigint[];
}

/** One invocation marshalled as libsel4 does; returns the reply label and all reply MRs. */
export function* invoke(service: s.Word, label: number, args: readonly s.Word[], caps: readonly number[] = []): Gen<Result> {
  for (let i = 0; i < caps.length; i++) s.seL4_SetCap(i, caps[i]!);
  for (let i = 0; i < args.length; i++) s.seL4_SetMR(i, args[i]!);
  const info = yield* s.seL4_Call(service as number, s.seL4_MessageInfo_new(label, 0, caps.length, args.length));
  const mrs: bigint[] = [];
  for (let i = 0; i < s.seL4_MessageInfo_get_length(info); i++) mrs.push(s.seL4_GetMRWord(i));
  return { err: s.seL4_MessageInfo_get_label(info), mrs };
}

export function expectError(r: Result, err: number, mrs: readonly (number | bigint)[], what: string): void {
  assert.equal(r.err, err, `${what}: error code`);
  assert.deepEqual(r.mrs, mrs.map((x) => BigInt(x)), `${what}: error MRs`);
}

/** Run a root task to its end (a root task that blocks forever fails the test). */
export function root(body: (env: RootEnv) => Gen, opts: Parameters<typeof runRoot>[1] = {}): Machine {
  let finished = false;
  const { m } = runRoot(function* (env) {
    yield* body(env);
    finished = true;
  }, opts);
  assert.ok(finished, 'the root task ran to its end');
  return m;
}
