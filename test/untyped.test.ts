/**
 * Untyped_Retype (seL4's decodeUntypedInvocation / invokeUntyped_Retype /
 * createNewObjects): object sizes, alignment and the watermark, the reset
 * rule, untyped-from-untyped, device untypeds, and every error with its MRs.
 * Test titles name the sel4test test whose intent they mirror.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, RootEnv } from './support/harness.js';
import * as s from '../src/user/index.js';
import { InvocationLabel as L, seL4_Error as E } from '../src/abi/constants.js';
import type { Machine } from '../src/machine/machine.js';
import { TCB_CTABLE } from '../src/kernel/object/tcb.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { Slot } from '../src/kernel/slot.js';
import { Cap, CapType, VMRights } from '../src/kernel/cap.js';
import { isMDBParentOf } from '../src/kernel/mdb.js';
import { root, invoke, expectError, CNODE, W } from './support/invoke.js';
import type { Gen, Result } from './support/invoke.js';






function rootSlot(m: Machine, i: number): Slot {
  return (m.booted.rootTCB.slots[TCB_CTABLE]!.cap.obj as CNode).slots[i]!;
}
function capAt(m: Machine, i: number): Cap {
  return rootSlot(m, i).cap;
}

/** Retype `n` objects into fresh consecutive root slots; returns the first slot. */
function* retype(vka: s.Vka, ut: number, type: number, size: number, n = 1): Gen<number> {
  const first = vka.allocSlot();
  for (let i = 1; i < n; i++) vka.allocSlot();
  const err = yield* s.seL4_Untyped_Retype(ut, type, size, CNODE, 0, 0, first, n);
  assert.equal(err, E.seL4_NoError, `retype of type ${type} size ${size} x${n}`);
  return first;
}

function* frameAddress(frame: number): Gen<number> {
  const [err, paddr] = yield* s.seL4_RISCV_Page_GetAddress(frame);
  assert.equal(err, E.seL4_NoError);
  return paddr;
}

test('Retype of every object type: real object sizes, caps of the right type, objects packed at the watermark', () => {
  root(function* ({ m, vka }) {
    const cases: [number, number, number, CapType][] = [
      // [type, user size, expected log2 size, cap type]
      [s.seL4_TCBObject, 0, 10, CapType.Thread],
      [s.seL4_EndpointObject, 0, 4, CapType.Endpoint],
      [s.seL4_NotificationObject, 0, 6, CapType.Notification],
      [s.seL4_ReplyObject, 0, 5, CapType.Reply],
      [s.seL4_CapTableObject, 1, 6, CapType.CNode],
      [s.seL4_CapTableObject, 8, 13, CapType.CNode],
      [s.seL4_SchedContextObject, 7, 7, CapType.SchedContext],
      [s.seL4_SchedContextObject, 10, 10, CapType.SchedContext],
      [s.seL4_UntypedObject, 4, 4, CapType.Untyped],
      [s.seL4_UntypedObject, 13, 13, CapType.Untyped],
      [s.seL4_RISCV_4K_Page, 0, 12, CapType.Frame],
      [s.seL4_RISCV_Mega_Page, 0, 21, CapType.Frame],
      [s.seL4_RISCV_PageTableObject, 0, 12, CapType.PageTable],
    ];
    for (const [type, size, bits, capType] of cases) {
      const ut = yield* vka.allocObject(s.seL4_UntypedObject, Math.max(bits + 2, 12));
      const base = capAt(m, ut).paddr;
      const first = yield* retype(vka, ut, type, size, 3);
      for (let i = 0; i < 3; i++) {
        const c = capAt(m, first + i);
        assert.equal(c.type, capType, `type ${type}: cap type`);
        assert.equal(c.paddr, base + i * 2 ** bits, `type ${type} size ${size}: object ${i} at base + ${i} * 2^${bits}`);
        assert.equal(c.paddr % 2 ** bits, 0, 'naturally aligned');
        if (c.type === CapType.Frame) assert.equal(yield* frameAddress(first + i), c.paddr, 'Page_GetAddress agrees');
      }
      assert.equal(capAt(m, ut).freeIndex, 3 * 2 ** bits, `type ${type}: the watermark moved by 3 objects`);
    }
  });
});

