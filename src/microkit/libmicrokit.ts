/**
 * libmicrokit for TypeScript protection domains.
 *
 * A PD program is a module exporting generator functions, as a C PD defines
 * init/notified/protected/fault:
 *
 *   export const setvar = { buffer: 0 };           // symbols the tool patches (setvar_vaddr ...)
 *   export function* init() { yield* microkit_dbg_puts('hello, world\n'); }
 *   export function* notified(ch: number) { ... }
 *   export function* protected(ch: number, msginfo: microkit_msginfo) { return microkit_msginfo_new(0, 0); }
 *   export function* fault(child: number, msginfo: microkit_msginfo) { return null; } // null: do not reply
 *
 * The event loop is libmicrokit's main.c: init(), then (passive PDs) a
 * deferred signal to the monitor, then forever seL4_Recv / seL4_ReplyRecv /
 * seL4_NBSendRecv on INPUT_CAP with REPLY_CAP, dispatching on the badge: bit
 * 62 a child's fault, bit 63 a PPC (channel in the low 6 bits), otherwise
 * one notified() call per set bit, lowest first.
 *
 * The API checks a channel against the PD's channel bitmaps before using it,
 * as libmicrokit does with the microkit_notifications / microkit_pps /
 * microkit_irqs symbols the tool patches; the kernel enforces the real
 * boundary (a PD only holds caps for its channels).
 */
import {
  seL4_Call,
  seL4_DebugPutChar,
  seL4_GetMR,
  seL4_GetMRWord,
  seL4_MessageInfo_get_label,
  seL4_MessageInfo_get_length,
  seL4_MessageInfo_new,
  seL4_MessageInfo_t,
  seL4_NBSendRecv,
  seL4_Recv,
  seL4_ReplyRecv,
  seL4_SetMR,
  seL4_Signal,
  WordOut,
  Word,
  sel4ts_Load,
  sel4ts_Store,
  sel4ts_Work,
} from '../user/libsel4.js';
import { seL4_IRQHandler_Ack, seL4_TCB_Suspend } from '../user/invocations.js';
import { currentThread, UserThread } from '../user/thread.js';
import { Access } from '../machine/sv39.js';
import { InvocationLabel } from '../abi/constants.js';
import {
  BASE_ENDPOINT_CAP,
  BASE_IRQ_CAP,
  BASE_OUTPUT_NOTIFICATION_CAP,
  BASE_TCB_CAP,
  CHANNEL_MASK,
  INPUT_CAP,
  MICROKIT_MAX_CHANNEL_ID,
  MONITOR_EP,
  PD_MASK,
  REPLY_CAP,
} from './layout.js';

export type microkit_channel = number;
export type microkit_child = number;
export type microkit_msginfo = seL4_MessageInfo_t;
type Gen<T = void> = Generator<unknown, T, unknown>;

/** What a PD program module exports. */
export interface MicrokitProgram {
  init(): Gen;
  notified(ch: microkit_channel): Gen;
  protected?(ch: microkit_channel, msginfo: microkit_msginfo): Gen<microkit_msginfo>;
  /** Returns the reply message info, or null not to reply (the child stays blocked). */
  fault?(child: microkit_child, msginfo: microkit_msginfo): Gen<microkit_msginfo | null>;
  /** Word-sized symbols the tool patches (setvar_vaddr, setvar_size, region_paddr, setvar_id). */
  setvar?: Record<string, number>;
}

/** What the tool patches into a PD image besides setvars (microkit_name, microkit_passive, bitmaps). */
export interface PdImageInfo {
  name: string;
  passive: boolean;
  /** Bit ch set when the PD may notify on channel ch (microkit_notifications). */
  notifications: bigint;
  /** Bit ch set when the PD may ppcall on channel ch (microkit_pps). */
  pps: bigint;
  /** Bit id set for each IRQ the PD owns (microkit_irqs). */
  irqs: bigint;
}

class PdState {
  haveSignal = false;
  signalCap = 0;
  signalMsg: microkit_msginfo = 0;
  constructor(
    readonly info: PdImageInfo,
    readonly program: MicrokitProgram,
  ) {}
}

const states = new WeakMap<UserThread, PdState>();

function pd(): PdState {
  const s = states.get(currentThread());
  if (s === undefined) throw new Error('libmicrokit used outside a Microkit protection domain');
  return s;
}

/** The thread program that runs a PD: what crt0 + libmicrokit's main() are for a C PD. */
export function microkitMain(info: PdImageInfo, program: MicrokitProgram): () => Gen {
  return function* microkit_pd() {
    const st = new PdState(info, program);
    states.set(currentThread(), st);
    try {
      yield* program.init();
      if (info.passive) {
        // Ask the monitor to take our SC away once we wait in Recv (deferred signal).
        st.haveSignal = true;
        st.signalMsg = seL4_MessageInfo_new(0, 0, 0, 0);
        st.signalCap = MONITOR_EP;
      }
      yield* handlerLoop(st);
    } catch (e) {
      // A JavaScript exception in PD code is a bug in the program, not a seL4 event: name the PD.
      if (e instanceof Error && !e.message.startsWith('PD ')) e.message = `PD '${info.name}': ${e.message}`;
      throw e;
    }
  };
}

