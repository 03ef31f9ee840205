/**
 * When the IPC fastpath runs (seL4's fastpath_call / fastpath_reply_recv,
 * MCS) and when it hands the system call to the slow path, with seL4's
 * results either way: message registers, label, badge, capsUnwrapped
 * cleared, thread states, the donated scheduling context and the thread
 * that runs next.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { lookupCap } from '../src/kernel/lookup.js';
import { CapType } from '../src/kernel/cap.js';
import type { KernelObject } from '../src/kernel/object/kobject.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';
import type { Reply } from '../src/kernel/object/reply.js';
import { fastpathStats, resetFastpathStats, setFastpathEnabled } from '../src/kernel/fastpath.js';

type Gen<T = void> = Generator<unknown, T, unknown>;
const CNODE = s.seL4_CapInitThreadCNode;

function objOf<T extends KernelObject>(env: RootEnv, cptr: number, type: CapType): T {
  const c = lookupCap(env.m.kernel, env.m.booted.rootTCB, 0, cptr);
  assert.ok(c !== null && c.type === type);
  return c.obj as T;
}

function hits(): string {
  return `call=${fastpathStats.call} replyRecv=${fastpathStats.replyRecv}`;
}

function msg(info: number, badge: s.WordOut | null): string {
  const len = s.seL4_MessageInfo_get_length(info);
  const mrs: number[] = [];
  for (let i = 0; i < len; i++) mrs.push(s.seL4_GetMR(i));
  const b = badge === null ? '' : ` badge=${badge.number}`;
  return `label=${s.seL4_MessageInfo_get_label(info)} len=${len} extra=${s.seL4_MessageInfo_get_extraCaps(info)} unwrapped=${s.seL4_MessageInfo_get_capsUnwrapped(info)}${b} mrs=${mrs}`;
}

interface Sys {
  ep: number;
  reply: number;
  ntfn: number;
  server: number;
}

/**
 * An endpoint, a reply object, a notification and a server at `prio` that
 * waits on the endpoint, passive unless `active`. `serve` gets each message
 * and returns the reply tag; the server answers with ReplyRecv.
 */
function* system(env: RootEnv, prio: number, serve: (info: number, badge: s.WordOut, x: Sys) => Gen<number>, active = false): Gen<Sys> {
  const { vka, m } = env;
  const x: Sys = { ep: 0, reply: 0, ntfn: 0, server: 0 };
  x.ep = yield* vka.allocObject(s.seL4_EndpointObject);
  x.reply = yield* vka.allocObject(s.seL4_ReplyObject);
  x.ntfn = yield* vka.allocObject(s.seL4_NotificationObject);
  const ready = yield* vka.allocObject(s.seL4_NotificationObject);
  const t = yield* vka.createThread({
    entry: m.registerProgram(function* () {
      const badge = new s.WordOut();
      // Passive: tell the root we are about to wait, and wait, in one system call; the root then takes our SC.
      let info = active ? yield* s.seL4_Recv(x.ep, badge, x.reply) : yield* s.seL4_NBSendRecv(ready, 0, x.ep, badge, x.reply);
      for (;;) {
        const tag = yield* serve(info, badge, x);
        info = yield* s.seL4_ReplyRecv(x.ep, tag, badge, x.reply);
      }
    }),
    priority: prio,
  });
  x.server = t.tcb;
  if (!active) {
    yield* s.seL4_Wait(ready, null);
    assert.equal(yield* s.seL4_SchedContext_Unbind(t.sc), 0);
  }
  return x;
}

function* thread(env: RootEnv, prio: number, body: () => Gen): Gen<number> {
  return (yield* env.vka.createThread({ entry: env.m.registerProgram(body), priority: prio })).tcb;
}

