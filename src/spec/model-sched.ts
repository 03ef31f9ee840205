/**
 * The model's TCB, SchedContext and SchedControl invocations (seL4 13.0.0,
 * MCS): decode checks in seL4's order with their error codes, then the
 * effect on thread states, priorities, bindings and call stacks. Time is not
 * modelled: an SC counts as released (sc_released) whenever it is
 * configured, which holds in the refinement world, whose budgets are never
 * used up.
 */
import type { Model } from './model.js';
import { bindNotification, reorder, restart, suspend, unbindNotification } from './model-ipc.js';
import { CapType, E, MCap, RIGHT_READ, RIGHT_WRITE, RIGHT_GRANT, RIGHT_GRANT_REPLY, SlotId, TCB_FAULT_HANDLER, tcbSlotId, TState } from './state.js';
import { seL4_MaxExtraRefills } from '../abi/constants.js';

/** Invocation labels (libsel4 object-api, riscv64 MCS numbering). */
const L = {
  ReadRegisters: 2, WriteRegisters: 3, SetPriority: 6, SetMCPriority: 7, SetSchedParams: 8, Suspend: 12, Resume: 13,
  BindNotification: 14, UnbindNotification: 15, SetTLSBase: 16,
  SchedControlConfigureFlags: 30, SchedContextBind: 31, SchedContextUnbind: 32, SchedContextUnbindObject: 33, SchedContextConsumed: 34, SchedContextYieldTo: 35,
};
/** seL4_UserContext has 16 "frame" and 16 "gp" registers on riscv64; tp is the last. */
const USER_CONTEXT_REGS = 32;
const REG_TP = 31;
/** seL4_TCBFlag-style flag bits of Read/WriteRegisters: suspend the source / resume the target. */
const FLAG_SUSPEND = 1n;
const FLAG_RESUME = 1n;
/** seL4_SchedContext_Sporadic. */
const SCHED_CONTEXT_SPORADIC = 1n;
/** MIN_REFILLS. */
const MIN_REFILLS = 2;
/**
 * MIN_BUDGET_US = 2 * kernel WCET (10 us on qemu-riscv-virt) * CONFIG_KERNEL_WCET_SCALE (1).
 * MAX_PERIOD_US: sel4ts counts time in 1 ns ticks held exactly below 2^53, and
 * takes an eighth of the largest microsecond count that converts to ticks in
 * that range, as seL4 does for its 64-bit ticks (a configuration value).
 */
const MIN_BUDGET_US = 20n;
const MAX_PERIOD_US = 1_125_899_906_842n;
const TICKS_PER_US = 1000;

/** seL4's isBlocked. */
function isBlocked(m: Model, t: number): boolean {
  const s = m.tcb(t).state;
  return s === TState.BlockedOnReceive || s === TState.BlockedOnSend || s === TState.BlockedOnNotification || s === TState.BlockedOnReply;
}

/** sc_released: active and its head refill ready (always, once configured, in the modelled world). */
function released(m: Model, sc: number): boolean {
  return m.sc(sc).configured;
}

/** A fault-handler cap SetSchedParams accepts: null, or an endpoint that can send and grant (or grant-reply). */
function validFaultHandler(c: MCap): boolean {
  if (c.type === CapType.Null) return true;
  return c.type === CapType.Endpoint && (c.rights & RIGHT_WRITE) !== 0 && (c.rights & (RIGHT_GRANT | RIGHT_GRANT_REPLY)) !== 0;
}

// --------------------------------------------------- bindings (shared)

export function schedContextBindTCB(m: Model, sc: number, t: number): void {
  m.sc(sc).tcb = t;
  m.tcb(t).sc = sc;
}

/** schedContext_unbindTCB: the SC's thread loses it. */
export function schedContextUnbindTCB(m: Model, sc: number): void {
  const s = m.sc(sc);
  if (s.tcb !== null) m.tcb(s.tcb).sc = null;
  s.tcb = null;
}

function schedContextUnbindNtfn(m: Model, sc: number): void {
  const s = m.sc(sc);
  if (s.ntfn !== null) m.notifications.get(s.ntfn)!.sc = null;
  s.ntfn = null;
}

/** SchedContext_Unbind and SC deletion: unbind the thread and the notification, drop the call stack. */
export function schedContextUnbindAll(m: Model, sc: number): void {
  schedContextUnbindTCB(m, sc);
  schedContextUnbindNtfn(m, sc);
  if (m.sc(sc).replies.length > 0) m.note('call-stack-dropped');
  m.sc(sc).replies = [];
}

/** setPriority: a queued thread moves to its new place in the queue. */
export function setPriority(m: Model, t: number, prio: number): void {
  m.tcb(t).prio = prio;
  reorder(m, t);
}

// ----------------------------------------------------------------- TCB

