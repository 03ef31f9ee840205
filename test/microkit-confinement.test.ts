/**
 * Capability confinement in a Microkit system: a PD can only signal the PDs
 * it has a channel to. libmicrokit refuses unknown channels, and below it the
 * kernel has nothing to invoke: a raw seL4_Signal on the empty slot where such
 * a channel's cap would be invokes a null cap (no effect, as in seL4), a Call
 * gets an InvalidCapability error, a cptr outside the CNode is a cap fault
 * reported by the monitor, and the target never sees a signal. A property test checks, for random channel
 * graphs, that notifications arrive exactly along the declared channel ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MicrokitSystem } from '../src/microkit/system.js';
import {
  microkit_dbg_puts,
  microkit_name,
  microkit_notify,
  type MicrokitProgram,
} from '../src/microkit/libmicrokit.js';
import { seL4_Call, seL4_MessageInfo_get_label, seL4_MessageInfo_new, seL4_Signal } from '../src/user/libsel4.js';
import { BASE_ENDPOINT_CAP, BASE_OUTPUT_NOTIFICATION_CAP } from '../src/microkit/layout.js';
import { CapType } from '../src/kernel/cap.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import { TCB_CTABLE } from '../src/kernel/object/tcb.js';
import { seL4_Error, seL4_LookupFailureType } from '../src/abi/constants.js';

function recorder(log: string[], init: MicrokitProgram['init'] = function* () {}): MicrokitProgram {
  return {
    init,
    *notified(ch: number) {
      log.push(`${microkit_name()}:${ch}`);
    },
  };
}

const SYSTEM = `<system>
  <protection_domain name="target" priority="150"><program_image path="target.js" /></protection_domain>
  <protection_domain name="friend" priority="120"><program_image path="friend.js" /></protection_domain>
  <protection_domain name="attacker" priority="100"><program_image path="attacker.js" /></protection_domain>
  <channel><end pd="friend" id="4" /><end pd="target" id="9" /></channel>
  <channel><end pd="attacker" id="0" /><end pd="friend" id="1" /></channel>
</system>`;

test('a PD without a channel to the target cannot notify it: libmicrokit refuses, the kernel has no cap to invoke', async () => {
  const log: string[] = [];
  let callReply = -1;
  const sys = await MicrokitSystem.load({
    file: '/virtual/confinement.system',
    xml: SYSTEM,
    invariants: true,
    programs: {
      'target.js': () => recorder(log),
      'friend.js': () => recorder(log),
      'attacker.js': () =>
        recorder(log, function* () {
          yield* microkit_notify(0); // its own channel, to friend: works
          yield* microkit_notify(9); // the target's id for friend's channel: not ours
          yield* microkit_notify(4); // friend's id for that channel: not ours either
          // Below libmicrokit: the slot where a channel-9 notification cap would be is empty.
          // A Send on an empty slot is an invocation of a null cap: no effect, no fault.
          yield* seL4_Signal(BASE_OUTPUT_NOTIFICATION_CAP + 9);
          // A Call on the slot where a channel-9 PPC cap would be: an InvalidCapability error reply.
          callReply = yield* seL4_Call(BASE_ENDPOINT_CAP + 9, seL4_MessageInfo_new(0, 0, 0, 0));
          yield* microkit_dbg_puts('attacker: still running\n');
          // A cptr outside its 512-slot CNode does not even resolve: a cap fault to the monitor.
          yield* seL4_Signal(512 + BASE_OUTPUT_NOTIFICATION_CAP + 9);
          yield* microkit_dbg_puts('attacker: not reached\n');
        }),
    },
  });
  assert.equal(sys.run({ untilNs: 1e9 }).reason, 'quiescent');
  assert.equal(sys.buildError, null);
  const out = sys.machine.console;
  assert.ok(out.includes("attacker microkit_notify: invalid channel given '9'\n"));
  assert.ok(out.includes("attacker microkit_notify: invalid channel given '4'\n"));
  assert.ok(out.includes('attacker: still running\n'));
  assert.ok(!out.includes('attacker: not reached'));
  assert.equal(seL4_MessageInfo_get_label(callReply), seL4_Error.seL4_InvalidCapability);
  // Only the legitimate notification arrived.
  assert.deepEqual(log, ['friend:1']);
  // The unresolvable cptr was a cap fault: 9 bits of index, then a guard of 55 zero bits that did not match.
  assert.equal(sys.faults.length, 1);
  const f = sys.faults[0]!;
  assert.equal(f.pd, 'attacker');
  assert.equal(f.type, 'seL4_Fault_CapFault');
  assert.equal(f.mrs[1], 512 + BASE_OUTPUT_NOTIFICATION_CAP + 9);
  assert.equal(f.mrs[2], 0); // not in the receive phase
  assert.equal(f.mrs[3], seL4_LookupFailureType.seL4_GuardMismatch);
  assert.ok(out.includes('MON|ERROR: faulting PD: attacker\n'));
  // The target's notification was never signalled.
  const target = sys.tcbOf('target')!;
  assert.equal(sys.summary().find((p) => p.name === 'target')!.signalsIn, 0);
  assert.equal(target.boundNotification!.wordLo, 0);
  assert.equal(target.boundNotification!.wordHi, 0);
  // And no capability in the attacker's CSpace names any object of the target.
  const targetObjects = new Set<unknown>([target, target.boundNotification, target.sc, target.slots[TCB_CTABLE]!.cap.obj]);
  const attackerCSpace = sys.tcbOf('attacker')!.slots[TCB_CTABLE]!.cap.obj as CNode;
  let notificationCaps = 0;
  for (const s of attackerCSpace.slots) {
    assert.ok(!targetObjects.has(s.cap.obj), `slot ${s.index} names a target object`);
    if (s.cap.type === CapType.Notification) notificationCaps++;
  }
  assert.equal(notificationCaps, 2); // its own input notification and the channel to friend
});

interface End {
  pd: number;
  id: number;
  notify: boolean;
}

test('property: notifications arrive exactly along the declared channel ends, with the receiver\'s channel id', async () => {
  const N = 3;
  const arbChannels = fc
    .uniqueArray(
      fc.record({
        a: fc.record({ pd: fc.integer({ min: 0, max: N - 1 }), id: fc.integer({ min: 0, max: 61 }), notify: fc.boolean() }),
        b: fc.record({ pd: fc.integer({ min: 0, max: N - 1 }), id: fc.integer({ min: 0, max: 61 }), notify: fc.boolean() }),
      }),
      { maxLength: 5, selector: (c) => `${c.a.pd}:${c.a.id}` },
    )
    // Ids are unique per PD across both ends, and a channel joins two different PDs.
    .filter((chs) => {
      const used = new Set<string>();
      for (const c of chs) {
        if (c.a.pd === c.b.pd) return false;
        for (const e of [c.a, c.b]) {
          const k = `${e.pd}:${e.id}`;
          if (used.has(k)) return false;
          used.add(k);
        }
      }
      return true;
    });
  await fc.assert(
    fc.asyncProperty(arbChannels, async (chs: { a: End; b: End }[]) => {
      const name = (i: number) => `pd${i}`;
      const xml =
        '<system>' +
        Array.from({ length: N }, (_, i) => `<protection_domain name="${name(i)}" priority="${10 + i}"><program_image path="${name(i)}.js" /></protection_domain>`).join('') +
        chs
          .map(
            (c) =>
              `<channel><end pd="${name(c.a.pd)}" id="${c.a.id}" notify="${c.a.notify}" /><end pd="${name(c.b.pd)}" id="${c.b.id}" notify="${c.b.notify}" /></channel>`,
          )
          .join('') +
        '</system>';
      const log: string[] = [];
      const programs: Record<string, () => MicrokitProgram> = {};
      for (let i = 0; i < N; i++) {
        // Every PD tries every channel id; libmicrokit skips the ones it does not have.
        programs[`${name(i)}.js`] = () => ({
          *init() {
            for (let ch = 0; ch <= 61; ch++) yield* microkit_notify(ch);
          },
          *notified(ch: number) {
            log.push(`${microkit_name()}:${ch}`);
          },
        });
      }
      const sys = await MicrokitSystem.load({ file: '/virtual/random.system', xml, programs });
      assert.equal(sys.run({ untilNs: 1e9 }).reason, 'quiescent');
      assert.equal(sys.buildError, null);
      const expected: string[] = [];
      for (const c of chs) {
        if (c.a.notify) expected.push(`${name(c.b.pd)}:${c.b.id}`);
        if (c.b.notify) expected.push(`${name(c.a.pd)}:${c.a.id}`);
      }
      assert.deepEqual([...log].sort(), expected.sort());
      assert.deepEqual(sys.faults, []);
    }),
    { numRuns: 12 },
  );
});