test('new caps carry their type\'s initial fields (rights, radix, sizes, unmapped frames, empty child untypeds)', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 16);
    const ep = yield* retype(vka, ut, s.seL4_EndpointObject, 0);
    const nt = yield* retype(vka, ut, s.seL4_NotificationObject, 0);
    const rp = yield* retype(vka, ut, s.seL4_ReplyObject, 0);
    const cn = yield* retype(vka, ut, s.seL4_CapTableObject, 3);
    const fr = yield* retype(vka, ut, s.seL4_RISCV_4K_Page, 0);
    const pt = yield* retype(vka, ut, s.seL4_RISCV_PageTableObject, 0);
    const sub = yield* retype(vka, ut, s.seL4_UntypedObject, 8);
    const sc = yield* retype(vka, ut, s.seL4_SchedContextObject, 8);
    assert.equal(capAt(m, ep).rights, 0xf);
    assert.equal(capAt(m, ep).badge, 0n);
    assert.equal(capAt(m, nt).rights, 0x3);
    assert.equal(capAt(m, rp).rights, 0x4, 'a new reply cap can grant');
    assert.equal(capAt(m, cn).radix, 3);
    assert.equal(capAt(m, cn).guardSize, 0);
    assert.equal(capAt(m, cn).guard, 0n);
    assert.equal((capAt(m, cn).obj as CNode).slots.length, 8);
    assert.equal(capAt(m, fr).rights, VMRights.ReadWrite);
    assert.equal(capAt(m, fr).isMapped, false);
    assert.equal(capAt(m, fr).isDevice, false);
    assert.equal(capAt(m, pt).isMapped, false);
    assert.equal(capAt(m, sub).freeIndex, 0, 'a child untyped starts empty');
    assert.equal(capAt(m, sub).sizeBits, 8);
    assert.equal(capAt(m, sc).sizeBits, 8);
    for (const x of [ep, nt, rp, cn, fr, pt, sub, sc]) {
      assert.equal(rootSlot(m, x).revocable, true, 'new caps are revocable (insertNewCap)');
      assert.equal(rootSlot(m, x).firstBadged, true);
    }
  });
});

test('Giga pages are 2^30 bytes and 2^30 aligned (from a device untyped: RAM here is smaller than 1 GiB)', () => {
  root(function* ({ m, bi }) {
    const i = bi.untypedList.findIndex((u) => u.isDevice && u.sizeBits >= 32);
    assert.ok(i >= 0, 'a device untyped of at least 4 GiB');
    const ut = bi.untyped.start + i;
    const base = bi.untypedList[i]!.paddr;
    const first = bi.empty.start;
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_RISCV_Giga_Page, 0, CNODE, 0, 0, first, 3), E.seL4_NoError);
    for (let j = 0; j < 3; j++) {
      assert.equal(yield* frameAddress(first + j), base + j * 2 ** 30);
      assert.equal(capAt(m, first + j).sizeBits, 30);
      assert.equal(capAt(m, first + j).isDevice, true);
    }
    assert.equal(capAt(m, ut).freeIndex, 3 * 2 ** 30);
  });
});

test('the watermark aligns each object to its own size; objects of different sizes never overlap', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 16);
    const base = capAt(m, ut).paddr;
    const ep = yield* retype(vka, ut, s.seL4_EndpointObject, 0);
    assert.equal(capAt(m, ep).paddr, base);
    assert.equal(capAt(m, ut).freeIndex, 16);
    const fr = yield* retype(vka, ut, s.seL4_RISCV_4K_Page, 0);
    assert.equal(yield* frameAddress(fr), base + 4096, 'aligned up from 16 to 4096');
    assert.equal(capAt(m, ut).freeIndex, 8192);
    const tcb = yield* retype(vka, ut, s.seL4_TCBObject, 0);
    assert.equal(capAt(m, tcb).paddr, base + 8192);
    const nt = yield* retype(vka, ut, s.seL4_NotificationObject, 0, 2);
    assert.equal(capAt(m, nt).paddr, base + 8192 + 1024);
    assert.equal(capAt(m, nt + 1).paddr, base + 8192 + 1024 + 64);
    const cn = yield* retype(vka, ut, s.seL4_CapTableObject, 6);
    assert.equal(capAt(m, cn).paddr, base + 8192 + 2048, 'a 2^11 CNode aligned up');
    const fr2 = yield* retype(vka, ut, s.seL4_RISCV_4K_Page, 0);
    assert.equal(yield* frameAddress(fr2), base + 3 * 4096);
    assert.equal(capAt(m, ut).freeIndex, 4 * 4096);
  });
});