/** decodeTCBInvocation for the covered labels. */
export function decodeTCBInvocation(m: Model, label: number, args: readonly bigint[], extra: SlotId[], cap: MCap, call: boolean): number {
  const target = cap.obj;
  const th = m.tcb(target);
  switch (label) {
    case L.ReadRegisters: {
      if (args.length < 2) return E.TruncatedMessage;
      const n = args[1]!;
      if (n < 1n || n > BigInt(USER_CONTEXT_REGS)) return E.RangeError;
      if (target === m.cur) return E.IllegalOperation;
      if ((args[0]! & FLAG_SUSPEND) !== 0n) suspend(m, target);
      if (call) {
        // The registers come back in seL4_UserContext order, in registers and then the caller's IPC buffer.
        const count = m.tcb(m.cur).hasBuffer ? Number(n) : Math.min(Number(n), 4);
        m.replyMRs = Array.from({ length: count }, (_, i) => (th.regs === null ? null : th.regs[i]!));
      }
      return E.NoError;
    }
    case L.WriteRegisters: {
      if (args.length < 2) return E.TruncatedMessage;
      const w = args[1]!;
      if (BigInt(args.length - 2) < w) return E.TruncatedMessage;
      if (target === m.cur) return E.IllegalOperation;
      const n = Math.min(Number(w), USER_CONTEXT_REGS);
      if (th.regs !== null) for (let i = 0; i < n; i++) th.regs[i] = args[i + 2]!;
      // A faulting thread restarts where its (new) pc says.
      if (th.fault !== null && n > 0) th.fault.pc = args[2]!;
      if ((args[0]! & FLAG_RESUME) !== 0n) restart(m, target);
      return E.NoError;
    }
    case L.Suspend:
      suspend(m, target);
      return E.NoError;
    case L.Resume:
      restart(m, target);
      return E.NoError;
    case L.SetPriority:
    case L.SetMCPriority: {
      if (args.length < 1 || extra.length < 1) return E.TruncatedMessage;
      const auth = m.cap(extra[0]!);
      if (auth.type !== CapType.Thread) return E.InvalidCapability;
      if (args[0]! > BigInt(m.tcb(auth.obj).mcp)) return E.RangeError;
      if (label === L.SetPriority) setPriority(m, target, Number(args[0]!));
      else th.mcp = Number(args[0]!);
      return E.NoError;
    }
    case L.SetSchedParams: {
      if (args.length < 2 || extra.length < 3) return E.TruncatedMessage;
      const auth = m.cap(extra[0]!);
      const scCap = m.cap(extra[1]!);
      const fh = m.cap(extra[2]!);
      if (auth.type !== CapType.Thread) return E.InvalidCapability;
      const authMcp = BigInt(m.tcb(auth.obj).mcp);
      if (args[0]! > authMcp || args[1]! > authMcp) return E.RangeError;
      let sc: number | null = null;
      if (scCap.type === CapType.SchedContext) {
        sc = scCap.obj;
        if (th.sc !== null) return E.IllegalOperation;
        if (m.sc(sc).tcb !== null) return E.IllegalOperation;
        if (isBlocked(m, target) && !released(m, sc)) return E.IllegalOperation;
      } else if (scCap.type === CapType.Null) {
        if (target === m.cur) return E.IllegalOperation;
      } else {
        return E.InvalidCapability;
      }
      if (!validFaultHandler(fh)) return E.InvalidCapability;
      // installTCBCap: the old fault handler goes; an endpoint cap is copied into the
      // fault-handler slot (a child of the source cap as cteInsert makes it); a null cap installs nothing.
      const fhSlot = tcbSlotId(target, TCB_FAULT_HANDLER);
      m.deleteCap(fhSlot);
      if (fh.type !== CapType.Null && m.cap(extra[2]!).type === CapType.Endpoint) {
        m.insert(m.cap(extra[2]!), extra[2]!, fhSlot);
        m.note('fault-handler-installed');
      }
      th.mcp = Number(args[0]!);
      setPriority(m, target, Number(args[1]!));
      if (sc !== null) schedContextBindTCB(m, sc, target);
      else if (th.sc !== null) schedContextUnbindTCB(m, th.sc);
      return E.NoError;
    }
    case L.BindNotification: {
      if (extra.length < 1) return E.TruncatedMessage;
      if (th.ntfn !== null) return E.IllegalOperation;
      const c = m.cap(extra[0]!);
      if (c.type !== CapType.Notification || (c.rights & RIGHT_READ) === 0) return E.IllegalOperation;
      const n = m.notifications.get(c.obj)!;
      if (n.queue.length > 0 || n.bound !== null) {
        m.note(n.queue.length > 0 ? "bind-refused-waiters" : "bind-refused-bound");
        return E.IllegalOperation;
      }
      bindNotification(m, target, c.obj);
      return E.NoError;
    }
    case L.UnbindNotification:
      if (th.ntfn === null) return E.IllegalOperation;
      unbindNotification(m, target);
      return E.NoError;
    case L.SetTLSBase:
      if (args.length < 1) return E.TruncatedMessage;
      if (th.regs !== null) th.regs[REG_TP] = args[0]!;
      return E.NoError;
    default:
      if (label >= 2 && label <= 16) throw new Error(`model: TCB invocation ${label} is outside the model`);
      return E.IllegalOperation;
  }
}