function* handlerLoop(st: PdState): Gen {
  const badge = new WordOut();
  let haveReply = false;
  let replyTag: microkit_msginfo = 0;
  for (;;) {
    let tag: microkit_msginfo;
    if (haveReply) {
      tag = yield* seL4_ReplyRecv(INPUT_CAP, replyTag, badge, REPLY_CAP);
    } else if (st.haveSignal) {
      tag = yield* seL4_NBSendRecv(st.signalCap, st.signalMsg, INPUT_CAP, badge, REPLY_CAP);
      st.haveSignal = false;
    } else {
      tag = yield* seL4_Recv(INPUT_CAP, badge, REPLY_CAP);
    }
    const isEndpoint = badge.hi >>> 31 === 1;
    const isFault = ((badge.hi >>> 30) & 1) === 1;
    haveReply = false;
    if (isFault) {
      const r = yield* callFault(st, badge.lo & PD_MASK, tag);
      if (r !== null) {
        haveReply = true;
        replyTag = r;
      }
    } else if (isEndpoint) {
      haveReply = true;
      replyTag = yield* callProtected(st, badge.lo & CHANNEL_MASK, tag);
    } else {
      let hi = badge.hi;
      let lo = badge.lo;
      for (let idx = 0; hi !== 0 || lo !== 0; idx++) {
        if (lo & 1) yield* st.program.notified(idx);
        lo = (lo >>> 1) | ((hi & 1) << 31);
        hi >>>= 1;
      }
    }
  }
}

function* callProtected(st: PdState, ch: number, tag: microkit_msginfo): Gen<microkit_msginfo> {
  if (st.program.protected === undefined) {
    yield* microkit_dbg_puts(`${st.info.name} is missing the 'protected' entry point\n`);
    yield* microkit_internal_crash(0);
    return seL4_MessageInfo_new(0, 0, 0, 0);
  }
  return yield* st.program.protected(ch, tag);
}

function* callFault(st: PdState, child: number, tag: microkit_msginfo): Gen<microkit_msginfo | null> {
  if (st.program.fault === undefined) {
    yield* microkit_dbg_puts(`${st.info.name} is missing the 'fault' entry point\n`);
    yield* microkit_internal_crash(0);
    return null;
  }
  return yield* st.program.fault(child, tag);
}

// ------------------------------------------------------------------- API

/** The PD's name as given in the system description (microkit_name). */
export function microkit_name(): string {
  return pd().info.name;
}

/** Crash the PD as libmicrokit does: a store to address `err`, which faults to the monitor. */
export function* microkit_internal_crash(err: number): Gen {
  yield* sel4ts_Store(err, 0, 4);
}

function channelOk(bits: bigint, ch: number): boolean {
  return Number.isInteger(ch) && ch >= 0 && ch <= MICROKIT_MAX_CHANNEL_ID && ((bits >> BigInt(ch)) & 1n) === 1n;
}

function* invalidChannel(fn: string, ch: number): Gen {
  yield* microkit_dbg_puts(`${microkit_name()} ${fn}: invalid channel given '${ch}'\n`);
}

/** Signal the PD at the other end of channel ch. */
export function* microkit_notify(ch: microkit_channel): Gen {
  if (!channelOk(pd().info.notifications, ch)) return yield* invalidChannel('microkit_notify', ch);
  yield* seL4_Signal(BASE_OUTPUT_NOTIFICATION_CAP + ch);
}

/** Acknowledge the IRQ delivered on channel ch so that it can fire again. */
export function* microkit_irq_ack(ch: microkit_channel): Gen {
  if (!channelOk(pd().info.irqs, ch)) return yield* invalidChannel('microkit_irq_ack', ch);
  yield* seL4_IRQHandler_Ack(BASE_IRQ_CAP + ch);
}

/** A protected procedure call to the PD at the other end of channel ch (which must have higher priority). */
export function* microkit_ppcall(ch: microkit_channel, msginfo: microkit_msginfo): Gen<microkit_msginfo> {
  if (!channelOk(pd().info.pps, ch)) {
    yield* invalidChannel('microkit_ppcall', ch);
    return seL4_MessageInfo_new(0, 0, 0, 0);
  }
  return yield* seL4_Call(BASE_ENDPOINT_CAP + ch, msginfo);
}

/** Notify on channel ch together with the next receive (one system call instead of two). */
export function* microkit_deferred_notify(ch: microkit_channel): Gen {
  const st = pd();
  if (!channelOk(st.info.notifications, ch)) return yield* invalidChannel('microkit_deferred_notify', ch);
  st.haveSignal = true;
  st.signalMsg = seL4_MessageInfo_new(0, 0, 0, 0);
  st.signalCap = BASE_OUTPUT_NOTIFICATION_CAP + ch;
}

