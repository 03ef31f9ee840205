// Tests for the Microkit System Description File parser (src/microkit/sdf.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import {
  parseSystem,
  parseSdfInteger,
  SdfError,
  findProtectionDomain,
  findMemoryRegion,
  channelsOf,
  PD_DEFAULT_PRIORITY,
  PD_DEFAULT_BUDGET_US,
  PD_DEFAULT_PERIOD_US,
  PD_DEFAULT_STACK_SIZE,
  PD_MAX_PRIORITY,
  PD_MAX_ID,
  MAX_PDS,
  USER_TOP,
  SMALL_PAGE_SIZE,
  LARGE_PAGE_SIZE,
  type ParseOptions,
  type SystemDescription,
} from '../src/microkit/sdf.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const FILE = 'test.system';

/** Joins lines with '\n' so that line i of the array is line i+1 of the file. */
function lines(...l: string[]): string {
  return l.join('\n');
}

/** A system with `body` lines starting on line 2. */
function sys(...body: string[]): string {
  return lines('<system>', ...body, '</system>');
}

function parse(xml: string, opts?: ParseOptions): SystemDescription {
  return parseSystem(xml, FILE, opts);
}

/** Asserts that parsing fails at `line`:`col` (col optional) with a message matching `re`. */
function rejects(xml: string, line: number, col: number | undefined, re: RegExp, opts?: ParseOptions): SdfError {
  let err: unknown;
  try {
    parse(xml, opts);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof SdfError, `expected an SdfError, got ${String(err)}`);
  assert.equal(err.file, FILE);
  assert.equal(err.line, line, `wrong line in: ${err.message}`);
  if (col !== undefined) assert.equal(err.column, col, `wrong column in: ${err.message}`);
  assert.ok(err.message.startsWith(`${FILE}:${line}:${err.column}: `), err.message);
  assert.match(err.message, re);
  return err;
}

const PD_A = ['  <protection_domain name="a" priority="10">', '    <program_image path="a.ts"/>', '  </protection_domain>'];
const PD_B = ['  <protection_domain name="b" priority="20">', '    <program_image path="b.ts"/>', '  </protection_domain>'];

// -------------------------------------------------------------------------------------------
// The examples
// -------------------------------------------------------------------------------------------

function example(name: string): SystemDescription {
  const path = `${EXAMPLES}${name}`;
  return parseSystem(readFileSync(path, 'utf8'), path);
}

test('examples: hello.system parses', () => {
  const s = example('hello.system');
  assert.equal(s.protectionDomains.length, 1);
  const pd = s.protectionDomains[0]!;
  assert.equal(pd.name, 'hello');
  assert.equal(pd.programImage, 'hello.ts');
  assert.deepEqual(s.warnings, []);
});

test('examples: ppc-passive.system parses; client calls a higher-priority passive server', () => {
  const s = example('ppc-passive.system');
  const server = findProtectionDomain(s, 'server')!;
  const client = findProtectionDomain(s, 'client')!;
  assert.equal(server.passive, true);
  assert.ok(server.priority > client.priority);
  assert.equal(s.channels.length, 1);
  const ch = s.channels[0]!;
  const clientEnd = ch.a.pd === 'client' ? ch.a : ch.b;
  const serverEnd = ch.a.pd === 'server' ? ch.a : ch.b;
  assert.equal(clientEnd.pp, true);
  assert.equal(serverEnd.pp, false);
  assert.deepEqual(s.warnings, []);
});

test('examples: driver-irq.system parses; the driver owns UART0 and IRQ 10', () => {
  const s = example('driver-irq.system');
  const uart = findMemoryRegion(s, 'uart')!;
  assert.equal(uart.physAddr, 0x1000_0000);
  assert.equal(uart.physAddrKind, 'specified');
  const driver = findProtectionDomain(s, 'serial_driver')!;
  assert.deepEqual(
    driver.irqs.map((i) => [i.irq, i.id, i.trigger]),
    [[10, 1, 'level']],
  );
  const uartMap = driver.maps.find((m) => m.mr === 'uart')!;
  assert.equal(uartMap.cached, false);
  assert.deepEqual(channelsOf(s, 'client').length, 1);
  // The client does not map the device.
  assert.ok(!findProtectionDomain(s, 'client')!.maps.some((m) => m.mr === 'uart'));
  assert.deepEqual(s.warnings, []);
});

test('examples: retrofit.system parses; linux has exactly one channel, to the mission manager', () => {
  const s = example('retrofit.system');
  assert.deepEqual(
    s.protectionDomains.map((p) => p.name).sort(),
    ['camera_driver', 'crypto', 'linux', 'mission_manager'],
  );
  const linuxChannels = channelsOf(s, 'linux');
  assert.equal(linuxChannels.length, 1);
  const ch = linuxChannels[0]!;
  assert.deepEqual([ch.a.pd, ch.b.pd].sort(), ['linux', 'mission_manager']);
  assert.equal(ch.a.pp || ch.b.pp, false);
  const crypto = findProtectionDomain(s, 'crypto')!;
  assert.equal(crypto.passive, true);
  // crypto is only reachable by PPC from the mission manager.
  for (const c of channelsOf(s, 'crypto')) {
    const other = c.a.pd === 'crypto' ? c.b : c.a;
    assert.equal(other.pd, 'mission_manager');
    assert.equal(other.pp, true);
  }
  // Every region is shared by at most two PDs, and linux only shares with the mission manager.
  for (const mr of s.memoryRegions) {
    const users = s.protectionDomains.filter((p) => p.maps.some((m) => m.mr === mr.name)).map((p) => p.name);
    assert.ok(users.length >= 1 && users.length <= 2, `${mr.name}: ${users.join(',')}`);
    if (users.includes('linux') && users.length === 2) assert.ok(users.includes('mission_manager'));
  }
  assert.deepEqual(s.warnings, []);
});

// -------------------------------------------------------------------------------------------
// Defaults and numbers
// -------------------------------------------------------------------------------------------

