/**
 * The root task's initial state as seL4 13.0.0 (riscv64, MCS) builds it:
 * the fixed capability slots, the root CNode, seL4_BootInfo as written into
 * the boot info frame, and the untyped memory handed over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot, testMachine } from './support/harness.js';
import * as s from '../src/user/index.js';
import {
  BI_EXTRA_LEN,
  BI_INIT_THREAD_DOMAIN,
  BI_IO_SPACE_CAPS,
  BI_IPC_BUFFER,
  BI_NODE_ID,
  BI_NUM_IOPT_LEVELS,
  BI_NUM_NODES,
  BI_SHARED_FRAMES,
  BI_UNTYPED,
  BI_UNTYPED_LIST,
  UNTYPEDDESC_SIZE,
} from '../src/abi/bootinfo.js';
import { readBootInfo, BootInfo } from '../src/kernel/boot.js';
import type { Machine } from '../src/machine/machine.js';
import { REG_A0, TCB_BUFFER, TCB_CTABLE, TCB_VTABLE, ThreadState } from '../src/kernel/object/tcb.js';
import type { CNode } from '../src/kernel/object/cnode.js';
import { Cap, CapType, capRegionBits, sameObjectAs, VMRights } from '../src/kernel/cap.js';
import { isMDBParentOf } from '../src/kernel/mdb.js';
import {
  deviceUntypedRanges,
  kernelAvailableRam,
  kernelDeviceFrames,
  kernelImageRegion,
  MiB,
  VIRT_UART0_BASE,
  VIRT_VIRTIO_BASE,
} from '../src/machine/virt.js';
import type { MemoryRegion } from '../src/machine/memory.js';

function rootCNode(m: Machine): CNode {
  return m.booted.rootTCB.slots[TCB_CTABLE]!.cap.obj as CNode;
}
function capAt(m: Machine, i: number): Cap {
  return rootCNode(m).slots[i]!.cap;
}

/** seL4_RootCNodeCapSlots of 13.0.0 and the cap in each on RISC-V (null where the feature is absent). */
const INITIAL_CAPS: [number, string, CapType, number][] = [
  // [slot, name, cap type, seL4_DebugCapIdentify tag]
  [0, 'seL4_CapNull', CapType.Null, 0],
  [1, 'seL4_CapInitThreadTCB', CapType.Thread, 12],
  [2, 'seL4_CapInitThreadCNode', CapType.CNode, 10],
  [3, 'seL4_CapInitThreadVSpace', CapType.PageTable, 3],
  [4, 'seL4_CapIRQControl', CapType.IRQControl, 14],
  [5, 'seL4_CapASIDControl', CapType.ASIDControl, 11],
  [6, 'seL4_CapInitThreadASIDPool', CapType.ASIDPool, 13],
  [7, 'seL4_CapIOPortControl', CapType.Null, 0],
  [8, 'seL4_CapIOSpace', CapType.Null, 0],
  [9, 'seL4_CapBootInfoFrame', CapType.Frame, 1],
  [10, 'seL4_CapInitThreadIPCBuffer', CapType.Frame, 1],
  [11, 'seL4_CapDomain', CapType.Domain, 20],
  [12, 'seL4_CapSMMUSIDControl', CapType.Null, 0],
  [13, 'seL4_CapSMMUCBControl', CapType.Null, 0],
  [14, 'seL4_CapInitThreadSC', CapType.SchedContext, 22],
  [15, 'seL4_CapSMC', CapType.Null, 0],
];

