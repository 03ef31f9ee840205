/**
 * Fault delivery (sel4test PAGEFAULT0001-0005): a thread's VM fault, unknown
 * syscall or user exception is sent as a fault message to the endpoint set
 * with TCB_SetSpace, with the badge of that endpoint cap; replying restarts
 * the thread as seL4 specifies (VM faults always; UnknownSyscall and
 * UserException only for label 0, and their reply MRs overwrite registers).
 * Each case runs with and without restart, faulter priority 100..102 against
 * a handler at 101, with and without a badged fault endpoint.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { seL4_FaultType, seL4_UnknownSyscall_Msg as SYS, seL4_UserException_Msg as EXC, seL4_VMFault_Msg as VM } from '../src/abi/constants.js';
import { UserContextReg as R } from '../src/abi/registers.js';
import type { Machine } from '../src/machine/machine.js';
import { lookupCap } from '../src/kernel/lookup.js';
import { TCB, ThreadState } from '../src/kernel/object/tcb.js';

const CNODE = s.seL4_CapInitThreadCNode;
const VSPACE = s.seL4_CapInitThreadVSpace;
const BAD_VADDR = 0x3cba987650;
const BAD_PAGE = BAD_VADDR - (BAD_VADDR % 4096);
const GOOD_MAGIC = 0x15831851;
const BAD_MAGIC = 0xea7ce7ae; // ~GOOD_MAGIC as a 32-bit value
const BAD_SYSCALL_NUMBER = 0xc1;
const EXPECTED_BADGE = 0xabababa;
const SITE = s.SYSCALL_SITE;

type Kind = 'read' | 'write' | 'instruction' | 'syscall' | 'instruction-exception';

interface Case {
  restart: boolean;
  prio: number;
  badged: boolean;
}

/** What the faulter observed after being restarted (per case). */
interface Outcome {
  value?: bigint;
  resumed: boolean;
}

interface HandlerContext {
  /** The faulter's TCB cptr. */
  tcb: number;
  /** A free 4 KiB frame the handler may map. */
  frame: number;
  /** Entry of a program that records a0 as the outcome (a pc to restart at). */
  landing: number;
}

/**
 * sel4test's test_fault: one handler (priority 101) and one faulter per case.
 * `handle` checks the fault message and prepares the reply; it returns the
 * reply label, or null for "do not reply".
 */