/** Acknowledge the IRQ on channel ch together with the next receive. */
export function* microkit_deferred_irq_ack(ch: microkit_channel): Gen {
  const st = pd();
  if (!channelOk(st.info.irqs, ch)) return yield* invalidChannel('microkit_deferred_irq_ack', ch);
  st.haveSignal = true;
  st.signalMsg = seL4_MessageInfo_new(InvocationLabel.IRQAckIRQ, 0, 0, 0);
  st.signalCap = BASE_IRQ_CAP + ch;
}

/** Stop a child PD (its parent holds its TCB cap). */
export function* microkit_pd_stop(child: microkit_child): Gen {
  const err = yield* seL4_TCB_Suspend(BASE_TCB_CAP + child);
  if (err !== 0) {
    yield* microkit_dbg_puts('microkit_pd_stop: error suspending TCB\n');
    yield* microkit_internal_crash(err);
  }
}

export function microkit_msginfo_new(label: number, count: number): microkit_msginfo {
  return seL4_MessageInfo_new(label, 0, 0, count);
}
export function microkit_msginfo_get_label(msginfo: microkit_msginfo): number {
  return seL4_MessageInfo_get_label(msginfo);
}
export function microkit_msginfo_get_count(msginfo: microkit_msginfo): number {
  return seL4_MessageInfo_get_length(msginfo);
}
export function microkit_mr_set(mr: number, value: Word): void {
  seL4_SetMR(mr, value);
}
/** MR as a number (exact below 2^53); microkit_mr_get_word for all 64 bits. */
export function microkit_mr_get(mr: number): number {
  return seL4_GetMR(mr);
}
export function microkit_mr_get_word(mr: number): bigint {
  return seL4_GetMRWord(mr);
}

// ----------------------------------------------------------------- debug

export function* microkit_dbg_putc(c: number): Gen {
  yield* seL4_DebugPutChar(c);
}

/** Output a string on the debug console (seL4_DebugPutChar; UTF-8 bytes). */
export function* microkit_dbg_puts(s: string): Gen {
  for (const b of new TextEncoder().encode(s)) yield* seL4_DebugPutChar(b);
}

export function* microkit_dbg_put8(x: number): Gen {
  yield* microkit_dbg_puts(String(x & 0xff));
}

export function* microkit_dbg_put32(x: number): Gen {
  yield* microkit_dbg_puts(String(x >>> 0));
}

// ------------------------------------------ memory (what C does with pointers)

/** Load from the PD's address space (a fault goes to the monitor, as a bad pointer would). */
export function* microkit_load(vaddr: number, size: 1 | 2 | 4 | 8 = 8): Gen<number> {
  return Number(yield* sel4ts_Load(vaddr, size));
}

export function* microkit_store(vaddr: number, value: Word, size: 1 | 2 | 4 | 8 = 8): Gen {
  yield* sel4ts_Store(vaddr, value, size);
}

/** Read n bytes at vaddr (translated page by page through the PD's VSpace). */
export function* microkit_read_bytes(vaddr: number, n: number): Gen<Uint8Array> {
  const u = currentThread();
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const va = vaddr + i;
    const chunk = Math.min(n - i, 4096 - (va % 4096));
    const pa = yield* u.translateUser(va, Access.Read);
    for (let j = 0; j < chunk; j++) out[i + j] = Number(u.machine.physRead(pa + j, 1));
    i += chunk;
    yield* sel4ts_Work(chunk);
  }
  return out;
}

/** Write bytes at vaddr (a write to a read-only mapping faults to the monitor). */
export function* microkit_write_bytes(vaddr: number, bytes: Uint8Array): Gen {
  const u = currentThread();
  let i = 0;
  while (i < bytes.length) {
    const va = vaddr + i;
    const chunk = Math.min(bytes.length - i, 4096 - (va % 4096));
    const pa = yield* u.translateUser(va, Access.Write);
    for (let j = 0; j < chunk; j++) u.machine.physWrite(pa + j, 1, BigInt(bytes[i + j]!));
    i += chunk;
    yield* sel4ts_Work(chunk);
  }
}

/** Read a NUL-terminated (or maxLen-long) UTF-8 string at vaddr. */
export function* microkit_read_string(vaddr: number, maxLen: number): Gen<string> {
  const bytes = yield* microkit_read_bytes(vaddr, maxLen);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Write a UTF-8 string and a terminating NUL at vaddr. */
export function* microkit_write_string(vaddr: number, s: string): Gen {
  const b = new TextEncoder().encode(s);
  const withNul = new Uint8Array(b.length + 1);
  withNul.set(b);
  yield* microkit_write_bytes(vaddr, withNul);
}

/** Spend ns of simulated CPU time computing (preemptible by the kernel). */
export function* microkit_work(ns: number): Gen {
  yield* sel4ts_Work(ns);
}
