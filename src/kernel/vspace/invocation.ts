/**
 * RISC-V architecture invocations (seL4's Arch_decodeInvocation for riscv):
 * PageTable_Map/Unmap, Page_Map/Unmap/GetAddress, ASIDControl_MakePool,
 * ASIDPool_Assign.
 */
import { msgInfoLo } from '../../abi/messageinfo.js';
import { Cap, CapType, maskVMRights, VMRights } from '../cap.js';
import { LookupFailure } from '../cspace.js';
import { SeL4Error } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { InvocationLabel } from '../labels.js';
import { lookupTargetSlot } from '../lookup.js';
import { cteInsert, hasChildren, isFinalCapability } from '../mdb.js';
import { ASIDPool } from '../object/asidpool.js';
import { REG_A0, REG_A1, ThreadState } from '../object/tcb.js';
import { setThreadState } from '../sched/thread.js';
import type { Slot } from '../slot.js';
import {
  ASID_LOW_BITS,
  findVSpaceForASID,
  isVSpaceRoot,
  lookupPTSlot,
  N_ASID_POOLS,
  PAGE_BITS,
  sfence,
  unmapPage,
  unmapPageTable,
  USER_TOP,
  writeTablePTE,
  writeUserPTE,
} from './vspace.js';

/**
 * Page_Map's `vaddr + BIT(pageBits) - 1 >= USER_TOP`, computed on the 64-bit
 * word as C does (the sum wraps modulo 2^64).
 */
function vtopOutOfRange(hi: number, lo: number, sizeBits: number): boolean {
  if (hi < 0x3f) return false; // vaddr < 0x3f00000000: even a 1 GiB frame ends below USER_TOP
  const vtop = BigInt.asUintN(64, ((BigInt(hi) << 32n) | BigInt(lo)) + (1n << BigInt(sizeBits)) - 1n);
  return vtop >= BigInt(USER_TOP);
}

function isPTEPageTable(lo: number): boolean {
  return (lo & 1) !== 0 && (lo & 0xe) === 0;
}

/** seL4_RISCV_ExecuteNever in the VM attributes word. */
const EXECUTE_NEVER = 1;
const ASID_POOL_BITS = 12;

export function decodeArchInvocation(k: Kernel, label: number, length: number, slot: Slot, cap: Cap, call: boolean): SeL4Error {
  switch (cap.type) {
    case CapType.PageTable:
      return decodePageTableInvocation(k, label, length, slot, cap);
    case CapType.Frame:
      return decodeFrameInvocation(k, label, length, slot, cap, call);
    case CapType.ASIDControl:
      return decodeASIDControlInvocation(k, label, length);
    case CapType.ASIDPool:
      return decodeASIDPoolInvocation(k, label, cap);
    default:
      return k.invalidCapability(0);
  }
}

function decodePageTableInvocation(k: Kernel, label: number, length: number, slot: Slot, cap: Cap): SeL4Error {
  if (label === InvocationLabel.RISCVPageTableUnmap) {
    if (!isFinalCapability(slot)) return k.error(SeL4Error.RevokeFirst);
    if (cap.isMapped && isVSpaceRoot(k, cap)) return k.error(SeL4Error.RevokeFirst);
    setThreadState(k, k.curThread, ThreadState.Restart);
    if (cap.isMapped) {
      unmapPageTable(k, cap.mappedASID, cap.mappedAddr, cap.paddr);
      k.mem.zero(cap.paddr, 4096);
    }
    // performPageTableInvocationUnmap clears only the mapped flag.
    cap.isMapped = false;
    return SeL4Error.NoError;
  }
  if (label !== InvocationLabel.RISCVPageTableMap) return k.error(SeL4Error.IllegalOperation);
  const rootSlot = k.extraCaps[0];
  if (length < 2 || rootSlot === null) return k.error(SeL4Error.TruncatedMessage);
  if (cap.isMapped) return k.invalidCapability(0);
  const vaddr = k.argNumber(0);
  const rootCap = rootSlot.cap;
  if (rootCap.type !== CapType.PageTable || !rootCap.isMapped) return k.invalidCapability(1);
  const asid = rootCap.mappedASID;
  if (vaddr >= USER_TOP) return k.invalidArgument(0);
  const root = findVSpaceForASID(k, asid);
  if (root < 0) return k.failedLookup(false);
  if (root !== rootCap.paddr) return k.invalidCapability(1);
  const s = lookupPTSlot(k, root, vaddr);
  if (s.bitsLeft === PAGE_BITS || (k.readWordLo(s.paddr) & 1) !== 0) return k.error(SeL4Error.DeleteFirst);
  setThreadState(k, k.curThread, ThreadState.Restart);
  cap.isMapped = true;
  cap.mappedASID = asid;
  cap.mappedAddr = vaddr - (vaddr % 2 ** s.bitsLeft);
  writeTablePTE(k, s.paddr, cap.paddr);
  sfence(k);
  return SeL4Error.NoError;
}

