/**
 * Capability lookup cost by CSpace depth: a thread's CSpace is three CNode
 * levels (radix 8 each, the root with a 40-bit guard, so a 64-bit cptr
 * resolves through up to three levels) with a notification cap at depth 1,
 * 2 and 3. Measured directly on the kernel's resolveAddressBits (and the
 * fastpath's lookup_fp), and through an invocation: seL4_Signal of the
 * notification at that depth (one kernel entry, lookup plus a cheap signal).
 */
import { resolveAddressBits, ResolveResult } from '../src/kernel/cspace.js';
import { lookupFp } from '../src/kernel/fastpath.js';
import { LookupFault, TCB, TCB_CTABLE } from '../src/kernel/object/tcb.js';
import type { Cap } from '../src/kernel/cap.js';
import {
  seL4_AllRights,
  seL4_CapInitThreadCNode,
  seL4_CapTableObject,
  seL4_CNode_Copy,
  seL4_CNode_Mint,
  seL4_NotificationObject,
  seL4_Signal,
} from '../src/user/index.js';
import { check, cnodeCapData, createProcess } from './process.js';
import { Meter, Plan, runSystem } from './meter.js';
import { Result, toResult } from './stats.js';

type Gen<T> = Generator<unknown, T, unknown>;

const RADIX = 8;
const ROOT_GUARD = 64 - 3 * RADIX;
/** cptrs of the notification at depth 1, 2 and 3 (levels chained through slot 2). */
export const DEPTH_CPTRS = [1 << 16, (2 << 16) | (1 << 8), (2 << 16) | (2 << 8) | 1];

/** n lookups through resolveAddressBits (a plain function, so it is optimised like kernel code is). */
function resolveLoop(root: Cap, cptr: number, n: number, out: ResolveResult, fault: LookupFault): void {
  for (let i = 0; i < n; i++) if (!resolveAddressBits(root, 0, cptr, 64, out, fault)) throw new Error('bench: lookup failed');
}

function lookupFpLoop(t: TCB, cptr: number, n: number): void {
  for (let i = 0; i < n; i++) if (lookupFp(t, 0, cptr) === null) throw new Error('bench: lookup failed');
}

export function capLookup(plan: Plan): Result[] {
  const direct: Meter[] = [];
  const fp: Meter[] = [];
  const invoke: Meter[] = [];
  function* prober(): Gen<void> {
    const k = direct[0]!.m.kernel;
    const t = k.curThread;
    const root = t.slots[TCB_CTABLE]!.cap;
    const out = new ResolveResult();
    const fault = new LookupFault();
    for (let d = 0; d < 3; d++) {
      const cptr = DEPTH_CPTRS[d]!;
      const direct_ = direct[d]!;
      resolveLoop(root, cptr, plan.warmup, out, fault);
      for (let s = 0; s < plan.samples; s++) {
        direct_.begin();
        resolveLoop(root, cptr, plan.perSample, out, fault);
        direct_.end();
      }
      const fp_ = fp[d]!;
      lookupFpLoop(t, cptr, plan.warmup);
      for (let s = 0; s < plan.samples; s++) {
        fp_.begin();
        lookupFpLoop(t, cptr, plan.perSample);
        fp_.end();
      }
      const inv = invoke[d]!;
      for (let i = 0; i < plan.warmup; i++) yield* seL4_Signal(cptr);
      for (let s = 0; s < plan.samples; s++) {
        inv.begin();
        for (let i = 0; i < plan.perSample; i++) yield* seL4_Signal(cptr);
        inv.end();
      }
    }
  }
  runSystem(function* (m, vka) {
    for (let d = 0; d < 3; d++) {
      direct.push(new Meter(m, plan, false));
      fp.push(new Meter(m, plan, false));
      invoke.push(new Meter(m, plan));
    }
    const CNODE = seL4_CapInitThreadCNode;
    const ntfn = yield* vka.allocObject(seL4_NotificationObject);
    const levels: number[] = [];
    for (let l = 0; l < 3; l++) levels.push(yield* vka.allocObject(seL4_CapTableObject, RADIX));
    for (let l = 0; l < 3; l++) {
      check(yield* seL4_CNode_Copy(levels[l]!, 1, RADIX, CNODE, ntfn, 64, seL4_AllRights), 'CNode_Copy');
      if (l < 2) check(yield* seL4_CNode_Mint(levels[l]!, 2, RADIX, CNODE, levels[l + 1]!, 64, seL4_AllRights, cnodeCapData(0, 0)), 'CNode_Mint');
    }
    yield* createProcess(m, vka, { program: prober, priority: 100, caps: [], cspace: { root: levels[0]!, data: cnodeCapData(0, ROOT_GUARD) }, budgetUs: 1_000_000 });
  });
  const results: Result[] = [];
  for (let d = 0; d < 3; d++) {
    results.push(toResult(`cspace.resolveAddressBits.depth${d + 1}`, `kernel resolveAddressBits of a 64-bit cptr through ${d + 1} CNode level(s), called directly`, direct[d]!.samples));
  }
  for (let d = 0; d < 3; d++) {
    results.push(toResult(`cspace.lookup_fp.depth${d + 1}`, `fastpath lookup_fp through ${d + 1} CNode level(s), called directly`, fp[d]!.samples));
  }
  for (let d = 0; d < 3; d++) {
    results.push(toResult(`cspace.invoke.depth${d + 1}`, `seL4_Signal of a notification cap found at depth ${d + 1} (one kernel entry)`, invoke[d]!.samples));
  }
  return results;
}
