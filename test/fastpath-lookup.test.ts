/**
 * The fastpath's cap lookup (seL4's lookup_fp) finds exactly the cap that
 * resolveAddressBits finds for a thread's 64-bit cptr, through CSpaces of
 * one to four CNode levels with any radices, guard sizes and guard values,
 * stopping early at a non-CNode cap; and finds nothing wherever
 * resolveAddressBits reports a lookup failure.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Cap, CapType } from '../src/kernel/cap.js';
import { LookupFailure, resolveAddressBits, ResolveResult } from '../src/kernel/cspace.js';
import { CNode } from '../src/kernel/object/cnode.js';
import { Endpoint } from '../src/kernel/object/endpoint.js';
import { LookupFault, TCB, TCB_CTABLE } from '../src/kernel/object/tcb.js';
import { lookupFp } from '../src/kernel/fastpath.js';

interface Level {
  radix: number;
  guardSize: number;
  guard: bigint;
}

let nextPaddr = 0x8000_0000;

function cnodeCap(l: Level): Cap {
  const cn = new CNode(nextPaddr, l.radix);
  nextPaddr += 2 ** (l.radix + 5);
  const c = new Cap(CapType.CNode, cn, cn.paddr, cn.sizeBits);
  c.radix = l.radix;
  c.guardSize = l.guardSize;
  c.guardHi = Number(l.guard >> 32n);
  c.guardLo = Number(l.guard & 0xffffffffn);
  return c;
}

/** A thread whose CSpace is a chain of CNodes: slot 1 of each level holds the next, every slot 2 an endpoint. */
function cspace(levels: Level[]): TCB {
  const caps = levels.map(cnodeCap);
  for (let i = 0; i < caps.length; i++) {
    const slots = (caps[i]!.obj as CNode).slots;
    if (i + 1 < caps.length && slots.length > 1) slots[1]!.cap = caps[i + 1]!;
    if (slots.length > 2) slots[2]!.cap = new Cap(CapType.Endpoint, new Endpoint(0x1000 * (i + 1), 4), 0x1000 * (i + 1), 4);
  }
  const t = new TCB(0x9000_0000, 10, 0);
  t.slots[TCB_CTABLE]!.cap = caps[0]!;
  return t;
}

/** A cptr that walks `levels`, taking slot `pick[i]` at level i, with every guard matching. */
function walkingCptr(levels: Level[], pick: number[]): bigint {
  let w = 0n;
  let used = 0;
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    const width = l.guardSize + l.radix;
    if (used + width > 64) break;
    const value = (l.guard << BigInt(l.radix)) | BigInt(pick[i]! % 2 ** l.radix);
    w |= value << BigInt(64 - used - width);
    used += width;
  }
  return w;
}

const levelArb: fc.Arbitrary<Level> = fc
  .record({ radix: fc.integer({ min: 1, max: 8 }), guardSize: fc.integer({ min: 0, max: 58 }), g: fc.bigInt({ min: 0n, max: (1n << 58n) - 1n }) })
  .map(({ radix, guardSize, g }) => ({ radix, guardSize, guard: g & ((1n << BigInt(guardSize)) - 1n) }));

function reference(t: TCB, w: bigint): Cap | null {
  const out = new ResolveResult();
  const fault = new LookupFault();
  const ok = resolveAddressBits(t.slots[TCB_CTABLE]!.cap, Number(w >> 32n), Number(w & 0xffffffffn), 64, out, fault);
  if (!ok) {
    assert.ok(fault.type !== LookupFailure.NoFailure);
    return null;
  }
  return out.slot!.cap;
}

describe('fastpath cap lookup (lookup_fp)', () => {
  it('agrees with resolveAddressBits on walking and random cptrs', () => {
    let found = 0;
    let failed = 0;
    fc.assert(
      fc.property(
        fc.array(levelArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.nat(63),
        (levels, pick, random, flip) => {
          const t = cspace(levels);
          const walk = walkingCptr(levels, pick);
          for (const w of [walk, walk ^ (1n << BigInt(flip)), random]) {
            const expect = reference(t, w);
            const got = lookupFp(t, Number(w >> 32n), Number(w & 0xffffffffn));
            assert.equal(got, expect, `cptr 0x${w.toString(16)}`);
            if (expect === null) failed++;
            else found++;
          }
        },
      ),
      { numRuns: 2000, seed: 0x100c },
    );
    assert.ok(found > 1000 && failed > 1000, `found ${found}, failed ${failed}`);
  });

  it('a root that is not a CNode finds nothing', () => {
    const t = new TCB(0x9000_0000, 10, 0);
    assert.equal(lookupFp(t, 0, 1), null);
    t.slots[TCB_CTABLE]!.cap = new Cap(CapType.Endpoint, new Endpoint(0x1000, 4), 0x1000, 4);
    assert.equal(lookupFp(t, 0, 1), null);
  });
});