function decodeFrameInvocation(k: Kernel, label: number, length: number, slot: Slot, cap: Cap, call: boolean): SeL4Error {
  switch (label) {
    case InvocationLabel.RISCVPageMap: {
      const rootSlot = k.extraCaps[0];
      if (length < 3 || rootSlot === null) return k.error(SeL4Error.TruncatedMessage);
      const vaddr = k.argNumber(0);
      const rightsMask = k.argLo(1);
      const attr = k.argLo(2);
      const rootCap = rootSlot.cap;
      if (rootCap.type !== CapType.PageTable || !rootCap.isMapped) return k.invalidCapability(1);
      const asid = rootCap.mappedASID;
      const root = findVSpaceForASID(k, asid);
      if (root < 0) return k.failedLookup(false);
      if (root !== rootCap.paddr) return k.invalidCapability(1);
      if (vtopOutOfRange(k.argHi(0), k.argLo(0), cap.sizeBits)) return k.invalidArgument(0);
      // Frames are at most 2^30 bytes: alignment depends on the low word only.
      if ((k.argLo(0) & (2 ** cap.sizeBits - 1)) !== 0) return k.error(SeL4Error.AlignmentError);
      const s = lookupPTSlot(k, root, vaddr);
      if (s.bitsLeft !== cap.sizeBits) {
        k.lookupFault.type = LookupFailure.MissingCapability;
        k.lookupFault.bitsLeft = s.bitsLeft;
        return k.failedLookup(false);
      }
      const pteLoWord = k.readWordLo(s.paddr);
      if (cap.isMapped) {
        if (cap.mappedASID !== asid) return k.invalidCapability(1);
        if (cap.mappedAddr !== vaddr) return k.invalidArgument(0);
        if (isPTEPageTable(pteLoWord)) return k.error(SeL4Error.DeleteFirst);
      } else if ((pteLoWord & 1) !== 0) {
        return k.error(SeL4Error.DeleteFirst);
      }
      const vm = maskVMRights(cap.rights as VMRights, rightsMask);
      setThreadState(k, k.curThread, ThreadState.Restart);
      cap.isMapped = true;
      cap.mappedASID = asid;
      cap.mappedAddr = vaddr;
      writeUserPTE(k, s.paddr, cap.paddr, (attr & EXECUTE_NEVER) === 0, vm);
      sfence(k);
      k.emit('map', { paddr: cap.paddr, vaddr, asid, sizeBits: cap.sizeBits });
      return SeL4Error.NoError;
    }
    case InvocationLabel.RISCVPageUnmap:
      setThreadState(k, k.curThread, ThreadState.Restart);
      if (cap.isMapped) unmapPage(k, cap);
      return SeL4Error.NoError;
    case InvocationLabel.RISCVPageGetAddress: {
      setThreadState(k, k.curThread, ThreadState.Restart);
      const t = k.curThread;
      if (call) {
        t.setReg(REG_A0, 0, 0);
        const len = k.setMRNumber(t, -1, 0, cap.paddr);
        t.setReg(REG_A1, 0, msgInfoLo(0, 0, 0, len));
      }
      setThreadState(k, t, ThreadState.Running);
      return SeL4Error.NoError;
    }
    default:
      void slot;
      return k.error(SeL4Error.IllegalOperation);
  }
}