test('RETYPE0000 destination window: RangeError when the window overruns the CNode, DeleteFirst over existing caps', () => {
  root(function* ({ m, vka }) {
    const cn = yield* vka.allocObject(s.seL4_CapTableObject, 2);
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 10 + 4);
    const rt = (offset: number, n: number) => invoke(ut, L.UntypedRetype, [s.seL4_TCBObject, 0, cn, W, offset, n], [CNODE]);
    expectError(yield* rt(3, 2), E.seL4_RangeError, [1, 1], 'two objects at the last slot');
    for (let i = 0; i < 4; i++) assert.equal((yield* rt(i, 1)).err, E.seL4_NoError);
    expectError(yield* rt(4, 2), E.seL4_RangeError, [0, 3], 'offset beyond the CNode');
    for (let i = 0; i < 4; i++) expectError(yield* rt(i, 1), E.seL4_DeleteFirst, [], `slot ${i} occupied`);
    for (let i = 0; i < 4; i++) assert.equal(yield* s.seL4_CNode_Delete(cn, i, 2), E.seL4_NoError);
    expectError(yield* rt(0, 2 ** 31), E.seL4_RangeError, [1, 256], 'more than the fan-out limit');
    expectError(yield* rt(0, 5), E.seL4_RangeError, [1, 4], 'more objects than slots');
    expectError(yield* rt(0, 0), E.seL4_RangeError, [1, 256], 'zero objects');
    assert.equal((yield* rt(0, 3)).err, E.seL4_NoError);
    for (let i = 0; i < 4; i++) {
      const r = yield* rt(i, 1);
      assert.equal(r.err, i === 3 ? E.seL4_NoError : E.seL4_DeleteFirst, `slot ${i}`);
    }
    // A window with an occupied slot in the middle creates nothing.
    for (let i = 0; i < 4; i++) assert.equal(yield* s.seL4_CNode_Delete(cn, i, 2), E.seL4_NoError);
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_EndpointObject, 0, cn, 0, 0, 2, 1), E.seL4_NoError);
    const mid = capAt(m, ut).freeIndex;
    expectError(yield* rt(0, 4), E.seL4_DeleteFirst, [], 'slot 2 of the window occupied');
    const node = capAt(m, cn).obj as CNode;
    assert.ok(node.slots[0]!.cap.isNull && node.slots[1]!.cap.isNull && node.slots[3]!.cap.isNull, 'nothing created');
    assert.equal(capAt(m, ut).freeIndex, mid, 'the watermark did not move');
  });
});

test('RETYPE0001 incremental retype: an object bigger than the untyped fails, an exact fit succeeds', () => {
  root(function* ({ m, vka }) {
    const bits = 13;
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, bits);
    for (let i = 40; i > 0; i--) {
      const r = yield* invoke(ut, L.UntypedRetype, [s.seL4_CapTableObject, bits - 5 + i, CNODE, W, vka.allocSlot(), 1], [CNODE]);
      if (bits + i > 38) expectError(r, E.seL4_RangeError, [0, 38], `CNode of 2^${bits + i} bytes`);
      else expectError(r, E.seL4_NotEnoughMemory, [2 ** bits], `CNode of 2^${bits + i} bytes`);
    }
    const d = vka.allocSlot();
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_CapTableObject, bits - 5, CNODE, 0, 0, d, 1), E.seL4_NoError);
    assert.equal(capAt(m, d).paddr, capAt(m, ut).paddr);
    assert.equal(capAt(m, ut).freeIndex, 2 ** bits, 'the untyped is full');
  });
});

