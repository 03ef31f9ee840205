/**
 * TCB_ReadRegisters / WriteRegisters / CopyRegisters (seL4_UserContext order
 * pc, ra, sp, gp, s0..s11, a0..a7, t0..t6, tp) and TCB_SetTLSBase, with their
 * error cases.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { InvocationLabel, seL4_Error } from '../src/abi/constants.js';
import { UserContextReg as R } from '../src/abi/registers.js';
import { lookupCap } from '../src/kernel/lookup.js';
import { CapType } from '../src/kernel/cap.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';

const ROOT = s.seL4_CapInitThreadTCB;
const E = seL4_Error;

function tcbOf(env: RootEnv, cptr: number): TCB {
  const c = lookupCap(env.m.kernel, env.m.booted.rootTCB, 0, cptr);
  assert.ok(c !== null && c.type === CapType.Thread);
  return c.obj as TCB;
}

function* idleThread(env: RootEnv): Generator<unknown, number, unknown> {
  const t = yield* env.vka.createThread({ entry: env.m.registerProgram(function* () {}), priority: 1, suspended: true });
  return t.tcb;
}

/** 32 distinct 64-bit register values. */
const VALUES: bigint[] = Array.from({ length: 32 }, (_, i) => 0x1111111100000000n * BigInt(i % 15 + 1) + BigInt(i * 8 + 0x100));