test('initial CSpace: slots 0..15 hold the seL4 13.0.0 initial caps; 7, 8, 12, 13 and 15 are null on RISC-V', () => {
  let tags: number[] = [];
  let done = false;
  const { m } = runRoot(function* () {
    tags = [];
    for (let i = 0; i < 16; i++) tags.push(yield* s.seL4_DebugCapIdentify(i));
    done = true;
  });
  assert.ok(done);
  for (const [slot, name, type, tag] of INITIAL_CAPS) {
    assert.equal(capAt(m, slot).type, type, `${name} (slot ${slot}) cap type`);
    assert.equal(tags[slot], tag, `${name} (slot ${slot}) seL4_DebugCapIdentify`);
  }
  const t = m.booted.rootTCB;
  assert.equal(capAt(m, 1).obj, t, 'slot 1 names the root TCB');
  assert.equal(capAt(m, 3).isMapped, true, 'the root VSpace is a mapped (installed) page table');
  assert.equal(capAt(m, 9).isMapped, true);
  assert.equal(capAt(m, 9).mappedAddr, m.booted.bootInfo.vaddr, 'the boot info frame is mapped at the address passed in a0');
  assert.equal(capAt(m, 10).mappedAddr, m.booted.bootInfo.ipcBuffer);
  for (const f of [9, 10]) {
    assert.equal(capAt(m, f).sizeBits, 12);
    assert.equal(capAt(m, f).rights, VMRights.ReadWrite);
  }
  assert.equal(capAt(m, 14).sizeBits, 7, 'the root scheduling context has seL4_MinSchedContextBits');
  assert.equal(capAt(m, 14).obj, t.sc);
  // The root TCB's own slots hold copies of the initial caps (MDB children of them).
  assert.ok(sameObjectAs(t.slots[TCB_CTABLE]!.cap, capAt(m, 2)));
  assert.ok(sameObjectAs(t.slots[TCB_VTABLE]!.cap, capAt(m, 3)));
  assert.ok(sameObjectAs(t.slots[TCB_BUFFER]!.cap, capAt(m, 10)));
  assert.ok(isMDBParentOf(rootCNode(m).slots[2]!, t.slots[TCB_CTABLE]!));
  // Every other initial slot is an MDB root (no parent).
  for (const [slot, , type] of INITIAL_CAPS) if (type !== CapType.Null) assert.equal(rootCNode(m).slots[slot]!.mdbPrev, null, `slot ${slot} has no parent`);
});

test('the root task thread: priority and MCP 255, running, a0 = boot info address, IPC buffer at bootinfo.ipcBuffer', () => {
  const m = testMachine();
  const t = m.booted.rootTCB;
  const bi = m.booted.bootInfo;
  assert.equal(t.priority, 255);
  assert.equal(t.mcp, 255);
  assert.equal(t.domain, 0);
  assert.equal(t.state, ThreadState.Running);
  assert.equal(t.getRegNumber(REG_A0), bi.vaddr);
  assert.equal(t.ipcBuffer, bi.ipcBuffer);
  assert.equal(bi.vaddr, bi.ipcBuffer + 4096, 'the boot info frame follows the IPC buffer page');
  assert.equal(bi.ipcBuffer % 4096, 0);
  assert.equal(m.kernel.curThread, t);
});

test('root CNode: radix CONFIG_ROOT_CNODE_SIZE_BITS = 12, guard size 64 - 12 = 52, guard 0', () => {
  const m = testMachine();
  const c = capAt(m, 2);
  assert.equal(c.radix, 12);
  assert.equal(c.guardSize, 52);
  assert.equal(c.guard, 0n);
  assert.equal(rootCNode(m).slots.length, 4096);
  assert.equal(capRegionBits(c), 17);
  assert.equal(c.paddr % 2 ** 17, 0);
  assert.equal(m.booted.bootInfo.initThreadCNodeSizeBits, 12);
});

