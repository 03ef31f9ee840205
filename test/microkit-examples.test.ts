/**
 * The four example systems (examples/*.system with their TypeScript PD
 * programs) run on sel4ts with the kernel invariant checker on, and produce
 * their expected output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MicrokitSystem } from '../src/microkit/system.js';
import { ThreadState } from '../src/kernel/object/tcb.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const example = (name: string) => join(ROOT, 'examples', name);

async function run(name: string, input?: string): Promise<MicrokitSystem> {
  const sys = await MicrokitSystem.load({ file: example(name), invariants: true, ...(input !== undefined ? { input } : {}) });
  const r = sys.run({ untilNs: 1e9 });
  assert.equal(sys.buildError, null);
  assert.equal(r.reason, 'quiescent');
  return sys;
}

function lines(sys: MicrokitSystem): string[] {
  return sys.machine.console.split('\n');
}

test('hello prints "hello, world" from its init entry point and then waits', async () => {
  const sys = await run('hello.system');
  assert.deepEqual(lines(sys), ['hello: hello, world', '']);
  const [hello] = sys.summary();
  assert.equal(hello!.state, 'BlockedOnNotification');
  assert.equal(hello!.faults, 0);
  assert.deepEqual(sys.faults, []);
});

test('ppc-passive: the client calls the passive server, which runs on the caller\'s scheduling context', async () => {
  const sys = await run('ppc-passive.system');
  assert.deepEqual(lines(sys), [
    'server: init, request buffer at 0x4000000',
    'client: 2 + 3 = 5 (reply label 0)',
    "client: server replied 'HELLO, PASSIVE SERVER' (21 characters)",
    'server: unknown operation on channel 0',
    'client: unknown operation -> error label 1',
    'server: notified on channel 0 after 3 calls',
    'client: done',
    '',
  ]);
  assert.deepEqual(sys.passiveDone, ['server']);
  const server = sys.tcbOf('server')!;
  const client = sys.tcbOf('client')!;
  // The monitor took the server's SC away and bound it to its notification.
  assert.equal(server.sc, null);
  assert.notEqual(server.boundNotification!.sc, null);
  assert.equal(server.state, ThreadState.BlockedOnReceive);
  assert.notEqual(client.sc, null);
  const [s, c] = sys.summary();
  assert.equal(s!.ipcIn, 3); // three PPCs
  assert.equal(s!.signalsIn, 1); // one notification
  assert.equal(c!.faults + s!.faults, 0);
});

test('driver-irq: the serial driver receives UART input through its IRQ and transmits for the client', async () => {
  const sys = await run('driver-irq.system', 'ping\n');
  const out = sys.machine.console;
  assert.match(out, /^serial_driver: UART at 0x2000000, receive interrupts on\n/);
  assert.ok(out.includes('[serial_driver] received "ping\\n" (5 bytes so far)\n'));
  assert.ok(out.includes('hello from the client, through the serial driver\nsecond line, sent after the driver said it was done\n'));
  assert.ok(out.endsWith('client: all 2 lines sent\n'));
  // The driver acknowledged the IRQ: more input raises it again.
  sys.machine.devices.uart.inject('more');
  assert.equal(sys.run({ untilNs: 2e9 }).reason, 'quiescent');
  assert.ok(sys.machine.console.endsWith('[serial_driver] received "more" (9 bytes so far)\n'));
  const [driver] = sys.summary();
  assert.equal(driver!.signalsIn, 2 + 2); // two IRQs, two client notifications
  assert.deepEqual(sys.faults, []);
});

test('retrofit: frames are sealed by crypto, linux only sees its mailbox and faults when it reaches further', async () => {
  const sys = await run('retrofit.system');
  const l = lines(sys);
  for (const expected of [
    'crypto: ready (passive)',
    'camera_driver: captured frame 1',
    'mission_manager: frame 1 sealed, tag 4b17c3db',
    'mission_manager: frame 3 sealed, tag 3e27fedb',
    'camera_driver: 3 frames captured, stopping',
    'linux: report 3: frame 3 sealed, tag 3e27fedb',
    "mission_manager: linux says 'ack 3'",
    "linux microkit_notify: invalid channel given '1'",
    'MON|ERROR: faulting PD: linux',
    'MON|ERROR: VMFault: ip=0x1000  fault_addr=0x5000000  fsr=0x5  (load fault)',
  ]) {
    assert.ok(l.includes(expected), `missing line: ${expected}`);
  }
  assert.ok(!sys.machine.console.includes('confinement is broken'));
  assert.equal(sys.faults.length, 1);
  assert.equal(sys.faults[0]!.pd, 'linux');
  assert.equal(sys.faults[0]!.type, 'seL4_Fault_VMFault');
  assert.equal(sys.faults[0]!.mrs[1], 0x5000000);
  assert.deepEqual(sys.passiveDone, ['crypto']);
  // Crypto was only ever entered by PPCs from the mission manager (it has no notifications).
  const crypto = sys.summary().find((p) => p.name === 'crypto')!;
  assert.equal(crypto.ipcIn, 3);
  assert.equal(crypto.signalsIn, 0);
});