test('defaults: priority, budget, period, passive, stack, fpu, cpu, map, channel end, irq', () => {
  const s = parse(
    sys(
      '  <memory_region name="m" size="0x1000"/>',
      '  <protection_domain name="a">',
      '    <program_image path="a.ts"/>',
      '    <map mr="m" vaddr="0x1000"/>',
      '    <irq irq="10" id="3"/>',
      '  </protection_domain>',
      ...PD_B,
      '  <channel><end pd="a" id="0"/><end pd="b" id="0"/></channel>',
    ),
  );
  const a = findProtectionDomain(s, 'a')!;
  assert.equal(a.priority, PD_DEFAULT_PRIORITY);
  assert.equal(a.priority, 0);
  assert.equal(a.budget, PD_DEFAULT_BUDGET_US);
  assert.equal(a.budget, 1000);
  assert.equal(a.period, PD_DEFAULT_PERIOD_US);
  assert.equal(a.period, a.budget);
  assert.equal(a.passive, false);
  assert.equal(a.stackSize, PD_DEFAULT_STACK_SIZE);
  assert.equal(a.stackSize, 0x2000);
  assert.equal(a.fpu, true);
  assert.equal(a.cpu, 0);
  assert.equal(a.smc, false);
  assert.equal(a.id, null);
  assert.equal(a.parent, null);
  assert.deepEqual(a.maps[0]!.perms, { read: true, write: true, execute: false });
  assert.equal(a.maps[0]!.cached, true);
  assert.equal(a.irqs[0]!.trigger, 'level');
  const end = s.channels[0]!.a;
  assert.equal(end.notify, true);
  assert.equal(end.pp, false);
  const m = findMemoryRegion(s, 'm')!;
  assert.equal(m.pageSize, SMALL_PAGE_SIZE);
  assert.equal(m.pageSizeSpecified, false);
  assert.equal(m.physAddr, null);
  assert.equal(m.physAddrKind, 'unspecified');
  assert.equal(m.pageCount, 1);
});

test('defaults: period defaults to the given budget', () => {
  const s = parse(sys('  <protection_domain name="a" budget="250">', '    <program_image path="a.ts"/>', '  </protection_domain>'));
  const a = s.protectionDomains[0]!;
  assert.equal(a.budget, 250);
  assert.equal(a.period, 250);
});

test('numbers: hex with 0x, underscores anywhere, decimal, leading +', () => {
  const s = parse(
    sys(
      '  <memory_region name="dev" size="0x1_000" phys_addr="0x1000_0000"/>',
      '  <memory_region name="big" size="2_097_152"/>',
      '  <protection_domain name="a" priority="0xfe" budget="1_000" period="+2000" stack_size="0x4000">',
      '    <program_image path="a.ts"/>',
      '    <map mr="dev" vaddr="0x0200_0000"/>',
      '    <map mr="big" vaddr="0x4000_0000"/>',
      '    <irq irq="0xa" id="0x3d"/>',
      '  </protection_domain>',
    ),
  );
  const a = s.protectionDomains[0]!;
  assert.equal(a.priority, 254);
  assert.equal(a.budget, 1000);
  assert.equal(a.period, 2000);
  assert.equal(a.stackSize, 0x4000);
  assert.equal(a.maps[0]!.vaddr, 0x200_0000);
  assert.equal(a.irqs[0]!.irq, 10);
  assert.equal(a.irqs[0]!.id, 61);
  assert.equal(findMemoryRegion(s, 'dev')!.physAddr, 0x1000_0000);
  assert.equal(findMemoryRegion(s, 'dev')!.size, 0x1000);
  assert.equal(findMemoryRegion(s, 'big')!.size, 0x20_0000);
});

test('numbers: parseSdfInteger follows the tool (Rust from_str_radix after removing _ and 0x)', () => {
  const ok = (t: string, kind?: 'u64' | 'u8' | 'i64') => {
    const r = parseSdfInteger(t, kind);
    assert.ok('value' in r, `${t}: ${'error' in r ? r.error : ''}`);
    return r.value;
  };
  const bad = (t: string, kind?: 'u64' | 'u8' | 'i64') => {
    const r = parseSdfInteger(t, kind);
    assert.ok('error' in r, `${t} should not parse`);
    return r.error;
  };
  assert.equal(ok('0x10'), 16n);
  assert.equal(ok('0xFf'), 255n);
  assert.equal(ok('1_0'), 10n);
  assert.equal(ok('0x_1_0'), 16n);
  assert.equal(ok('+7'), 7n);
  assert.equal(ok('-7', 'i64'), -7n);
  assert.equal(ok('0xffffffffffffffff'), (1n << 64n) - 1n);
  assert.equal(ok('255', 'u8'), 255n);
  assert.match(bad(''), /empty/);
  assert.match(bad('0x'), /empty/);
  assert.match(bad('0X10'), /invalid digit/);
  assert.match(bad('12a'), /invalid digit/);
  assert.match(bad('-1'), /invalid digit/);
  assert.match(bad('+'), /invalid digit/);
  assert.match(bad(' 1'), /invalid digit/);
  assert.match(bad('0x10000000000000000'), /too large/);
  assert.match(bad('256', 'u8'), /too large/);
});

test('page size promotion: unspecified page size grows to 2 MiB when size and addresses allow', () => {
  const s = parse(
    sys(
      '  <memory_region name="big" size="0x400000"/>',
      '  <memory_region name="odd" size="0x400000"/>',
      '  <memory_region name="pinned" size="0x400000" page_size="0x1000"/>',
      '  <protection_domain name="a">',
      '    <program_image path="a.ts"/>',
      '    <map mr="big" vaddr="0x40000000"/>',
      '    <map mr="odd" vaddr="0x50001000"/>',
      '    <map mr="pinned" vaddr="0x60000000"/>',
      '  </protection_domain>',
    ),
  );
  assert.equal(findMemoryRegion(s, 'big')!.pageSize, LARGE_PAGE_SIZE);
  assert.equal(findMemoryRegion(s, 'big')!.pageCount, 2);
  assert.equal(findMemoryRegion(s, 'odd')!.pageSize, SMALL_PAGE_SIZE);
  assert.equal(findMemoryRegion(s, 'pinned')!.pageSize, SMALL_PAGE_SIZE);
});

