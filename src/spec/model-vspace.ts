/**
 * The model's RISC-V Sv39 virtual memory (seL4 13.0.0): page tables as maps
 * from index to entry, ASID pools as maps from index to root page table,
 * and the Page, PageTable and ASIDPool invocations with their errors in
 * seL4's order. A frame's and a page table's mapping live in their caps.
 */
import type { Model } from './model.js';
import { CapType, E, maskVMRights, MCap, PTE, SlotId, VM_KERNEL_ONLY, VM_READ_WRITE } from './state.js';

const L = { PageTableMap: 36, PageTableUnmap: 37, PageMap: 38, PageUnmap: 39, PageGetAddress: 40, ASIDPoolAssign: 42 };
const PAGE_BITS = 12;
const PT_INDEX_BITS = 9;
const PT_LEVELS = 3;
const ASID_LOW_BITS = 9;
/** seL4_UserTop (riscv64 Sv39). */
const USER_TOP = 0x3ffffff000n;
/** seL4_RISCV_ExecuteNever in the VM attributes. */
const EXECUTE_NEVER = 1n;

/** Index into the page table at a level whose entries map 2^bits bytes. */
const ptIndex = (vaddr: number, bits: number): number => Math.floor(vaddr / 2 ** bits) % 2 ** PT_INDEX_BITS;
const isTable = (e: PTE | undefined): e is { table: number } => e !== undefined && 'table' in e;

/** findVSpaceForASID: the root page table of an ASID, or null. */
export function findVSpaceForASID(m: Model, asid: number): number | null {
  const pool = m.asidPools.get(Math.floor(asid / 2 ** ASID_LOW_BITS));
  if (pool === undefined) return null;
  return pool.entries.get(asid % 2 ** ASID_LOW_BITS) ?? null;
}

/** lookupPTSlot: walk down through page-table entries; the table and index reached, and the bits an entry there maps. */
function lookupPTSlot(m: Model, root: number, vaddr: number): { pt: number; index: number; bits: number } {
  let bits = PAGE_BITS + PT_INDEX_BITS * (PT_LEVELS - 1);
  let pt = root;
  for (;;) {
    const index = ptIndex(vaddr, bits);
    const e = m.pageTables.get(pt)?.get(index);
    if (!isTable(e) || bits === PAGE_BITS) return { pt, index, bits };
    pt = e.table;
    bits -= PT_INDEX_BITS;
  }
}

function entry(m: Model, s: { pt: number; index: number }): PTE | undefined {
  return m.pageTables.get(s.pt)?.get(s.index);
}

function setEntry(m: Model, s: { pt: number; index: number }, e: PTE | null): void {
  let t = m.pageTables.get(s.pt);
  if (t === undefined) {
    t = new Map();
    m.pageTables.set(s.pt, t);
  }
  if (e === null) t.delete(s.index);
  else t.set(s.index, e);
}

/** unmapPage: clear the entry mapping this frame cap, if it still maps that frame there. */
export function unmapPage(m: Model, c: MCap): void {
  const root = findVSpaceForASID(m, c.mapped!.asid);
  if (root === null) return;
  const s = lookupPTSlot(m, root, c.mapped!.vaddr);
  if (s.bits !== c.size) return;
  const e = entry(m, s);
  if (e !== undefined && 'frame' in e && e.frame === c.obj) setEntry(m, s, null);
}

/** unmapPageTable: clear the entry pointing at the page table `target` on the way to vaddr in the ASID's VSpace. */
export function unmapPageTable(m: Model, asid: number, vaddr: number, target: number): void {
  const root = findVSpaceForASID(m, asid);
  if (root === null) return;
  let pt = root;
  let bits = PAGE_BITS + PT_INDEX_BITS * (PT_LEVELS - 1);
  for (let level = 0; level < PT_LEVELS - 1; level++) {
    const s = { pt, index: ptIndex(vaddr, bits) };
    const e = entry(m, s);
    if (!isTable(e)) return;
    if (e.table === target) {
      setEntry(m, s, null);
      return;
    }
    pt = e.table;
    bits -= PT_INDEX_BITS;
  }
}

/** deleteASID: a VSpace root's last cap went; its ASID is free again. */
export function deleteASID(m: Model, asid: number, root: number): void {
  const pool = m.asidPools.get(Math.floor(asid / 2 ** ASID_LOW_BITS));
  const i = asid % 2 ** ASID_LOW_BITS;
  if (pool !== undefined && pool.entries.get(i) === root) pool.entries.delete(i);
}

/** Arch_decodeInvocation for frames, page tables and ASID pools. */
export function decodeArchInvocation(m: Model, label: number, args: readonly bigint[], extra: SlotId[], slot: SlotId, cap: MCap, call: boolean): number {
  switch (cap.type) {
    case CapType.PageTable:
      return pageTableInvocation(m, label, args, extra, slot, cap);
    case CapType.Frame:
      return frameInvocation(m, label, args, extra, slot, cap, call);
    default:
      return asidPoolInvocation(m, label, extra, cap);
  }
}

/** The VSpace root named by an extra cap: a mapped page table that is its ASID's root. */
function vspaceRoot(m: Model, c: MCap): { root: number; asid: number } | number {
  if (c.type !== CapType.PageTable || c.mapped === null) return E.InvalidCapability;
  const root = findVSpaceForASID(m, c.mapped.asid);
  if (root === null) return E.FailedLookup;
  if (root !== c.obj) return E.InvalidCapability;
  return { root, asid: c.mapped.asid };
}