test('seL4_BootInfo read back from the boot info frame matches what the kernel handed over', () => {
  let loaded: bigint[] = [];
  let done = false;
  const { m } = runRoot(function* ({ bi }) {
    // The root task reads its boot info through its own VSpace.
    loaded = [];
    for (const off of [BI_NODE_ID, BI_NUM_NODES, BI_IPC_BUFFER, BI_UNTYPED, BI_UNTYPED + 8, BI_UNTYPED_LIST]) loaded.push(yield* s.sel4ts_Load(bi.vaddr + off));
    done = true;
  });
  assert.ok(done);
  const bi = m.booted.bootInfo;
  const frame = capAt(m, 9).paddr;
  const read = readBootInfo(m.mem, frame, bi.vaddr);
  assert.deepEqual(read, bi);
  assert.deepEqual(loaded, [0n, 1n, BigInt(bi.ipcBuffer), BigInt(bi.untyped.start), BigInt(bi.untyped.end), BigInt(bi.untypedList[0]!.paddr)]);
  // Fields readBootInfo does not return.
  const word = (off: number) => m.mem.read64(frame + off);
  assert.equal(word(BI_EXTRA_LEN), 0n, 'no extra boot info');
  assert.equal(word(BI_NODE_ID), 0n);
  assert.equal(word(BI_NUM_NODES), 1n);
  assert.equal(word(BI_NUM_IOPT_LEVELS), 0n);
  assert.equal(word(BI_INIT_THREAD_DOMAIN), 0n);
  for (const off of [BI_SHARED_FRAMES, BI_IO_SPACE_CAPS]) assert.equal(word(off), word(off + 8), 'empty region');
  // Slot regions are consecutive from seL4_NumInitialCaps: paging, (no extra BI pages), schedcontrol, (no image frames), untypeds, empty.
  assert.equal(bi.userImagePaging.start, 16);
  assert.equal(bi.extraBIPages.start, bi.userImagePaging.end);
  assert.equal(bi.extraBIPages.end, bi.extraBIPages.start);
  assert.equal(bi.schedcontrol.start, bi.userImagePaging.end);
  assert.equal(bi.schedcontrol.end, bi.schedcontrol.start + 1, 'one SchedControl cap per core');
  assert.equal(bi.userImageFrames.start, bi.schedcontrol.end);
  assert.equal(bi.userImageFrames.end, bi.userImageFrames.start, 'a TypeScript root task has no image frames');
  assert.equal(bi.untyped.start, bi.userImageFrames.end);
  assert.equal(bi.empty.start, bi.untyped.end);
  assert.equal(bi.empty.end, 4096);
  assert.equal(capAt(m, bi.schedcontrol.start).type, CapType.SchedControl);
  assert.equal(capAt(m, bi.schedcontrol.start).word, 0, 'core 0');
  for (let i = bi.userImagePaging.start; i < bi.userImagePaging.end; i++) {
    assert.equal(capAt(m, i).type, CapType.PageTable);
    assert.equal(capAt(m, i).isMapped, true);
  }
  // The paging caps cover the IPC buffer and boot info: a level-1 table (1 GiB slice), then a level-2 table (2 MiB slice).
  assert.equal(capAt(m, 16).mappedAddr, bi.ipcBuffer - (bi.ipcBuffer % 2 ** 30));
  assert.equal(capAt(m, 17).mappedAddr, bi.ipcBuffer - (bi.ipcBuffer % 2 ** 21));
  // The untyped list describes the untyped caps in slot order.
  assert.equal(bi.untypedList.length, bi.untyped.end - bi.untyped.start);
  bi.untypedList.forEach((u, i) => {
    const c = capAt(m, bi.untyped.start + i);
    assert.equal(c.type, CapType.Untyped, `untyped slot ${bi.untyped.start + i}`);
    assert.equal(c.paddr, u.paddr);
    assert.equal(c.sizeBits, u.sizeBits);
    assert.equal(c.isDevice, u.isDevice);
    assert.equal(m.mem.read8(frame + BI_UNTYPED_LIST + i * UNTYPEDDESC_SIZE + 8), u.sizeBits);
  });
  for (let i = bi.empty.start; i < bi.empty.end; i++) assert.ok(capAt(m, i).isNull, `empty slot ${i}`);
});

function overlaps(a: MemoryRegion, b: MemoryRegion): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}
function totalSize(rs: readonly MemoryRegion[]): number {
  return rs.reduce((n, r) => n + r.size, 0);
}

