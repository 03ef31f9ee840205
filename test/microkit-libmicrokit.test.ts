/**
 * libmicrokit's event loop and API for TypeScript PDs: badge dispatch
 * (notification bits lowest first, PPC channel, child faults), deferred
 * signals, channel checks, the weak 'protected' crash, IRQ acknowledgement,
 * and setvar patching. Every system runs with the kernel invariant checker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicrokitSystem } from '../src/microkit/system.js';
import {
  microkit_dbg_puts,
  microkit_deferred_notify,
  microkit_irq_ack,
  microkit_load,
  microkit_mr_get,
  microkit_mr_set,
  microkit_msginfo_get_count,
  microkit_msginfo_get_label,
  microkit_msginfo_new,
  microkit_name,
  microkit_notify,
  microkit_pd_stop,
  microkit_ppcall,
  microkit_store,
  type MicrokitProgram,
} from '../src/microkit/libmicrokit.js';
import { ThreadState } from '../src/kernel/object/tcb.js';
import { seL4_FaultType } from '../src/abi/constants.js';

async function boot(xml: string, programs: Record<string, () => MicrokitProgram>, input?: string): Promise<MicrokitSystem> {
  const sys = await MicrokitSystem.load({ file: '/virtual/test.system', xml, programs, invariants: true, ...(input ? { input } : {}) });
  assert.equal(sys.run({ untilNs: 1e9 }).reason, 'quiescent');
  return sys;
}

const idle = (): MicrokitProgram => ({ *init() {}, *notified() {} });

test('notifications that arrive together are delivered as one badge, one notified() per bit, lowest first (bits up to 61)', async () => {
  const seen: number[] = [];
  const xml = `<system>
    <protection_domain name="src" priority="100"><program_image path="src.js" /></protection_domain>
    <protection_domain name="sink" priority="10"><program_image path="sink.js" /></protection_domain>
    <channel><end pd="src" id="1" /><end pd="sink" id="61" /></channel>
    <channel><end pd="src" id="2" /><end pd="sink" id="3" /></channel>
    <channel><end pd="src" id="5" /><end pd="sink" id="0" /></channel>
  </system>`;
  const sys = await boot(xml, {
    'src.js': () => ({
      *init() {
        // The sink has a lower priority: all three land in its notification word before it runs.
        yield* microkit_notify(1);
        yield* microkit_notify(2);
        yield* microkit_notify(5);
        yield* microkit_notify(2);
      },
      *notified() {},
    }),
    'sink.js': () => ({
      *init() {},
      *notified(ch: number) {
        seen.push(ch);
      },
    }),
  });
  assert.deepEqual(seen, [0, 3, 61]);
  assert.equal(sys.buildError, null);
});

test('a PPC reaches protected() with the callee-side channel id, label, count and MRs; the reply comes back', async () => {
  const calls: string[] = [];
  let replyLabel = -1;
  let replyCount = -1;
  let sum = -1;
  const xml = `<system>
    <protection_domain name="caller" priority="10"><program_image path="caller.js" /></protection_domain>
    <protection_domain name="callee" priority="20"><program_image path="callee.js" /></protection_domain>
    <channel><end pd="caller" id="7" pp="true" /><end pd="callee" id="42" /></channel>
  </system>`;
  await boot(xml, {
    'caller.js': () => ({
      *init() {
        microkit_mr_set(0, 40);
        microkit_mr_set(1, 2);
        microkit_mr_set(2, 2 ** 50);
        const r = yield* microkit_ppcall(7, microkit_msginfo_new(0x123, 3));
        replyLabel = microkit_msginfo_get_label(r);
        replyCount = microkit_msginfo_get_count(r);
        sum = microkit_mr_get(0);
        // Not a pp channel end: refused before any system call.
        const none = yield* microkit_ppcall(8, microkit_msginfo_new(1, 0));
        calls.push(`refused:${none}`);
      },
      *notified() {},
    }),
    'callee.js': () => ({
      *init() {},
      *notified() {},
      *protected(ch, info) {
        calls.push(`${microkit_name()}:${ch}:${microkit_msginfo_get_label(info)}:${microkit_msginfo_get_count(info)}`);
        microkit_mr_set(0, microkit_mr_get(0) + microkit_mr_get(1) + microkit_mr_get(2));
        return microkit_msginfo_new(7, 1);
      },
    }),
  });
  assert.deepEqual(calls, ['callee:42:291:3', 'refused:0']);
  assert.equal(replyLabel, 7);
  assert.equal(replyCount, 1);
  assert.equal(sum, 42 + 2 ** 50);
});

test('a deferred notification goes out with the next receive (NBSendRecv), not at once', async () => {
  const order: string[] = [];
  const xml = `<system>
    <protection_domain name="a" priority="100"><program_image path="a.js" /></protection_domain>
    <protection_domain name="b" priority="200"><program_image path="b.js" /></protection_domain>
    <channel><end pd="a" id="0" /><end pd="b" id="1" /></channel>
  </system>`;
  await boot(xml, {
    'a.js': () => ({
      *init() {
        yield* microkit_deferred_notify(0);
        // b has a higher priority: had the signal been sent now, b would run before this line.
        order.push('a: init returns');
        yield* microkit_deferred_notify(3); // not a channel of a's: refused, the pending one stays
      },
      *notified() {},
    }),
    'b.js': () => ({
      *init() {},
      *notified(ch: number) {
        order.push(`b: notified ${ch}`);
      },
    }),
  });
  assert.deepEqual(order, ['a: init returns', 'b: notified 1']);
});

test('a PD without a protected entry point crashes on a PPC (as libmicrokit\'s weak default does); the caller stays blocked', async () => {
  const xml = `<system>
    <protection_domain name="caller" priority="10"><program_image path="caller.js" /></protection_domain>
    <protection_domain name="nopp" priority="20"><program_image path="nopp.js" /></protection_domain>
    <channel><end pd="caller" id="0" pp="true" /><end pd="nopp" id="0" /></channel>
  </system>`;
  const sys = await boot(xml, {
    'caller.js': () => ({
      *init() {
        yield* microkit_ppcall(0, microkit_msginfo_new(0, 0));
        yield* microkit_dbg_puts('caller: not reached\n');
      },
      *notified() {},
    }),
    'nopp.js': idle,
  });
  assert.ok(sys.machine.console.includes("nopp is missing the 'protected' entry point\n"));
  assert.ok(!sys.machine.console.includes('not reached'));
  assert.equal(sys.faults.length, 1);
  assert.equal(sys.faults[0]!.pd, 'nopp');
  assert.equal(sys.faults[0]!.type, 'seL4_Fault_VMFault');
  assert.equal(sys.faults[0]!.mrs[1], 0); // the store to address err = 0
  assert.equal(sys.tcbOf('caller')!.state, ThreadState.BlockedOnReply);
});

test('a child PD\'s fault goes to its parent\'s fault() with the child id; the parent can stop it', async () => {
  const got: string[] = [];
  const xml = `<system>
    <protection_domain name="parent" priority="100"><program_image path="parent.js" />
      <protection_domain name="child" priority="50" id="3"><program_image path="child.js" /></protection_domain>
    </protection_domain>
  </system>`;
  const sys = await boot(xml, {
    'parent.js': () => ({
      *init() {},
      *notified() {},
      *fault(child, info) {
        got.push(`child ${child} label ${microkit_msginfo_get_label(info)} addr ${microkit_mr_get(1)}`);
        yield* microkit_pd_stop(child);
        return null;
      },
    }),
    'child.js': () => ({
      *init() {
        yield* microkit_load(0x1234, 4);
      },
      *notified() {},
    }),
  });
  assert.deepEqual(got, [`child 3 label ${seL4_FaultType.seL4_Fault_VMFault} addr ${0x1234}`]);
  assert.deepEqual(sys.faults, []); // not the monitor's business
  assert.equal(sys.tcbOf('child')!.state, ThreadState.Inactive);
});

const UART_SYSTEM = `<system>
  <memory_region name="uart" size="0x1000" phys_addr="0x10000000" />
  <protection_domain name="drv" priority="100">
    <program_image path="drv.js" />
    <map mr="uart" vaddr="0x2000000" perms="rw" cached="false" setvar_vaddr="uart" />
    <irq irq="10" id="5" setvar_id="irq_ch" />
  </protection_domain>
</system>`;

function uartDriver(ack: boolean, got: string[]): () => MicrokitProgram {
  return () => {
    const setvar = { uart: 0, irq_ch: -1 };
    return {
      setvar,
      *init() {
        yield* microkit_store(setvar.uart + 1, 1, 1); // IER: receive data interrupt
      },
      *notified(ch: number) {
        let s = '';
        while (((yield* microkit_load(setvar.uart + 5, 1)) & 1) !== 0) s += String.fromCharCode(yield* microkit_load(setvar.uart, 1));
        got.push(`${ch}:${s}`);
        if (ack) yield* microkit_irq_ack(setvar.irq_ch);
        yield* microkit_irq_ack(7); // not an IRQ channel of this PD: refused
      },
    };
  };
}

for (const ack of [true, false]) {
  test(`an IRQ is delivered on its channel id; ${ack ? 'acknowledged, it fires again' : 'never acknowledged, it stays masked'}`, async () => {
    const got: string[] = [];
    const sys = await boot(UART_SYSTEM, { 'drv.js': uartDriver(ack, got) }, 'ab');
    assert.deepEqual(got, ['5:ab']);
    assert.ok(sys.machine.console.includes("drv microkit_irq_ack: invalid channel given '7'\n"));
    sys.machine.devices.uart.inject('c');
    assert.equal(sys.run({ untilNs: 2e9 }).reason, 'quiescent');
    assert.deepEqual(got, ack ? ['5:ab', '5:c'] : ['5:ab']);
  });
}

test('setvars are patched with vaddr, size, id and paddr values; a missing symbol stops the build', async () => {
  const xml = `<system>
    <memory_region name="buf" size="0x3000" />
    <memory_region name="dev" size="0x1000" phys_addr="0x10001000" />
    <protection_domain name="p" priority="1">
      <program_image path="p.js" />
      <map mr="buf" vaddr="0x800000" setvar_vaddr="buf_vaddr" setvar_size="buf_size" />
      <map mr="dev" vaddr="0x900000" cached="false" />
      <setvar symbol="dev_paddr" region_paddr="dev" />
      <setvar symbol="buf_paddr" region_paddr="buf" />
    </protection_domain>
    <protection_domain name="q" priority="2"><program_image path="q.js" /></protection_domain>
    <channel><end pd="p" id="4" setvar_id="to_q" /><end pd="q" id="0" /></channel>
  </system>`;
  const setvar = { buf_vaddr: 0, buf_size: 0, dev_paddr: 0, buf_paddr: 0, to_q: -1 };
  const sys = await boot(xml, { 'p.js': () => ({ setvar, *init() {}, *notified() {} }), 'q.js': idle });
  assert.equal(sys.buildError, null);
  assert.deepEqual({ ...setvar, buf_paddr: 0 }, { buf_vaddr: 0x800000, buf_size: 0x3000, dev_paddr: 0x10001000, buf_paddr: 0, to_q: 4 });
  assert.equal(setvar.buf_paddr, sys.built!.regionPaddrs.get('buf'));
  assert.ok(setvar.buf_paddr >= 0x80000000 && setvar.buf_paddr % 0x1000 === 0);

  const missing = await boot(xml, { 'p.js': () => ({ setvar: { buf_vaddr: 0 }, *init() {}, *notified() {} }), 'q.js': idle });
  assert.match(missing.buildError ?? '', /could not patch symbol 'buf_size' in program image for PD 'p' \(p\.js\)/);
  assert.equal(missing.tcbOf('p')?.state ?? ThreadState.Inactive, ThreadState.Inactive);
});
