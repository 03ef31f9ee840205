/**
 * Debug system calls of a CONFIG_DEBUG_BUILD kernel: PutChar, DumpScheduler,
 * Halt, CapIdentify, Snapshot, NameThread.
 */
import { seL4_Syscall } from '../abi/constants.js';
import { CapType } from './cap.js';
import { IPCBUF_MSG, Kernel } from './kernel.js';
import { lookupCap } from './lookup.js';
import { REG_A0, TCB } from './object/tcb.js';

/** The debug system calls of this configuration (numbers from src/abi). */
export enum DebugSyscall {
  PutChar = seL4_Syscall.seL4_SysDebugPutChar,
  DumpScheduler = seL4_Syscall.seL4_SysDebugDumpScheduler,
  Halt = seL4_Syscall.seL4_SysDebugHalt,
  CapIdentify = seL4_Syscall.seL4_SysDebugCapIdentify,
  Snapshot = seL4_Syscall.seL4_SysDebugSnapshot,
  NameThread = seL4_Syscall.seL4_SysDebugNameThread,
}

/** seL4_DebugCapIdentify returns seL4's cap_tag numbering. */
const CAP_TAG: Record<number, number> = {
  [CapType.Null]: 0,
  [CapType.Untyped]: 2,
  [CapType.Endpoint]: 4,
  [CapType.Notification]: 6,
  [CapType.Reply]: 8,
  [CapType.CNode]: 10,
  [CapType.Thread]: 12,
  [CapType.IRQControl]: 14,
  [CapType.IRQHandler]: 16,
  [CapType.Zombie]: 18,
  [CapType.Domain]: 20,
  [CapType.SchedContext]: 22,
  [CapType.SchedControl]: 24,
  [CapType.Frame]: 1,
  [CapType.PageTable]: 3,
  [CapType.ASIDControl]: 11,
  [CapType.ASIDPool]: 13,
};

export function handleDebugSyscall(k: Kernel, syscall: number): boolean {
  const t = k.curThread;
  switch (syscall) {
    case DebugSyscall.PutChar:
      k.console(t.getRegLo(REG_A0) & 0xff);
      return true;
    case DebugSyscall.DumpScheduler:
      k.emit('dump_scheduler', { threads: [...k.tcbs].map((x) => ({ name: x.name, state: x.state, prio: x.priority })) });
      return true;
    case DebugSyscall.Halt:
      k.halted = true;
      return true;
    case DebugSyscall.Snapshot:
      return true;
    case DebugSyscall.CapIdentify: {
      const c = lookupCap(k, t, t.getRegHi(REG_A0), t.getRegLo(REG_A0));
      t.setReg(REG_A0, 0, c === null ? 0 : CAP_TAG[c.type]!);
      return true;
    }
    case DebugSyscall.NameThread: {
      const c = lookupCap(k, t, t.getRegHi(REG_A0), t.getRegLo(REG_A0));
      const buf = k.lookupIPCBuffer(true, t);
      if (c === null || c.type !== CapType.Thread || buf < 0) return true;
      const bytes = k.mem.bytes(buf + IPCBUF_MSG, 8 * 120);
      let end = bytes.indexOf(0);
      if (end < 0) end = bytes.length;
      (c.obj as TCB).name = new TextDecoder().decode(bytes.subarray(0, Math.min(end, 63)));
      return true;
    }
    default:
      return false;
  }
}
