/**
 * `npm run fuzz -- --seconds N --seed S [--threads T] [--cores C] [--sample K] [--max-ops M]
 *  [--shrink-seconds X] [--replay file.json]`: random-syscall fuzzing of the
 * kernel with the invariant checker after every kernel entry (or every K-th).
 * On a violation or host exception prints the seed and a minimal reproducing
 * trace, and writes it to fuzz-repro-<seed>.json for --replay. The campaign
 * runs in a worker thread: if the kernel stops returning (an infinite loop on
 * some input) the main thread reports the hang with the episode's seed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CampaignResult, replay, runCampaign, signature } from './campaign.js';
import { describeOp, opFromJSON, opToJSON } from './ops.js';

interface Args {
  seconds: number;
  seed: number;
  threads: number;
  cores: number;
  sample: number;
  maxOps: number;
  shrinkSeconds: number;
  rootBits: number;
  replay: string | null;
  /** Seconds without progress after which the campaign counts as hung. */
  hangSeconds: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    seconds: 10, seed: Date.now() % 1_000_000_007, threads: 6, cores: 1, sample: 1, maxOps: 50_000, shrinkSeconds: 60, rootBits: 8, replay: null, hangSeconds: 60,
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
      case '--cores': a.cores = num(); break;
      case '--sample': a.sample = Math.max(1, num()); break;
      case '--max-ops': a.maxOps = num(); break;
      case '--shrink-seconds': a.shrinkSeconds = num(); break;
      case '--root-bits': a.rootBits = num(); break;
      case '--hang-seconds': a.hangSeconds = num(); break;
      case '--replay':
        if (val === undefined) throw new Error('--replay needs a file');
        a.replay = val;
        i++;
        break;
      case '--help':
        console.log('usage: npm run fuzz -- [--seconds N] [--seed S] [--threads T] [--cores C] [--sample K] [--max-ops M] [--shrink-seconds X] [--root-bits B] [--hang-seconds H] [--replay file]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${key}`);
    }
  }
  return a;
}

function printTrace(ops: ReturnType<typeof opFromJSON>[], actors: string[]): void {
  ops.forEach((op, i) => console.log(`  #${i} [${actors[i] ?? '?'}] ${describeOp(op)}`));
}

/** The main thread: start the campaign in a worker and watch its heartbeat. */
function supervise(a: Args): void {
  const w = new Worker(new URL(import.meta.url), { workerData: a });
  let last = Date.now();
  let where = 'setup';
  w.on('message', (m: { beat?: [number, number]; log?: string; exit?: number }) => {
    if (m.exit !== undefined) process.exitCode = m.exit;
    if (m.beat !== undefined) {
      last = Date.now();
      where = `episode seed ${m.beat[0]}, after op ${m.beat[1]}`;
    }
    if (m.log !== undefined) console.log(m.log);
  });
  const timer = setInterval(() => {
    if (Date.now() - last > a.hangSeconds * 1000) {
      console.log(`HANG: no progress for ${a.hangSeconds} s (${where}); the kernel may loop for ever on some input.`);
      console.log(`reproduce: npm run fuzz -- --seed <that episode seed> --seconds 1000 --sample 1`);
      clearInterval(timer);
      void w.terminate();
      process.exitCode = 2;
    }
  }, 1000);
  w.on('exit', (code) => {
    clearInterval(timer);
    if (code !== 0 && process.exitCode === undefined) process.exitCode = code;
  });
  w.on('error', (e) => {
    console.log(`fuzz worker failed: ${e.stack ?? String(e)}`);
    process.exitCode = 3;
  });
}

function main(): void {
  if (isMainThread) {
    const a0 = parseArgs(process.argv.slice(2));
    if (a0.replay === null) {
      supervise(a0);
      return;
    }
  }
  const a = isMainThread ? parseArgs(process.argv.slice(2)) : (workerData as Args);
  const say = (l: string): void => {
    if (parentPort !== null) parentPort.postMessage({ log: l });
    else console.log(l);
  };
  const base = { threads: a.threads, cores: a.cores, rootCNodeSizeBits: a.rootBits, maxOps: a.maxOps };
  if (a.replay !== null) {
    const j = JSON.parse(readFileSync(a.replay, 'utf8')) as { seed: number; threads: number; cores?: number; rootBits: number; ops: (number | number[])[][] };
    const ops = j.ops.map(opFromJSON);
    const r = replay(j.seed, ops, { ...base, threads: j.threads, cores: j.cores ?? 1, rootCNodeSizeBits: j.rootBits }, true);
    printTrace(ops, r.actors);
    console.log(r.failure === null ? 'replay: no failure' : `replay: ${r.failure.message}\n${r.failure.stack}`);
    process.exit(r.failure === null ? 0 : 1);
  }
  say(`fuzz: seed ${a.seed}, ${a.seconds} s, ${a.threads} threads${a.cores > 1 ? ` on ${a.cores} cores` : ''}, invariants after ${a.sample === 1 ? 'every kernel entry' : `every ${a.sample}th kernel entry`}`);
  const beat = parentPort === null ? null : (seed: number, ops: number) => parentPort!.postMessage({ beat: [seed, ops] });
  const r: CampaignResult = runCampaign({
    seed: a.seed, seconds: a.seconds, threads: a.threads, cores: a.cores, sample: a.sample, maxOps: a.maxOps,
    rootCNodeSizeBits: a.rootBits, shrinkSeconds: a.shrinkSeconds, log: say, heartbeat: beat,
  });
  const rate = r.syscalls / r.seconds;
  say(
    `fuzz: ${r.episodes} episodes, ${r.syscalls} fuzz syscalls, ${r.entries} kernel entries in all (with the root task's ` +
      `watchdog calls, interrupts and faults) in ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU`,
  );
  say(
    `fuzz: ${Math.round(rate)} syscalls/s = ${((rate * 60) / 1e6).toFixed(3)} M syscalls/min wall-clock ` +
      `(${Math.round(r.syscalls / r.cpuSeconds)} per CPU-second); ${Math.round(r.entries / r.seconds)} kernel entries/s` +
      `${a.sample === 1 ? ', every one checked' : `, every ${a.sample}th checked`}`,
  );
  if (r.failure === null) {
    say('fuzz: no invariant violation, no host exception');
    return;
  }
  const f = r.failure;
  say(`FAILURE (${signature(f)}) in episode seed ${r.failingSeed}: ${f.message}`);
  say(f.stack.split('\n').slice(0, 8).join('\n'));
  const file = `fuzz-repro-${r.failingSeed}.json`;
  writeFileSync(file, JSON.stringify({ seed: r.failingSeed, threads: a.threads, cores: a.cores, rootBits: a.rootBits, ops: r.trace.map(opToJSON) }));
  say(`minimal reproducing trace: ${r.trace.length} ops (shrunk from ${r.shrunkFrom}); replay: npm run fuzz -- --replay ${file}`);
  r.trace.forEach((op, n) => say(`  #${n} [${r.actors[n] ?? '?'}] ${describeOp(op)}`));
  if (parentPort !== null) parentPort.postMessage({ exit: 1 });
  else process.exitCode = 1;
}

main();
