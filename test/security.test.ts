/**
 * Security properties seL4 proves, checked on the running kernel:
 * - authority confinement: a thread acting alone never obtains a cap to an
 *   object it held no cap to, nor to memory overlapping one, whatever random
 *   system calls and invocations it makes;
 * - integrity: under those operations, objects and memory outside its
 *   authority do not change; a read-only mapping faults on a store (a VMFault
 *   with FSR seL4_StoreAccessFault) and leaves the frame as it was;
 * - no IPC between threads that share no endpoint or notification, however
 *   both of them behave.
 * Random operations come from the fuzzer's generator (src/fuzz/ops.ts), the
 * invariant checker runs after every kernel entry.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvocationLabel } from '../src/abi/constants.js';
import { msgInfoHi, msgInfoLo } from '../src/abi/messageinfo.js';
import { Cap, CapType, capIsPhysical, capRegionBits } from '../src/kernel/cap.js';
import { checkInvariants } from '../src/kernel/invariants/index.js';
import type { Kernel } from '../src/kernel/kernel.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import type { KernelObject } from '../src/kernel/object/kobject.js';
import { REG_A0, REG_A1, TCB, TCB_CTABLE, ThreadState } from '../src/kernel/object/tcb.js';
import { IPCBUF_CAPS_OR_BADGES } from '../src/kernel/kernel.js';
import { ObjectType } from '../src/kernel/objecttype.js';
import { Syscall } from '../src/kernel/syscall.js';
import { KernelDriver } from '../src/fuzz/driver.js';
import { applyOp, genOp, OpKind } from '../src/fuzz/ops.js';
import { Rng } from '../src/fuzz/rng.js';
import { runRoot } from './support/harness.js';
import * as s from '../src/user/index.js';

const RADIX = 6;
const GUARD = 64 - RADIX;

/** Root-task helpers over the driver: retype into and move between CNodes. */
class Root {
  next: number;
  readonly ut: number;
  readonly cnode: CNode;
  constructor(readonly d: KernelDriver) {
    const bi = d.m.booted.bootInfo;
    this.next = bi.empty.start;
    let ut = -1;
    bi.untypedList.forEach((u, i) => {
      if (ut < 0 && !u.isDevice && u.sizeBits >= 22) ut = bi.untyped.start + i;
    });
    this.ut = ut;
    this.cnode = d.root.slots[TCB_CTABLE]!.cap.obj as CNode;
  }
  inv(cptr: number, label: number, args: number[], caps: number[] = []): void {
    const e = this.d.invoke(this.d.root, cptr, label, args, caps);
    assert.equal(e, 0, `setup: ${InvocationLabel[label]} on ${cptr}`);
  }
  retype(type: ObjectType, size = 0): number {
    const slot = this.next++;
    this.inv(this.ut, InvocationLabel.UntypedRetype, [type, size, 0, 0, slot, 1], [2]);
    return slot;
  }
  obj(cptr: number): KernelObject {
    return this.cnode.slots[cptr]!.cap.obj!;
  }
  cap(cptr: number): Cap {
    return this.cnode.slots[cptr]!.cap;
  }
  /** Move (keep = false) or copy a root cap into slot `index` of the thread CNode at cn. */
  give(cn: number, index: number, src: number, keep = false): void {
    if (keep) this.inv(cn, InvocationLabel.CNodeCopy, [index, RADIX, src, 64, 15], [2]);
    else this.inv(cn, InvocationLabel.CNodeMove, [index, RADIX, src, 64], [2]);
  }
  /** A thread with its own CNode (guard 58) holding its TCB, CNode, untyped, an endpoint and a notification. */
  thread(prio: number, extra: (cn: number) => void = () => {}): { tcb: TCB; tcbCptr: number; cn: number } {
    const bi = this.d.m.booted.bootInfo;
    const tcb = this.retype(ObjectType.TCB);
    const cn = this.retype(ObjectType.CapTable, RADIX);
    const sc = this.retype(ObjectType.SchedContext, 8);
    const frame = this.retype(ObjectType.RISCV_4K_Page);
    const ut = this.retype(ObjectType.Untyped, 16);
    const ep = this.retype(ObjectType.Endpoint);
    const ntfn = this.retype(ObjectType.Notification);
    const reply = this.retype(ObjectType.Reply);
    this.inv(tcb, InvocationLabel.TCBConfigure, [GUARD, 0, 0x600000 + 4096 * (frame & 0xff)], [cn, 3, frame]);
    this.inv(bi.schedcontrol.start, InvocationLabel.SchedControlConfigureFlags, [10_000_000, 10_000_000, 0, 0, 0], [sc]);
    this.inv(tcb, InvocationLabel.TCBSetSchedParams, [100, prio], [1, sc, 0]);
    this.give(cn, 1, tcb, true);
    this.inv(cn, InvocationLabel.CNodeMint, [2, RADIX, cn, 64, 15, GUARD], [2]);
    this.give(cn, 3, sc);
    this.give(cn, 4, ut);
    this.give(cn, 5, ep);
    this.give(cn, 6, ntfn);
    this.give(cn, 7, frame);
    this.give(cn, 10, reply);
    extra(cn);
    return { tcb: this.obj(tcb) as TCB, tcbCptr: tcb, cn };
  }
  resume(tcbCptr: number): void {
    this.inv(tcbCptr, InvocationLabel.TCBResume, []);
  }
  /** The root task drops below the threads' priority: it runs only when none of them can. */
  background(): void {
    this.raw(1, InvocationLabel.TCBSetPriority, [50], [1]);
  }
  /** An invocation by the root task that may let another thread run before it returns. */
  raw(cptr: number, label: number, args: number[], caps: number[]): void {
    const r = this.d.root;
    const k = this.d.k;
    assert.equal(k.curThread, r);
    const buf = k.lookupIPCBuffer(true, r);
    caps.forEach((c, i) => k.writeWord(buf + IPCBUF_CAPS_OR_BADGES + 8 * i, 0, c));
    args.forEach((a, i) => r.setReg(REG_A0 + 2 + i, 0, a));
    r.setReg(REG_A0, 0, cptr);
    r.setReg(REG_A1, msgInfoHi(label), msgInfoLo(label, 0, caps.length, args.length));
    this.d.syscall(Syscall.Call);
  }
  /**
   * The root task's next step as a watchdog: TCB_Resume of the next thread
   * (which cancels whatever it was blocked in, or restarts it after a fault).
   * Resuming grants no authority.
   */
  nudge(tcbCptrs: number[]): void {
    this.raw(tcbCptrs[this.turn++ % tcbCptrs.length]!, InvocationLabel.TCBResume, [], []);
  }
  private turn = 0;
}