function pageTableInvocation(m: Model, label: number, args: readonly bigint[], extra: SlotId[], slot: SlotId, cap: MCap): number {
  if (label === L.PageTableUnmap) {
    if (!m.isFinal(slot, cap)) return E.RevokeFirst;
    if (cap.mapped !== null && findVSpaceForASID(m, cap.mapped.asid) === cap.obj) return E.RevokeFirst;
    if (cap.mapped !== null) {
      unmapPageTable(m, cap.mapped.asid, cap.mapped.vaddr, cap.obj);
      // The table's memory is cleared: whatever it mapped is gone.
      m.pageTables.set(cap.obj, new Map());
    }
    m.slots.set(slot, { ...cap, mapped: null });
    return E.NoError;
  }
  if (label !== L.PageTableMap) return E.IllegalOperation;
  if (args.length < 2 || extra.length < 1) return E.TruncatedMessage;
  if (cap.mapped !== null) return E.InvalidCapability;
  const vaddr = args[0]!;
  const rootCap = m.cap(extra[0]!);
  if (rootCap.type !== CapType.PageTable || rootCap.mapped === null) return E.InvalidCapability;
  if (vaddr >= USER_TOP) return E.InvalidArgument;
  const v = vspaceRoot(m, rootCap);
  if (typeof v === 'number') return v;
  const s = lookupPTSlot(m, v.root, Number(vaddr));
  if (s.bits === PAGE_BITS || entry(m, s) !== undefined) return E.DeleteFirst;
  setEntry(m, s, { table: cap.obj });
  const base = Number(vaddr) - (Number(vaddr) % 2 ** s.bits);
  m.slots.set(slot, { ...cap, mapped: { asid: v.asid, vaddr: base } });
  return E.NoError;
}

function frameInvocation(m: Model, label: number, args: readonly bigint[], extra: SlotId[], slot: SlotId, cap: MCap, call: boolean): number {
  switch (label) {
    case L.PageMap: {
      if (args.length < 3 || extra.length < 1) return E.TruncatedMessage;
      const [vaddr, rightsMask, attr] = args as [bigint, bigint, bigint];
      const v = vspaceRoot(m, m.cap(extra[0]!));
      if (typeof v === 'number') return v;
      const size = BigInt(2 ** cap.size);
      if ((vaddr + size - 1n) % 2n ** 64n >= USER_TOP) return E.InvalidArgument;
      if (vaddr % size !== 0n) return E.AlignmentError;
      const s = lookupPTSlot(m, v.root, Number(vaddr));
      if (s.bits !== cap.size) return E.FailedLookup;
      const e = entry(m, s);
      if (cap.mapped !== null) {
        // Remapping (new rights) is allowed only where it is mapped.
        if (cap.mapped.asid !== v.asid) return E.InvalidCapability;
        if (BigInt(cap.mapped.vaddr) !== vaddr) return E.InvalidArgument;
        if (isTable(e)) return E.DeleteFirst;
      } else if (e !== undefined) {
        return E.DeleteFirst;
      }
      // makeUserPTE: an entry granting nothing is an invalid entry.
      const vm = maskVMRights(cap.rights, Number(rightsMask & 15n));
      const read = vm !== VM_KERNEL_ONLY;
      const write = vm === VM_READ_WRITE;
      const exec = (attr & EXECUTE_NEVER) === 0n;
      setEntry(m, s, read || write || exec ? { frame: cap.obj, read, write, exec } : null);
      m.slots.set(slot, { ...cap, mapped: { asid: v.asid, vaddr: Number(vaddr) } });
      return E.NoError;
    }
    case L.PageUnmap:
      if (cap.mapped !== null) unmapPage(m, cap);
      m.slots.set(slot, { ...cap, mapped: null });
      return E.NoError;
    case L.PageGetAddress:
      if (call) m.replyMRs = [BigInt(cap.obj)];
      return E.NoError;
    default:
      return E.IllegalOperation;
  }
}

function asidPoolInvocation(m: Model, label: number, extra: SlotId[], cap: MCap): number {
  if (label !== L.ASIDPoolAssign) return E.IllegalOperation;
  if (extra.length < 1) return E.TruncatedMessage;
  const vsSlot = extra[0]!;
  const vs = m.cap(vsSlot);
  if (vs.type !== CapType.PageTable || vs.mapped !== null) return E.InvalidCapability;
  const pool = m.asidPools.get(Math.floor(cap.asidBase / 2 ** ASID_LOW_BITS));
  if (pool === undefined) return E.FailedLookup;
  if (pool.obj !== cap.obj) return E.InvalidCapability;
  // The first free ASID of the pool (ASID 0 is never used).
  let i = 0;
  while (i < 2 ** ASID_LOW_BITS && (cap.asidBase + i === 0 || pool.entries.has(i))) i++;
  if (i === 2 ** ASID_LOW_BITS) return E.DeleteFirst;
  pool.entries.set(i, vs.obj);
  m.slots.set(vsSlot, { ...vs, mapped: { asid: cap.asidBase + i, vaddr: 0 } });
  return E.NoError;
}
