import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as abi from '../src/abi/index.js';
import {
  InvocationLabel,
  nArchInvocationLabels,
  nInvocationLabels,
  nSeL4ArchInvocationLabels,
  seL4_Error,
  seL4_LookupFailureType,
  seL4_ObjectType,
  seL4_Syscall,
  seL4_FaultType,
} from '../src/abi/constants.js';
import {
  decodeMessageInfo,
  msgInfoGetCapsUnwrapped,
  msgInfoGetClampedLength,
  msgInfoGetExtraCaps,
  msgInfoGetLabel,
  msgInfoGetLength,
  msgInfoHi,
  msgInfoLo,
  MSGINFO_LABEL_MAX,
  seL4_MessageInfo_new,
  wordFromHalves,
  wordHi,
  wordLo,
} from '../src/abi/messageinfo.js';

function numericValues(e: object): number[] {
  return Object.values(e).filter((v): v is number => typeof v === 'number');
}

test('errors and lookup failure types have the libsel4 values', () => {
  assert.equal(seL4_Error.seL4_NoError, 0);
  assert.equal(seL4_Error.seL4_FailedLookup, 6);
  assert.equal(seL4_Error.seL4_NotEnoughMemory, 10);
  assert.deepEqual(numericValues(seL4_Error), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(abi.seL4_NumErrors, 11);
  assert.deepEqual(numericValues(seL4_LookupFailureType), [0, 1, 2, 3, 4]);
  assert.equal(abi.LookupFaultTag.guard_mismatch + 1, seL4_LookupFailureType.seL4_GuardMismatch);
});

test('object types are dense and ordered generic, mode, arch', () => {
  const vals = numericValues(seL4_ObjectType);
  assert.deepEqual(vals, [...Array(12).keys()]);
  assert.equal(seL4_ObjectType.seL4_RISCV_Giga_Page, abi.seL4_NonArchObjectTypeCount);
  assert.equal(seL4_ObjectType.seL4_RISCV_4K_Page, abi.seL4_ModeObjectTypeCount);
  assert.equal(seL4_ObjectType.seL4_ObjectTypeCount, abi.seL4_ObjectTypeCount);
  assert.equal(abi.seL4_ObjectTypeCount, 11);
});

test('invocation labels are dense, start at 0 and chain into the arch enum', () => {
  const vals = numericValues(InvocationLabel);
  assert.deepEqual(vals, [...Array(nArchInvocationLabels).keys()]);
  assert.equal(InvocationLabel.InvalidInvocation, 0);
  assert.equal(InvocationLabel.SchedContextYieldTo, nInvocationLabels - 1);
  assert.equal(nSeL4ArchInvocationLabels, nInvocationLabels); // riscv64 has no sel4_arch methods
  assert.equal(InvocationLabel.RISCVPageTableMap, nSeL4ArchInvocationLabels);
  assert.equal(InvocationLabel.RISCVIRQIssueIRQHandlerTrigger, nArchInvocationLabels - 1);
  // a few spot checks of the derived numbering
  assert.equal(InvocationLabel.UntypedRetype, 1);
  assert.equal(InvocationLabel.TCBSetTLSBase, 16);
  assert.equal(InvocationLabel.CNodeRevoke, 17);
  assert.equal(InvocationLabel.SchedControlConfigureFlags, 30);
  assert.equal(InvocationLabel.RISCVPageMap, 38);
});

test('syscall numbers count down from -1 without gaps', () => {
  const vals = numericValues(seL4_Syscall).sort((a, b) => b - a);
  assert.deepEqual(vals, Array.from({ length: 32 }, (_, i) => -1 - i));
  assert.equal(seL4_Syscall.seL4_SysCall, -1);
  assert.equal(seL4_Syscall.seL4_SysYield, abi.SYSCALL_MIN);
  assert.equal(seL4_Syscall.seL4_SysDebugPutChar, -12);
  assert.equal(seL4_Syscall.seL4_SysDebugNameThread, -17);
  assert.ok(abi.isApiSyscall(seL4_Syscall.seL4_SysNBWait));
  assert.ok(!abi.isApiSyscall(seL4_Syscall.seL4_SysDebugPutChar));
  for (const s of abi.ENABLED_DEBUG_SYSCALLS) assert.ok(abi.isEnabledDebugSyscall(s));
  assert.ok(!abi.isEnabledDebugSyscall(seL4_Syscall.seL4_SysDebugSendIPI));
  assert.ok(!abi.isEnabledDebugSyscall(seL4_Syscall.seL4_SysYield));
});

test('fault types and message layouts', () => {
  assert.equal(seL4_FaultType.seL4_Fault_Timeout, 5);
  assert.equal(seL4_FaultType.seL4_Fault_VMFault, 6);
  assert.equal(abi.seL4_CapFault_Msg.GuardMismatch_GuardFound, abi.seL4_CapFault_Msg.DepthMismatch_BitsFound);
  assert.equal(
    abi.seL4_CapFault_Msg.LookupFailureType + abi.lookupFailureMsgLength(seL4_LookupFailureType.seL4_GuardMismatch),
    abi.seL4_CapFault_Msg.Length,
  );
  assert.equal(abi.seL4_UnknownSyscall_Msg.Syscall, abi.n_syscallMessage);
  assert.equal(abi.syscallMessage.length, abi.n_syscallMessage);
  assert.equal(abi.seL4_UserException_Msg.Number, abi.n_exceptionMessage);
  assert.equal(abi.exceptionMessage.length, abi.n_exceptionMessage);
  assert.equal(abi.seL4_TimeoutReply_Msg.Length, abi.n_timeoutMessage);
  assert.equal(abi.timeoutReplyMessage.length, abi.n_timeoutMessage);
  assert.equal(abi.seL4_FailedLookup_Msg.LookupFailureType, 1);
});

test('sizes are consistent', () => {
  assert.equal(abi.IPCBUF_SIZE, 1 << abi.seL4_IPCBufferSizeBits);
  assert.equal(abi.IPCBUF_WORDS * 8, abi.IPCBUF_SIZE);
  assert.equal(abi.IPCBUF_MSG / 8, abi.IPCBUF_WORD_MSG);
  assert.equal(abi.IPCBUF_USERDATA / 8, abi.IPCBUF_WORD_USERDATA);
  assert.equal(abi.IPCBUF_CAPS_OR_BADGES / 8, abi.IPCBUF_WORD_CAPS_OR_BADGES);
  assert.equal(abi.IPCBUF_RECEIVE_CNODE / 8, abi.IPCBUF_WORD_RECEIVE_CNODE);
  assert.equal(abi.IPCBUF_RECEIVE_INDEX / 8, abi.IPCBUF_WORD_RECEIVE_INDEX);
  assert.equal(abi.IPCBUF_RECEIVE_DEPTH / 8, abi.IPCBUF_WORD_RECEIVE_DEPTH);
  assert.equal(abi.seL4_MsgMaxExtraCaps, 3);
  assert.ok(abi.seL4_MsgMaxLength < 1 << abi.seL4_MsgLengthBits);
  // scheduling context: core part fits the minimum size exactly and needs all of it
  assert.ok(abi.seL4_CoreSchedContextBytes <= 2 ** abi.seL4_MinSchedContextBits);
  assert.ok(abi.seL4_CoreSchedContextBytes > 2 ** (abi.seL4_MinSchedContextBits - 1));
  assert.equal(abi.seL4_MaxExtraRefills(abi.seL4_MinSchedContextBits), 0);
  assert.equal(abi.seL4_MaxExtraRefills(8), 8);
  // paging
  assert.equal(abi.seL4_PageTableBits, abi.seL4_PageTableIndexBits + abi.seL4_PageTableEntryBits);
  assert.equal(abi.seL4_LargePageBits, abi.seL4_PageBits + abi.seL4_PageTableIndexBits);
  assert.equal(abi.seL4_HugePageBits, abi.seL4_LargePageBits + abi.seL4_PageTableIndexBits);
  assert.equal(abi.seL4_UserTop, 2 ** 38 - 2 ** 12);
  assert.equal(abi.seL4_MaxPrio, 255);
  // boot info
  assert.equal(abi.BI_SIZE, 3864);
  assert.ok(abi.BI_SIZE <= abi.seL4_BootInfoFrameSize);
  let off = 0;
  for (const f of abi.seL4_BootInfoLayout) {
    assert.equal(f.offset, off, f.name);
    off += f.size;
  }
  assert.equal(off, abi.BI_SIZE);
  assert.ok(2 ** abi.CONFIG_ROOT_CNODE_SIZE_BITS >= abi.seL4_NumInitialCaps);
  assert.equal(abi.seL4_RootCNodeCapSlots.seL4_NumInitialCaps, abi.seL4_NumInitialCaps);
  assert.equal(abi.extraBootInfoSizeBits(0), 0);
  assert.equal(abi.extraBootInfoSizeBits(1), 12);
  assert.equal(abi.extraBootInfoSizeBits(4096), 12);
  assert.equal(abi.extraBootInfoSizeBits(4097), 13);
  assert.equal(abi.extraBootInfoSizeBits(3 * 4096), 14);
  // timer
  assert.equal(abi.MIN_BUDGET, abi.usToTicks(abi.MIN_BUDGET_US));
  assert.equal(abi.MAX_PERIOD_US, 230584300921369395n);
});

test('registers: user context maps onto frame + gp registers', () => {
  assert.equal(numericValues(abi.UserContextReg).length, abi.seL4_UserContext_NumRegs);
  assert.equal(abi.userContextToKernelReg.length, abi.seL4_UserContext_NumRegs);
  assert.equal(abi.frameRegisters.length, abi.n_frameRegisters);
  assert.equal(abi.gpRegisters.length, abi.n_gpRegisters);
  assert.equal(new Set(abi.userContextToKernelReg).size, 32);
  assert.equal(abi.userContextToKernelReg[abi.UserContextReg.pc], abi.KernelReg.FaultIP);
  assert.equal(abi.userContextToKernelReg[abi.UserContextReg.a7], abi.KernelReg.a7);
  assert.equal(abi.userContextToKernelReg[abi.UserContextReg.tp], abi.KernelReg.tp);
  // every user context name maps to the kernel register of the same name
  for (const [name, idx] of Object.entries(abi.UserContextReg)) {
    if (typeof idx !== 'number' || name === 'pc') continue;
    assert.equal(abi.userContextToKernelReg[idx], (abi.KernelReg as unknown as Record<string, number>)[name], name);
  }
  assert.deepEqual(abi.msgRegisters, [abi.KernelReg.a2, abi.KernelReg.a3, abi.KernelReg.a4, abi.KernelReg.a5]);
  assert.equal(abi.capRegister, abi.KernelReg.a0);
  assert.equal(abi.msgInfoRegister, abi.KernelReg.a1);
  assert.equal(abi.replyRegister, abi.KernelReg.a6);
  assert.equal(abi.n_contextRegisters, abi.KernelReg.NextIP + 1);
});

test('message info: edge values and the full 52-bit label', () => {
  const cases: [number, number, number, number][] = [
    [0, 0, 0, 0],
    [MSGINFO_LABEL_MAX, 7, 3, 127],
    [1, 0, 0, 120],
    [2 ** 20 - 1, 1, 2, 5],
    [2 ** 20, 0, 1, 1],
    [2 ** 32 + 12345, 4, 0, 64],
    [2 ** 51, 0, 0, 0],
  ];
  for (const [label, cu, ec, len] of cases) {
    const lo = msgInfoLo(label, cu, ec, len);
    const hi = msgInfoHi(label);
    assert.ok(lo >= 0 && lo <= 0xffffffff && Number.isInteger(lo));
    assert.ok(hi >= 0 && hi <= 0xffffffff && Number.isInteger(hi));
    assert.equal(msgInfoGetLabel(hi, lo), label);
    assert.equal(msgInfoGetLength(lo), len);
    assert.equal(msgInfoGetExtraCaps(lo), ec);
    assert.equal(msgInfoGetCapsUnwrapped(lo), cu);
    const w = seL4_MessageInfo_new(label, cu, ec, len);
    assert.equal(wordFromHalves(hi, lo), w);
    assert.equal(wordHi(w), hi);
    assert.equal(wordLo(w), lo);
    assert.deepEqual(decodeMessageInfo(w), { label, capsUnwrapped: cu, extraCaps: ec, length: len });
  }
  assert.equal(seL4_MessageInfo_new(MSGINFO_LABEL_MAX, 7, 3, 127), (1n << 64n) - 1n);
  assert.equal(msgInfoGetClampedLength(msgInfoLo(0, 0, 0, 127)), 120);
  assert.equal(msgInfoGetClampedLength(msgInfoLo(0, 0, 0, 119)), 119);
});

test('message info: property round trip', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: MSGINFO_LABEL_MAX }),
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 127 }),
      (label, cu, ec, len) => {
        const lo = msgInfoLo(label, cu, ec, len);
        const hi = msgInfoHi(label);
        const d = decodeMessageInfo(wordFromHalves(hi, lo));
        return (
          msgInfoGetLabel(hi, lo) === label &&
          d.label === label &&
          d.capsUnwrapped === cu &&
          d.extraCaps === ec &&
          d.length === len &&
          seL4_MessageInfo_new(label, cu, ec, len) === wordFromHalves(hi, lo)
        );
      },
    ),
  );
});

