/**
 * Object invocations for TypeScript threads, as libsel4's generated stubs:
 * the same names and argument order, the same message layout (plain arguments
 * in message registers, capability arguments as extra caps), and the seL4
 * error code as the result (the reply's label).
 */
import { InvocationLabel } from '../abi/constants.js';
import { seL4_Call, seL4_GetMR, seL4_GetMRWord, seL4_SetCap, seL4_SetMR, seL4_CPtr } from './libsel4.js';
import { seL4_MessageInfo_get_label, seL4_MessageInfo_new } from './messageinfo.js';
import type { Word } from './word.js';

export type seL4_Error = number;
type Gen<T> = Generator<unknown, T, unknown>;

/** Marshal and perform one invocation; returns the error (reply label). */
function* invoke(service: seL4_CPtr, label: number, args: readonly Word[], caps: readonly seL4_CPtr[]): Gen<seL4_Error> {
  for (let i = 0; i < caps.length; i++) seL4_SetCap(i, caps[i]!);
  for (let i = 0; i < args.length; i++) seL4_SetMR(i, args[i]!);
  const tag = yield* seL4_Call(service, seL4_MessageInfo_new(label, 0, caps.length, args.length));
  return seL4_MessageInfo_get_label(tag);
}

// ------------------------------------------------------------------ Untyped

export function* seL4_Untyped_Retype(
  service: seL4_CPtr,
  type: number,
  sizeBits: number,
  root: seL4_CPtr,
  nodeIndex: Word,
  nodeDepth: number,
  nodeOffset: number,
  numObjects: number,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.UntypedRetype, [type, sizeBits, nodeIndex, nodeDepth, nodeOffset, numObjects], [root]);
}

// -------------------------------------------------------------------- CNode

export function* seL4_CNode_Revoke(service: seL4_CPtr, index: Word, depth: number): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.CNodeRevoke, [index, depth], []);
}
export function* seL4_CNode_Delete(service: seL4_CPtr, index: Word, depth: number): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.CNodeDelete, [index, depth], []);
}
export function* seL4_CNode_CancelBadgedSends(service: seL4_CPtr, index: Word, depth: number): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.CNodeCancelBadgedSends, [index, depth], []);
}
export function* seL4_CNode_Copy(
  service: seL4_CPtr,
  destIndex: Word,
  destDepth: number,
  srcRoot: seL4_CPtr,
  srcIndex: Word,
  srcDepth: number,
  rights: number,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.CNodeCopy, [destIndex, destDepth, srcIndex, srcDepth, rights], [srcRoot]);
}
export function* seL4_CNode_Mint(
  service: seL4_CPtr,
  destIndex: Word,
  destDepth: number,
  srcRoot: seL4_CPtr,
  srcIndex: Word,
  srcDepth: number,
  rights: number,
  badge: Word,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.CNodeMint, [destIndex, destDepth, srcIndex, srcDepth, rights, badge], [srcRoot]);
}
export function* seL4_CNode_Move(
  service: seL4_CPtr,
  destIndex: Word,
  destDepth: number,
  srcRoot: seL4_CPtr,
  srcIndex: Word,
  srcDepth: number,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.CNodeMove, [destIndex, destDepth, srcIndex, srcDepth], [srcRoot]);
}
export function* seL4_CNode_Mutate(
  service: seL4_CPtr,
  destIndex: Word,
  destDepth: number,
  srcRoot: seL4_CPtr,
  srcIndex: Word,
  srcDepth: number,
  badge: Word,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.CNodeMutate, [destIndex, destDepth, srcIndex, srcDepth, badge], [srcRoot]);
}
export function* seL4_CNode_Rotate(
  service: seL4_CPtr,
  destIndex: Word,
  destDepth: number,
  destBadge: Word,
  pivotRoot: seL4_CPtr,
  pivotIndex: Word,
  pivotDepth: number,
  pivotBadge: Word,
  srcRoot: seL4_CPtr,
  srcIndex: Word,
  srcDepth: number,
): Gen<seL4_Error> {
  return yield* invoke(
    service,
    InvocationLabel.CNodeRotate,
    [destIndex, destDepth, destBadge, pivotIndex, pivotDepth, pivotBadge, srcIndex, srcDepth],
    [pivotRoot, srcRoot],
  );
}

