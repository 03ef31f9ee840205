/**
 * Cap faults (seL4_CapFault_Msg): a failed cap lookup in Call/Send (the
 * invoked cptr or an extra cap) or in the receive phase (the source cptr,
 * a cap that cannot be received on, the reply cptr) is a fault with the
 * lookup failure described from MR3. A reply to a cap fault always restarts
 * the thread; a thread without a fault handler becomes Inactive. Also
 * sel4test IPCRIGHTS0002 (Recv needs Read).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { seL4_CapFault_Msg as CF, seL4_FaultType, seL4_LookupFailureType as LF } from '../src/abi/constants.js';
import { lookupCap } from '../src/kernel/lookup.js';
import { CapType } from '../src/kernel/cap.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';

const CNODE = s.seL4_CapInitThreadCNode;
const VSPACE = s.seL4_CapInitThreadVSpace;
const ROOT = s.seL4_CapInitThreadTCB;
const SITE = s.SYSCALL_SITE;
/** A cptr whose lookup fails the root CNode's guard (52 zero bits above the 12 index bits). */
const BAD_CPTR = 0x100123;

function tcbOf(env: RootEnv, cptr: number): TCB {
  const c = lookupCap(env.m.kernel, env.m.booted.rootTCB, 0, cptr);
  assert.ok(c !== null && c.type === CapType.Thread);
  return c.obj as TCB;
}

function* letRun(): Generator<unknown, void, unknown> {
  assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 0), 0);
  assert.equal(yield* s.seL4_TCB_SetPriority(ROOT, ROOT, 255), 0);
}

/**
 * Run `body` in a thread whose fault endpoint (badge 0x77) the root receives
 * on; returns the fault message words (label, length, MR0..MR6, badge).
 */
function capFault(body: (env: RootEnv) => Generator<unknown, void, unknown>, prep?: (env: RootEnv) => Generator<unknown, void, unknown>): number[] {
  let got: number[] = [];
  runRoot(function* (env) {
    const { vka } = env;
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const reply = yield* vka.allocObject(s.seL4_ReplyObject);
    const fep = vka.allocSlot();
    assert.equal(yield* s.seL4_CNode_Mint(CNODE, fep, 64, CNODE, ep, 64, s.seL4_AllRights, 0x77), 0);
    if (prep !== undefined) yield* prep(env);
    const t = yield* vka.createThread({ entry: env.m.registerProgram(() => body(env)), priority: 100, suspended: true });
    assert.equal(yield* s.seL4_TCB_SetSpace(t.tcb, fep, CNODE, 0, VSPACE, 0), 0);
    assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
    const w = new s.WordOut();
    const info = yield* s.seL4_Recv(ep, w, reply);
    got = [s.seL4_MessageInfo_get_label(info), s.seL4_MessageInfo_get_length(info)];
    for (let i = 0; i < s.seL4_MessageInfo_get_length(info); i++) got.push(s.seL4_GetMR(i));
    got.push(w.number);
  });
  return got;
}

const CAP_FAULT = seL4_FaultType.seL4_Fault_CapFault;
/** Guard mismatch of BAD_CPTR at the root CNode: bitsLeft 64, guard found 0 (the cap's guard), bits found 52. */
const GUARD_MISMATCH = [LF.seL4_GuardMismatch, 64, 0, 52];