test('CNode cap data round trip', () => {
  const maxGuard = (1n << 58n) - 1n;
  for (const [g, s] of [
    [0n, 0],
    [0n, 52],
    [maxGuard, 63],
    [0x123456789abn, 44],
    [1n << 57n, 1],
  ] as [bigint, number][]) {
    const w = abi.seL4_CNode_CapData_new(g, s);
    assert.equal(abi.seL4_CNode_CapData_get_guard(w), g);
    assert.equal(abi.seL4_CNode_CapData_get_guardSize(w), s);
    const hi = wordHi(w);
    const lo = wordLo(w);
    assert.equal(abi.cnodeCapDataGuardSize(lo), s);
    const rebuilt = (BigInt(abi.cnodeCapDataGuardHi(hi)) << 32n) | BigInt(abi.cnodeCapDataGuardLo(hi, lo));
    assert.equal(rebuilt, g);
  }
  assert.equal(abi.seL4_CNode_CapData_new(maxGuard, 63), (1n << 64n) - 1n);
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: maxGuard }), fc.integer({ min: 0, max: 63 }), (g, s) => {
      const w = abi.seL4_CNode_CapData_new(g, s);
      return abi.seL4_CNode_CapData_get_guard(w) === g && abi.seL4_CNode_CapData_get_guardSize(w) === s;
    }),
  );
});