function checkUntypeds(m: Machine): void {
  const bi: BootInfo = m.booted.bootInfo;
  const virt = m.booted.virt;
  const all = bi.untypedList.map((u) => ({ ...u, base: u.paddr, size: 2 ** u.sizeBits }));
  assert.ok(all.length > 0 && all.length <= 230, 'at most CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS');
  for (const u of all) {
    assert.ok(u.sizeBits >= 4 && u.sizeBits <= 38, `size ${u.sizeBits} within [seL4_MinUntypedBits, seL4_MaxUntypedBits]`);
    assert.equal(u.paddr % u.size, 0, `untyped at 0x${u.paddr.toString(16)} is aligned to its size`);
    assert.ok(u.paddr + u.size <= 2 ** 39, 'below CONFIG_PADDR_USER_DEVICE_TOP');
  }
  const sorted = [...all].sort((a, b) => a.base - b.base);
  for (let i = 1; i < sorted.length; i++) {
    assert.ok(sorted[i - 1]!.base + sorted[i - 1]!.size <= sorted[i]!.base, `untypeds at 0x${sorted[i - 1]!.base.toString(16)} and 0x${sorted[i]!.base.toString(16)} overlap`);
  }
  // Root server objects: the caps of the initial slots and the paging caps.
  const rootServer: MemoryRegion[] = [];
  for (const slot of [1, 2, 3, 6, 9, 10, 14]) rootServer.push({ base: capAt(m, slot).paddr, size: 2 ** capRegionBits(capAt(m, slot)) });
  for (let i = bi.userImagePaging.start; i < bi.userImagePaging.end; i++) rootServer.push({ base: capAt(m, i).paddr, size: 4096 });
  const kernelImage = kernelImageRegion(virt);
  const ram = kernelAvailableRam(virt);
  for (const u of all) {
    assert.ok(!overlaps(u, kernelImage), `untyped 0x${u.base.toString(16)} overlaps the kernel image`);
    for (const r of rootServer) assert.ok(!overlaps(u, r), `untyped 0x${u.base.toString(16)} overlaps a root server object at 0x${r.base.toString(16)}`);
    for (const f of kernelDeviceFrames(virt)) assert.ok(!overlaps(u, f), `untyped 0x${u.base.toString(16)} overlaps kernel device ${f.name}`);
    const inRam = ram.some((r) => u.base >= r.base && u.base + u.size <= r.base + r.size);
    const touchesRam = ram.some((r) => overlaps(u, r));
    if (u.isDevice) assert.ok(!touchesRam, `device untyped 0x${u.base.toString(16)} holds kernel RAM`);
    else assert.ok(inRam, `untyped 0x${u.base.toString(16)} lies in RAM`);
  }
  for (const r of rootServer) assert.ok(ram.some((x) => r.base >= x.base && r.base + r.size <= x.base + x.size), 'root server objects lie in RAM');
  // All kernel RAM is handed over: normal untypeds + root server objects + kernel image = available RAM.
  const normal = all.filter((u) => !u.isDevice);
  assert.equal(totalSize(normal) + totalSize(rootServer) + kernelImage.size, totalSize(ram), 'no RAM is lost');
  // Device untypeds cover everything else below 2^39 except the kernel's own devices.
  const device = all.filter((u) => u.isDevice);
  assert.equal(totalSize(device), totalSize(deviceUntypedRanges(virt)), 'device untypeds cover the device ranges exactly');
  for (const addr of [VIRT_UART0_BASE, VIRT_VIRTIO_BASE]) {
    assert.ok(device.some((u) => addr >= u.base && addr < u.base + u.size), `a device untyped covers 0x${addr.toString(16)}`);
  }
  // Normal untypeds come after the device ones, each group in ascending address order.
  const firstNormal = bi.untypedList.findIndex((u) => !u.isDevice);
  assert.ok(bi.untypedList.slice(0, firstNormal).every((u) => u.isDevice));
  assert.ok(bi.untypedList.slice(firstNormal).every((u) => !u.isDevice));
  for (let i = 1; i < bi.untypedList.length; i++) {
    if (i !== firstNormal) assert.ok(bi.untypedList[i - 1]!.paddr < bi.untypedList[i]!.paddr, 'ascending within a group');
  }
}

test('untypeds are naturally aligned, disjoint, clear of kernel and root server memory; device untypeds cover the UART', () => {
  checkUntypeds(testMachine());
});

test('the untyped rules hold for other RAM sizes (96 MiB, 256 MiB)', () => {
  checkUntypeds(testMachine({ virt: { ramSize: 96 * MiB } }));
  checkUntypeds(testMachine({ virt: { ramSize: 256 * MiB } }));
});

test('CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS caps the untyped list; the empty region starts right after it', () => {
  const m = testMachine({ kernel: { maxBootInfoUntypedCaps: 10 } });
  const bi = m.booted.bootInfo;
  assert.equal(bi.untyped.end - bi.untyped.start, 10);
  assert.equal(bi.untypedList.length, 10);
  assert.equal(bi.empty.start, bi.untyped.end);
  assert.ok(capAt(m, bi.untyped.end).isNull);
  const read = readBootInfo(m.mem, capAt(m, 9).paddr, bi.vaddr);
  assert.deepEqual(read.untypedList, bi.untypedList);
});

test('the root task can use every handed-over untyped: one retype from each normal untyped succeeds at its base', () => {
  let done = false;
  runRoot(function* ({ bi, m }) {
    let slot = bi.empty.start;
    for (let i = 0; i < bi.untypedList.length; i++) {
      const u = bi.untypedList[i]!;
      const type = u.isDevice ? s.seL4_RISCV_4K_Page : s.seL4_UntypedObject;
      if (u.isDevice && u.sizeBits < 12) continue;
      const err = yield* s.seL4_Untyped_Retype(bi.untyped.start + i, type, 4, s.seL4_CapInitThreadCNode, 0, 0, slot, 1);
      assert.equal(err, 0, `retype from untyped ${i}`);
      const c = capAt(m, slot);
      assert.equal(c.paddr, u.paddr);
      slot++;
    }
    done = true;
  });
  assert.ok(done);
});
