/**
 * `npm run fuzz -- --seconds N --seed S [--threads T] [--sample K] [--max-ops M]
 *  [--shrink-seconds X] [--replay file.json]`: random-syscall fuzzing of the
 * kernel with the invariant checker after every kernel entry (or every K-th).
 * On a violation or host exception prints the seed and a minimal reproducing
 * trace, and writes it to fuzz-repro-<seed>.json for --replay.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CampaignResult, replay, runCampaign, signature } from './campaign.js';
import { describeOp, opFromJSON, opToJSON } from './ops.js';

interface Args {
  seconds: number;
  seed: number;
  threads: number;
  sample: number;
  maxOps: number;
  shrinkSeconds: number;
  rootBits: number;
  replay: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    seconds: 10, seed: Date.now() % 1_000_000_007, threads: 6, sample: 1, maxOps: 50_000, shrinkSeconds: 60, rootBits: 8, replay: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!;
    const val = argv[i + 1];
    const num = (): number => {
      const n = Number(val);
      if (val === undefined || !Number.isFinite(n)) throw new Error(`${key} needs a number`);
      i++;
      return n;
    };
    switch (key) {
      case '--seconds': a.seconds = num(); break;
      case '--seed': a.seed = num(); break;
      case '--threads': a.threads = num(); break;
      case '--sample': a.sample = Math.max(1, num()); break;
      case '--max-ops': a.maxOps = num(); break;
      case '--shrink-seconds': a.shrinkSeconds = num(); break;
      case '--root-bits': a.rootBits = num(); break;
      case '--replay':
        if (val === undefined) throw new Error('--replay needs a file');
        a.replay = val;
        i++;
        break;
      case '--help':
        console.log('usage: npm run fuzz -- [--seconds N] [--seed S] [--threads T] [--sample K] [--max-ops M] [--shrink-seconds X] [--root-bits B] [--replay file]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${key}`);
    }
  }
  return a;
}

function printTrace(seed: number, ops: ReturnType<typeof opFromJSON>[], actors: string[]): void {
  ops.forEach((op, i) => console.log(`  #${i} [${actors[i] ?? '?'}] ${describeOp(op)}`));
  void seed;
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const base = { threads: a.threads, rootCNodeSizeBits: a.rootBits, maxOps: a.maxOps };
  if (a.replay !== null) {
    const j = JSON.parse(readFileSync(a.replay, 'utf8')) as { seed: number; threads: number; rootBits: number; ops: (number | number[])[][] };
    const ops = j.ops.map(opFromJSON);
    const r = replay(j.seed, ops, { ...base, threads: j.threads, rootCNodeSizeBits: j.rootBits }, true);
    printTrace(j.seed, ops, r.actors);
    console.log(r.failure === null ? 'replay: no failure' : `replay: ${r.failure.message}\n${r.failure.stack}`);
    process.exit(r.failure === null ? 0 : 1);
  }
  console.log(`fuzz: seed ${a.seed}, ${a.seconds} s, ${a.threads} threads, invariants after ${a.sample === 1 ? 'every kernel entry' : `every ${a.sample}th kernel entry`}`);
  const r: CampaignResult = runCampaign({
    seed: a.seed, seconds: a.seconds, threads: a.threads, sample: a.sample, maxOps: a.maxOps,
    rootCNodeSizeBits: a.rootBits, shrinkSeconds: a.shrinkSeconds, log: (l) => console.log(l),
  });
  const rate = r.syscalls / r.seconds;
  console.log(
    `fuzz: ${r.episodes} episodes, ${r.syscalls} fuzz syscalls, ${r.entries} kernel entries in all (with the root task's ` +
      `watchdog calls, interrupts and faults) in ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU`,
  );
  console.log(
    `fuzz: ${Math.round(rate)} syscalls/s = ${((rate * 60) / 1e6).toFixed(3)} M syscalls/min wall-clock ` +
      `(${Math.round(r.syscalls / r.cpuSeconds)} per CPU-second); ${Math.round(r.entries / r.seconds)} kernel entries/s` +
      `${a.sample === 1 ? ', every one checked' : `, every ${a.sample}th checked`}`,
  );
  if (r.failure === null) {
    console.log('fuzz: no invariant violation, no host exception');
    return;
  }
  const f = r.failure;
  console.log(`FAILURE (${signature(f)}) in episode seed ${r.failingSeed}: ${f.message}`);
  console.log(f.stack.split('\n').slice(0, 8).join('\n'));
  const file = `fuzz-repro-${r.failingSeed}.json`;
  writeFileSync(file, JSON.stringify({ seed: r.failingSeed, threads: a.threads, rootBits: a.rootBits, ops: r.trace.map(opToJSON) }));
  console.log(`minimal reproducing trace: ${r.trace.length} ops (shrunk from ${r.shrunkFrom}); replay: npm run fuzz -- --replay ${file}`);
  printTrace(r.failingSeed, r.trace, r.actors);
  process.exitCode = 1;
}

main();
