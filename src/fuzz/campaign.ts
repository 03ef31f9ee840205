/**
 * Fuzz campaigns: episodes of random operations from many threads over a
 * freshly built world, with the invariant checker after every kernel entry
 * (or every k-th with sampling), host exceptions caught, and failing traces
 * shrunk by replaying them with ops removed.
 */
import { msgInfoHi, msgInfoLo } from '../abi/messageinfo.js';
import { InvocationLabel } from '../abi/constants.js';
import { checkInvariants, InvariantViolation } from '../kernel/invariants/index.js';
import type { Kernel } from '../kernel/kernel.js';
import { REG_A0, REG_A1, REG_NEXT_IP, TCB } from '../kernel/object/tcb.js';
import { Syscall } from '../kernel/syscall.js';
import { KernelDriver, SYSCALL_SITE } from './driver.js';
import { applyOp, genOp, Op, OpKind } from './ops.js';
import { Rng } from './rng.js';
import { FuzzWorld, WATCHDOG_IRQ } from './world.js';

export interface CampaignOptions {
  seed: number;
  /** Wall-clock budget in seconds. */
  seconds: number;
  threads?: number;
  /** Cores of the kernel (default 1). */
  cores?: number;
  /** Check the invariants after every `sample`-th kernel entry (1 = all). */
  sample?: number;
  /** Ops per episode before a fresh world is built. */
  maxOps?: number;
  rootCNodeSizeBits?: number;
  /** Time budget for shrinking a failure, in seconds. */
  shrinkSeconds?: number;
  /** Called with progress lines. */
  log?: (line: string) => void;
  /** Called at the start of every episode and every 1024 ops (hang detection). */
  heartbeat?: ((seed: number, ops: number) => void) | null;
}

export interface Failure {
  kind: 'invariant' | 'host';
  /** Invariant name, or the first line of the host exception. */
  name: string;
  message: string;
  stack: string;
  /** Index of the op being applied (-1: during setup or a root/watchdog step before any op). */
  opIndex: number;
}

export interface EpisodeResult {
  ops: Op[];
  failure: Failure | null;
  syscalls: number;
  entries: number;
  /** Who was current for each op (filled when annotating). */
  actors: string[];
}

export function signature(f: Failure): string {
  return `${f.kind}:${f.name}`;
}