function faultTest(
  kind: Kind,
  handle: (env: RootEnv, info: number, c: Case, ctx: HandlerContext) => Generator<unknown, number | null, unknown>,
  faulterBody: (out: Outcome) => Generator<unknown, void, unknown>,
): Outcome[] {
  const outcomes: Outcome[] = [];
  const cases: Case[] = [];
  for (const restart of [false, true]) for (let prio = 100; prio <= 102; prio++) for (const badged of [false, true]) cases.push({ restart, prio, badged });
  // The instruction-fault faulter starts at an address with no code. Without this the
  // machine would hand it to the emulated hart, which would then keep running it after
  // the handler moves its pc to a TypeScript program.
  const setup = kind === 'instruction' ? (m: Machine) => void (m.hartFactory = null) : undefined;
  runRoot(function* (env) {
    const { vka, m } = env;
    const done = yield* vka.allocObject(s.seL4_EndpointObject);
    const frame = yield* vka.allocObject(s.seL4_RISCV_4K_Page);
    const landing = m.registerProgram(function* landing(a0: number) {
      const out = outcomes[outcomes.length - 1]!;
      out.resumed = true;
      out.value = BigInt(a0);
      yield* s.seL4_Send(done, s.seL4_MessageInfo_new(0, 0, 0, 0));
    });
    for (const c of cases) {
      const out: Outcome = { resumed: false };
      outcomes.push(out);
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      let faultEP = ep;
      if (c.badged) {
        faultEP = vka.allocSlot();
        assert.equal(yield* s.seL4_CNode_Mint(CNODE, faultEP, 64, CNODE, ep, 64, s.seL4_AllRights, EXPECTED_BADGE), 0);
      }
      const reply = yield* vka.allocObject(s.seL4_ReplyObject);
      const faulterEntry =
        kind === 'instruction'
          ? BAD_VADDR
          : m.registerProgram(function* faulter() {
              yield* faulterBody(out);
              out.resumed = true;
              yield* s.seL4_Send(done, s.seL4_MessageInfo_new(0, 0, 0, 0));
            });
      const faulter = yield* vka.createThread({ entry: faulterEntry, priority: c.prio, suspended: true, args: [BAD_MAGIC] });
      const handler = m.registerProgram(function* handler() {
        const badge = new s.WordOut();
        const info = yield* s.seL4_Recv(faultEP, badge, reply);
        assert.equal(badge.number, c.badged ? EXPECTED_BADGE : 0);
        const label = yield* handle(env, info, c, { tcb: faulter.tcb, frame, landing });
        if (label !== null) {
          yield* s.seL4_Send(reply, s.seL4_MessageInfo_new(label, 0, 0, s.seL4_MessageInfo_get_length(info)));
        }
        yield* s.seL4_Send(done, s.seL4_MessageInfo_new(0, 0, 0, 0));
      });
      yield* vka.createThread({ entry: handler, priority: 101 });
      assert.equal(yield* s.seL4_TCB_SetSpace(faulter.tcb, faultEP, CNODE, 0, VSPACE, 0), 0);
      assert.equal(yield* s.seL4_TCB_Resume(faulter.tcb), 0);
      yield* s.seL4_Wait(done, null);
      if (c.restart) yield* s.seL4_Wait(done, null);
      if (kind === 'write' && c.restart) assert.equal(yield* s.sel4ts_Load(BAD_VADDR, 4), BigInt(GOOD_MAGIC));
      // cleanup_helper: stop the faulter, take the page away again.
      assert.equal(yield* s.seL4_TCB_Suspend(faulter.tcb), 0);
      yield* s.seL4_RISCV_Page_Unmap(frame);
    }
  }, setup === undefined ? {} : { setup });
  assert.equal(outcomes.length, cases.length);
  cases.forEach((c, i) => assert.equal(outcomes[i]!.resumed, c.restart, `case ${JSON.stringify(c)}: resumed`));
  return outcomes;
}

/** The handler side of a VM fault: check the message, then map the page at the fault address. */
function* handleVMFault(env: RootEnv, info: number, fsr: number, ip: number, prefetch: number, frame: number, restart: boolean) {
  assert.equal(s.seL4_MessageInfo_get_label(info), seL4_FaultType.seL4_Fault_VMFault);
  assert.equal(s.seL4_MessageInfo_get_length(info), VM.Length);
  assert.equal(s.seL4_GetMR(VM.IP), ip);
  assert.equal(s.seL4_GetMR(VM.Addr), BAD_VADDR);
  assert.equal(s.seL4_GetMR(VM.PrefetchFault), prefetch);
  assert.equal(s.seL4_GetMR(VM.FSR), fsr);
  if (!restart) return null;
  yield* env.vka.mapFrameAt(frame, BAD_PAGE);
  yield* s.sel4ts_Store(BAD_VADDR, GOOD_MAGIC, 4);
  // VM faults restart whatever the reply label.
  return 1;
}