// -------------------------------------------------------- SchedContext

export function decodeSchedContextInvocation(m: Model, label: number, extra: SlotId[], cap: MCap): number {
  const scAddr = cap.obj;
  const sc = m.sc(scAddr);
  switch (label) {
    case L.SchedContextConsumed:
      // Replies with the consumed time (not modelled).
      return E.NoError;
    case L.SchedContextBind: {
      if (extra.length < 1) return E.TruncatedMessage;
      const c = m.cap(extra[0]!);
      if (c.type === CapType.Thread) {
        if (sc.tcb !== null) return E.IllegalOperation;
        if (m.tcb(c.obj).sc !== null) return E.IllegalOperation;
        if (isBlocked(m, c.obj) && !released(m, scAddr)) return E.IllegalOperation;
        schedContextBindTCB(m, scAddr, c.obj);
        return E.NoError;
      }
      if (c.type === CapType.Notification) {
        if (sc.ntfn !== null) return E.IllegalOperation;
        if (m.notifications.get(c.obj)!.sc !== null) return E.IllegalOperation;
        sc.ntfn = c.obj;
        m.notifications.get(c.obj)!.sc = scAddr;
        return E.NoError;
      }
      return E.InvalidCapability;
    }
    case L.SchedContextUnbindObject: {
      if (extra.length < 1) return E.TruncatedMessage;
      const c = m.cap(extra[0]!);
      if (c.type === CapType.Thread) {
        if (sc.tcb !== c.obj) return E.IllegalOperation;
        if (sc.tcb === m.cur) return E.IllegalOperation;
        schedContextUnbindTCB(m, scAddr);
        return E.NoError;
      }
      if (c.type === CapType.Notification) {
        if (sc.ntfn !== c.obj) return E.IllegalOperation;
        schedContextUnbindNtfn(m, scAddr);
        return E.NoError;
      }
      return E.InvalidCapability;
    }
    case L.SchedContextUnbind:
      if (sc.tcb === m.cur) return E.IllegalOperation;
      schedContextUnbindAll(m, scAddr);
      return E.NoError;
    case L.SchedContextYieldTo: {
      // Only the checks: the yield itself is a scheduling decision (not modelled).
      const t = sc.tcb;
      if (t === null || t === m.cur) return E.IllegalOperation;
      if (m.tcb(t).prio > m.tcb(m.cur).mcp) return E.IllegalOperation;
      return E.NoError;
    }
    default:
      return E.IllegalOperation;
  }
}

// -------------------------------------------------------- SchedControl

/** SchedControl_ConfigureFlags(budget, period, extraRefills, badge, flags) on the SC named by the extra cap. */
export function decodeSchedControlInvocation(m: Model, label: number, args: readonly bigint[], extra: SlotId[]): number {
  if (label !== L.SchedControlConfigureFlags) return E.IllegalOperation;
  if (extra.length < 1) return E.TruncatedMessage;
  if (args.length < 5) return E.TruncatedMessage;
  const [budget, period, extraRefills, badge, flags] = args as [bigint, bigint, bigint, bigint, bigint];
  const c = m.cap(extra[0]!);
  if (c.type !== CapType.SchedContext) return E.InvalidCapability;
  if (budget > MAX_PERIOD_US || budget < MIN_BUDGET_US) return E.RangeError;
  if (period > MAX_PERIOD_US || period < MIN_BUDGET_US) return E.RangeError;
  if (budget > period) return E.RangeError;
  // seL4 compares extra_refills + MIN_REFILLS in a machine word; the model
  // (like sel4ts) compares without the wrap-around of the two largest words.
  if (extraRefills > BigInt(seL4_MaxExtraRefills(c.size))) return E.RangeError;
  const sc = m.sc(c.obj);
  const roundRobin = budget === period;
  sc.configured = true;
  sc.budget = Number(budget) * TICKS_PER_US;
  sc.period = roundRobin ? 0 : Number(period) * TICKS_PER_US;
  sc.maxRefills = roundRobin ? MIN_REFILLS : Number(extraRefills) + MIN_REFILLS;
  sc.badge = badge;
  sc.sporadic = (flags & SCHED_CONTEXT_SPORADIC) !== 0n;
  return E.NoError;
}