describe('cap faults in the send phase', () => {
  it('Call on a cptr whose lookup fails: CapFault IP, Addr, InRecvPhase 0, guard mismatch (length 7), fault EP badge', () => {
    const m = capFault(function* () {
      yield* s.seL4_Call(BAD_CPTR, s.seL4_MessageInfo_new(0, 0, 0, 0));
    });
    assert.deepEqual(m, [CAP_FAULT, CF.Length, SITE, BAD_CPTR, 0, ...GUARD_MISMATCH, 0x77]);
  });

  it('a blocking Send faults the same way; an NBSend does not fault', () => {
    const m = capFault(function* () {
      yield* s.seL4_NBSend(BAD_CPTR, s.seL4_MessageInfo_new(0, 0, 0, 0));
      yield* s.seL4_Send(BAD_CPTR + 1, s.seL4_MessageInfo_new(0, 0, 0, 0));
    });
    assert.deepEqual(m, [CAP_FAULT, CF.Length, SITE, BAD_CPTR + 1, 0, ...GUARD_MISMATCH, 0x77]);
  });

  it('a failed extra-cap lookup in a Call is a cap fault on that cptr', () => {
    let ep = 0;
    const m = capFault(
      function* () {
        s.seL4_SetCap(0, ep);
        s.seL4_SetCap(1, BAD_CPTR);
        yield* s.seL4_Call(ep, s.seL4_MessageInfo_new(0, 0, 2, 0));
      },
      function* (env) {
        ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      },
    );
    assert.deepEqual(m, [CAP_FAULT, CF.Length, SITE, BAD_CPTR, 0, ...GUARD_MISMATCH, 0x77]);
  });
});

describe('cap faults in the receive phase (InRecvPhase = 1)', () => {
  it('Recv on a cptr whose lookup fails', () => {
    const m = capFault(function* () {
      yield* s.seL4_Wait(BAD_CPTR, null);
    });
    assert.deepEqual(m, [CAP_FAULT, CF.Length, SITE, BAD_CPTR, 1, ...GUARD_MISMATCH, 0x77]);
  });

  it('Recv on a cap that is neither an endpoint nor a notification: missing capability, bitsLeft 0', () => {
    const m = capFault(function* () {
      yield* s.seL4_Wait(ROOT, null);
    });
    assert.deepEqual(m, [CAP_FAULT, 5, SITE, ROOT, 1, LF.seL4_MissingCapability, 0, 0x77]);
  });

  it('IPCRIGHTS0002: Recv needs Read (endpoint and notification caps without it fault)', () => {
    for (const type of [s.seL4_EndpointObject, s.seL4_NotificationObject]) {
      let cap = 0;
      const m = capFault(
        function* () {
          yield* s.seL4_Wait(cap, null);
        },
        function* (env) {
          const obj = yield* env.vka.allocObject(type);
          cap = env.vka.allocSlot();
          assert.equal(yield* s.seL4_CNode_Mint(CNODE, cap, 64, CNODE, obj, 64, s.seL4_NoRead, 0), 0);
        },
      );
      assert.deepEqual(m, [CAP_FAULT, 5, SITE, cap, 1, LF.seL4_MissingCapability, 0, 0x77]);
    }
  });

  it('Wait on a notification bound to another thread faults', () => {
    let n = 0;
    const m = capFault(
      function* () {
        yield* s.seL4_Wait(n, null);
      },
      function* (env) {
        n = yield* env.vka.allocObject(s.seL4_NotificationObject);
        assert.equal(yield* s.seL4_TCB_BindNotification(ROOT, n), 0);
      },
    );
    assert.deepEqual(m, [CAP_FAULT, 5, SITE, n, 1, LF.seL4_MissingCapability, 0, 0x77]);
  });

  it('Recv whose reply cptr fails to look up faults on the reply cptr', () => {
    let ep = 0;
    const m = capFault(
      function* () {
        yield* s.seL4_Recv(ep, null, BAD_CPTR);
      },
      function* (env) {
        ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      },
    );
    assert.deepEqual(m, [CAP_FAULT, CF.Length, SITE, BAD_CPTR, 1, ...GUARD_MISMATCH, 0x77]);
  });

  it('Recv whose reply cptr names something other than a reply object faults on the reply cptr', () => {
    let ep = 0;
    const m = capFault(
      function* () {
        yield* s.seL4_Recv(ep, null, ep);
      },
      function* (env) {
        ep = yield* env.vka.allocObject(s.seL4_EndpointObject);
      },
    );
    assert.equal(m[0], CAP_FAULT);
    assert.deepEqual(m.slice(2, 5), [SITE, ep, 1]);
    assert.equal(m[m.length - 1], 0x77);
  });
});