test('RETYPE0002 sixteen 4K pages fill a 2^16 untyped; then NotEnoughMemory with MR0 = 0 bytes left', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 16);
    const base = capAt(m, ut).paddr;
    const slots: number[] = [];
    for (let i = 0; i < 16; i++) {
      slots.push(yield* retype(vka, ut, s.seL4_RISCV_4K_Page, 0));
      assert.equal(yield* frameAddress(slots[i]!), base + i * 4096);
    }
    const next = vka.allocSlot();
    expectError(yield* invoke(ut, L.UntypedRetype, [s.seL4_RISCV_4K_Page, 0, CNODE, W, next, 1024 * 1024], [CNODE]), E.seL4_RangeError, [1, 256], 'an obscene count');
    expectError(yield* invoke(ut, L.UntypedRetype, [s.seL4_RISCV_4K_Page, 0, CNODE, W, slots[0]!, 8], [CNODE]), E.seL4_DeleteFirst, [], 'occupied slot');
    expectError(yield* invoke(ut, L.UntypedRetype, [s.seL4_RISCV_4K_Page, 0, CNODE, W, next, 1], [CNODE]), E.seL4_NotEnoughMemory, [0], 'full');
    expectError(yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, CNODE, W, next, 1], [CNODE]), E.seL4_NotEnoughMemory, [0], 'full, smallest object');
  });
});

test('NotEnoughMemory reports the bytes left before alignment; anything that fits also fits aligned up', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 12);
    const base = capAt(m, ut).paddr;
    yield* retype(vka, ut, s.seL4_EndpointObject, 0);
    const window = vka.allocSlot();
    for (let i = 0; i < 300; i++) vka.allocSlot();
    const rt = (type: number, n: number) => invoke(ut, L.UntypedRetype, [type, 0, CNODE, W, window, n], [CNODE]);
    expectError(yield* rt(s.seL4_TCBObject, 4), E.seL4_NotEnoughMemory, [4096 - 16], 'four TCBs after one endpoint');
    expectError(yield* rt(s.seL4_EndpointObject, 256), E.seL4_NotEnoughMemory, [4096 - 16], '256 endpoints after one');
    expectError(yield* rt(s.seL4_RISCV_4K_Page, 1), E.seL4_NotEnoughMemory, [4096 - 16], 'a page in a started 4K untyped');
    // 4080 bytes hold three 1K TCBs once aligned to 1K.
    assert.equal((yield* rt(s.seL4_TCBObject, 3)).err, E.seL4_NoError);
    for (let i = 0; i < 3; i++) assert.equal(capAt(m, window + i).paddr, base + 1024 * (i + 1));
    assert.equal(capAt(m, ut).freeIndex, 4096);
    // An object larger than the whole untyped.
    const small = yield* vka.allocObject(s.seL4_UntypedObject, 9);
    expectError(yield* invoke(small, L.UntypedRetype, [s.seL4_TCBObject, 0, CNODE, W, window + 10, 1], [CNODE]), E.seL4_NotEnoughMemory, [512], 'a TCB in 512 bytes');
  });
});

test('fan-out limit: 256 objects in one Retype succeed, 257 is RangeError [1, 256]', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 14);
    const first = vka.allocSlot();
    for (let i = 1; i < 257; i++) vka.allocSlot();
    expectError(
      yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, CNODE, W, first, 257], [CNODE]),
      E.seL4_RangeError,
      [1, 256],
      '257 objects',
    );
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_EndpointObject, 0, CNODE, 0, 0, first, 256), E.seL4_NoError);
    const base = capAt(m, ut).paddr;
    for (let i = 0; i < 256; i++) assert.equal(capAt(m, first + i).paddr, base + 16 * i);
    assert.ok(capAt(m, first + 256).isNull);
  });
});