function decodeASIDControlInvocation(k: Kernel, label: number, length: number): SeL4Error {
  if (label !== InvocationLabel.RISCVASIDControlMakePool) return k.error(SeL4Error.IllegalOperation);
  const parentSlot = k.extraCaps[0];
  const rootSlot = k.extraCaps[1];
  if (length < 2 || parentSlot === null || rootSlot === null) return k.error(SeL4Error.TruncatedMessage);
  const depth = k.argNumber(1);
  let i = 0;
  while (i < N_ASID_POOLS && k.asids.pools[i] !== null) i++;
  if (i === N_ASID_POOLS) return k.error(SeL4Error.DeleteFirst);
  const asidBase = i << ASID_LOW_BITS;
  const ut = parentSlot.cap;
  if (ut.type !== CapType.Untyped || ut.sizeBits !== ASID_POOL_BITS || ut.isDevice) return k.invalidCapability(1);
  if (hasChildren(parentSlot)) return k.error(SeL4Error.RevokeFirst);
  const dest = lookupTargetSlot(k, rootSlot.cap, k.argHi(0), k.argLo(0), depth);
  if (dest === null) return k.err.type;
  if (!dest.isEmpty) return k.error(SeL4Error.DeleteFirst);
  setThreadState(k, k.curThread, ThreadState.Restart);
  ut.freeIndex = 2 ** ut.sizeBits;
  k.mem.zero(ut.paddr, 2 ** ASID_POOL_BITS);
  const pool = new ASIDPool(ut.paddr, ASID_POOL_BITS, asidBase, 1 << ASID_LOW_BITS);
  k.objects.add(pool);
  const pc = new Cap(CapType.ASIDPool, pool, ut.paddr, ASID_POOL_BITS);
  pc.word = asidBase;
  cteInsert(pc, parentSlot, dest);
  k.asids.pools[i] = pool;
  return SeL4Error.NoError;
}

function decodeASIDPoolInvocation(k: Kernel, label: number, cap: Cap): SeL4Error {
  if (label !== InvocationLabel.RISCVASIDPoolAssign) return k.error(SeL4Error.IllegalOperation);
  const vsSlot = k.extraCaps[0];
  if (vsSlot === null) return k.error(SeL4Error.TruncatedMessage);
  const vs = vsSlot.cap;
  if (vs.type !== CapType.PageTable || vs.isMapped) return k.invalidCapability(1);
  const pool = k.asids.pools[cap.word >>> ASID_LOW_BITS] ?? null;
  if (pool === null) {
    k.lookupFault.type = LookupFailure.InvalidRoot;
    return k.failedLookup(false);
  }
  if (pool !== cap.obj) return k.invalidCapability(0);
  const base = cap.word;
  let i = 0;
  while (i < 1 << ASID_LOW_BITS && (base + i === 0 || pool.entries[i]! >= 0)) i++;
  if (i === 1 << ASID_LOW_BITS) return k.error(SeL4Error.DeleteFirst);
  setThreadState(k, k.curThread, ThreadState.Restart);
  assignASID(k, pool, base + i, vsSlot);
  return SeL4Error.NoError;
}

/** seL4's performASIDPoolInvocation: make the page table in slot the root of ASID asid. */
export function assignASID(k: Kernel, pool: ASIDPool, asid: number, slot: Slot): void {
  const c = slot.cap;
  c.mappedASID = asid;
  c.mappedAddr = 0;
  c.isMapped = true;
  pool.entries[asid & ((1 << ASID_LOW_BITS) - 1)] = c.paddr;
}