describe('handling cap faults', () => {
  it('a reply to a cap fault restarts the thread whatever the label: the handler installs the cap and the Recv is retried', () => {
    const log: string[] = [];
    runRoot(function* (env) {
      const { vka } = env;
      const fep = yield* vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* vka.allocObject(s.seL4_ReplyObject);
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const slot = vka.allocSlot();
      const t = yield* vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Wait(slot, null);
          log.push(`received ${s.seL4_GetMR(0)}`);
        }),
        priority: 100,
        suspended: true,
      });
      assert.equal(yield* s.seL4_TCB_SetSpace(t.tcb, fep, CNODE, 0, VSPACE, 0), 0);
      assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
      const info = yield* s.seL4_Recv(fep, null, reply);
      log.push(`fault ${s.seL4_MessageInfo_get_label(info)} addr ${s.seL4_GetMR(CF.Addr) === slot}`);
      assert.equal(yield* s.seL4_CNode_Copy(CNODE, slot, 64, CNODE, ep, 64, s.seL4_AllRights), 0);
      yield* s.seL4_Send(reply, s.seL4_MessageInfo_new(1, 0, 0, 0));
      yield* letRun();
      assert.equal(tcbOf(env, t.tcb).state, ThreadState.BlockedOnReceive);
      s.seL4_SetMR(0, 31);
      yield* s.seL4_Send(ep, s.seL4_MessageInfo_new(0, 0, 0, 1));
    });
    assert.deepEqual(log, ['fault 1 addr true', 'received 31']);
  });

  it('a thread with no fault handler becomes Inactive on a fault', () => {
    runRoot(function* (env) {
      const t = yield* env.vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Call(BAD_CPTR, s.seL4_MessageInfo_new(0, 0, 0, 0));
          assert.fail('must not continue');
        }),
        priority: 100,
      });
      yield* letRun();
      const k = tcbOf(env, t.tcb);
      assert.equal(k.state, ThreadState.Inactive);
    });
  });

  it('a fault handler that receives without a reply object cannot reply: the faulter is left Inactive', () => {
    runRoot(function* (env) {
      const { vka } = env;
      const fep = yield* vka.allocObject(s.seL4_EndpointObject);
      const t = yield* vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Call(BAD_CPTR, s.seL4_MessageInfo_new(0, 0, 0, 0));
          assert.fail('must not continue');
        }),
        priority: 100,
        suspended: true,
      });
      assert.equal(yield* s.seL4_TCB_SetSpace(t.tcb, fep, CNODE, 0, VSPACE, 0), 0);
      assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
      const info = yield* s.seL4_Wait(fep, null);
      assert.equal(s.seL4_MessageInfo_get_label(info), CAP_FAULT);
      assert.equal(tcbOf(env, t.tcb).state, ThreadState.Inactive);
    });
  });

  it('the fault endpoint can be set with TCB_SetSchedParams (its badge is delivered)', () => {
    let badge = -1n;
    runRoot(function* (env) {
      const { vka } = env;
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* vka.allocObject(s.seL4_ReplyObject);
      const fep = vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Mint(CNODE, fep, 64, CNODE, ep, 64, s.seL4_AllRights, 0xf00d), 0);
      yield* vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.seL4_Call(BAD_CPTR, s.seL4_MessageInfo_new(0, 0, 0, 0));
        }),
        priority: 100,
        faultEP: fep,
      });
      const w = new s.WordOut();
      const info = yield* s.seL4_Recv(ep, w, reply);
      assert.equal(s.seL4_MessageInfo_get_label(info), CAP_FAULT);
      badge = w.value;
    });
    assert.equal(badge, 0xf00dn);
  });
});