describe('TCB_ReadRegisters / TCB_WriteRegisters', () => {
  it('WriteRegisters then ReadRegisters round-trips all 32 words in seL4_UserContext order', () => {
    let got: bigint[] = [];
    runRoot(function* (env) {
      const t = yield* idleThread(env);
      assert.equal(yield* s.seL4_TCB_WriteRegisters(t, false, 0, 32, VALUES), 0);
      const regs: bigint[] = [];
      assert.equal(yield* s.seL4_TCB_ReadRegisters(t, false, 0, 32, regs), 0);
      got = regs;
      // The kernel's view: slot 0 is the pc (FaultIP), 31 the tp.
      const k = tcbOf(env, t);
      for (const r of [R.pc, R.sp, R.a0, R.tp]) {
        assert.equal((BigInt(k.getRegHi(r)) << 32n) | BigInt(k.getRegLo(r)), VALUES[r]);
      }
    });
    assert.deepEqual(got, VALUES);
  });

  it('a partial read returns count words (message length = count)', () => {
    let len = -1;
    let words: bigint[] = [];
    runRoot(function* (env) {
      const t = yield* idleThread(env);
      assert.equal(yield* s.seL4_TCB_WriteRegisters(t, false, 0, 32, VALUES), 0);
      s.seL4_SetMR(0, 0);
      s.seL4_SetMR(1, 5);
      const info = yield* s.seL4_Call(t, s.seL4_MessageInfo_new(InvocationLabel.TCBReadRegisters, 0, 0, 2));
      len = s.seL4_MessageInfo_get_length(info);
      words = [0, 1, 2, 3, 4].map((i) => s.seL4_GetMRWord(i));
    });
    assert.equal(len, 5);
    assert.deepEqual(words, VALUES.slice(0, 5));
  });

  it('a thread sees registers written by WriteRegisters (with resume) when it starts: pc, sp, a0..a2, tp', () => {
    const seen: bigint[] = [];
    runRoot(function* (env) {
      const entry = env.m.registerProgram(function* (a0: number, a1: number, a2: number) {
        seen.push(BigInt(a0), BigInt(a1), BigInt(a2), s.sel4ts_GetRegister(R.sp), s.sel4ts_GetRegister(R.tp));
      });
      const t = yield* env.vka.createThread({ entry, priority: 100, suspended: true });
      const regs = new Array<bigint>(32).fill(0n);
      regs[R.pc] = BigInt(entry);
      regs[R.sp] = 0x8000n;
      regs[R.a0] = 1n;
      regs[R.a1] = 2n;
      regs[R.a2] = 3n;
      regs[R.tp] = 0x7777n;
      assert.equal(yield* s.seL4_TCB_WriteRegisters(t.tcb, true, 0, 32, regs), 0);
      assert.equal(tcbOf(env, t.tcb).state, ThreadState.Restart);
    });
    assert.deepEqual(seen, [1n, 2n, 3n, 0x8000n, 0x7777n]);
  });

  it('errors: count 0 or > 32 is RangeError [1, 32]; the current thread is IllegalOperation; short messages TruncatedMessage', () => {
    const got: number[][] = [];
    runRoot(function* (env) {
      const t = yield* idleThread(env);
      const regs: bigint[] = [];
      for (const n of [0, 33]) {
        const err = yield* s.seL4_TCB_ReadRegisters(t, false, 0, n, regs);
        got.push([err, s.seL4_GetMR(0), s.seL4_GetMR(1)]);
      }
      got.push([yield* s.seL4_TCB_ReadRegisters(ROOT, false, 0, 4, regs)]);
      got.push([yield* s.seL4_TCB_WriteRegisters(ROOT, false, 0, 4, VALUES)]);
      // WriteRegisters with count 8 but only 2 + 4 words of message.
      for (let i = 0; i < 6; i++) s.seL4_SetMR(i, 0);
      s.seL4_SetMR(1, 8);
      let info = yield* s.seL4_Call(t, s.seL4_MessageInfo_new(InvocationLabel.TCBWriteRegisters, 0, 0, 6));
      got.push([s.seL4_MessageInfo_get_label(info), s.seL4_MessageInfo_get_length(info)]);
      info = yield* s.seL4_Call(t, s.seL4_MessageInfo_new(InvocationLabel.TCBReadRegisters, 0, 0, 1));
      got.push([s.seL4_MessageInfo_get_label(info)]);
      // A write of more than 32 registers (enough message) is clamped to 32.
      assert.equal(yield* s.seL4_TCB_WriteRegisters(t, false, 0, 32, VALUES), 0);
      for (let i = 0; i < 40; i++) s.seL4_SetMR(i + 2, 0x99);
      s.seL4_SetMR(0, 0);
      s.seL4_SetMR(1, 40);
      info = yield* s.seL4_Call(t, s.seL4_MessageInfo_new(InvocationLabel.TCBWriteRegisters, 0, 0, 42));
      got.push([s.seL4_MessageInfo_get_label(info)]);
      assert.equal(yield* s.seL4_TCB_ReadRegisters(t, false, 0, 32, regs), 0);
      assert.deepEqual(regs, new Array(32).fill(0x99n));
    });
    assert.deepEqual(got, [
      [E.seL4_RangeError, 1, 32],
      [E.seL4_RangeError, 1, 32],
      [E.seL4_IllegalOperation],
      [E.seL4_IllegalOperation],
      [E.seL4_TruncatedMessage, 0],
      [E.seL4_TruncatedMessage],
      [E.seL4_NoError],
    ]);
  });

  it('ReadRegisters with suspendSource suspends the target (a blocked thread leaves its endpoint queue)', () => {
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const t = yield* env.vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Wait(ep, null);
        }),
        priority: 100,
      });
      assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 0), 0);
      assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 255), 0);
      const k = tcbOf(env, t.tcb);
      assert.equal(k.state, ThreadState.BlockedOnReceive);
      const regs: bigint[] = [];
      assert.equal(yield* s.seL4_TCB_ReadRegisters(t.tcb, true, 0, 1, regs), 0);
      assert.equal(regs[0], BigInt(s.SYSCALL_SITE));
      assert.equal(k.state, ThreadState.Inactive);
      // A Send now finds no receiver: NBSend is dropped.
      yield* s.seL4_NBSend(ep, s.seL4_MessageInfo_new(0, 0, 0, 0));
      assert.equal(k.state, ThreadState.Inactive);
    });
  });
});