/** A server that logs what it gets and answers MR0 = 42 with label 6 (and capsUnwrapped bits the kernel must clear). */
function echo(log: string[]) {
  return function* (info: number, badge: s.WordOut): Gen<number> {
    log.push(`server ${msg(info, badge)}`);
    s.seL4_SetMR(0, 42);
    return s.seL4_MessageInfo_new(6, 7, 0, 1);
  };
}

describe('IPC fastpath: the fast case', () => {
  it('a Call to a waiting passive server and its ReplyRecv both take the fastpath, with seL4 results', () => {
    const log: string[] = [];
    runRoot(function* (env) {
      const x = yield* system(env, 150, function* (info, badge, x) {
        log.push(`server ${msg(info, badge)}`);
        const r = objOf<Reply>(env, x.reply, CapType.Reply);
        const me = env.m.kernel.curThread;
        log.push(`server runs on the caller's SC: ${me.sc !== null && r.nextSC === me.sc && me.sc.reply === r}`);
        s.seL4_SetMR(0, 42);
        return s.seL4_MessageInfo_new(6, 7, 0, 1);
      });
      const badged = env.vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Mint(CNODE, badged, 64, CNODE, x.ep, 64, s.seL4_AllRights, 0x77), 0);
      const srv = objOf<TCB>(env, x.server, CapType.Thread);
      const r = objOf<Reply>(env, x.reply, CapType.Reply);
      yield* thread(env, 100, function* () {
        const me = env.m.kernel.curThread;
        s.seL4_SetMR(0, 11);
        s.seL4_SetMR(1, 22);
        resetFastpathStats();
        const info = yield* s.seL4_Call(badged, s.seL4_MessageInfo_new(5, 3, 0, 2));
        log.push(`client ${msg(info, null)} badgeReg=${me.getRegNumber(16)} ${hits()}`);
        log.push(`server ${ThreadState[srv.state]} sc=${srv.sc} reply.tcb=server:${r.tcb === srv} client sc bound: ${me.sc !== null && me.sc.tcb === me && me.sc.reply === null}`);
      });
    });
    assert.deepEqual(log, [
      'server label=5 len=2 extra=0 unwrapped=0 badge=119 mrs=11,22',
      "server runs on the caller's SC: true",
      'client label=6 len=1 extra=0 unwrapped=0 mrs=42 badgeReg=0 call=1 replyRecv=1',
      'server BlockedOnReceive sc=null reply.tcb=server:true client sc bound: true',
    ]);
  });

  it('nested calls through two passive servers stack the SC and return it, all on the fastpath', () => {
    const log: string[] = [];
    runRoot(function* (env) {
      const inner = yield* system(env, 200, echo(log));
      const outer = yield* system(env, 150, function* (info, badge) {
        log.push(`outer ${msg(info, badge)}`);
        s.seL4_SetMR(0, 1);
        const r = yield* s.seL4_Call(inner.ep, s.seL4_MessageInfo_new(2, 0, 0, 1));
        log.push(`outer got ${msg(r, null)}`);
        return s.seL4_MessageInfo_new(3, 0, 0, 1);
      });
      yield* thread(env, 100, function* () {
        resetFastpathStats();
        const info = yield* s.seL4_Call(outer.ep, s.seL4_MessageInfo_new(1, 0, 0, 0));
        log.push(`client ${msg(info, null)} ${hits()}`);
      });
    });
    assert.deepEqual(log, [
      'outer label=1 len=0 extra=0 unwrapped=0 badge=0 mrs=',
      'server label=2 len=1 extra=0 unwrapped=0 badge=0 mrs=1',
      'outer got label=6 len=1 extra=0 unwrapped=0 mrs=42',
      'client label=3 len=1 extra=0 unwrapped=0 mrs=42 call=2 replyRecv=2',
    ]);
  });
});