/** Every cap a thread holds: its TCB slots and everything reachable through CNode caps from them. */
function authority(t: TCB): Cap[] {
  const out: Cap[] = [];
  const seen = new Set<KernelObject>();
  const visit = (c: Cap): void => {
    out.push(c);
    if (c.type === CapType.CNode && c.obj !== null && !seen.has(c.obj)) {
      seen.add(c.obj);
      for (const sl of (c.obj as CNode).slots) if (!sl.isEmpty) visit(sl.cap);
    }
  };
  for (const sl of t.slots) if (!sl.isEmpty) visit(sl.cap);
  return out;
}

interface Region {
  base: number;
  end: number;
}
function regionOf(c: Cap): Region {
  return { base: c.paddr, end: c.paddr + 2 ** capRegionBits(c) };
}

/** Why t's authority reaches a forbidden object or region, or null. */
function confinementBreach(t: TCB, objs: Set<KernelObject>, regions: Region[]): string | null {
  for (const c of authority(t)) {
    if (c.obj !== null && objs.has(c.obj)) return `${t.name} holds ${c.toString()}`;
    if (capIsPhysical(c)) {
      const r = regionOf(c);
      for (const x of regions) if (r.base < x.end && x.base < r.end) return `${t.name} holds ${c.toString()}, overlapping 0x${x.base.toString(16)}`;
    }
  }
  return null;
}

