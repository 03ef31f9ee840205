/**
 * Untyped_Retype throughput: the root task retypes one object per
 * invocation into consecutive empty slots of its CNode, from a fresh untyped;
 * between samples a CNode_Revoke of the untyped deletes the objects (not
 * timed), so the next sample starts from an empty untyped again.
 */
import {
  seL4_CapInitThreadCNode,
  seL4_CNode_Revoke,
  seL4_EndpointObject,
  seL4_RISCV_4K_Page,
  seL4_Untyped_Retype,
  seL4_UntypedObject,
} from '../src/user/index.js';
import { check } from './process.js';
import { Meter, Plan, runSystem } from './meter.js';
import { Result, toResult } from './stats.js';

/** Retype `plan.perSample` objects of `type` (object size 2^objBits) per sample. */
export function untypedRetype(plan: Plan, type: number, objBits: number, name: string, what: string): Result {
  let meter: Meter | null = null;
  const n = plan.perSample;
  runSystem(function* (m, vka) {
    meter = new Meter(m, plan);
    const CNODE = seL4_CapInitThreadCNode;
    const utBits = Math.max(objBits + Math.ceil(Math.log2(n)), 12);
    const ut = yield* vka.allocObject(seL4_UntypedObject, utBits);
    const base = vka.allocSlot();
    for (let i = 1; i < n; i++) if (vka.allocSlot() !== base + i) throw new Error('bench: slots are not consecutive');
    const rounds = Math.ceil(plan.warmup / n) + plan.samples;
    for (let r = 0; r < rounds; r++) {
      const measured = r >= rounds - plan.samples;
      if (measured) meter.begin();
      for (let i = 0; i < n; i++) {
        const err = yield* seL4_Untyped_Retype(ut, type, 0, CNODE, 0, 0, base + i, 1);
        if (err !== 0) throw new Error(`bench: Untyped_Retype failed with ${err}`);
      }
      if (measured) meter.end();
      check(yield* seL4_CNode_Revoke(CNODE, ut, 64), 'CNode_Revoke');
    }
  });
  return toResult(name, what, meter!.samples);
}

export function retypeBenchmarks(plan: Plan): Result[] {
  const p = { ...plan, perSample: Math.min(plan.perSample, 256) };
  return [
    untypedRetype(p, seL4_EndpointObject, 4, 'untyped.retype.endpoint', 'seL4_Untyped_Retype of one endpoint (16 B) into an empty slot'),
    untypedRetype(p, seL4_RISCV_4K_Page, 12, 'untyped.retype.4k_frame', 'seL4_Untyped_Retype of one 4 KiB frame (zeroed) into an empty slot'),
  ];
}