test('cap rights words', () => {
  assert.equal(abi.seL4_CapRights_new(1, 1, 1, 1), abi.seL4_AllRights);
  assert.equal(abi.seL4_CapRights_new(0, 0, 1, 0), abi.seL4_CanRead);
  assert.equal(abi.seL4_CapRights_new(0, 0, 0, 1), abi.seL4_CanWrite);
  assert.equal(abi.seL4_CapRights_new(0, 1, 0, 0), abi.seL4_CanGrant);
  assert.equal(abi.seL4_CapRights_new(1, 0, 0, 0), abi.seL4_CanGrantReply);
  assert.equal(abi.seL4_CapRights_new(0, 0, 1, 1), abi.seL4_ReadWrite);
  assert.equal(abi.seL4_CapRights_new(1, 1, 1, 0), abi.seL4_NoWrite);
  assert.equal(abi.seL4_CapRights_new(1, 1, 0, 1), abi.seL4_NoRead);
  assert.equal(abi.seL4_CapRights_new(false, false, false, false), abi.seL4_NoRights);
  assert.ok(abi.seL4_AllRights < 1 << abi.seL4_CapRightsBits);
  for (let w = 0; w < 16; w++) {
    const r = abi.decodeCapRights(w);
    assert.equal(abi.seL4_CapRights_new(r.allowGrantReply, r.allowGrant, r.allowRead, r.allowWrite), w);
  }
});