/** A fingerprint of state outside a thread's authority: memory, an endpoint, a TCB, a CNode, a notification. */
function fingerprint(k: Kernel, frame: Region, watched: { ep: KernelObject; tcb: TCB; cnode: CNode; ntfn: KernelObject }): string {
  const r = k.mem.regionOf(frame.base, frame.end - frame.base)!;
  let h = 0;
  for (let i = frame.base - r.base; i < frame.end - r.base; i++) h = (Math.imul(h, 31) + r.u8[i]!) | 0;
  const ep = watched.ep as unknown as { state: number; queueHead: TCB | null };
  const n = watched.ntfn as unknown as { state: number; word: bigint };
  const t = watched.tcb;
  return [
    h,
    `ep ${ep.state} ${ep.queueHead?.name ?? '-'}`,
    `tcb ${t.state} ${Array.from(t.regs).join(',')} ${t.priority} ${t.sc?.paddr ?? '-'}`,
    `cnode ${watched.cnode.slots.map((sl) => sl.cap.toString()).join(';')}`,
    `ntfn ${n.state} ${n.word}`,
  ].join('|');
}

describe('security properties', () => {
  it('confinement and integrity: a thread acting alone never gains authority to, nor changes, what it holds no cap to', () => {
    let ops = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const d = new KernelDriver({ check: checkInvariants });
      const root = new Root(d);
      // The others: B (blocked on an endpoint X only it can use), frame G, notification NX.
      const x = root.retype(ObjectType.Endpoint);
      const nx = root.retype(ObjectType.Notification);
      const g = root.retype(ObjectType.RISCV_4K_Page);
      const b = root.thread(110, (cn) => root.give(cn, 8, x, true));
      const a = root.thread(100);
      root.resume(b.tcbCptr);
      const gRegion = regionOf(root.cap(g));
      {
        const mr = d.k.mem.regionOf(gRegion.base, 4096)!;
        for (let i = 0; i < 4096; i++) mr.u8[gRegion.base - mr.base + i] = (i * 7 + seed) & 0xff;
      }
      root.background();
      const k = d.k;
      assert.ok(d.settle());
      // B runs first (higher priority) and waits on X for ever: nobody else holds X.
      assert.equal(k.curThread, b.tcb);
      b.tcb.setReg(REG_A0, 0, 8);
      d.syscall(Syscall.Wait);
      assert.ok(d.settle());
      root.raw(a.tcbCptr, InvocationLabel.TCBResume, [], []);
      assert.equal(b.tcb.state, ThreadState.BlockedOnReceive);
      const forbidden = new Set<KernelObject>([root.obj(x), root.obj(nx), b.tcb, root.obj(b.cn), root.cnode, d.root]);
      const regions = [root.obj(x), root.obj(nx), b.tcb, root.obj(b.cn)].map((o) => ({ base: o.paddr, end: o.paddr + 2 ** o.sizeBits }));
      regions.push(gRegion);
      const watched = { ep: root.obj(x), tcb: b.tcb, cnode: root.obj(b.cn) as CNode, ntfn: root.obj(nx) };
      const before = fingerprint(k, gRegion, watched);
      assert.equal(confinementBreach(a.tcb, forbidden, regions), null);
      const rng = new Rng(seed * 7919);
      for (let i = 0, idle = 0; i < 400 && d.settle() && idle < 20; i++) {
        if (k.curThread !== a.tcb) {
          assert.equal(k.curThread, d.root, 'only A and the root task ever run');
          root.nudge([a.tcbCptr]);
          idle++;
          continue;
        }
        idle = 0;
        const op = genOp(rng, d);
        if (op.kind === OpKind.Sys && op.n === -17) continue; // DebugNameThread: names are not authority
        applyOp(d, op);
        ops++;
        const breach = confinementBreach(a.tcb, forbidden, regions);
        assert.equal(breach, null, `seed ${seed}, op ${i}`);
        assert.equal(fingerprint(k, gRegion, watched), before, `seed ${seed}, op ${i}: state outside A's authority changed`);
      }
    }
    assert.ok(ops > 500, `only ${ops} operations ran`);
  });

  it('integrity of memory: a store through a read-only mapping faults with FSR 7 and changes nothing; loads see the data', () => {
    const ro = 0x5f0000;
    const rw = 0x5f1000;
    let frame = 0;
    let faultEP = 0;
    const faults: number[][] = [];
    let loaded = 0n;
    runRoot(function* ({ m, vka }) {
      faultEP = yield* vka.allocObject(s.seL4_EndpointObject);
      frame = yield* vka.allocObject(s.seL4_RISCV_4K_Page);
      const copy = vka.allocSlot();
      assert.equal(yield* s.seL4_CNode_Copy(2, copy, 64, 2, frame, 64, s.seL4_AllRights), 0);
      // A writable view for the root to fill in, then only a read-only one.
      const pt = yield* vka.allocObject(s.seL4_RISCV_PageTableObject);
      let err = yield* s.seL4_RISCV_Page_Map(copy, 3, rw, s.seL4_ReadWrite, 0);
      if (err === 6) {
        assert.equal(yield* s.seL4_RISCV_PageTable_Map(pt, 3, rw, 0), 0);
        err = yield* s.seL4_RISCV_Page_Map(copy, 3, rw, s.seL4_ReadWrite, 0);
      }
      assert.equal(err, 0);
      for (let i = 0; i < 16; i++) yield* s.sel4ts_Store(rw + 8 * i, 0x1111111111111111n * BigInt(i + 1));
      assert.equal(yield* s.seL4_RISCV_Page_Unmap(copy), 0);
      assert.equal(yield* s.seL4_RISCV_Page_Map(frame, 3, ro, 2 /* read */, 0), 0);
      const writer = m.registerProgram(function* writer() {
        loaded = yield* s.sel4ts_Load(ro + 8, 8);
        yield* s.sel4ts_Store(ro + 8, 0xdeadbeefn);
        yield* s.sel4ts_Store(rw, 0xdeadbeefn);
      });
      const handler = m.registerProgram(function* handler() {
        for (let n = 0; n < 1; n++) {
          const info = yield* s.seL4_Recv(faultEP, null, reply);
          faults.push([s.seL4_MessageInfo_get_label(info), s.seL4_GetMR(0), s.seL4_GetMR(1), s.seL4_GetMR(2), s.seL4_GetMR(3)]);
        }
      });
      const reply = yield* vka.allocObject(s.seL4_ReplyObject);
      yield* vka.createThread({ entry: handler, priority: 200 });
      yield* vka.createThread({ entry: writer, priority: 150, faultEP });
    });
    assert.equal(loaded, 0x2222222222222222n, 'the read-only mapping reads the frame');
    assert.equal(faults.length, 1);
    const [label, , addr, prefetch, fsr] = faults[0]!;
    assert.equal(label, 6, 'seL4_Fault_VMFault');
    assert.equal(addr, ro + 8);
    assert.equal(prefetch, 0);
    assert.equal(fsr, 7, 'RISCVStoreAccessFault: seL4 reports page faults as access faults');
    assert.ok(frame > 0);
  });

  it('the frame behind a faulted store is unchanged, and so is one the thread has no mapping of', () => {
    const ro = 0x5f0000;
    let check: () => void = () => {};
    const { m } = runRoot(function* ({ m, vka }) {
      const faultEP = yield* vka.allocObject(s.seL4_EndpointObject);
      const [frame, va] = yield* vka.allocMappedFrame();
      const hidden = yield* vka.allocObject(s.seL4_RISCV_4K_Page);
      for (let i = 0; i < 8; i++) yield* s.sel4ts_Store(va + 8 * i, BigInt(i + 100));
      const [, paddr] = yield* s.seL4_RISCV_Page_GetAddress(frame);
      const [, hiddenPaddr] = yield* s.seL4_RISCV_Page_GetAddress(hidden);
      assert.equal(yield* s.seL4_RISCV_Page_Unmap(frame), 0);
      assert.equal(yield* s.seL4_RISCV_Page_Map(frame, 3, ro, 2, 0), 0);
      const before = snap(m, paddr);
      const hiddenBefore = snap(m, hiddenPaddr);
      const writer = m.registerProgram(function* writer() {
        for (let i = 0; i < 8; i++) yield* s.sel4ts_Store(ro + 8 * i, 0xffn);
      });
      yield* vka.createThread({ entry: writer, priority: 150, faultEP });
      check = () => {
        assert.deepEqual(snap(m, paddr), before);
        assert.deepEqual(snap(m, hiddenPaddr), hiddenBefore);
      };
    });
    check();
    const stuck = [...m.kernel.tcbs].filter((t) => t.state === ThreadState.BlockedOnSend);
    assert.equal(stuck.length, 1, 'the writer waits on its fault endpoint');
  });

  it('no IPC between threads that share no endpoint or notification, whatever all of them do', () => {
    let inside = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const d = new KernelDriver({ check: checkInvariants });
      const root = new Root(d);
      // Two groups of two threads; each pair shares an endpoint and a notification.
      const pair = (): { cn: number; tcb: TCB; tcbCptr: number }[] => {
        const p = root.thread(100);
        const q = root.thread(100, (cn) => {
          root.inv(cn, InvocationLabel.CNodeCopy, [8, RADIX, 5, RADIX, 15], [p.cn]);
          root.inv(cn, InvocationLabel.CNodeCopy, [9, RADIX, 6, RADIX, 15], [p.cn]);
        });
        return [p, q];
      };
      const groupA = pair();
      const groupB = pair();
      const objectsOf = (g: { cn: number }[]): Set<KernelObject> => {
        const out = new Set<KernelObject>();
        for (const t of g) {
          out.add(root.obj(t.cn));
          for (const sl of (root.obj(t.cn) as CNode).slots) if (sl.cap.obj !== null) out.add(sl.cap.obj);
        }
        return out;
      };
      const aObjs = objectsOf(groupA);
      const bObjs = objectsOf(groupB);
      for (const t of [...groupA, ...groupB]) root.resume(t.tcbCptr);
      root.background();
      const k = d.k;
      const group = new Map<string, string>();
      for (const t of groupA) group.set(t.tcb.name, 'A');
      for (const t of groupB) group.set(t.tcb.name, 'B');
      k.observer = {
        onEvent(kind, detail) {
          if (kind !== 'ipc') return;
          const from = group.get(detail.from as string);
          const to = group.get(detail.to as string);
          assert.ok(from !== undefined && to !== undefined, `seed ${seed}: IPC with an unknown thread`);
          assert.equal(from, to, `seed ${seed}: IPC from group ${from} to group ${to}`);
          inside++;
        },
      };
      const rng = new Rng(seed * 104729);
      const members = new Set([...groupA, ...groupB].map((t) => t.tcb));
      const tcbCptrs = [...groupA, ...groupB].map((t) => t.tcbCptr);
      for (let i = 0, idle = 0; i < 800 && idle < 20; i++) {
        if (!d.settle()) break;
        if (!members.has(k.curThread)) {
          assert.equal(k.curThread, d.root);
          root.nudge(tcbCptrs);
          idle++;
          continue;
        }
        idle = 0;
        const op = genOp(rng, d);
        if (op.kind === OpKind.Sys && op.n === -17) continue; // DebugNameThread would confuse the bookkeeping
        applyOp(d, op);
        for (const t of groupA) assert.equal(confinementBreach(t.tcb, bObjs, []), null, `seed ${seed}: A reached B's objects`);
        for (const t of groupB) assert.equal(confinementBreach(t.tcb, aObjs, []), null, `seed ${seed}: B reached A's objects`);
      }
      k.observer = null;
    }
    assert.ok(inside > 0, 'threads within a group did communicate (the check is not vacuous)');
  });
});

function snap(m: { mem: Kernel['mem'] }, p: number): number[] {
  const r = m.mem.regionOf(p, 4096)!;
  return Array.from(r.u8.subarray(p - r.base, p - r.base + 4096));
}
