/**
 * The Microkit monitor: the fault handler of every top-level PD. It waits on
 * its fault endpoint; a badge b names PD b - 1. A message with label 0 (a
 * NullFault, i.e. an ordinary send) from a passive PD is its request, made
 * once init() has returned, to lose its scheduling context: the monitor
 * unbinds the SC from the PD's TCB and binds it to the PD's notification.
 * Anything else is a fault, which is reported on the console; the PD is
 * never replied to, so it stays stopped.
 */
import {
  seL4_FaultType,
  seL4_LookupFailureType,
  seL4_CapFault_Msg,
} from '../abi/constants.js';
import {
  seL4_SchedContext_Bind,
  seL4_SchedContext_UnbindObject,
  seL4_TCB_ReadRegisters,
  type seL4_UserContext,
} from '../user/invocations.js';
import { seL4_DebugPutString, seL4_GetMR, seL4_MessageInfo_get_label, seL4_Recv, WordOut } from '../user/libsel4.js';
import {
  MON_BASE_NOTIFICATION_CAP,
  MON_BASE_PD_TCB_CAP,
  MON_BASE_SCHED_CONTEXT_CAP,
  MON_FAULT_EP_CAP,
  MON_REPLY_CAP,
} from './layout.js';

type Gen<T = void> = Generator<unknown, T, unknown>;

/** A fault the monitor received (for the run summary and tests). */
export interface MonitorFault {
  pd: string;
  /** seL4_FaultType name, e.g. 'seL4_Fault_CapFault'. */
  type: string;
  /** The fault message registers, as numbers. */
  mrs: number[];
  /** Simulated time (ns) when the monitor handled it. */
  time: number;
}

export interface MonitorInfo {
  /** PD names by global index (the monitor's pd_names). */
  pdNames: readonly string[];
  passive: readonly boolean[];
  /** Told about every fault handled (host-side observation). */
  onFault?: (f: MonitorFault) => void;
  /** Told when a passive PD has become passive. */
  onPassive?: (pd: string) => void;
  now?: () => number;
}

function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

const FAULT_LENGTH: Record<number, number> = {
  [seL4_FaultType.seL4_Fault_CapFault]: seL4_CapFault_Msg.Length,
  [seL4_FaultType.seL4_Fault_UnknownSyscall]: 11,
  [seL4_FaultType.seL4_Fault_UserException]: 4,
  [seL4_FaultType.seL4_Fault_Timeout]: 2,
  [seL4_FaultType.seL4_Fault_VMFault]: 4,
};

function vmFaultKind(fsr: number, prefetch: number): string {
  if (prefetch !== 0 || fsr === 1) return 'instruction fault';
  if (fsr === 7) return 'store fault';
  if (fsr === 5) return 'load fault';
  return 'data fault';
}

function* describe(label: number): Gen {
  const mr = (i: number) => seL4_GetMR(i);
  switch (label) {
    case seL4_FaultType.seL4_Fault_CapFault: {
      const type = mr(seL4_CapFault_Msg.LookupFailureType);
      let s = `MON|ERROR: CapFault: ip=${hex(mr(0))}  fault_addr=${hex(mr(1))}  in_recv_phase=${mr(2) === 0 ? 'false' : 'true'}`;
      s += `  lookup_failure_type=${seL4_LookupFailureType[type] ?? hex(type)}`;
      if (type >= 2) s += `  bits_left=${mr(seL4_CapFault_Msg.BitsLeft)}`;
      if (type === 3) s += `  depth_bits_found=${mr(seL4_CapFault_Msg.DepthMismatch_BitsFound)}`;
      if (type === 4) s += `  guard_found=${hex(mr(seL4_CapFault_Msg.GuardMismatch_GuardFound))}  guard_bits_found=${mr(seL4_CapFault_Msg.GuardMismatch_BitsFound)}`;
      yield* seL4_DebugPutString(`${s}\n`);
      return;
    }
    case seL4_FaultType.seL4_Fault_VMFault:
      yield* seL4_DebugPutString(
        `MON|ERROR: VMFault: ip=${hex(mr(0))}  fault_addr=${hex(mr(1))}  fsr=${hex(mr(3))}  (${vmFaultKind(mr(3), mr(2))})\n`,
      );
      return;
    case seL4_FaultType.seL4_Fault_UserException:
      yield* seL4_DebugPutString(`MON|ERROR: UserException: ip=${hex(mr(0))}  sp=${hex(mr(1))}  number=${mr(2)}  code=${mr(3)}\n`);
      return;
    case seL4_FaultType.seL4_Fault_UnknownSyscall:
      yield* seL4_DebugPutString(`MON|ERROR: UnknownSyscall: ip=${hex(mr(0))}  syscall=${mr(10)}\n`);
      return;
    case seL4_FaultType.seL4_Fault_Timeout:
      yield* seL4_DebugPutString(`MON|ERROR: Timeout: sc badge=${hex(mr(0))}\n`);
      return;
    default:
      yield* seL4_DebugPutString('MON|ERROR: Unknown fault\n');
  }
}

/** The monitor's thread program. */
export function monitorProgram(info: MonitorInfo): () => Gen {
  return function* monitor() {
    const badge = new WordOut();
    const regs: seL4_UserContext = [];
    for (;;) {
      const tag = yield* seL4_Recv(MON_FAULT_EP_CAP, badge, MON_REPLY_CAP);
      const label = seL4_MessageInfo_get_label(tag);
      const idx = badge.hi === 0 ? badge.lo - 1 : -1;
      const name = idx >= 0 && idx < info.pdNames.length ? info.pdNames[idx]! : null;
      if (name === null) {
        yield* seL4_DebugPutString(`MON|ERROR: message from an unknown badge ${hex(badge.value)}\n`);
        continue;
      }
      if (label === seL4_FaultType.seL4_Fault_NullFault && info.passive[idx] === true) {
        let err = yield* seL4_SchedContext_UnbindObject(MON_BASE_SCHED_CONTEXT_CAP + idx, MON_BASE_PD_TCB_CAP + idx);
        if (err === 0) err = yield* seL4_SchedContext_Bind(MON_BASE_SCHED_CONTEXT_CAP + idx, MON_BASE_NOTIFICATION_CAP + idx);
        if (err !== 0) yield* seL4_DebugPutString(`MON|ERROR: could not make '${name}' passive (error ${err})\n`);
        else if (info.onPassive) info.onPassive(name);
        continue;
      }
      const mrs: number[] = [];
      for (let i = 0; i < (FAULT_LENGTH[label] ?? 0); i++) mrs.push(seL4_GetMR(i));
      yield* seL4_DebugPutString(`MON|ERROR: received message ${hex(label)}  badge: ${hex(badge.value)}  tcb cap: ${hex(MON_BASE_PD_TCB_CAP + idx)}\n`);
      yield* seL4_DebugPutString(`MON|ERROR: faulting PD: ${name}\n`);
      // The fault message is still in the IPC buffer: describe it before any other invocation.
      yield* describe(label);
      const err = yield* seL4_TCB_ReadRegisters(MON_BASE_PD_TCB_CAP + idx, false, 0, 3, regs);
      if (err === 0) yield* seL4_DebugPutString(`MON|ERROR: registers: pc=${hex(regs[0]!)}  sp=${hex(regs[2]!)}\n`);
      if (info.onFault) {
        info.onFault({ pd: name, type: seL4_FaultType[label] ?? `fault ${label}`, mrs, time: info.now ? info.now() : 0 });
      }
    }
  };
}