describe('IPC fastpath: the slow path takes over', () => {
  /** Client Call of `len` words to a passive server at 150; returns the log. */
  function callOnce(len: number, extraCaps = 0, setup?: (env: RootEnv, x: Sys) => Gen): string[] {
    const log: string[] = [];
    runRoot(function* (env) {
      const x = yield* system(env, 150, echo(log));
      if (setup) yield* setup(env, x);
      yield* thread(env, 100, function* () {
        for (let i = 0; i < len; i++) s.seL4_SetMR(i, 10 + i);
        if (extraCaps > 0) s.seL4_SetCap(0, x.ntfn);
        resetFastpathStats();
        const info = yield* s.seL4_Call(x.ep, s.seL4_MessageInfo_new(5, 0, extraCaps, len));
        log.push(`client ${msg(info, null)} ${hits()}`);
      });
    });
    return log;
  }

  it('a message longer than the four message registers', () => {
    assert.deepEqual(callOnce(5), [
      'server label=5 len=5 extra=0 unwrapped=0 badge=0 mrs=10,11,12,13,14',
      'client label=6 len=1 extra=0 unwrapped=0 mrs=42 call=0 replyRecv=1',
    ]);
  });

  it('a message with an extra cap', () => {
    // No receive slot: the cap is not transferred, extraCaps reports 0.
    assert.deepEqual(callOnce(1, 1), [
      'server label=5 len=1 extra=0 unwrapped=0 badge=0 mrs=10',
      'client label=6 len=1 extra=0 unwrapped=0 mrs=42 call=0 replyRecv=1',
    ]);
  });

  it('a Call through a cap without Grant or GrantReply: the caller does not wait for a reply', () => {
    const log: string[] = [];
    runRoot(function* (env) {
      const x = yield* system(env, 150, echo(log), true);
      const writeOnly = env.vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Mint(CNODE, writeOnly, 64, CNODE, x.ep, 64, 1, 0x5), 0);
      const c = yield* thread(env, 100, function* () {
        resetFastpathStats();
        yield* s.seL4_Call(writeOnly, s.seL4_MessageInfo_new(5, 0, 0, 0));
        log.push('client resumed');
      });
      const ct = objOf<TCB>(env, c, CapType.Thread);
      yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 0);
      log.push(`client ${ThreadState[ct.state]} ${hits()}`);
    });
    assert.deepEqual(log, ['server label=5 len=0 extra=0 unwrapped=0 badge=5 mrs=', 'client Inactive call=0 replyRecv=0']);
  });

  it('a Call to a passive server of lower priority than another ready thread: that thread runs first', () => {
    const log: string[] = [];
    runRoot(function* (env) {
      const x = yield* system(env, 50, echo(log));
      yield* thread(env, 100, function* () {
        resetFastpathStats();
        const info = yield* s.seL4_Call(x.ep, s.seL4_MessageInfo_new(5, 0, 0, 0));
        log.push(`client ${msg(info, null)} ${hits()}`);
      });
      yield* thread(env, 80, function* () {
        log.push(`worker ${hits()}`);
      });
    });
    // The server's ReplyRecv back to the (highest-priority) client is fast again.
    assert.deepEqual(log, [
      'worker call=0 replyRecv=0',
      'server label=5 len=0 extra=0 unwrapped=0 badge=0 mrs=',
      'client label=6 len=1 extra=0 unwrapped=0 mrs=42 call=0 replyRecv=1',
    ]);
  });

  it('a ReplyRecv on an endpoint with a sender queued: the next message is received at once', () => {
    const log: string[] = [];
    runRoot(function* (env) {
      const wake = yield* env.vka.allocObject(s.seL4_NotificationObject);
      let n = 0;
      const x = yield* system(env, 150, function* (info, badge) {
        log.push(`server ${msg(info, badge)}`);
        // The first time, wake a higher-priority client that calls us while we are busy.
        if (n++ === 0) yield* s.seL4_Signal(wake);
        s.seL4_SetMR(0, 42);
        resetFastpathStats();
        return s.seL4_MessageInfo_new(6, 0, 0, 1);
      });
      yield* thread(env, 200, function* () {
        yield* s.seL4_Wait(wake, null);
        s.seL4_SetMR(0, 2);
        const info = yield* s.seL4_Call(x.ep, s.seL4_MessageInfo_new(2, 0, 0, 1));
        log.push(`B ${msg(info, null)}`);
      });
      yield* thread(env, 100, function* () {
        s.seL4_SetMR(0, 1);
        const info = yield* s.seL4_Call(x.ep, s.seL4_MessageInfo_new(1, 0, 0, 1));
        log.push(`A ${msg(info, null)} ${hits()}`);
      });
    });
    // B is queued on the endpoint when the server replies to A: slow path, and the
    // server (now on B's SC) handles B before A runs again. B's reply is fast.
    assert.deepEqual(log, [
      'server label=1 len=1 extra=0 unwrapped=0 badge=0 mrs=1',
      'server label=2 len=1 extra=0 unwrapped=0 badge=0 mrs=2',
      'B label=6 len=1 extra=0 unwrapped=0 mrs=42',
      'A label=6 len=1 extra=0 unwrapped=0 mrs=42 call=0 replyRecv=1',
    ]);
  });

  it('a ReplyRecv while a signal is pending on the bound notification', () => {
    const log: string[] = [];
    let srv: TCB | null = null;
    runRoot(function* (env) {
      let boundCap = 0;
      const x = yield* system(env, 150, function* (info, badge) {
        log.push(`server ${msg(info, badge)} ${hits()}`);
        if (badge.number === 0) yield* s.seL4_Signal(boundCap);
        s.seL4_SetMR(0, 42);
        resetFastpathStats();
        return s.seL4_MessageInfo_new(6, 0, 0, 1);
      });
      boundCap = env.vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Mint(CNODE, boundCap, 64, CNODE, x.ntfn, 64, s.seL4_AllRights, 0x9), 0);
      assert.equal(yield* s.seL4_TCB_BindNotification(x.server, x.ntfn), 0);
      srv = objOf<TCB>(env, x.server, CapType.Thread);
      yield* thread(env, 100, function* () {
        resetFastpathStats();
        const info = yield* s.seL4_Call(x.ep, s.seL4_MessageInfo_new(5, 0, 0, 0));
        log.push(`client ${msg(info, null)} ${hits()}`);
      });
    });
    // The Call is fast; the ReplyRecv is not. The reply returns the SC to the
    // client, then the receive completes the pending signal at once: the
    // server is Running again but, passive and with no SC on its notification,
    // cannot run; the client does.
    assert.deepEqual(log, [
      'server label=5 len=0 extra=0 unwrapped=0 badge=0 mrs= call=1 replyRecv=0',
      'client label=6 len=1 extra=0 unwrapped=0 mrs=42 call=0 replyRecv=0',
    ]);
    assert.equal(srv!.state, ThreadState.Running);
    assert.equal(srv!.sc, null);
    assert.equal(srv!.getRegNumber(16), 9);
  });

  it('an observer attached, or the fastpath turned off', () => {
    for (const variant of ['observer', 'off'] as const) {
      const log: string[] = [];
      runRoot(function* (env) {
        const x = yield* system(env, 150, echo(log));
        if (variant === 'observer') env.m.kernel.observer = { onEvent: () => {} };
        else setFastpathEnabled(false);
        yield* thread(env, 100, function* () {
          resetFastpathStats();
          const info = yield* s.seL4_Call(x.ep, s.seL4_MessageInfo_new(5, 0, 0, 0));
          log.push(`client ${msg(info, null)} ${hits()}`);
        });
      });
      setFastpathEnabled(true);
      assert.deepEqual(log, ['server label=5 len=0 extra=0 unwrapped=0 badge=0 mrs=', 'client label=6 len=1 extra=0 unwrapped=0 mrs=42 call=0 replyRecv=0'], variant);
    }
  });
});
