/**
 * seL4_MessageInfo as the kernel delivers it: the label travels unchanged (all
 * 52 bits), capsUnwrapped and extraCaps are recomputed by the transfer, the
 * length is clamped to seL4_MsgMaxLength (120), MRs 4.. go through the IPC
 * buffers, and a thread without an IPC buffer moves only MR0..MR3 (the
 * registers a2..a5).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { InvocationLabel, seL4_Error } from '../src/abi/constants.js';
import { UserContextReg } from '../src/abi/registers.js';

type Body = () => Generator<unknown, void, unknown>;

function* spawn(env: RootEnv, prio: number, body: Body, noIPCBuffer = false): Generator<unknown, s.CreatedThread, unknown> {
  const entry = env.m.registerProgram(body);
  const t = yield* env.vka.createThread({ entry, priority: prio, suspended: true });
  if (noIPCBuffer) assert.equal(yield* s.seL4_TCB_SetIPCBuffer(t.tcb, 0, s.seL4_CapNull), 0);
  assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
  return t;
}

const SEND = -5;

describe('seL4_MessageInfo encoding through IPC', () => {
  it('the label is delivered as sent; capsUnwrapped and extraCaps are the transfer result, not the sender values', () => {
    const got: number[][] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      yield* spawn(env, 100, function* () {
        s.seL4_SetMR(0, 11);
        s.seL4_SetMR(1, 22);
        yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0x12345, 7, 0, 2));
      });
      const info = yield* s.seL4_Recv(ep, null, reply);
      got.push([
        s.seL4_MessageInfo_get_label(info),
        s.seL4_MessageInfo_get_capsUnwrapped(info),
        s.seL4_MessageInfo_get_extraCaps(info),
        s.seL4_MessageInfo_get_length(info),
        s.seL4_GetMR(0),
        s.seL4_GetMR(1),
      ]);
    });
    assert.deepEqual(got, [[0x12345, 0, 0, 2, 11, 22]]);
  });

  it('all 52 label bits survive the transfer', () => {
    const label = (1n << 52n) - 2n;
    const tag = (label << 12n) | 1n;
    let a1 = -1n;
    let mr0 = -1n;
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      yield* spawn(env, 100, function* () {
        // seL4_Send with capRegister = ep, msgInfoRegister = tag, MR0 (a2) = 0x55.
        yield* s.seL4_RawSyscall(SEND, [ep, tag, 0x55]);
      });
      yield* s.seL4_Recv(ep, null, reply);
      a1 = s.sel4ts_GetRegister(UserContextReg.a1);
      mr0 = s.seL4_GetMRWord(0);
    });
    assert.equal(a1, tag);
    assert.equal(mr0, 0x55n);
  });

  for (const len of [120, 121, 127]) {
    it(`a length of ${len} is clamped to seL4_MsgMaxLength (120)`, () => {
      let got: number[] = [];
      runRoot(function* (env) {
        const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
        const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
        yield* spawn(env, 100, function* () {
          for (let i = 0; i < 120; i++) s.seL4_SetMR(i, 1000 + i);
          yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(3, 0, 0, len));
        });
        const info = yield* s.seL4_Recv(ep, null, reply);
        got = [s.seL4_MessageInfo_get_label(info), s.seL4_MessageInfo_get_length(info), s.seL4_GetMR(4), s.seL4_GetMR(119)];
      });
      assert.deepEqual(got, [3, 120, 1004, 1119]);
    });
  }
});

describe('threads without an IPC buffer (only the four register MRs)', () => {
  it('a sender without an IPC buffer delivers at most MR0..MR3', () => {
    let got: number[] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      yield* spawn(
        env,
        100,
        function* () {
          yield* s.seL4_SendWithMRs(ep, s.seL4_MessageInfo_new(9, 0, 0, 10), [1, 2, 3, 4]);
        },
        true,
      );
      for (let i = 0; i < 10; i++) s.seL4_SetMR(i, 0xeeee);
      const info = yield* s.seL4_Recv(ep, null, reply);
      got = [s.seL4_MessageInfo_get_label(info), s.seL4_MessageInfo_get_length(info)];
      for (let i = 0; i < 6; i++) got.push(s.seL4_GetMR(i));
    });
    // MR4 and MR5 of the receiver's buffer are untouched.
    assert.deepEqual(got, [9, 4, 1, 2, 3, 4, 0xeeee, 0xeeee]);
  });

  it('a receiver without an IPC buffer gets MR0..MR3 and length 4 of a longer message', () => {
    let got: bigint[] = [];
    let len = -1;
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* env.vka.allocObject(s.seL4_ReplyObject);
      const done = yield* env.vka.allocObject(s.seL4_EndpointObject);
      yield* spawn(
        env,
        200,
        function* () {
          const mrs = [0n, 0n, 0n, 0n];
          const info = yield* s.seL4_RecvWithMRs(ep, null, mrs, reply);
          got = mrs;
          len = s.seL4_MessageInfo_get_length(info);
          yield* s.seL4_SendWithMRs(done, s.seL4_MessageInfo_new(0, 0, 0, 0), []);
        },
        true,
      );
      for (let i = 0; i < 10; i++) s.seL4_SetMR(i, 100 + i);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 10));
      yield* s.seL4_Wait(done, null);
    });
    assert.equal(len, 4);
    assert.deepEqual(got, [100n, 101n, 102n, 103n]);
  });

  it('an invocation from a thread without an IPC buffer sees at most 4 message words (TCB_WriteRegisters: TruncatedMessage)', () => {
    const labels: number[] = [];
    runRoot(function* (env) {
      const done = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const victim = yield* env.vka.createThread({ entry: env.m.registerProgram(function* () {}), priority: 1, suspended: true });
      yield* spawn(
        env,
        100,
        function* () {
          // WriteRegisters(flags 0, count 1, pc): length 3 fits in registers.
          const ok = [0n, 1n, 0x2000n, 0n];
          let info = yield* s.seL4_CallWithMRs(victim.tcb, s.seL4_MessageInfo_new(InvocationLabel.TCBWriteRegisters, 0, 0, 3), ok);
          labels.push(s.seL4_MessageInfo_get_label(info));
          // count 3 needs length 5: without an IPC buffer the kernel sees length 4.
          const mrs = [0n, 3n, 0x2000n, 0n];
          info = yield* s.seL4_CallWithMRs(victim.tcb, s.seL4_MessageInfo_new(InvocationLabel.TCBWriteRegisters, 0, 0, 5), mrs);
          labels.push(s.seL4_MessageInfo_get_label(info), s.seL4_MessageInfo_get_length(info));
          yield* s.seL4_SendWithMRs(done, s.seL4_MessageInfo_new(0, 0, 0, 0), []);
        },
        true,
      );
      yield* s.seL4_Wait(done, null);
    });
    assert.deepEqual(labels, [seL4_Error.seL4_NoError, seL4_Error.seL4_TruncatedMessage, 0]);
  });
});