describe('TCB_CopyRegisters', () => {
  it('transferFrame copies pc..s11, transferInteger a0..tp; each only its half', () => {
    const got: bigint[][] = [];
    runRoot(function* (env) {
      const src = yield* idleThread(env);
      const a = yield* idleThread(env);
      const b = yield* idleThread(env);
      const zero = new Array<bigint>(32).fill(0n);
      assert.equal(yield* s.seL4_TCB_WriteRegisters(src, false, 0, 32, VALUES), 0);
      assert.equal(yield* s.seL4_TCB_WriteRegisters(a, false, 0, 32, zero), 0);
      assert.equal(yield* s.seL4_TCB_WriteRegisters(b, false, 0, 32, zero), 0);
      assert.equal(yield* s.seL4_TCB_CopyRegisters(a, src, false, false, true, false, 0), 0);
      assert.equal(yield* s.seL4_TCB_CopyRegisters(b, src, false, false, false, true, 0), 0);
      for (const t of [a, b]) {
        const regs: bigint[] = [];
        assert.equal(yield* s.seL4_TCB_ReadRegisters(t, false, 0, 32, regs), 0);
        got.push(regs);
      }
    });
    assert.deepEqual(got[0], [...VALUES.slice(0, 16), ...new Array(16).fill(0n)]);
    assert.deepEqual(got[1], [...new Array(16).fill(0n), ...VALUES.slice(16)]);
  });

  it('suspendSource and resumeTarget; errors: source not a TCB is InvalidCapability (MR0 = 1), no source TruncatedMessage', () => {
    const got: number[][] = [];
    runRoot(function* (env) {
      const ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      const src = yield* env.vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Wait(ep, null);
        }),
        priority: 100,
      });
      let ran = false;
      const dst = yield* env.vka.createThread({
        entry: env.m.registerProgram(function* () {
          ran = true;
        }),
        priority: 100,
        suspended: true,
      });
      got.push([yield* s.seL4_TCB_CopyRegisters(dst.tcb, ep, false, false, true, true, 0), s.seL4_GetMR(0)]);
      const info = yield* s.seL4_Call(dst.tcb, s.seL4_MessageInfo_new(InvocationLabel.TCBCopyRegisters, 0, 0, 1));
      got.push([s.seL4_MessageInfo_get_label(info)]);
      assert.equal(yield* s.seL4_TCB_CopyRegisters(dst.tcb, src.tcb, true, true, false, false, 0), 0);
      got.push([tcbOf(env, src.tcb).state, tcbOf(env, dst.tcb).state]);
      assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 0), 0);
      got.push([ran ? 1 : 0]);
    });
    assert.deepEqual(got, [[E.seL4_InvalidCapability, 1], [E.seL4_TruncatedMessage], [ThreadState.Inactive, ThreadState.Restart], [1]]);
  });
});

describe('TCB_SetTLSBase', () => {
  it('sets the tp register of another thread and of the caller itself; a missing argument is TruncatedMessage', () => {
    const seen: bigint[] = [];
    runRoot(function* (env) {
      const entry = env.m.registerProgram(function* () {
        seen.push(s.sel4ts_GetRegister(R.tp));
      });
      const t = yield* env.vka.createThread({ entry, priority: 100, suspended: true });
      assert.equal(yield* s.seL4_TCB_SetTLSBase(t.tcb, 0xdead0000beefn), 0);
      assert.equal(yield* s.seL4_TCB_SetTLSBase(ROOT, 0x1234), 0);
      seen.push(s.sel4ts_GetRegister(R.tp));
      const info = yield* s.seL4_Call(ROOT, s.seL4_MessageInfo_new(InvocationLabel.TCBSetTLSBase, 0, 0, 0));
      seen.push(BigInt(s.seL4_MessageInfo_get_label(info)));
      assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
    });
    assert.deepEqual(seen, [0x1234n, BigInt(E.seL4_TruncatedMessage), 0xdead0000beefn]);
  });
});