// ---------------------------------------------------------------------- TCB

/** riscv64 seL4_UserContext as 32 words in libsel4's field order (pc, ra, sp, gp, s0..s11, a0..a7, t0..t6, tp). */
export type seL4_UserContext = bigint[];

export function* seL4_TCB_ReadRegisters(
  service: seL4_CPtr,
  suspendSource: boolean,
  archFlags: number,
  count: number,
  regs: seL4_UserContext,
): Gen<seL4_Error> {
  const err = yield* invoke(service, InvocationLabel.TCBReadRegisters, [(suspendSource ? 1 : 0) | ((archFlags & 0xff) << 8), count], []);
  if (err === 0) for (let i = 0; i < count && i < 32; i++) regs[i] = seL4_GetMRWord(i);
  return err;
}
export function* seL4_TCB_WriteRegisters(
  service: seL4_CPtr,
  resumeTarget: boolean,
  archFlags: number,
  count: number,
  regs: readonly Word[],
): Gen<seL4_Error> {
  const args: Word[] = [(resumeTarget ? 1 : 0) | ((archFlags & 0xff) << 8), count];
  for (let i = 0; i < 32; i++) args.push(regs[i] ?? 0);
  return yield* invoke(service, InvocationLabel.TCBWriteRegisters, args, []);
}
export function* seL4_TCB_CopyRegisters(
  service: seL4_CPtr,
  source: seL4_CPtr,
  suspendSource: boolean,
  resumeTarget: boolean,
  transferFrame: boolean,
  transferInteger: boolean,
  archFlags: number,
): Gen<seL4_Error> {
  const flags =
    (suspendSource ? 1 : 0) | (resumeTarget ? 2 : 0) | (transferFrame ? 4 : 0) | (transferInteger ? 8 : 0) | ((archFlags & 0xff) << 8);
  return yield* invoke(service, InvocationLabel.TCBCopyRegisters, [flags], [source]);
}
export function* seL4_TCB_Configure(
  service: seL4_CPtr,
  cspaceRoot: seL4_CPtr,
  cspaceRootData: Word,
  vspaceRoot: seL4_CPtr,
  vspaceRootData: Word,
  buffer: Word,
  bufferFrame: seL4_CPtr,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBConfigure, [cspaceRootData, vspaceRootData, buffer], [cspaceRoot, vspaceRoot, bufferFrame]);
}
export function* seL4_TCB_SetPriority(service: seL4_CPtr, authority: seL4_CPtr, priority: number): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBSetPriority, [priority], [authority]);
}
export function* seL4_TCB_SetMCPriority(service: seL4_CPtr, authority: seL4_CPtr, mcp: number): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBSetMCPriority, [mcp], [authority]);
}
export function* seL4_TCB_SetSchedParams(
  service: seL4_CPtr,
  authority: seL4_CPtr,
  mcp: number,
  priority: number,
  schedContext: seL4_CPtr,
  faultEP: seL4_CPtr,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBSetSchedParams, [mcp, priority], [authority, schedContext, faultEP]);
}
export function* seL4_TCB_SetTimeoutEndpoint(service: seL4_CPtr, timeoutFaultEP: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBSetTimeoutEndpoint, [], [timeoutFaultEP]);
}
export function* seL4_TCB_SetIPCBuffer(service: seL4_CPtr, buffer: Word, bufferFrame: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBSetIPCBuffer, [buffer], [bufferFrame]);
}
export function* seL4_TCB_SetSpace(
  service: seL4_CPtr,
  faultEP: seL4_CPtr,
  cspaceRoot: seL4_CPtr,
  cspaceRootData: Word,
  vspaceRoot: seL4_CPtr,
  vspaceRootData: Word,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBSetSpace, [cspaceRootData, vspaceRootData], [faultEP, cspaceRoot, vspaceRoot]);
}
export function* seL4_TCB_Suspend(service: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBSuspend, [], []);
}
export function* seL4_TCB_Resume(service: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBResume, [], []);
}
export function* seL4_TCB_BindNotification(service: seL4_CPtr, notification: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBBindNotification, [], [notification]);
}
export function* seL4_TCB_UnbindNotification(service: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBUnbindNotification, [], []);
}
export function* seL4_TCB_SetTLSBase(service: seL4_CPtr, tlsBase: Word): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.TCBSetTLSBase, [tlsBase], []);
}

