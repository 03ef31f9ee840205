/**
 * The Microkit initialiser lays out each PD as the Microkit tool does:
 * CSpace slots and badges, fault endpoints, scheduling parameters, IRQ
 * handlers, mapped memory with the right permissions, and the monitor's
 * CSpace. Everything is checked in the kernel's own state after a real run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { microkit_read_bytes } from '../src/microkit/libmicrokit.js';
import { MicrokitSystem } from '../src/microkit/system.js';
import { needsEndpoint } from '../src/microkit/builder.js';
import { Cap, CapType } from '../src/kernel/cap.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import { TCB, TCB_CTABLE, TCB_FAULT_HANDLER, TCB_VTABLE } from '../src/kernel/object/tcb.js';
import { Access, translate, TranslateResult } from '../src/machine/sv39.js';
import {
  BASE_ENDPOINT_CAP,
  BASE_IRQ_CAP,
  BASE_OUTPUT_NOTIFICATION_CAP,
  FAULT_EP_CAP,
  INPUT_CAP,
  MON_BASE_NOTIFICATION_CAP,
  MON_BASE_PD_TCB_CAP,
  MON_BASE_SCHED_CONTEXT_CAP,
  MON_FAULT_EP_CAP,
  MONITOR_EP,
  PD_IPC_BUFFER_VADDR,
  PD_STACK_TOP,
  REPLY_CAP,
  VSPACE_CAP,
} from '../src/microkit/layout.js';
import { parseSystem } from '../src/microkit/sdf.js';
import { usToTicks } from '../src/kernel/sched/refill.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const example = (name: string) => join(ROOT, 'examples', name);

async function run(name: string): Promise<MicrokitSystem> {
  const sys = await MicrokitSystem.load({ file: example(name), invariants: true });
  assert.equal(sys.run({ untilNs: 1e9 }).reason, 'quiescent');
  assert.equal(sys.buildError, null);
  return sys;
}

function cspace(t: TCB): CNode {
  return t.slots[TCB_CTABLE]!.cap.obj as CNode;
}
function slot(t: TCB, i: number): Cap {
  return cspace(t).slots[i]!.cap;
}
function badge(c: Cap): bigint {
  return (BigInt(c.badgeHi) << 32n) | BigInt(c.badgeLo);
}
function vspaceRoot(t: TCB): number {
  return t.slots[TCB_VTABLE]!.cap.paddr;
}
function canAccess(sys: MicrokitSystem, t: TCB, vaddr: number, access: Access): number | null {
  const tr = new TranslateResult();
  return translate(sys.machine.mem, vspaceRoot(t), vaddr, access, tr) ? tr.paddr : null;
}

test('ppc-passive: CSpace slots, badges and rights follow Microkit\'s layout', async () => {
  const sys = await run('ppc-passive.system');
  const server = sys.tcbOf('server')!;
  const client = sys.tcbOf('client')!;
  const monitor = sys.tcbOf('monitor')!;

  // 512-slot CNodes whose cap in the TCB resolves a 64-bit cptr in one level.
  for (const t of [server, client, monitor]) {
    const c = t.slots[TCB_CTABLE]!.cap;
    assert.equal(c.type, CapType.CNode);
    assert.equal(c.radix, 9);
    assert.equal(c.guardSize, 55);
  }

  // The server may be called: its input cap is its endpoint. The client's is its notification.
  const serverEp = slot(server, INPUT_CAP);
  assert.equal(serverEp.type, CapType.Endpoint);
  assert.equal(badge(serverEp), 0n);
  const clientIn = slot(client, INPUT_CAP);
  assert.equal(clientIn.type, CapType.Notification);
  assert.equal(clientIn.obj, client.boundNotification);

  // Fault endpoints: the monitor's endpoint, badged with the PD index + 1, in slot 2 and in the TCB.
  const monEp = cspace(monitor).slots[MON_FAULT_EP_CAP]!.cap;
  assert.equal(monEp.type, CapType.Endpoint);
  for (const [t, idx] of [
    [server, 0],
    [client, 1],
  ] as const) {
    for (const c of [slot(t, FAULT_EP_CAP), t.slots[TCB_FAULT_HANDLER]!.cap]) {
      assert.equal(c.type, CapType.Endpoint);
      assert.equal(c.obj, monEp.obj);
      assert.equal(badge(c), BigInt(idx + 1));
    }
    assert.equal(slot(t, VSPACE_CAP).type, CapType.PageTable);
    assert.equal(slot(t, VSPACE_CAP).paddr, vspaceRoot(t));
    const reply = slot(t, REPLY_CAP);
    assert.equal(reply.type, CapType.Reply);
    assert.equal(reply.rights, 0);
  }
  // Only the passive server has the monitor endpoint.
  assert.equal(slot(server, MONITOR_EP).type, CapType.Endpoint);
  assert.equal(badge(slot(server, MONITOR_EP)), 1n);
  assert.equal(slot(client, MONITOR_EP).type, CapType.Null);

  // Channel 0: client may PPC (pp) and notify the server; the server may not notify (notify="false").
  const ppc = slot(client, BASE_ENDPOINT_CAP + 0);
  assert.equal(ppc.type, CapType.Endpoint);
  assert.equal(ppc.obj, serverEp.obj);
  assert.equal(badge(ppc), (1n << 63n) | 0n);
  const ntfn = slot(client, BASE_OUTPUT_NOTIFICATION_CAP + 0);
  assert.equal(ntfn.type, CapType.Notification);
  assert.equal(ntfn.obj, server.boundNotification);
  assert.equal(badge(ntfn), 1n << 0n);
  assert.equal(slot(server, BASE_OUTPUT_NOTIFICATION_CAP + 0).type, CapType.Null);
  assert.equal(slot(server, BASE_ENDPOINT_CAP + 0).type, CapType.Null);

  // Scheduling: priority = MCP as in the SDF; SC badges 0x100 + index.
  assert.equal(server.priority, 200);
  assert.equal(server.mcp, 200);
  assert.equal(client.priority, 100);
  assert.equal(client.sc!.badgeLo, 0x101);
  assert.equal(server.boundNotification!.sc!.badgeLo, 0x100);
  assert.equal(monitor.priority, 255);

  // The monitor's CSpace: every PD's TCB; the passive server's SC and notification.
  const mon = cspace(monitor);
  assert.equal(mon.slots[MON_BASE_PD_TCB_CAP + 0]!.cap.obj, server);
  assert.equal(mon.slots[MON_BASE_PD_TCB_CAP + 1]!.cap.obj, client);
  assert.equal(mon.slots[MON_BASE_SCHED_CONTEXT_CAP + 0]!.cap.obj, server.boundNotification!.sc);
  assert.equal(mon.slots[MON_BASE_NOTIFICATION_CAP + 0]!.cap.obj, server.boundNotification);
  assert.equal(mon.slots[MON_BASE_SCHED_CONTEXT_CAP + 1]!.cap.type, CapType.Null);

  // The shared buffer is the same frame in both VSpaces; IPC buffer and stack are mapped.
  const a = canAccess(sys, server, 0x4000000, Access.Write);
  const b = canAccess(sys, client, 0x4000000, Access.Write);
  assert.notEqual(a, null);
  assert.equal(a, b);
  assert.equal(a, sys.built!.regionPaddrs.get('request_buffer'));
  assert.equal(server.ipcBuffer, PD_IPC_BUFFER_VADDR);
  assert.notEqual(canAccess(sys, server, PD_IPC_BUFFER_VADDR, Access.Write), null);
  assert.notEqual(canAccess(sys, server, PD_STACK_TOP - 0x2000, Access.Write), null);
  assert.equal(canAccess(sys, server, PD_STACK_TOP - 0x3000, Access.Read), null);
  assert.equal(canAccess(sys, server, PD_IPC_BUFFER_VADDR, Access.Execute), null);
});

test('driver-irq: the IRQ handler is bound to the driver notification with badge 1 << id; device memory is mapped uncached at its phys_addr', async () => {
  const sys = await run('driver-irq.system');
  const driver = sys.tcbOf('serial_driver')!;
  const client = sys.tcbOf('client')!;
  const handler = slot(driver, BASE_IRQ_CAP + 1);
  assert.equal(handler.type, CapType.IRQHandler);
  assert.equal(handler.word, 10);
  const bound = sys.machine.kernel.irqs.slots[10]!.cap;
  assert.equal(bound.type, CapType.Notification);
  assert.equal(bound.obj, driver.boundNotification);
  assert.equal(badge(bound), 1n << 1n);
  // No other IRQ slot is filled, and the client owns none.
  assert.equal(slot(driver, BASE_IRQ_CAP + 0).type, CapType.Null);
  assert.equal(slot(client, BASE_IRQ_CAP + 1).type, CapType.Null);

  // uart: the device page at 0x1000_0000; tx_buffer read-only for the driver, writable for the client.
  assert.equal(canAccess(sys, driver, 0x2000000, Access.Write), 0x10000000);
  assert.equal(canAccess(sys, client, 0x2000000, Access.Read), null);
  assert.notEqual(canAccess(sys, driver, 0x3000000, Access.Read), null);
  assert.equal(canAccess(sys, driver, 0x3000000, Access.Write), null);
  assert.equal(canAccess(sys, client, 0x3000000, Access.Write), canAccess(sys, driver, 0x3000000, Access.Read));

  // Channel ends 0 (driver) and 2 (client): each notification cap carries the *peer's* id as badge bit.
  assert.equal(slot(driver, BASE_OUTPUT_NOTIFICATION_CAP + 0).obj, client.boundNotification);
  assert.equal(badge(slot(driver, BASE_OUTPUT_NOTIFICATION_CAP + 0)), 1n << 2n);
  assert.equal(slot(client, BASE_OUTPUT_NOTIFICATION_CAP + 2).obj, driver.boundNotification);
  assert.equal(badge(slot(client, BASE_OUTPUT_NOTIFICATION_CAP + 2)), 1n << 0n);
});

test('needsEndpoint: only PDs that may be PPC\'d or have children get an endpoint', () => {
  const xml = `<system>
    <protection_domain name="a" priority="10"><program_image path="a.js" /></protection_domain>
    <protection_domain name="b" priority="20"><program_image path="b.js" /></protection_domain>
    <protection_domain name="c" priority="30" passive="true"><program_image path="c.js" /></protection_domain>
    <protection_domain name="p" priority="40"><program_image path="p.js" />
      <protection_domain name="k" priority="5" id="1"><program_image path="k.js" /></protection_domain>
    </protection_domain>
    <channel><end pd="a" id="0" pp="true" /><end pd="b" id="0" /></channel>
    <channel><end pd="a" id="1" /><end pd="c" id="0" /></channel>
  </system>`;
  const sys = parseSystem(xml, 't.system');
  const need = (n: string) => needsEndpoint(sys, sys.protectionDomains.find((p) => p.name === n)!);
  assert.equal(need('a'), false);
  assert.equal(need('b'), true);
  assert.equal(need('c'), false); // passive alone does not need one
  assert.equal(need('p'), true);
  assert.equal(need('k'), false);
});

test('camera frames use a 2 MiB page; linux_ram is promoted to 2 MiB pages; budgets reach the kernel', async () => {
  const sys = await run('retrofit.system');
  const camera = sys.tcbOf('camera_driver')!;
  const mm = sys.tcbOf('mission_manager')!;
  const tr = new TranslateResult();
  assert.ok(translate(sys.machine.mem, vspaceRoot(camera), 0x10000000, Access.Write, tr));
  assert.equal(tr.pageSize, 0x200000);
  assert.ok(translate(sys.machine.mem, vspaceRoot(mm), 0x10000000, Access.Read, tr));
  assert.equal(canAccess(sys, mm, 0x10000000, Access.Write), null); // perms="r"
  const linux = sys.tcbOf('linux')!;
  assert.ok(translate(sys.machine.mem, vspaceRoot(linux), 0x40000000, Access.Execute, tr)); // perms="rwx"
  assert.equal(tr.pageSize, 0x200000);
  // budget 2000 us, period 10000 us: a sporadic server with a 10 ms period.
  assert.equal(camera.sc!.refills.period, usToTicks(10000));
  assert.equal(mm.sc!.refills.period, 0); // budget == period: round robin
  // linux has no mapping of crypto_buffer or camera_frames.
  assert.equal(canAccess(sys, linux, 0x5000000, Access.Read), null);
  assert.equal(canAccess(sys, linux, 0x10000000, Access.Read), null);
});

test('prefill_path data is copied into the region\'s frames before the PD starts; setvar_prefill_size gives its length', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sel4ts-prefill-'));
  const data = new Uint8Array(0x1800).map((_, i) => (i * 13 + 7) & 0xff); // spans two pages
  writeFileSync(join(dir, 'blob.bin'), data);
  const xml = `<system>
    <memory_region name="blob" size="0x3000" prefill_path="blob.bin" />
    <protection_domain name="reader" priority="10">
      <program_image path="reader.js" />
      <map mr="blob" vaddr="0x1000000" perms="r" setvar_vaddr="blob" setvar_prefill_size="blob_len" />
    </protection_domain>
  </system>`;
  let seen: Uint8Array | null = null;
  const setvar = { blob: 0, blob_len: 0 };
  const sys = await MicrokitSystem.load({
    file: join(dir, 'prefill.system'),
    xml,
    invariants: true,
    programs: {
      'reader.js': {
        setvar,
        *init() {
          seen = yield* microkit_read_bytes(setvar.blob, 0x3000);
        },
        *notified() {},
      },
    },
  });
  assert.equal(sys.run({ untilNs: 1e9 }).reason, 'quiescent');
  assert.equal(sys.buildError, null);
  assert.equal(setvar.blob_len, data.length);
  assert.deepEqual(seen!.subarray(0, data.length), data);
  assert.ok(seen!.subarray(data.length).every((b) => b === 0)); // the rest of the region is zeroed memory
  // The initialiser's window mapping is gone again.
  const root = sys.machine.booted.rootTCB;
  assert.equal(canAccess(sys, root, 0x10_0000_0000, Access.Read), null);
});

test('a region larger than any one untyped is built from frames of several untypeds', async () => {
  const xml = `<system>
    <memory_region name="big" size="0x6000000" page_size="0x200000" />
    <protection_domain name="p" priority="1">
      <program_image path="p.js" />
      <map mr="big" vaddr="0x40000000" />
    </protection_domain>
  </system>`;
  const sys = await MicrokitSystem.load({ file: '/virtual/big.system', xml, invariants: true, programs: { 'p.js': { *init() {}, *notified() {} } } });
  assert.equal(sys.run({ untilNs: 1e9 }).reason, 'quiescent');
  assert.equal(sys.buildError, null);
  const p = sys.tcbOf('p')!;
  const paddrs = new Set<number>();
  for (let v = 0x40000000; v < 0x46000000; v += 0x200000) {
    const pa = canAccess(sys, p, v, Access.Write);
    assert.notEqual(pa, null);
    paddrs.add(pa!);
  }
  assert.equal(paddrs.size, 48);
  // 96 MiB cannot come from one untyped of this 256 MiB machine (the largest is 64 MiB).
  const sorted = [...paddrs].sort((a, b) => a - b);
  assert.ok(sorted.some((pa, i) => i > 0 && pa !== sorted[i - 1]! + 0x200000));
});