test('InvalidArgument: bad type (arg 0), too-small CNode / untyped / scheduling context (arg 1), kernel objects from device memory (arg 1)', () => {
  root(function* ({ m, bi, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 16);
    const d = vka.allocSlot();
    const rt = (service: number, type: s.Word, size: s.Word) => invoke(service, L.UntypedRetype, [type, size, CNODE, W, d, 1], [CNODE]);
    for (const type of [11, 12, 0xffffffff, 2n ** 64n - 1n]) expectError(yield* rt(ut, type, 0), E.seL4_InvalidArgument, [0], `type ${type}`);
    expectError(yield* rt(ut, s.seL4_CapTableObject, 0), E.seL4_InvalidArgument, [1], 'CNode of radix 0');
    for (const size of [0, 3]) expectError(yield* rt(ut, s.seL4_UntypedObject, size), E.seL4_InvalidArgument, [1], `untyped of ${size} bits`);
    expectError(yield* rt(ut, s.seL4_SchedContextObject, 6), E.seL4_InvalidArgument, [1], 'scheduling context of 6 bits');
    assert.equal(capAt(m, ut).freeIndex, 0, 'no failed retype moved the watermark');

    // Device untyped: frames and untypeds only.
    const di = bi.untypedList.findIndex((u) => u.isDevice && u.paddr <= 0x10000000 && 0x10000000 < u.paddr + 2 ** u.sizeBits);
    const dev = bi.untyped.start + di;
    for (const type of [s.seL4_TCBObject, s.seL4_EndpointObject, s.seL4_NotificationObject, s.seL4_CapTableObject, s.seL4_SchedContextObject, s.seL4_ReplyObject, s.seL4_RISCV_PageTableObject]) {
      const size = type === s.seL4_CapTableObject ? 4 : type === s.seL4_SchedContextObject ? 8 : 0;
      expectError(yield* rt(dev, type, size), E.seL4_InvalidArgument, [1], `type ${type} from device memory`);
    }
    assert.equal((yield* rt(dev, s.seL4_RISCV_4K_Page, 0)).err, E.seL4_NoError);
    assert.equal(capAt(m, d).isDevice, true);
    assert.equal(yield* frameAddress(d), bi.untypedList[di]!.paddr);
    const sub = vka.allocSlot();
    assert.equal(yield* s.seL4_Untyped_Retype(dev, s.seL4_UntypedObject, 12, CNODE, 0, 0, sub, 1), E.seL4_NoError);
    assert.equal(capAt(m, sub).isDevice, true, 'a child of a device untyped is a device untyped');
    const r = yield* invoke(sub, L.UntypedRetype, [s.seL4_EndpointObject, 0, CNODE, W, vka.allocSlot(), 1], [CNODE]);
    expectError(r, E.seL4_InvalidArgument, [1], 'endpoint from the device child');
    // NotEnoughMemory is checked before the device rule.
    const tiny = vka.allocSlot();
    assert.equal(yield* s.seL4_Untyped_Retype(dev, s.seL4_UntypedObject, 4, CNODE, 0, 0, tiny, 1), E.seL4_NoError);
    expectError(yield* invoke(tiny, L.UntypedRetype, [s.seL4_TCBObject, 0, CNODE, W, vka.allocSlot(), 1], [CNODE]), E.seL4_NotEnoughMemory, [16], 'too big before device');
  });
});

test('RangeError [0, 38] for a user size >= 64 or an object larger than 2^38', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 12);
    const d = vka.allocSlot();
    const rt = (type: number, size: s.Word) => invoke(ut, L.UntypedRetype, [type, size, CNODE, W, d, 1], [CNODE]);
    for (const [type, size] of [
      [s.seL4_UntypedObject, 39],
      [s.seL4_UntypedObject, 64],
      [s.seL4_UntypedObject, 2n ** 64n - 1n],
      [s.seL4_CapTableObject, 34],
      [s.seL4_CapTableObject, 64],
      [s.seL4_SchedContextObject, 39],
      [s.seL4_TCBObject, 64],
      [s.seL4_EndpointObject, 2n ** 63n],
    ] as const) {
      expectError(yield* rt(type, size), E.seL4_RangeError, [0, 38], `type ${type} size ${size}`);
    }
    // The user size is ignored by fixed-size objects below 64, and 2^38 itself is allowed.
    expectError(yield* rt(s.seL4_UntypedObject, 38), E.seL4_NotEnoughMemory, [4096], 'a 2^38 untyped passes the size check');
    expectError(yield* rt(s.seL4_CapTableObject, 33), E.seL4_NotEnoughMemory, [4096], 'a 2^38 CNode passes the size check');
    assert.equal((yield* rt(s.seL4_EndpointObject, 63)).err, E.seL4_NoError);
    assert.equal(capAt(m, d).sizeBits, 4);
  });
});

