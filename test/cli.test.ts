/**
 * The `sel4ts` command line, run as a child process as a user would:
 * check (exit 1 with file:line:col), run (console output and the per-PD
 * summary), traces, input, the default demo, and usage errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const example = (name: string) => join(ROOT, 'examples', name);
const tmp = mkdtempSync(join(tmpdir(), 'sel4ts-cli-'));

function sel4ts(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function systemFile(name: string, body: string): string {
  const f = join(tmp, name);
  writeFileSync(f, `<?xml version="1.0" encoding="UTF-8"?>\n<system>\n${body}\n</system>\n`);
  return f;
}

const HELLO_IMAGE = example('hello.ts');

test('check accepts every example and names what it found', () => {
  for (const name of ['hello', 'ppc-passive', 'driver-irq', 'retrofit']) {
    const r = sel4ts('check', example(`${name}.system`));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /: OK: \d+ protection domains? \(/);
  }
  const r = sel4ts('check', example('retrofit.system'));
  assert.ok(r.out.includes('4 protection domains (crypto, camera_driver, mission_manager, linux), 3 channels, 4 memory regions'));
});

test('check exits 1 with file:line:col and the problem for an invalid system', () => {
  const cases: [string, string, RegExp][] = [
    ['prio.system', `  <protection_domain name="a" priority="300">\n    <program_image path="${HELLO_IMAGE}" />\n  </protection_domain>`, /prio\.system:3:3: .*priority/],
    [
      'chan.system',
      `  <protection_domain name="a"><program_image path="${HELLO_IMAGE}" /></protection_domain>\n  <channel><end pd="a" id="0" /><end pd="nobody" id="1" /></channel>`,
      /chan\.system:4:\d+: .*nobody/,
    ],
    ['xml.system', '  <protection_domain name="a">', /xml\.system:\d+:\d+: /],
    [
      'ppc.system',
      `  <protection_domain name="lo" priority="10"><program_image path="${HELLO_IMAGE}" /></protection_domain>\n  <protection_domain name="hi" priority="5"><program_image path="${HELLO_IMAGE}" /></protection_domain>\n  <channel><end pd="lo" id="0" pp="true" /><end pd="hi" id="0" /></channel>`,
      /ppc\.system:5:\d+: .*priority/,
    ],
  ];
  for (const [name, body, expected] of cases) {
    const f = systemFile(name, body);
    const r = sel4ts('check', f);
    assert.equal(r.code, 1, `${name}: ${r.out}`);
    assert.equal(r.out, '');
    assert.match(r.err, expected);
    assert.ok(r.err.startsWith(f), r.err);
  }
});

test('check rejects program images sel4ts cannot run: missing, uncompiled, ELF', () => {
  const missing = systemFile('missing.system', '  <protection_domain name="a"><program_image path="nothere.ts" /></protection_domain>');
  let r = sel4ts('check', missing);
  assert.equal(r.code, 1);
  assert.match(r.err, /missing\.system:3:3: protection domain 'a': program image 'nothere\.ts' not found/);

  writeFileSync(join(tmp, 'raw.ts'), 'export function* init() {}\n');
  r = sel4ts('check', systemFile('raw.system', '  <protection_domain name="a"><program_image path="raw.ts" /></protection_domain>'));
  assert.equal(r.code, 1);
  assert.match(r.err, /program image 'raw\.ts' has not been compiled/);

  writeFileSync(join(tmp, 'prog.elf'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
  r = sel4ts('check', systemFile('elf.system', '  <protection_domain name="a"><program_image path="prog.elf" /></protection_domain>'));
  assert.equal(r.code, 1);
  assert.match(r.err, /'prog\.elf' is an ELF file: .*not supported yet/);

  // The IPC buffer of a TypeScript PD sits where Microkit links PD images (0x200000): maps may not overlap it.
  r = sel4ts(
    'check',
    systemFile('overlap.system', `  <memory_region name="m" size="0x1000" />\n  <protection_domain name="a"><program_image path="${HELLO_IMAGE}" />\n    <map mr="m" vaddr="0x200000" /></protection_domain>`),
  );
  assert.equal(r.code, 1);
  assert.match(r.err, /overlap\.system:5:5: mapping 'm' into 'a' overlaps the program image at \[0x200000, 0x201000\)/);

  r = sel4ts('check', join(tmp, 'no-such.system'));
  assert.equal(r.code, 1);
  assert.match(r.err, /no-such\.system/);
});

test('run prints the console output, why it stopped, and a summary row per PD', () => {
  const r = sel4ts('run', example('hello.system'));
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.ok(lines.includes('hello: hello, world'));
  assert.match(r.out, /sel4ts: quiescent .* at \d+\.\d{3} ms simulated/);
  const header = lines.findIndex((l) => l.startsWith('PD '));
  assert.ok(header > 0, r.out);
  assert.match(lines[header]!, /^PD\s+prio\s+budget\/period us\s+CPU ms\s+syscalls\s+IPC in\s+signals in\s+faults\s+state$/);
  assert.match(lines[header + 2]!, /^hello\s+100\s+1000\/1000\s+\d+\.\d{3}\s+\d+\s+0\s+0\s+0\s+BlockedOnNotification$/);
  assert.match(r.out, /\(monitor\)\s+255 .*BlockedOnReceive/);
  const checked = sel4ts('run', example('hello.system'), '--invariants', '--quiet');
  assert.equal(checked.code, 0, checked.err);
  assert.match(checked.out, /1 protection domain, 0 channels, 0 memory regions \(invariants checked\)\n/);
});

test('run --input types into the UART; --time stops at the limit; --quiet drops the summary', () => {
  let r = sel4ts('run', example('driver-irq.system'), '--input', 'hi\\n', '--quiet');
  assert.equal(r.code, 0, r.err);
  assert.ok(r.out.includes('[serial_driver] received "hi\\n" (3 bytes so far)\n'));
  assert.ok(!r.out.includes('PD '));
  r = sel4ts('run', example('retrofit.system'), '--time', '1');
  assert.equal(r.code, 0, r.err);
  // The limit is checked between machine steps, so a run may overshoot it by one step.
  const at = /sel4ts: time limit reached at (\d+\.\d{3}) ms simulated/.exec(r.out);
  assert.ok(at !== null, r.out);
  assert.ok(Number(at[1]) >= 1 && Number(at[1]) < 2);
  assert.ok(!r.out.includes('linux: boot complete'));
});

test('run --trace writes a sel4ts trace; run reports build failures', () => {
  const out = join(tmp, 'trace.json');
  let r = sel4ts('run', example('ppc-passive.system'), '--trace', out, '--quiet');
  assert.equal(r.code, 0, r.err);
  const trace = JSON.parse(readFileSync(out, 'utf8')) as { format: string; events: { kind: string }[]; threads: { name: string }[] };
  assert.equal(trace.format, 'sel4ts-trace');
  assert.ok(trace.events.some((e) => e.kind === 'ipc'));
  assert.ok(trace.threads.some((t) => t.name === 'server'));

  const big = systemFile(
    'big.system',
    `  <memory_region name="huge" size="0x40000000" />\n  <protection_domain name="a"><program_image path="${HELLO_IMAGE}" /><map mr="huge" vaddr="0x40000000" /></protection_domain>`,
  );
  r = sel4ts('run', big);
  assert.equal(r.code, 1);
  assert.match(r.err, /sel4ts: cannot build .*big\.system: memory region 'huge': out of memory/);
});

test('no arguments runs the demo; usage errors exit 2; bench needs bench/suite.js', () => {
  let r = sel4ts();
  assert.equal(r.code, 0, r.err);
  assert.ok(r.out.includes('retrofit.system'));
  assert.ok(r.out.includes('mission_manager: frame 3 sealed'));
  assert.ok(r.out.includes('MON|ERROR: faulting PD: linux'));
  r = sel4ts('frobnicate');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command 'frobnicate'[\s\S]*usage: sel4ts/);
  r = sel4ts('run');
  assert.equal(r.code, 2);
  r = sel4ts('run', example('hello.system'), '--time', 'soon');
  assert.equal(r.code, 2);
  r = sel4ts('--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /^usage: sel4ts <command>/);
  if (!existsSync(join(ROOT, 'dist', 'bench', 'suite.js'))) {
    r = sel4ts('bench');
    assert.equal(r.code, 1);
    assert.match(r.err, /benchmark suite .* is not part of this build/);
  }
});

test('--cores: run a multicore system, with a cpu column; cpu beyond the cores and bad counts are errors', () => {
  const r = sel4ts('run', 'examples/multicore.system', '--cores', '4');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /4 protection domains, 3 channels, 1 memory region, 4 cores/);
  assert.match(r.out, /collector: all workers done/);
  assert.match(r.out, /idle [0-9.]+ ms summed over 4 cores/);
  assert.match(r.out, /prio\s+cpu\s+budget\/period us/);
  assert.match(r.out, /worker3\s+100\s+3\s+2500\/2500/);
  const one = sel4ts('run', 'examples/multicore.system');
  assert.equal(one.code, 1);
  assert.match(one.err, /multicore\.system:\d+:\d+: cpu core must be less than 1, got 1/);
  const chk = sel4ts('check', 'examples/multicore.system', '--cores', '4');
  assert.equal(chk.code, 0, chk.err);
  for (const bad of ['0', '33', 'two']) {
    const u = sel4ts('run', 'examples/hello.system', '--cores', bad);
    assert.equal(u.code, 2, `--cores ${bad}`);
    assert.match(u.err, /--cores wants a whole number from 1 to 32/);
  }
});
