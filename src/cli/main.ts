#!/usr/bin/env node
/**
 * The `sel4ts` command line: run Microkit systems on the simulated seL4
 * machine, check system descriptions, run the demo and the benchmarks.
 */
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ImageError } from '../microkit/images.js';
import { checkSystemFile, unsupportedFeature } from '../microkit/check.js';
import { SdfError } from '../microkit/sdf.js';
// The kernel and machine are loaded only by the commands that run a system.
import type { MicrokitSystem } from '../microkit/system.js';
import { parseArgs, UsageError, USAGE, type CliOptions } from './args.js';
import { ms, summaryTable } from './format.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stderr is a terminal (progress is then redrawn in place). */
  errIsTTY: boolean;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  errIsTTY: process.stderr.isTTY === true,
};

/** Without --time, a run stops when the system is quiescent or after this much simulated time. */
const DEFAULT_LIMIT_MS = 10_000;

function repoRoot(): string {
  // dist/src/cli/main.js -> the repository root
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

export function demoFile(): string {
  const root = repoRoot();
  for (const f of [join(root, 'examples', 'retrofit.system'), join(root, '..', 'examples', 'retrofit.system')]) {
    if (existsSync(f)) return f;
  }
  return join(root, 'examples', 'retrofit.system');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describeError(e: unknown): string | null {
  if (e instanceof SdfError || e instanceof ImageError) return e.message;
  if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'ENOENT') return `sel4ts: ${e.message}`;
  return null;
}

function check(o: CliOptions, io: Io): number {
  const file = o.file!;
  try {
    const sys = checkSystemFile(file, undefined, new Set(), o.cores);
    const unsupported = unsupportedFeature(sys);
    if (unsupported !== null) {
      io.err(`${unsupported}\n`);
      return 1;
    }
    for (const w of sys.warnings) io.err(`${w.pos.file}:${w.pos.line}:${w.pos.column}: warning: ${w.message}\n`);
    io.out(
      `${file}: OK: ${plural(sys.protectionDomains.length, 'protection domain')} (${sys.protectionDomains.map((p) => p.name).join(', ')}), ` +
        `${plural(sys.channels.length, 'channel')}, ${plural(sys.memoryRegions.length, 'memory region')}\n`,
    );
    return 0;
  } catch (e) {
    const msg = describeError(e);
    if (msg === null) throw e;
    io.err(`${msg}\n`);
    return 1;
  }
}

async function run(o: CliOptions, file: string, io: Io): Promise<number> {
  const wallStart = Date.now();
  let progressShown = false;
  let lastProgress = 0;
  let line = '';
  const clearProgress = () => {
    if (progressShown && io.errIsTTY) io.err('\r\x1b[K');
    progressShown = false;
  };
  const flush = () => {
    if (line.length > 0) {
      clearProgress();
      io.out(line);
      line = '';
    }
  };
  const onConsole = (c: string) => {
    line += c;
    if (c === '\n') flush();
  };

  const { MicrokitSystem } = await import('../microkit/system.js');
  const { ThreadState } = await import('../kernel/object/tcb.js');
  let sys: MicrokitSystem;
  try {
    sys = await MicrokitSystem.load({
      file,
      onConsole,
      invariants: o.invariants,
      cores: o.cores,
      ...(o.input !== null ? { input: o.input } : {}),
      ...(o.trace !== null ? { trace: { title: file } } : {}),
    });
  } catch (e) {
    const msg = describeError(e);
    if (msg === null) throw e;
    io.err(`${msg}\n`);
    return 1;
  }
  const s = sys.system;
  io.out(
    `sel4ts: ${file}: ${plural(s.protectionDomains.length, 'protection domain')}, ${plural(s.channels.length, 'channel')}, ` +
      `${plural(s.memoryRegions.length, 'memory region')}${o.cores > 1 ? `, ${o.cores} cores` : ''}${o.invariants ? ' (invariants checked)' : ''}\n`,
  );
  const limitNs = (o.timeMs ?? DEFAULT_LIMIT_MS) * 1e6;
  const m = sys.machine;
  const onProgress = () => {
    const now = Date.now();
    if (now - wallStart < 1000 || now - lastProgress < (io.errIsTTY ? 250 : 2000)) return;
    lastProgress = now;
    const text = `[sel4ts] ${ms(m.now, 1)} ms simulated of ${ms(limitNs, 0)}, ${((now - wallStart) / 1000).toFixed(1)} s`;
    if (io.errIsTTY) io.err(`\r\x1b[K${text}`);
    else io.err(`${text}\n`);
    progressShown = true;
  };
  let result: ReturnType<MicrokitSystem['run']>;
  try {
    result = sys.run({ untilNs: limitNs, onProgress });
  } catch (e) {
    flush();
    clearProgress();
    io.err(`sel4ts: the run stopped on a JavaScript exception: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
  flush();
  clearProgress();
  if (sys.buildError !== null) {
    io.err(`sel4ts: cannot build ${file}: ${sys.buildError}\n`);
    return 1;
  }
  const wall = (Date.now() - wallStart) / 1000;
  const why =
    result.reason === 'quiescent'
      ? 'quiescent (every thread is blocked and no timer is pending)'
      : result.reason === 'halted'
        ? 'halted (seL4_DebugHalt)'
        : o.timeMs === null
          ? `stopped at the default limit of ${DEFAULT_LIMIT_MS} ms (use --time to run longer)`
          : 'time limit reached';
  io.out(`\nsel4ts: ${why} at ${ms(m.now)} ms simulated (idle ${ms(m.idleTime)} ms${m.numCores > 1 ? ` summed over ${m.numCores} cores` : ''}), ${wall.toFixed(2)} s wall\n`);
  if (sys.faults.length > 0) io.out(`sel4ts: ${plural(sys.faults.length, 'fault')} reported by the monitor: ${sys.faults.map((f) => `${f.pd} (${f.type})`).join(', ')}\n`);
  if (!o.quiet) {
    const extra = [];
    for (const name of ['monitor', 'initialiser']) {
      const t = m.threads().find((x) => x.name === name);
      if (t) extra.push({ name, priority: t.priority, cpuNs: t.cpuTime, syscalls: t.syscalls, state: ThreadState[t.state] ?? String(t.state) });
    }
    io.out(`\n${summaryTable(sys.summary(), extra, m.numCores)}\n`);
  }
  if (o.trace !== null) {
    writeFileSync(o.trace, sys.traceJSON()!);
    io.out(`sel4ts: trace written to ${o.trace}\n`);
  }
  return 0;
}

async function bench(o: CliOptions, io: Io): Promise<number> {
  const url = new URL('../../bench/suite.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    io.err('sel4ts: the benchmark suite (bench/suite.ts) is not part of this build\n');
    return 1;
  }
  const mod = (await import(url.href)) as { runBenchmarks?: (args: string[]) => unknown };
  if (typeof mod.runBenchmarks !== 'function') {
    io.err('sel4ts: bench/suite.js does not export runBenchmarks\n');
    return 1;
  }
  await mod.runBenchmarks(o.rest);
  return 0;
}

/** Run the command line; returns the exit code. */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  let o: CliOptions;
  try {
    o = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`sel4ts: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  switch (o.command) {
    case 'help':
      io.out(USAGE);
      return 0;
    case 'version':
      io.out('sel4ts 0.1.0 (seL4 13.0.0 MCS, riscv64 qemu virt; Microkit SDF of seL4/microkit 2.x)\n');
      return 0;
    case 'check':
      return check(o, io);
    case 'run':
      return run(o, o.file!, io);
    case 'demo':
      return run(o, demoFile(), io);
    case 'bench':
      return bench(o, io);
  }
}

function invokedDirectly(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    return pathToFileURL(realpathSync(argv1)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`sel4ts: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