test('reset: with every child gone the next Retype starts from the base again and the memory is zeroed', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 16);
    const base = capAt(m, ut).paddr;
    const f1 = yield* retype(vka, ut, s.seL4_RISCV_4K_Page, 0);
    const v1 = yield* vka.mapFrame(f1);
    yield* s.sel4ts_Store(v1 + 8, 0x1122334455667788n);
    const f2 = yield* retype(vka, ut, s.seL4_RISCV_4K_Page, 0);
    assert.equal(yield* frameAddress(f2), base + 4096);
    // Deleting one child does not give its memory back: the untyped still has children.
    assert.equal(yield* s.seL4_CNode_Delete(CNODE, f1, W), E.seL4_NoError);
    const f3 = yield* retype(vka, ut, s.seL4_RISCV_4K_Page, 0);
    assert.equal(yield* frameAddress(f3), base + 8192, 'no reuse while children remain');
    assert.equal(m.mem.read64(base + 8), 0x1122334455667788n, 'the deleted frame\'s bytes are untouched until the reset');
    // Revoke deletes all children: the next retype resets the untyped.
    assert.equal(yield* s.seL4_CNode_Revoke(CNODE, ut, W), E.seL4_NoError);
    assert.equal(capAt(m, ut).freeIndex, 3 * 4096, 'the watermark stays until the next retype');
    const f4 = yield* retype(vka, ut, s.seL4_RISCV_4K_Page, 0);
    assert.equal(yield* frameAddress(f4), base, 'back at the base');
    assert.equal(capAt(m, ut).freeIndex, 4096);
    const v4 = yield* vka.mapFrame(f4);
    assert.equal(yield* s.sel4ts_Load(v4 + 8), 0n, 'the reused frame reads zero');
    assert.equal(m.mem.read64(base + 8), 0n);
    for (let off = 0; off < 3 * 4096; off += 8) if (m.mem.read64(base + off) !== 0n) assert.fail(`dirty word at +${off}`);
  });
});

test('boot untypeds start full: the first Retype resets them and allocates at their base', () => {
  root(function* ({ m, bi }) {
    const i = bi.untypedList.findIndex((u) => !u.isDevice && u.sizeBits >= 12);
    const ut = bi.untyped.start + i;
    const u = bi.untypedList[i]!;
    assert.equal(capAt(m, ut).freeIndex, 2 ** u.sizeBits, 'marked fully used at boot');
    m.mem.write64(u.paddr, 0xdeadn);
    const d = bi.empty.start;
    assert.equal(yield* s.seL4_Untyped_Retype(ut, s.seL4_EndpointObject, 0, CNODE, 0, 0, d, 1), E.seL4_NoError);
    assert.equal(capAt(m, d).paddr, u.paddr);
    assert.equal(capAt(m, ut).freeIndex, 16);
    assert.equal(m.mem.read64(u.paddr), 0n, 'the reset zeroed the used memory');
  });
});

test('frames and page tables are zeroed on retype even when their memory was used before', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 14);
    const base = capAt(m, ut).paddr;
    const f = yield* retype(vka, ut, s.seL4_RISCV_4K_Page, 0, 4);
    for (let j = 0; j < 4; j++) {
      const v = yield* vka.mapFrame(f + j);
      for (let off = 0; off < 4096; off += 512) yield* s.sel4ts_Store(v + off, 0xa5a5a5a5a5a5a5a5n);
    }
    assert.equal(yield* s.seL4_CNode_Revoke(CNODE, ut, W), E.seL4_NoError);
    const pt = yield* retype(vka, ut, s.seL4_RISCV_PageTableObject, 0);
    assert.equal(capAt(m, pt).paddr, base);
    const f2 = yield* retype(vka, ut, s.seL4_RISCV_4K_Page, 0);
    assert.equal(yield* frameAddress(f2), base + 4096);
    for (let off = 0; off < 2 * 4096; off += 8) if (m.mem.read64(base + off) !== 0n) assert.fail(`dirty word at +${off}`);
    const v = yield* vka.mapFrame(f2);
    assert.equal(yield* s.sel4ts_Load(v + 512), 0n);
  });
});