test('child protection domains are flattened parent first and know their parent and id', () => {
  const s = parse(
    sys(
      '  <protection_domain name="root" priority="200">',
      '    <program_image path="root.ts"/>',
      '    <protection_domain name="c1" id="1" priority="100" setvar_id="c1_id">',
      '      <program_image path="c1.ts"/>',
      '      <protection_domain name="g" id="0">',
      '        <program_image path="g.ts"/>',
      '      </protection_domain>',
      '    </protection_domain>',
      '    <protection_domain name="c2" id="2">',
      '      <program_image path="c2.ts"/>',
      '    </protection_domain>',
      '  </protection_domain>',
    ),
  );
  assert.deepEqual(
    s.protectionDomains.map((p) => [p.name, p.parent, p.id]),
    [
      ['root', null, null],
      ['c1', 'root', 1],
      ['g', 'c1', 0],
      ['c2', 'root', 2],
    ],
  );
  assert.deepEqual(findProtectionDomain(s, 'root')!.children, ['c1', 'c2']);
  assert.deepEqual(findProtectionDomain(s, 'root')!.setvars, [
    { kind: 'id', symbol: 'c1_id', id: 1, pos: { file: FILE, line: 4, column: 5 } },
  ]);
});

test('child ids are their own id space: a child id equal to a channel id is accepted', () => {
  const s = parse(
    sys(
      '  <protection_domain name="p" priority="1">',
      '    <program_image path="p.ts"/>',
      '    <protection_domain name="c" id="0" priority="2">',
      '      <program_image path="c.ts"/>',
      '    </protection_domain>',
      '  </protection_domain>',
      ...PD_B,
      '  <channel><end pd="p" id="0"/><end pd="b" id="0"/></channel>',
    ),
  );
  assert.equal(s.protectionDomains.length, 3);
});

test('setvar region_paddr on a region without phys_addr makes it tool-allocated', () => {
  const s = parse(
    sys(
      '  <memory_region name="buf" size="0x1000"/>',
      '  <protection_domain name="a">',
      '    <program_image path="a.ts"/>',
      '    <map mr="buf" vaddr="0x1000" setvar_vaddr="buf_vaddr" setvar_size="buf_size"/>',
      '    <setvar symbol="buf_paddr" region_paddr="buf"/>',
      '  </protection_domain>',
    ),
  );
  assert.equal(findMemoryRegion(s, 'buf')!.physAddrKind, 'tool_allocated');
  assert.deepEqual(
    s.protectionDomains[0]!.setvars.map((v) => [v.kind, v.symbol]),
    [
      ['vaddr', 'buf_vaddr'],
      ['size', 'buf_size'],
      ['paddr', 'buf_paddr'],
    ],
  );
});

test('prefill_path: size is rounded up from the file; missing file, empty file and too-large file rejected', () => {
  const files: Record<string, Uint8Array> = { 'five.bin': new Uint8Array(5), 'empty.bin': new Uint8Array(0) };
  const readFile = (p: string) => files[p];
  const pd = ['  <protection_domain name="a">', '    <program_image path="a.ts"/>', '    <map mr="m" vaddr="0x1000" setvar_prefill_size="len"/>', '  </protection_domain>'];
  const s = parse(sys('  <memory_region name="m" prefill_path="five.bin"/>', ...pd), { readFile });
  assert.equal(findMemoryRegion(s, 'm')!.size, 0x1000);
  assert.equal(findMemoryRegion(s, 'm')!.prefillBytes!.length, 5);
  rejects(sys('  <memory_region name="m" prefill_path="nope.bin"/>', ...pd), 2, 3, /unable to find prefill file 'nope.bin'/, { readFile });
  rejects(sys('  <memory_region name="m" prefill_path="empty.bin"/>', ...pd), 2, 3, /prefill file 'empty.bin' is empty/, { readFile });
  files['big.bin'] = new Uint8Array(0x1001);
  rejects(sys('  <memory_region name="m" size="0x1000" prefill_path="big.bin"/>', ...pd), 2, 3, /size of prefill file exceeds memory region size/, { readFile });
});

test('domains: ids are auto-assigned and PDs get their domain', () => {
  const s = parse(
    sys(
      '  <domains>',
      '    <domain name="monitor" id="0"/>',
      '    <domain name="zeta"/>',
      '    <domain name="alpha"/>',
      '    <domain_schedule>',
      '      <schedule_entry domain="monitor" duration="1000 us"/>',
      '      <schedule_entry domain="alpha" duration="0x10 ticks"/>',
      '      <schedule_end_marker/>',
      '    </domain_schedule>',
      '  </domains>',
      '  <protection_domain name="a" domain="zeta">',
      '    <program_image path="a.ts"/>',
      '  </protection_domain>',
    ),
    { numDomains: 4, numDomainSchedules: 8 },
  );
  // Free ids are handed out in name order: alpha before zeta.
  assert.deepEqual(
    s.domains!.domains.map((d) => [d.name, d.id]),
    [
      ['monitor', 0],
      ['zeta', 2],
      ['alpha', 1],
    ],
  );
  assert.equal(s.protectionDomains[0]!.domainId, 2);
  assert.equal(s.domains!.entries.length, 3);
});

test('warnings: unused memory region, passive PD that nothing can reach', () => {
  const s = parse(
    sys(
      '  <memory_region name="unused" size="0x1000"/>',
      '  <protection_domain name="a" passive="true">',
      '    <program_image path="a.ts"/>',
      '  </protection_domain>',
    ),
  );
  assert.deepEqual(
    s.warnings.map((w) => [w.pos.line, w.message]),
    [
      [2, "unused memory region 'unused'"],
      [3, "passive protection domain 'a' has no IRQ and no channel that can call or notify it: it can never run after init"],
    ],
  );
});

test('plugin: extra checks run last and report positioned errors', () => {
  const plugin = {
    name: 'ts-programs',
    check(system: SystemDescription, ctx: { error(pos: SystemDescription['pos'], problem: string): never }) {
      for (const pd of system.protectionDomains) {
        if (!pd.programImage.endsWith('.ts')) ctx.error(pd.pos, `program image '${pd.programImage}' is not a TypeScript module`);
      }
    },
  };
  parse(sys(...PD_A), { plugin });
  rejects(
    sys('  <protection_domain name="a">', '    <program_image path="a.elf"/>', '  </protection_domain>'),
    2,
    3,
    /program image 'a.elf' is not a TypeScript module \[ts-programs\]/,
    { plugin },
  );
});