// ------------------------------------------------------- IRQs and domains

export function* seL4_IRQControl_Get(service: seL4_CPtr, irq: number, root: seL4_CPtr, index: Word, depth: number): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.IRQIssueIRQHandler, [irq, index, depth], [root]);
}
export function* seL4_IRQControl_GetTrigger(
  service: seL4_CPtr,
  irq: number,
  trigger: number,
  root: seL4_CPtr,
  index: Word,
  depth: number,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.RISCVIRQIssueIRQHandlerTrigger, [irq, trigger, index, depth], [root]);
}
export function* seL4_IRQHandler_Ack(service: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.IRQAckIRQ, [], []);
}
export function* seL4_IRQHandler_SetNotification(service: seL4_CPtr, notification: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.IRQSetIRQHandler, [], [notification]);
}
export function* seL4_IRQHandler_Clear(service: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.IRQClearIRQHandler, [], []);
}
export function* seL4_DomainSet_Set(service: seL4_CPtr, domain: number, thread: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.DomainSetSet, [domain], [thread]);
}

// -------------------------------------------------------------- scheduling

export function* seL4_SchedControl_ConfigureFlags(
  service: seL4_CPtr,
  schedContext: seL4_CPtr,
  budgetUs: Word,
  periodUs: Word,
  extraRefills: number,
  badge: Word,
  flags: number,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.SchedControlConfigureFlags, [budgetUs, periodUs, extraRefills, badge, flags], [schedContext]);
}
export function* seL4_SchedContext_Bind(service: seL4_CPtr, cap: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.SchedContextBind, [], [cap]);
}
export function* seL4_SchedContext_Unbind(service: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.SchedContextUnbind, [], []);
}
export function* seL4_SchedContext_UnbindObject(service: seL4_CPtr, cap: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.SchedContextUnbindObject, [], [cap]);
}
/** Returns [error, consumed microseconds]. */
export function* seL4_SchedContext_Consumed(service: seL4_CPtr): Gen<[seL4_Error, number]> {
  const err = yield* invoke(service, InvocationLabel.SchedContextConsumed, [], []);
  return [err, err === 0 ? seL4_GetMR(0) : 0];
}
/** Returns [error, consumed microseconds]. */
export function* seL4_SchedContext_YieldTo(service: seL4_CPtr): Gen<[seL4_Error, number]> {
  const err = yield* invoke(service, InvocationLabel.SchedContextYieldTo, [], []);
  return [err, err === 0 ? seL4_GetMR(0) : 0];
}

// --------------------------------------------------------------- RISC-V MMU

export function* seL4_RISCV_PageTable_Map(service: seL4_CPtr, vspace: seL4_CPtr, vaddr: Word, attr: number): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.RISCVPageTableMap, [vaddr, attr], [vspace]);
}
export function* seL4_RISCV_PageTable_Unmap(service: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.RISCVPageTableUnmap, [], []);
}
export function* seL4_RISCV_Page_Map(service: seL4_CPtr, vspace: seL4_CPtr, vaddr: Word, rights: number, attr: number): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.RISCVPageMap, [vaddr, rights, attr], [vspace]);
}
export function* seL4_RISCV_Page_Unmap(service: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.RISCVPageUnmap, [], []);
}
/** Returns [error, physical address]. */
export function* seL4_RISCV_Page_GetAddress(service: seL4_CPtr): Gen<[seL4_Error, number]> {
  const err = yield* invoke(service, InvocationLabel.RISCVPageGetAddress, [], []);
  return [err, err === 0 ? seL4_GetMR(0) : 0];
}
export function* seL4_RISCV_ASIDControl_MakePool(
  service: seL4_CPtr,
  untyped: seL4_CPtr,
  root: seL4_CPtr,
  index: Word,
  depth: number,
): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.RISCVASIDControlMakePool, [index, depth], [untyped, root]);
}
export function* seL4_RISCV_ASIDPool_Assign(service: seL4_CPtr, vspace: seL4_CPtr): Gen<seL4_Error> {
  return yield* invoke(service, InvocationLabel.RISCVASIDPoolAssign, [], [vspace]);
}