function toFailure(e: unknown, opIndex: number): Failure {
  if (e instanceof InvariantViolation) {
    return { kind: 'invariant', name: e.invariant, message: e.message, stack: e.stack ?? '', opIndex };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const first = `${err.name}: ${err.message}`.split('\n')[0]!;
  return { kind: 'host', name: first, message: first, stack: err.stack ?? '', opIndex };
}

/**
 * The watchdog program of the root task: Wait for the IRQ, resume the next
 * half of the fuzz threads in turn (TCB_Resume cancels whatever a thread is
 * blocked in, or restarts it after a fault), ack the IRQ, repeat. Leaving the
 * other half blocked keeps their pending receives and sends in place, so IPC
 * partners can meet.
 */
class Watchdog {
  private phase = 0;
  private issued = false;
  private turn = 0;
  constructor(
    private readonly d: KernelDriver,
    private readonly w: FuzzWorld,
  ) {}

  step(): void {
    const root = this.d.root;
    const per = Math.max(1, this.w.threads.length >> 1);
    if (this.issued && root.getRegLo(REG_NEXT_IP) !== SYSCALL_SITE) this.phase = (this.phase + 1) % (per + 2);
    this.issued = true;
    if (this.phase === 0) {
      root.setReg(REG_A0, 0, this.w.watchdogNtfn);
      this.d.syscall(Syscall.Wait);
    } else if (this.phase <= per) {
      const ts = this.w.threads;
      this.call(root, ts[this.turn++ % ts.length]!.tcbCptr, InvocationLabel.TCBResume);
    } else {
      this.call(root, this.w.watchdogHandler, InvocationLabel.IRQAckIRQ);
    }
  }

  private call(t: TCB, cptr: number, label: number): void {
    t.setReg(REG_A0, 0, cptr);
    t.setReg(REG_A1, msgInfoHi(label), msgInfoLo(label, 0, 0, 0));
    this.d.syscall(Syscall.Call);
  }
}

export interface EpisodeOptions {
  seed: number;
  threads: number;
  /** Cores (default 1): op i is issued on the first core from i mod cores that has a thread to run. */
  cores?: number;
  sample: number;
  rootCNodeSizeBits: number;
  maxOps: number;
  /** Replay these ops instead of generating (the episode ends when they run out). */
  replay: Op[] | null;
  /** Wall-clock deadline (performance.now() ms). */
  deadline: number;
  annotate: boolean;
  heartbeat?: ((seed: number, ops: number) => void) | null;
}

/** Run one episode: build the world from the seed, then apply generated or replayed ops. */
export function runEpisode(o: EpisodeOptions): EpisodeResult {
  const res: EpisodeResult = { ops: [], failure: null, syscalls: 0, entries: 0, actors: [] };
  let count = 0;
  const sample = o.sample;
  const check = sample <= 1 ? checkInvariants : (k: Kernel) => {
    if (++count >= sample) {
      count = 0;
      checkInvariants(k);
    }
  };
  const rng = new Rng(o.seed);
  let d: KernelDriver;
  let world: FuzzWorld;
  try {
    d = new KernelDriver({ check, rootCNodeSizeBits: o.rootCNodeSizeBits, cores: o.cores ?? 1 });
    world = new FuzzWorld(d, rng, { threads: o.threads, cores: o.cores ?? 1 });
  } catch (e) {
    res.failure = toFailure(e, -1);
    return res;
  }
  const watchdog = new Watchdog(d, world);
  const k = d.k;
  const ops = res.ops;
  let strikes = 0;
  let i = 0;
  try {
    for (;;) {
      if (!d.settleAny(i % k.numCores)) {
        if (strikes > 2 * o.threads) break;
        strikes++;
        d.deviceIRQ(WATCHDOG_IRQ);
        continue;
      }
      if (k.curThread === d.root) {
        watchdog.step();
        continue;
      }
      let op: Op;
      if (o.replay !== null) {
        if (i >= o.replay.length) break;
        op = o.replay[i]!;
      } else {
        if (i >= o.maxOps || ((i & 255) === 0 && performance.now() > o.deadline)) break;
        op = genOp(rng, d);
      }
      ops.push(op);
      if ((i & 1023) === 0 && o.heartbeat) o.heartbeat(o.seed, i);
      if (o.annotate) {
        const ti = world.threads.findIndex((th) => th.tcb === k.curThread);
        res.actors.push(ti >= 0 ? `thread ${ti} (${k.curThread.name})` : k.curThread.name);
      }
      applyOp(d, op);
      if (op.kind === OpKind.Sys) res.syscalls++;
      strikes = 0;
      i++;
    }
  } catch (e) {
    res.failure = toFailure(e, i < ops.length ? i : ops.length - 1);
    if (o.replay === null && res.failure.opIndex < 0) res.failure.opIndex = ops.length - 1;
  }
  res.entries = d.entries;
  return res;
}

/** Replay ops with full checking; the failure they cause, or null. */
export function replay(seed: number, ops: Op[], base: Omit<EpisodeOptions, 'seed' | 'replay' | 'deadline' | 'annotate' | 'sample'>, annotate = false): EpisodeResult {
  return runEpisode({ ...base, seed, sample: 1, replay: ops, deadline: Infinity, annotate });
}

/** Shrink a failing trace: keep the prefix up to the failure, then remove chunks while it still fails the same way. */
export function shrink(
  seed: number,
  ops: Op[],
  sig: string,
  base: Omit<EpisodeOptions, 'seed' | 'replay' | 'deadline' | 'annotate' | 'sample'>,
  budgetMs: number,
  heartbeat: ((seed: number, ops: number) => void) | null = null,
): Op[] {
  const end = performance.now() + budgetMs;
  let cur = ops;
  const fails = (cand: Op[]): Failure | null => {
    if (heartbeat !== null) heartbeat(seed, cand.length);
    const f = replay(seed, cand, base).failure;
    return f !== null && signature(f) === sig ? f : null;
  };
  let chunk = Math.max(1, Math.ceil(cur.length / 2));
  while (chunk >= 1 && performance.now() < end) {
    let changed = false;
    for (let i = 0; i < cur.length && performance.now() < end; ) {
      const cand = cur.slice(0, i).concat(cur.slice(i + chunk));
      const f = fails(cand);
      if (f !== null) {
        cur = f.opIndex >= 0 ? cand.slice(0, f.opIndex + 1) : cand;
        changed = true;
      } else {
        i += chunk;
      }
    }
    if (!changed) {
      if (chunk === 1) break;
      chunk = Math.max(1, Math.floor(chunk / 2));
    }
  }
  return cur;
}

export interface CampaignResult {
  episodes: number;
  syscalls: number;
  entries: number;
  seconds: number;
  /** CPU time of this process (user + system) over the campaign, in seconds. */
  cpuSeconds: number;
  failure: Failure | null;
  /** The seed of the failing episode and its minimal trace (with who performed each op). */
  failingSeed: number;
  trace: Op[];
  actors: string[];
  shrunkFrom: number;
}

/** Run episodes with seeds seed, seed+1, ... until the time budget is spent or something fails. */
export function runCampaign(o: CampaignOptions): CampaignResult {
  const log = o.log ?? (() => {});
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const cpu = (): number => {
    const u = process.cpuUsage(cpu0);
    return (u.user + u.system) / 1e6;
  };
  const deadline = start + o.seconds * 1000;
  const base = {
    threads: o.threads ?? 6,
    cores: o.cores ?? 1,
    rootCNodeSizeBits: o.rootCNodeSizeBits ?? 8,
    maxOps: o.maxOps ?? 50_000,
  };
  const out: CampaignResult = {
    episodes: 0, syscalls: 0, entries: 0, seconds: 0, cpuSeconds: 0, failure: null, failingSeed: 0, trace: [], actors: [], shrunkFrom: 0,
  };
  let lastLog = start;
  for (let e = 0; performance.now() < deadline; e++) {
    const seed = o.seed + e;
    const r = runEpisode({ ...base, seed, sample: o.sample ?? 1, replay: null, deadline, annotate: false, heartbeat: o.heartbeat ?? null });
    out.episodes++;
    out.syscalls += r.syscalls;
    out.entries += r.entries;
    const now = performance.now();
    if (now - lastLog > 2000) {
      lastLog = now;
      log(`  ${((now - start) / 1000).toFixed(0)} s: ${out.episodes} episodes, ${out.syscalls} syscalls, ${Math.round(out.syscalls / ((now - start) / 1000))} syscalls/s`);
    }
    if (r.failure !== null) {
      out.seconds = (performance.now() - start) / 1000;
      out.cpuSeconds = cpu();
      // Replay with full checking to find the first violation, then shrink.
      const upTo = r.failure.opIndex >= 0 ? r.ops.slice(0, r.failure.opIndex + 1) : r.ops;
      const full = replay(seed, upTo, base).failure ?? r.failure;
      const failing = full.opIndex >= 0 ? upTo.slice(0, full.opIndex + 1) : upTo;
      out.failure = full;
      out.failingSeed = seed;
      out.shrunkFrom = failing.length;
      log(`  failure in episode ${seed} after ${failing.length} ops: ${full.message}; shrinking...`);
      out.trace = full.opIndex < 0 ? failing : shrink(seed, failing, signature(full), base, (o.shrinkSeconds ?? 60) * 1000, o.heartbeat ?? null);
      const final = replay(seed, out.trace, base, true);
      out.actors = final.actors;
      if (final.failure !== null) out.failure = final.failure;
      return out;
    }
  }
  out.seconds = (performance.now() - start) / 1000;
  out.cpuSeconds = cpu();
  return out;
}