describe('fault messages and restart (PAGEFAULT00xx)', () => {
  it('PAGEFAULT0001: read page fault; the handler maps the page and the faulting load completes', () => {
    const outs = faultTest(
      'read',
      (env, info, c, ctx) => handleVMFault(env, info, 5, SITE, 0, ctx.frame, c.restart),
      function* (out) {
        out.value = yield* s.sel4ts_Load(BAD_VADDR, 4);
      },
    );
    for (const o of outs.filter((x) => x.resumed)) assert.equal(o.value, BigInt(GOOD_MAGIC));
  });

  it('PAGEFAULT0002: write page fault; the store completes after the handler maps the page', () => {
    faultTest(
      'write',
      (env, info, c, ctx) => handleVMFault(env, info, 7, SITE, 0, ctx.frame, c.restart),
      function* () {
        yield* s.sel4ts_Store(BAD_VADDR, GOOD_MAGIC, 4);
      },
    );
  });

  it('PAGEFAULT0003: instruction fault (pc unmapped); the handler moves pc and a0 with Read/WriteRegisters', () => {
    const outs = faultTest(
      'instruction',
      function* (_env, info, c, ctx) {
        assert.equal(s.seL4_MessageInfo_get_label(info), seL4_FaultType.seL4_Fault_VMFault);
        assert.equal(s.seL4_MessageInfo_get_length(info), VM.Length);
        assert.equal(s.seL4_GetMR(VM.IP), BAD_VADDR);
        assert.equal(s.seL4_GetMR(VM.Addr), BAD_VADDR);
        assert.equal(s.seL4_GetMR(VM.PrefetchFault), 1);
        assert.equal(s.seL4_GetMR(VM.FSR), 1);
        const regs: s.seL4_UserContext = [];
        assert.equal(yield* s.seL4_TCB_ReadRegisters(ctx.tcb, false, 0, 32, regs), 0);
        assert.equal(regs[R.a0], BigInt(BAD_MAGIC));
        assert.equal(regs[R.pc], BigInt(BAD_VADDR));
        regs[R.a0] = BigInt(GOOD_MAGIC);
        regs[R.pc] = BigInt(ctx.landing);
        assert.equal(yield* s.seL4_TCB_WriteRegisters(ctx.tcb, false, 0, 32, regs), 0);
        return c.restart ? 0 : null;
      },
      function* () {},
    );
    for (const o of outs.filter((x) => x.resumed)) assert.equal(o.value, BigInt(GOOD_MAGIC));
  });

  it('PAGEFAULT0004: unknown syscall; MRs FaultIP, SP, RA, a0..a6, Syscall; a label-0 reply writes them back', () => {
    const outs = faultTest(
      'syscall',
      function* (_env, info, c) {
        assert.equal(s.seL4_MessageInfo_get_label(info), seL4_FaultType.seL4_Fault_UnknownSyscall);
        assert.equal(s.seL4_MessageInfo_get_length(info), SYS.Length);
        assert.equal(s.seL4_GetMR(SYS.FaultIP), SITE);
        assert.equal(s.seL4_GetMR(SYS.SP), 0x7000);
        assert.equal(s.seL4_GetMR(SYS.RA), 0x7008);
        assert.equal(s.seL4_GetMR(SYS.A0), BAD_MAGIC);
        assert.equal(s.seL4_GetMR(SYS.A6), 66);
        assert.equal(s.seL4_GetMR(SYS.Syscall), BAD_SYSCALL_NUMBER);
        s.seL4_SetMR(SYS.FaultIP, SITE + 4);
        s.seL4_SetMR(SYS.A0, GOOD_MAGIC);
        s.seL4_SetMR(SYS.A6, 67);
        return c.restart ? 0 : 1;
        yield;
      },
      function* (out) {
        s.sel4ts_SetRegister(R.sp, 0x7000);
        s.sel4ts_SetRegister(R.ra, 0x7008);
        const regs = yield* s.seL4_RawSyscall(BAD_SYSCALL_NUMBER, [BAD_MAGIC, 1, 2, 3, 4, 5, 66]);
        assert.equal(regs[6], 67n);
        out.value = regs[0];
      },
    );
    for (const o of outs.filter((x) => x.resumed)) assert.equal(o.value, BigInt(GOOD_MAGIC));
  });

  it('PAGEFAULT0005: user exception (illegal instruction); MRs FaultIP, SP, Number, Code; a label-0 reply sets pc and sp', () => {
    const outs = faultTest(
      'instruction-exception',
      function* (_env, info, c) {
        assert.equal(s.seL4_MessageInfo_get_label(info), seL4_FaultType.seL4_Fault_UserException);
        assert.equal(s.seL4_MessageInfo_get_length(info), EXC.Length);
        assert.equal(s.seL4_GetMR(EXC.FaultIP), SITE);
        assert.equal(s.seL4_GetMR(EXC.SP), 0xbad0);
        assert.equal(s.seL4_GetMR(EXC.Number), 2);
        assert.equal(s.seL4_GetMR(EXC.Code), 0);
        s.seL4_SetMR(EXC.FaultIP, SITE + 4);
        s.seL4_SetMR(EXC.SP, 0x600d0);
        return c.restart ? 0 : 1;
        yield;
      },
      function* (out) {
        s.sel4ts_SetRegister(R.sp, 0xbad0);
        yield* s.sel4ts_UserException(2, 0);
        out.value = s.sel4ts_GetRegister(R.sp);
      },
    );
    for (const o of outs.filter((x) => x.resumed)) assert.equal(o.value, 0x600d0n);
  });

  it('a label-0 reply that leaves the pc at the faulting instruction re-executes it (a second fault arrives)', () => {
    const seen: number[] = [];
    runRoot(function* (env) {
      const { vka } = env;
      const fep = yield* vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* vka.allocObject(s.seL4_ReplyObject);
      const t = yield* vka.createThread({
        entry: env.m.registerProgram(function* () {
          yield* s.sel4ts_UserException(2, 0);
          seen.push(-1);
        }),
        priority: 100,
        suspended: true,
      });
      assert.equal(yield* s.seL4_TCB_SetSpace(t.tcb, fep, CNODE, 0, VSPACE, 0), 0);
      assert.equal(yield* s.seL4_TCB_Resume(t.tcb), 0);
      let info = yield* s.seL4_Recv(fep, null, reply);
      seen.push(s.seL4_MessageInfo_get_label(info));
      info = yield* s.seL4_ReplyRecv(fep, s.seL4_MessageInfo_new(0, 0, 0, 0), null, reply);
      seen.push(s.seL4_MessageInfo_get_label(info), s.seL4_GetMR(EXC.FaultIP));
      s.seL4_SetMR(EXC.FaultIP, SITE + 4);
      yield* s.seL4_Send(reply, s.seL4_MessageInfo_new(0, 0, 0, 1));
      assert.equal(yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 0), 0);
    });
    const UE = seL4_FaultType.seL4_Fault_UserException;
    assert.deepEqual(seen, [UE, UE, SITE, -1]);
  });

  it('IPC0021: a passive fault handler runs on the faulter\'s donated SC, maps the page and returns the SC with its reply', () => {
    let value = -1n;
    runRoot(function* (env) {
      const { vka, m } = env;
      const ep = yield* vka.allocObject(s.seL4_EndpointObject);
      const reply = yield* vka.allocObject(s.seL4_ReplyObject);
      const frame = yield* vka.allocObject(s.seL4_RISCV_4K_Page);
      const handler = yield* vka.createThread({
        entry: m.registerProgram(function* () {
          let info = yield* s.seL4_NBSendRecv(ep, s.seL4_MessageInfo_new(0, 0, 0, 0), ep, null, reply);
          for (;;) {
            assert.equal(s.seL4_MessageInfo_get_label(info), seL4_FaultType.seL4_Fault_VMFault);
            const addr = s.seL4_GetMR(VM.Addr);
            yield* vka.mapFrameAt(frame, addr - (addr % 4096));
            yield* s.sel4ts_Store(addr, GOOD_MAGIC, 4);
            info = yield* s.seL4_ReplyRecv(ep, s.seL4_MessageInfo_new(0, 0, 0, 0), null, reply);
          }
        }),
        priority: 101,
      });
      yield* s.seL4_Wait(ep, null); // the handler initialised on its own SC
      assert.equal(yield* s.seL4_SchedContext_Unbind(handler.sc), 0);
      const faulter = yield* vka.createThread({
        entry: m.registerProgram(function* () {
          value = yield* s.sel4ts_Load(BAD_VADDR, 4);
        }),
        priority: 100,
        suspended: true,
      });
      assert.equal(yield* s.seL4_TCB_SetSpace(faulter.tcb, ep, CNODE, 0, VSPACE, 0), 0);
      assert.equal(yield* s.seL4_TCB_Resume(faulter.tcb), 0);
      assert.equal(yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 0), 0);
      assert.equal(yield* s.seL4_TCB_SetPriority(s.seL4_CapInitThreadTCB, s.seL4_CapInitThreadTCB, 255), 0);
      const h = lookupCap(m.kernel, m.booted.rootTCB, 0, handler.tcb)!.obj as TCB;
      const f = lookupCap(m.kernel, m.booted.rootTCB, 0, faulter.tcb)!.obj as TCB;
      assert.equal(h.state, ThreadState.BlockedOnReceive);
      assert.equal(h.sc, null, 'the handler is passive again');
      assert.notEqual(f.sc, null, 'the faulter got its SC back');
    });
    assert.equal(value, BigInt(GOOD_MAGIC));
  });
});