// -------------------------------------------------------------------------------------------
// One test per rule: each asserts the position and the problem
// -------------------------------------------------------------------------------------------

interface Case {
  readonly rule: string;
  readonly xml: string;
  readonly line: number;
  readonly col?: number;
  readonly re: RegExp;
  readonly opts?: ParseOptions;
}

const pdWith = (attrs: string, ...children: string[]) => [
  `  <protection_domain name="a" ${attrs}>`,
  '    <program_image path="a.ts"/>',
  ...children,
  '  </protection_domain>',
];

const CASES: Case[] = [
  // XML and structure
  { rule: 'malformed XML', xml: lines('<system>', '  <protection_domain name="a">', '</system>'), line: 2, re: /malformed XML.*tag mismatch/ },
  { rule: 'unquoted attribute is malformed XML', xml: lines('<system>', '  <protection_domain name=a/>', '</system>'), line: 2, re: /malformed XML/ },
  { rule: 'root element must be <system>', xml: lines('<sys>', '</sys>'), line: 1, col: 1, re: /root element must be <system>, found <sys>/ },
  { rule: 'text directly inside <system>', xml: sys(...PD_A, '  hello'), line: 4, re: /unexpected text 'hello' found in element 'system'/ },
  { rule: 'unknown element in <system>', xml: sys(...PD_A, '  <thing/>'), line: 5, col: 3, re: /invalid XML element <thing> in <system>/ },
  { rule: 'unknown element in <protection_domain>', xml: sys(...pdWith('', '    <mapping/>')), line: 4, col: 5, re: /invalid XML element <mapping> in <protection_domain>/ },
  { rule: 'at least one protection domain', xml: sys('  <memory_region name="m" size="0x1000"/>'), line: 1, col: 1, re: /at least one protection domain must be defined/ },
  {
    rule: 'too many protection domains',
    xml: sys(...Array.from({ length: MAX_PDS + 1 }, (_, i) => `  <protection_domain name="p${i}"><program_image path="p.ts"/></protection_domain>`)),
    line: MAX_PDS + 2,
    re: /too many protection domains \(64\) defined; the maximum is 63/,
  },

  // protection_domain attributes
  { rule: 'unknown attribute on <protection_domain>', xml: sys(...pdWith('foo="1"')), line: 2, col: 3, re: /invalid attribute 'foo' on <protection_domain>/ },
  { rule: 'id is only for child protection domains', xml: sys(...pdWith('id="1"')), line: 2, re: /invalid attribute 'id' on <protection_domain>/ },
  { rule: 'missing PD name', xml: sys('  <protection_domain>', '    <program_image path="a.ts"/>', '  </protection_domain>'), line: 2, col: 3, re: /missing required attribute 'name' on <protection_domain>/ },
  { rule: 'missing program_image', xml: sys('  <protection_domain name="a">', '  </protection_domain>'), line: 2, re: /missing <program_image> element in protection domain 'a'/ },
  { rule: 'program_image twice', xml: sys(...pdWith('', '    <program_image path="b.ts"/>')), line: 4, col: 5, re: /program_image must only be specified once/ },
  { rule: 'program_image needs path', xml: sys('  <protection_domain name="a">', '    <program_image/>', '  </protection_domain>'), line: 3, re: /missing required attribute 'path' on <program_image>/ },
  { rule: 'unknown attribute on <program_image>', xml: sys('  <protection_domain name="a">', '    <program_image path="a.ts" elf="x"/>', '  </protection_domain>'), line: 3, re: /invalid attribute 'elf' on <program_image>/ },
  { rule: 'duplicate protection domain names', xml: sys(...PD_A, ...PD_A), line: 5, col: 3, re: /duplicate protection domain name 'a' \(first defined at 2:3\)/ },
  { rule: "the name 'monitor' is reserved", xml: sys('  <protection_domain name="monitor">', '    <program_image path="m.ts"/>', '  </protection_domain>'), line: 2, re: /'monitor' is reserved/ },
  { rule: 'priority above 254', xml: sys(...pdWith('priority="255"')), line: 2, re: new RegExp(`priority \\(255\\) must be between 0 and ${PD_MAX_PRIORITY}`) },
  { rule: 'priority not an integer', xml: sys(...pdWith('priority="high"')), line: 2, re: /failed to parse attribute priority="high" on <protection_domain> as an integer: invalid digit/ },
  { rule: 'negative priority', xml: sys(...pdWith('priority="-1"')), line: 2, re: /priority="-1".*invalid digit/ },
  { rule: 'empty integer', xml: sys(...pdWith('budget=""')), line: 2, re: /budget="".*empty string/ },
  { rule: 'integer overflow', xml: sys(...pdWith('budget="0x1_0000_0000_0000_0000"')), line: 2, re: /too large to fit/ },
  { rule: 'integer beyond 2^53 (sel4ts numbers)', xml: sys(...pdWith('budget="0xffff_ffff_ffff_ffff" period="0xffff_ffff_ffff_ffff"')), line: 2, re: /larger than 2\^53-1/ },
  { rule: 'budget greater than period', xml: sys(...pdWith('budget="2000" period="1000"')), line: 2, re: /budget \(2000\) must be less than, or equal to, period \(1000\)/ },
  { rule: 'explicit period below the default budget', xml: sys(...pdWith('period="500"')), line: 2, re: /budget \(1000\) must be less than, or equal to, period \(500\)/ },
  { rule: 'passive must be a boolean', xml: sys(...pdWith('passive="yes"')), line: 2, re: /passive="yes" on <protection_domain> must be 'true' or 'false'/ },
  { rule: 'fpu must be a boolean', xml: sys(...pdWith('fpu="1"')), line: 2, re: /fpu="1".*'true' or 'false'/ },
  { rule: 'smc is ARM only', xml: sys(...pdWith('smc="true"')), line: 2, re: /ARM SMC forwarding is not available on riscv64/ },
  { rule: 'cpu beyond the configured cores', xml: sys(...pdWith('cpu="1"')), line: 2, re: /cpu core must be less than 1, got 1/ },
  { rule: 'cpu is a u8', xml: sys(...pdWith('cpu="256"')), line: 2, re: /cpu="256".*too large/, opts: { numCores: 4 } },
  { rule: 'stack size below 4 KiB', xml: sys(...pdWith('stack_size="0x800"')), line: 2, re: /stack_size \(0x800\) must be between 0x1000 and 0x1000000 bytes/ },
  { rule: 'stack size above 16 MiB', xml: sys(...pdWith('stack_size="0x1001000"')), line: 2, re: /must be between 0x1000 and 0x1000000/ },
  { rule: 'stack size not page aligned', xml: sys(...pdWith('stack_size="0x1800"')), line: 2, re: /stack_size \(0x1800\) must be a multiple of the smallest page size/ },

  // arch specific
  { rule: 'virtual machines are not available', xml: sys(...pdWith('', '    <virtual_machine name="vm"/>')), line: 4, col: 5, re: /virtual machines are not available.*not built as a hypervisor/ },
  { rule: 'virtual_machine at top level', xml: sys(...PD_A, '  <virtual_machine name="vm"/>'), line: 5, re: /<virtual_machine> must be a child of a protection domain/ },
  { rule: 'ioport is x86 only', xml: sys(...pdWith('', '    <ioport id="0" addr="0x3f8" size="8"/>')), line: 4, re: /I\/O ports .* only available on x86/ },
  { rule: 'x86 I/O APIC irq', xml: sys(...pdWith('', '    <irq pin="4" id="0" vector="1"/>')), line: 4, re: /x86 I\/O APIC interrupts .* not supported on riscv64/ },
  { rule: 'x86 MSI irq', xml: sys(...pdWith('', '    <irq pcidev="0:1.0" id="0" vector="1"/>')), line: 4, re: /x86 MSI interrupts .* not supported on riscv64/ },
  { rule: 'io_address_space needs an IOMMU', xml: sys(...PD_A, '  <io_address_space name="x"/>'), line: 5, re: /<io_address_space> requires seL4 built with IOMMU support/ },
  { rule: 'x86 prefill_bootinfo', xml: sys(...PD_A, '  <memory_region name="m" prefill_bootinfo="x86_tsc_freq"/>'), line: 5, re: /x86 boot information, not available on riscv64/ },
  { rule: 'unknown prefill_bootinfo', xml: sys(...PD_A, '  <memory_region name="m" prefill_bootinfo="dtb"/>'), line: 5, re: /prefill_bootinfo type 'dtb' is not supported/ },
  { rule: 'cnode (newer Microkit) is rejected clearly', xml: sys('  <cnode name="c" size_bits="8"/>', ...PD_A), line: 2, re: /<cnode>.*not support/ },

  // memory_region
  { rule: 'unknown attribute on <memory_region>', xml: sys(...PD_A, '  <memory_region name="m" size="0x1000" cached="false"/>'), line: 5, col: 3, re: /invalid attribute 'cached' on <memory_region>/ },
  { rule: 'memory_region needs a name', xml: sys(...PD_A, '  <memory_region size="0x1000"/>'), line: 5, re: /missing required attribute 'name' on <memory_region>/ },
  { rule: 'memory_region needs a size unless prefilled', xml: sys(...PD_A, '  <memory_region name="m"/>'), line: 5, re: /missing attribute 'size' on <memory_region> 'm'/ },
  { rule: 'unsupported page size', xml: sys(...PD_A, '  <memory_region name="m" size="0x40000000" page_size="0x40000000"/>'), line: 5, re: /page_size 0x40000000 of memory region 'm' is not supported \(riscv64: 0x1000, 0x200000\)/ },
  { rule: 'size not a multiple of the page size', xml: sys(...PD_A, '  <memory_region name="m" size="0x1800"/>'), line: 5, re: /size 0x1800 of memory region 'm' is not a multiple of the page size 0x1000/ },
  { rule: 'size not a multiple of a 2 MiB page size', xml: sys(...PD_A, '  <memory_region name="m" size="0x1000" page_size="0x200000"/>'), line: 5, re: /not a multiple of the page size 0x200000/ },
  { rule: 'phys_addr not page aligned', xml: sys(...PD_A, '  <memory_region name="m" size="0x1000" phys_addr="0x10000800"/>'), line: 5, re: /phys_addr 0x10000800 of memory region 'm' is not aligned to the page size/ },
  { rule: 'duplicate memory region names', xml: sys('  <memory_region name="m" size="0x1000"/>', '  <memory_region name="m" size="0x2000"/>', ...PD_A), line: 3, re: /duplicate memory region name 'm' \(first defined at 2:3\)/ },
  {
    rule: 'memory regions at overlapping physical addresses',
    xml: sys('  <memory_region name="m1" size="0x2000" phys_addr="0x10000000"/>', '  <memory_region name="m2" size="0x1000" phys_addr="0x10001000"/>', ...PD_A),
    line: 3,
    re: /memory region 'm2' physical address range \[0x10001000\.\.0x10002000\) overlaps with another memory region 'm1'/,
  },
  { rule: 'prefill_path and prefill_bootinfo together', xml: sys(...PD_A, '  <memory_region name="m" prefill_path="f.bin" prefill_bootinfo="fdt"/>'), line: 5, re: /prefill_path and prefill_bootinfo cannot both be specified/, opts: { readFile: () => new Uint8Array(1) } },
  { rule: 'receive_all_untypeds (newer Microkit) is rejected clearly', xml: sys(...PD_A, '  <memory_region name="m" size="0x1000" receive_all_untypeds="true"/>'), line: 5, re: /receive_all_untypeds.*not support/ },

  // map
  { rule: 'unknown attribute on <map>', xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', '    <map mr="m" vaddr="0x1000" size="1"/>')), line: 5, col: 5, re: /invalid attribute 'size' on <map>/ },
  { rule: 'map needs mr', xml: sys(...pdWith('', '    <map vaddr="0x1000"/>')), line: 4, re: /missing required attribute 'mr' on <map>/ },
  { rule: 'map needs vaddr', xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', '    <map mr="m"/>')), line: 5, re: /missing required attribute 'vaddr' on <map>/ },
  { rule: 'map of an undefined memory region', xml: sys(...pdWith('', '    <map mr="nope" vaddr="0x1000"/>')), line: 4, col: 5, re: /invalid memory region name 'nope' on <map>/ },
  { rule: 'perms with other letters', xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', '    <map mr="m" vaddr="0x1000" perms="rwz"/>')), line: 5, re: /perms="rwz" on <map> must only be a combination of 'r', 'w' and 'x'/ },
  { rule: 'write-only mappings', xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', '    <map mr="m" vaddr="0x1000" perms="w"/>')), line: 5, re: /write-only mappings are not allowed/ },
  { rule: 'write+execute without read is write-only too', xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', '    <map mr="m" vaddr="0x1000" perms="wx"/>')), line: 5, re: /write-only mappings are not allowed/ },
  { rule: 'cached must be a boolean', xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', '    <map mr="m" vaddr="0x1000" cached="no"/>')), line: 5, re: /cached="no" on <map> must be 'true' or 'false'/ },
  { rule: 'vaddr not aligned to the region page size', xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', '    <map mr="m" vaddr="0x1800"/>')), line: 5, re: /invalid vaddr alignment on <map>: 0x1800 is not a multiple of the page size 0x1000 of 'm'/ },
  { rule: 'vaddr not aligned to a 2 MiB page', xml: sys('  <memory_region name="m" size="0x200000" page_size="0x200000"/>', ...pdWith('', '    <map mr="m" vaddr="0x1000"/>')), line: 5, re: /invalid vaddr alignment.*page size 0x200000/ },
  {
    rule: 'vaddr at or above the stack',
    xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', `    <map mr="m" vaddr="0x${(USER_TOP - PD_DEFAULT_STACK_SIZE).toString(16)}"/>`)),
    line: 5,
    re: /vaddr \(0x3fffffd000\) must be less than 0x3fffffd000/,
  },
  {
    rule: 'map running into the stack',
    xml: sys('  <memory_region name="m" size="0x2000"/>', ...pdWith('', '    <map mr="m" vaddr="0x3fffffc000"/>')),
    line: 5,
    re: /map for 'm' has virtual address range \[0x3fffffc000\.\.0x3fffffe000\) which exceeds the valid address space \[0x0\.\.0x3fffffd000\)/,
  },
  {
    rule: 'overlapping maps in one PD',
    xml: sys('  <memory_region name="m1" size="0x2000"/>', '  <memory_region name="m2" size="0x1000"/>', ...pdWith('', '    <map mr="m1" vaddr="0x10000"/>', '    <map mr="m2" vaddr="0x11000"/>')),
    line: 7,
    col: 5,
    re: /map for 'm2' has virtual address range \[0x11000\.\.0x12000\) which overlaps with map for 'm1' \[0x10000\.\.0x12000\) \(at 6:5\) in protection domain 'a'/,
  },
  {
    rule: 'duplicate setvar symbol',
    xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', '    <map mr="m" vaddr="0x1000" setvar_vaddr="sym"/>', '    <setvar symbol="sym" region_paddr="m"/>')),
    line: 6,
    re: /setvar on symbol 'sym' already exists \(first set at 5:5\)/,
  },
  { rule: 'setvar needs symbol', xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', '    <setvar region_paddr="m"/>')), line: 5, re: /missing required attribute 'symbol' on <setvar>/ },
  { rule: 'setvar needs region_paddr', xml: sys(...pdWith('', '    <setvar symbol="s"/>')), line: 4, re: /missing required attribute 'region_paddr' on <setvar>/ },
  { rule: 'setvar region_paddr of an unknown region', xml: sys(...pdWith('', '    <setvar symbol="s" region_paddr="ghost"/>')), line: 4, re: /region_paddr names unknown memory region 'ghost'/ },
  {
    rule: 'setvar_prefill_size needs a prefilled region',
    xml: sys('  <memory_region name="m" size="0x1000"/>', ...pdWith('', '    <map mr="m" vaddr="0x1000" setvar_prefill_size="n"/>')),
    line: 5,
    re: /'setvar_prefill_size' used for memory region 'm' \(at 2:3\) without a 'prefill_path'/,
  },

  // irq
  { rule: 'irq needs irq', xml: sys(...pdWith('', '    <irq id="1"/>')), line: 4, col: 5, re: /missing required attribute 'irq' on <irq>/ },
  { rule: 'irq needs id', xml: sys(...pdWith('', '    <irq irq="10"/>')), line: 4, re: /missing required attribute 'id' on <irq>/ },
  { rule: 'unknown attribute on <irq>', xml: sys(...pdWith('', '    <irq irq="10" id="1" edge="true"/>')), line: 4, re: /invalid attribute 'edge' on <irq>/ },
  { rule: 'irq id above 61', xml: sys(...pdWith('', '    <irq irq="10" id="62"/>')), line: 4, re: new RegExp(`id 62 on <irq> must be < ${PD_MAX_ID + 1}`) },
  { rule: 'irq id below 0', xml: sys(...pdWith('', '    <irq irq="10" id="-1"/>')), line: 4, re: /id -1 on <irq> must be >= 0/ },
  { rule: 'irq trigger must be level or edge', xml: sys(...pdWith('', '    <irq irq="10" id="1" trigger="rising"/>')), line: 4, re: /trigger="rising" on <irq> must be either 'level' or 'edge'/ },
  { rule: 'same hardware irq twice', xml: sys(...pdWith('', '    <irq irq="10" id="1"/>'), ...PD_B.slice(0, 2), '    <irq irq="10" id="1"/>', PD_B[2]!), line: 8, re: /duplicate irq 10 in protection domain 'b' \(already used by 'a' at 4:5\)/ },
  { rule: 'two irqs with one id', xml: sys(...pdWith('', '    <irq irq="10" id="1"/>', '    <irq irq="11" id="1"/>')), line: 5, re: /duplicate channel id 1 in protection domain 'a' \(also used at 4:5\)/ },

  // channel
  { rule: 'channel takes no attributes', xml: sys(...PD_A, ...PD_B, '  <channel name="c"><end pd="a" id="0"/><end pd="b" id="0"/></channel>'), line: 8, re: /invalid attribute 'name' on <channel> \(it takes no attributes\)/ },
  { rule: 'channel with one end', xml: sys(...PD_A, ...PD_B, '  <channel>', '    <end pd="a" id="0"/>', '  </channel>'), line: 8, col: 3, re: /exactly two <end> elements must be specified in <channel>, found 1/ },
  { rule: 'channel with three ends', xml: sys(...PD_A, ...PD_B, '  <channel><end pd="a" id="0"/><end pd="b" id="0"/><end pd="b" id="1"/></channel>'), line: 8, re: /exactly two <end> elements.*found 3/ },
  { rule: 'channel child other than end', xml: sys(...PD_A, ...PD_B, '  <channel>', '    <end pd="a" id="0"/>', '    <start pd="b" id="0"/>', '  </channel>'), line: 10, re: /invalid XML element <start> in <channel>/ },
  { rule: 'end names an undefined PD', xml: sys(...PD_A, '  <channel>', '    <end pd="a" id="0"/>', '    <end pd="zz" id="0"/>', '  </channel>'), line: 7, col: 5, re: /invalid PD name 'zz' on <end>/ },
  { rule: 'end needs pd', xml: sys(...PD_A, ...PD_B, '  <channel><end id="0"/><end pd="b" id="0"/></channel>'), line: 8, re: /missing required attribute 'pd' on <end>/ },
  { rule: 'end needs id', xml: sys(...PD_A, ...PD_B, '  <channel><end pd="a"/><end pd="b" id="0"/></channel>'), line: 8, re: /missing required attribute 'id' on <end>/ },
  { rule: 'unknown attribute on <end>', xml: sys(...PD_A, ...PD_B, '  <channel><end pd="a" id="0" ppc="true"/><end pd="b" id="0"/></channel>'), line: 8, re: /invalid attribute 'ppc' on <end>/ },
  { rule: 'end id above 61', xml: sys(...PD_A, ...PD_B, '  <channel><end pd="a" id="62"/><end pd="b" id="0"/></channel>'), line: 8, re: /id 62 on <end> must be < 62/ },
  { rule: 'end id below 0', xml: sys(...PD_A, ...PD_B, '  <channel><end pd="a" id="-3"/><end pd="b" id="0"/></channel>'), line: 8, re: /id -3 on <end> must be >= 0/ },
  { rule: 'notify must be a boolean', xml: sys(...PD_A, ...PD_B, '  <channel><end pd="a" id="0" notify="0"/><end pd="b" id="0"/></channel>'), line: 8, re: /notify="0" on <end> must be 'true' or 'false'/ },
  { rule: 'pp must be a boolean', xml: sys(...PD_A, ...PD_B, '  <channel><end pd="a" id="0" pp="1"/><end pd="b" id="0"/></channel>'), line: 8, re: /pp="1" on <end> must be 'true' or 'false'/ },
  { rule: 'pp on both ends', xml: sys(...PD_A, ...PD_B, '  <channel><end pd="a" id="0" pp="true"/><end pd="b" id="0" pp="true"/></channel>'), line: 8, re: /cannot ppc bidirectionally/ },
  {
    rule: 'pp towards a lower priority PD',
    xml: sys(...PD_A, ...PD_B, '  <channel>', '    <end pd="a" id="0"/>', '    <end pd="b" id="0" pp="true"/>', '  </channel>'),
    line: 10,
    col: 5,
    re: /PPCs must be to protection domains of strictly higher priority; channel with PPC exists from pd b \(priority: 20\) to pd a \(priority: 10\)/,
  },
  {
    rule: 'pp towards an equal priority PD',
    xml: sys(...PD_A, '  <protection_domain name="b" priority="10">', '    <program_image path="b.ts"/>', '  </protection_domain>', '  <channel><end pd="a" id="0" pp="true"/><end pd="b" id="0"/></channel>'),
    line: 8,
    re: /strictly higher priority.*from pd a \(priority: 10\) to pd b \(priority: 10\)/,
  },
  {
    rule: 'duplicate channel id in a PD',
    xml: sys(...PD_A, ...PD_B, '  <channel><end pd="a" id="5"/><end pd="b" id="0"/></channel>', '  <channel>', '    <end pd="a" id="5"/>', '    <end pd="b" id="1"/>', '  </channel>'),
    line: 10,
    col: 5,
    re: /duplicate channel id 5 in protection domain 'a' \(also used at 8:/,
  },
  {
    rule: 'channel id clashing with an irq id',
    xml: sys(...pdWith('priority="10"', '    <irq irq="10" id="2"/>'), ...PD_B, '  <channel><end pd="a" id="2"/><end pd="b" id="0"/></channel>'),
    line: 9,
    re: /duplicate channel id 2 in protection domain 'a' \(also used at 4:5\)/,
  },
  {
    rule: 'self channel reusing one id',
    xml: sys(...PD_A, '  <channel><end pd="a" id="1"/><end pd="a" id="1"/></channel>'),
    line: 5,
    re: /duplicate channel id 1 in protection domain 'a'/,
  },
  {
    rule: 'duplicate setvar_id on channel ends',
    xml: sys(...pdWith('', '    <setvar symbol="ch" region_paddr="m"/>'), ...PD_B, '  <memory_region name="m" size="0x1000"/>', '  <channel><end pd="a" id="0" setvar_id="ch"/><end pd="b" id="0"/></channel>'),
    line: 10,
    re: /setvar on symbol 'ch' already exists/,
  },

  // child protection domains
  { rule: 'child PD needs id', xml: sys(...pdWith('', '    <protection_domain name="c">', '      <program_image path="c.ts"/>', '    </protection_domain>')), line: 4, col: 5, re: /missing required attribute 'id' on <protection_domain>/ },
  {
    rule: 'two children with one id',
    xml: sys(...pdWith('', '    <protection_domain name="c1" id="3"><program_image path="c.ts"/></protection_domain>', '    <protection_domain name="c2" id="3"><program_image path="c.ts"/></protection_domain>')),
    line: 5,
    re: /duplicate child id 3 in protection domain 'a' \(also used by 'c1' at 4:5\)/,
  },
  {
    rule: 'child with the name of another PD',
    xml: sys(...PD_B, ...pdWith('', '    <protection_domain name="b" id="1"><program_image path="c.ts"/></protection_domain>')),
    line: 7,
    re: /duplicate protection domain name 'b'/,
  },

  // cspace
  { rule: 'cspace slot 0 is reserved', xml: sys(...pdWith('', '    <cspace><cap_tcb slot="0" pd="a"/></cspace>')), line: 4, re: /destination slot 0 of <cap_tcb> is reserved/ },
  { rule: 'cspace slot beyond 127', xml: sys(...pdWith('', '    <cspace><cap_sc slot="128" pd="a"/></cspace>')), line: 4, re: /slot 128 of <cap_sc>: there are only 128 destination cspace slots/ },
  { rule: 'cspace unknown cap type', xml: sys(...pdWith('', '    <cspace><cap_endpoint slot="1" pd="a"/></cspace>')), line: 4, re: /cap type 'endpoint' is not supported in <cspace>/ },
  { rule: 'cspace unknown element', xml: sys(...pdWith('', '    <cspace><slot/></cspace>')), line: 4, re: /element <slot> is not supported in a <cspace> element/ },
  { rule: 'cspace cap of an undefined PD', xml: sys(...pdWith('', '    <cspace>', '      <cap_tcb slot="1" pd="ghost"/>', '    </cspace>')), line: 5, col: 7, re: /unknown PD name 'ghost' in <cap_tcb>/ },
  { rule: 'cspace two caps in one slot', xml: sys(...pdWith('', '    <cspace>', '      <cap_tcb slot="1" pd="a"/>', '      <cap_sc slot="1" pd="a"/>', '    </cspace>')), line: 6, re: /overlapping user caps in slot 1 of protection domain 'a'/ },
  { rule: 'cspace twice', xml: sys(...pdWith('', '    <cspace/>', '    <cspace/>')), line: 5, re: /cspace must only be specified once/ },

  // domains
  { rule: 'domain attribute without <domains>', xml: sys(...pdWith('domain="d"')), line: 2, re: /domain="d" given, but no <domains> schedule is declared/ },
  {
    rule: 'PD without domain when <domains> is declared',
    xml: sys('  <domains><domain name="d" id="0"/><domain_schedule><schedule_entry domain="d" duration="10 us"/></domain_schedule></domains>', ...PD_A),
    line: 3,
    re: /missing required attribute 'domain' on <protection_domain>/,
    opts: { numDomainSchedules: 4 },
  },
  {
    rule: 'PD in an undeclared domain',
    xml: sys('  <domains><domain name="d" id="0"/><domain_schedule><schedule_entry domain="d" duration="10 us"/></domain_schedule></domains>', ...pdWith('domain="e"')),
    line: 3,
    re: /domain 'e' is not declared in <domains>/,
    opts: { numDomainSchedules: 4 },
  },
  { rule: 'domains twice', xml: sys('  <domains><domain_schedule><schedule_entry domain="monitor" duration="1 us"/></domain_schedule><domain name="monitor"/></domains>', '  <domains/>'), line: 3, re: /<domains> must only be specified once/, opts: { numDomainSchedules: 4 } },
  { rule: 'domain id beyond KernelNumDomains', xml: sys('  <domains>', '    <domain name="d" id="1"/>', '  </domains>'), line: 3, re: /domain id 1 should be less than the configured KernelNumDomains value of 1/ },
  { rule: 'duplicate domain names', xml: sys('  <domains>', '    <domain name="d"/>', '    <domain name="d"/>', '  </domains>'), line: 4, re: /each <domain> name must be unique: 'd' is already declared at 3:5/ },
  { rule: 'duplicate domain ids', xml: sys('  <domains>', '    <domain name="d" id="1"/>', '    <domain name="e" id="1"/>', '  </domains>'), line: 4, re: /each <domain> id must be unique: domain 'd' already has id 1/, opts: { numDomains: 4 } },
  { rule: 'domains without a schedule', xml: sys('  <domains>', '    <domain name="d"/>', '  </domains>'), line: 2, re: /<domain_schedule> element must appear once/ },
  { rule: 'too many domains for auto ids', xml: sys('  <domains>', '    <domain name="d"/>', '    <domain name="e"/>', '    <domain_schedule/>', '  </domains>'), line: 2, re: /number of domains exceeds KernelNumDomains \(1\)/ },
  { rule: 'schedule too long', xml: sys('  <domains><domain name="d"/>', '    <domain_schedule>', '      <schedule_entry domain="d" duration="1 us"/>', '      <schedule_entry domain="d" duration="1 us"/>', '    </domain_schedule></domains>'), line: 3, re: /2 schedule entries: there must be fewer than the configured KernelNumDomainSchedules \(2\)/ },
  { rule: 'empty schedule has no start', xml: sys('  <domains><domain name="d"/>', '    <domain_schedule/></domains>'), line: 3, re: /start_index 0 is not less than the length of the schedule \(0\)/ },
  { rule: 'duration without a unit', xml: sys('  <domains><domain name="d"/><domain_schedule>', '    <schedule_entry domain="d" duration="1000"/>', '  </domain_schedule></domains>'), line: 3, re: /duration '1000' must contain a value and a unit/ },
  { rule: 'duration zero', xml: sys('  <domains><domain name="d"/><domain_schedule>', '    <schedule_entry domain="d" duration="0 us"/>', '  </domain_schedule></domains>'), line: 3, re: /duration '0 us' must be non-zero/ },
  { rule: 'duration unit', xml: sys('  <domains><domain name="d"/><domain_schedule>', '    <schedule_entry domain="d" duration="5 ms"/>', '  </domain_schedule></domains>'), line: 3, re: /duration '5 ms' must be in either 'ticks' or 'us'/ },
  { rule: 'schedule entry of an unknown domain', xml: sys('  <domains><domain name="d"/><domain_schedule>', '    <schedule_entry domain="x" duration="5 us"/>', '  </domain_schedule></domains>'), line: 3, re: /domain 'x' of <schedule_entry> does not exist/ },
  { rule: 'domain scheduler on multicore', xml: sys('  <domains/>'), line: 2, re: /domain scheduler is not supported in multicore builds/, opts: { numCores: 2 } },
];

for (const c of CASES) {
  test(`rejects: ${c.rule}`, () => {
    rejects(c.xml, c.line, c.col, c.re, c.opts);
  });
}

test('an SdfError message is file:line:col: problem', () => {
  const e = rejects(sys(...pdWith('priority="999"')), 2, 3, /priority/);
  assert.equal(e.name, 'SdfError');
  assert.equal(e.message, `${FILE}:2:3: ${e.problem}`);
});