test('untyped from untyped: the child lies inside its parent at the watermark; revoking the parent removes the grandchildren', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 16);
    const base = capAt(m, ut).paddr;
    const ep = yield* retype(vka, ut, s.seL4_EndpointObject, 0);
    const child = yield* retype(vka, ut, s.seL4_UntypedObject, 12, 2);
    assert.equal(capAt(m, child).paddr, base + 4096, 'aligned to the child size');
    assert.equal(capAt(m, child + 1).paddr, base + 8192);
    assert.equal(capAt(m, ut).freeIndex, 3 * 4096);
    const gc = yield* retype(vka, child + 1, s.seL4_TCBObject, 0, 4);
    for (let j = 0; j < 4; j++) assert.equal(capAt(m, gc + j).paddr, base + 8192 + 1024 * j);
    expectError(
      yield* invoke(child + 1, L.UntypedRetype, [s.seL4_EndpointObject, 0, CNODE, W, vka.allocSlot(), 1], [CNODE]),
      E.seL4_NotEnoughMemory,
      [0],
      'the child is full',
    );
    // The parent keeps allocating above its children.
    const after = yield* retype(vka, ut, s.seL4_EndpointObject, 0);
    assert.equal(capAt(m, after).paddr, base + 3 * 4096);
    const tcbs = [0, 1, 2, 3].map((j) => capAt(m, gc + j).obj!);
    assert.equal(yield* s.seL4_CNode_Revoke(CNODE, ut, W), E.seL4_NoError);
    for (const x of [ep, child, child + 1, gc, gc + 1, gc + 2, gc + 3, after]) assert.ok(capAt(m, x).isNull, `slot ${x} emptied`);
    for (const t of tcbs) assert.equal(t.live, false);
    const next = rootSlot(m, ut).mdbNext;
    assert.ok(next === null || !isMDBParentOf(rootSlot(m, ut), next), 'no descendants left');
  });
});

test('copying an untyped marks the source full (setUntypedCapAsFull): only the newest cap allocates', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 12);
    const base = capAt(m, ut).paddr;
    const cp = vka.allocSlot();
    assert.equal(yield* s.seL4_CNode_Copy(CNODE, cp, W, CNODE, ut, W, s.seL4_AllRights), E.seL4_NoError);
    assert.equal(capAt(m, ut).freeIndex, 4096, 'the source is marked full');
    assert.equal(capAt(m, cp).freeIndex, 0, 'the copy keeps the free index');
    assert.notEqual(capAt(m, cp), capAt(m, ut), 'each slot has its own cap record');
    // The source has a child (the copy), so it is not reset, and it is full.
    expectError(
      yield* invoke(ut, L.UntypedRetype, [s.seL4_EndpointObject, 0, CNODE, W, vka.allocSlot(), 1], [CNODE]),
      E.seL4_NotEnoughMemory,
      [0],
      'retype through the source',
    );
    const e = yield* retype(vka, cp, s.seL4_EndpointObject, 0);
    assert.equal(capAt(m, e).paddr, base);
    assert.equal(capAt(m, cp).freeIndex, 16);
    assert.equal(capAt(m, ut).freeIndex, 4096, 'retyping the copy leaves the source alone');
    expectError(yield* invoke(CNODE, L.CNodeCopy, [vka.allocSlot(), W, cp, W, s.seL4_AllRights], [CNODE]), E.seL4_RevokeFirst, [], 'copy of the copy with children');
    // Revoking the source removes the copy and its objects; the source then resets.
    assert.equal(yield* s.seL4_CNode_Revoke(CNODE, ut, W), E.seL4_NoError);
    assert.ok(capAt(m, cp).isNull && capAt(m, e).isNull);
    const e2 = yield* retype(vka, ut, s.seL4_EndpointObject, 0);
    assert.equal(capAt(m, e2).paddr, base);
  });
});

test('Retype errors: IllegalOperation for other labels, TruncatedMessage for < 6 words or no root cap', () => {
  root(function* ({ m, vka }) {
    const ut = yield* vka.allocObject(s.seL4_UntypedObject, 12);
    const d = vka.allocSlot();
    const args = [s.seL4_EndpointObject, 0, CNODE, W, d, 1];
    for (const label of [0, 2, L.CNodeCopy, L.RISCVPageMap, 99]) expectError(yield* invoke(ut, label, args, [CNODE]), E.seL4_IllegalOperation, [], `label ${label}`);
    for (let n = 0; n < 6; n++) expectError(yield* invoke(ut, L.UntypedRetype, args.slice(0, n), [CNODE]), E.seL4_TruncatedMessage, [], `${n} words`);
    expectError(yield* invoke(ut, L.UntypedRetype, args, []), E.seL4_TruncatedMessage, [], 'no root cap');
    assert.ok(capAt(m, d).isNull);
    assert.equal(capAt(m, ut).freeIndex, 0);
  });
});
