// seL4 Microkit System Description File (SDF, `*.system`) parser and validator.
//
// Target: riscv64, QEMU virt (Sv39, 4 KiB and 2 MiB pages, no hypervisor, no IOMMU, no SMC).
//
// Reference: the Rust Microkit tool on seL4/microkit main at the 2.3.0-dev stage, where the
// SDF parser is split into tool/microkit/src/sdf.rs plus tool/microkit/src/sdf/{pd_vm,
// channels, memory_region, irq, cspace, domains, iommu, util, consts}.rs. Every check made by
// that parser is made here, in the same order where the order decides which error is
// reported first; see docs in examples/README.md and the summary at the end of this file for
// the few deliberate differences.
//
// The parser is pure apart from reading `prefill_path` files, which goes through
// `ParseOptions.readFile` (default: Node's fs, relative to `ParseOptions.searchPaths`).

import { parseXmlDocument, XmlSyntaxError, type SourcePos, type XmlElement } from './sdf-xml.js';

export type { SourcePos } from './sdf-xml.js';

// ---------------------------------------------------------------------------------------------
// Constants (values of the Microkit tool for riscv64 / QEMU virt)
// ---------------------------------------------------------------------------------------------

/** Which Microkit tool these rules follow. */
export const MICROKIT_REFERENCE = 'seL4/microkit main (2.3.0-dev), tool/microkit/src/sdf/*.rs';

/**
 * Largest channel / IRQ / vCPU id. Ids are bits of a 64-bit badge; two bits are reserved (PPC
 * and fault), so ids are 0..61 (62 ids).
 */
export const PD_MAX_ID = 61;
/** Lowest priority, and the default when `priority` is absent. */
export const PD_DEFAULT_PRIORITY = 0;
/** Highest priority a PD may have; 255 belongs to the Microkit monitor. */
export const PD_MAX_PRIORITY = 254;
/** Priority of the Microkit monitor. */
export const MONITOR_PRIORITY = 255;
/** Default budget in microseconds. */
export const PD_DEFAULT_BUDGET_US = 1000;
/**
 * Default period in microseconds when neither budget nor period is given. When only `budget`
 * is given, the period defaults to that budget (a "full" budget).
 */
export const PD_DEFAULT_PERIOD_US = PD_DEFAULT_BUDGET_US;
/** Default stack size of a PD: 8 KiB. */
export const PD_DEFAULT_STACK_SIZE = 0x2000;
/** Smallest allowed stack size: 4 KiB. */
export const PD_MIN_STACK_SIZE = 0x1000;
/** Largest allowed stack size: 16 MiB. */
export const PD_MAX_STACK_SIZE = 0x100_0000;
/** FPU access is on unless `fpu="false"`. */
export const PD_DEFAULT_FPU = true;
/** Maximum number of protection domains in a system (children included). */
export const MAX_PDS = 63;
/** Names longer than this are truncated by the tool in the PD's `microkit_name`. */
export const PD_MAX_NAME_LENGTH = 64;
/** Name reserved for the Microkit monitor. */
export const MONITOR_PD_NAME = 'monitor';
/** Destination slots of `<cspace>` cap maps are 1 .. CAP_MAP_MAX_SLOT-1 (0 is reserved). */
export const CAP_MAP_MAX_SLOT = 128;
/** riscv64 page sizes. */
export const SMALL_PAGE_SIZE = 0x1000;
export const LARGE_PAGE_SIZE = 0x20_0000;
export const PAGE_SIZES: readonly PageSize[] = [SMALL_PAGE_SIZE, LARGE_PAGE_SIZE];
/** seL4's top of user virtual memory on riscv64 Sv39 (seL4_UserTop). */
export const USER_TOP = 0x3f_ffff_f000;
/** Map defaults. */
export const MAP_DEFAULT_PERMS = 'rw';
export const MAP_DEFAULT_CACHED = true;
/** Channel end defaults. */
export const CHANNEL_END_DEFAULT_NOTIFY = true;
export const CHANNEL_END_DEFAULT_PP = false;
/** IRQ default trigger. */
export const IRQ_DEFAULT_TRIGGER: IrqTrigger = 'level';
/** Kernel configuration defaults assumed for the target (seL4 defaults, one core). */
export const DEFAULT_NUM_CORES = 1;
export const DEFAULT_NUM_DOMAINS = 1;
export const DEFAULT_NUM_DOMAIN_SCHEDULES = 2;

/** The stack sits at the top of the address space, so maps must end below it. */
export function pdMapMaxVaddr(stackSize: number): number {
  return USER_TOP - stackSize;
}

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

export type PageSize = 0x1000 | 0x20_0000;
export type IrqTrigger = 'level' | 'edge';

export interface MapPerms {
  readonly read: boolean;
  readonly write: boolean;
  readonly execute: boolean;
}

/** A `<map>`: a memory region mapped into a PD's address space. */
export interface SdfMap {
  readonly mr: string;
  readonly vaddr: number;
  readonly perms: MapPerms;
  readonly cached: boolean;
  readonly setvarVaddr: string | null;
  readonly setvarSize: string | null;
  readonly setvarPrefillSize: string | null;
  readonly pos: SourcePos;
}
// `Map` is the name the model uses for SdfMap; it is not declared locally so that the global
// Map keeps its meaning in this file.
export type { SdfMap as Map };

/** An `<irq>`: a hardware interrupt delivered to a PD as a notification on channel `id`. */
export interface Irq {
  readonly irq: number;
  readonly id: number;
  readonly trigger: IrqTrigger;
  readonly setvarId: string | null;
  readonly pos: SourcePos;
}

/** A symbol in the PD's program image that the tool rewrites. */
export type SetVar =
  | { readonly kind: 'vaddr'; readonly symbol: string; readonly address: number; readonly pos: SourcePos }
  | { readonly kind: 'size'; readonly symbol: string; readonly mr: string; readonly pos: SourcePos }
  | { readonly kind: 'prefill_size'; readonly symbol: string; readonly mr: string; readonly pos: SourcePos }
  | { readonly kind: 'paddr'; readonly symbol: string; readonly region: string; readonly pos: SourcePos }
  | { readonly kind: 'id'; readonly symbol: string; readonly id: number; readonly pos: SourcePos };

export type CapMapType = 'tcb' | 'sc' | 'vspace';

/** A `<cspace>` entry: a capability to another PD's object placed in this PD's CSpace. */
export interface CapMap {
  readonly type: CapMapType;
  readonly pd: string;
  readonly slot: number;
  readonly pos: SourcePos;
}

export interface ProtectionDomain {
  readonly name: string;
  readonly priority: number;
  /** Microseconds. */
  readonly budget: number;
  /** Microseconds. */
  readonly period: number;
  readonly passive: boolean;
  readonly stackSize: number;
  /** Always false here: SMC forwarding is ARM only. */
  readonly smc: boolean;
  readonly cpu: number;
  /** Scheduling domain name and id, when the system declares `<domains>`. */
  readonly domain: string | null;
  readonly domainId: number | null;
  readonly fpu: boolean;
  /** `<program_image path>`; for sel4ts this names the TypeScript PD program. */
  readonly programImage: string;
  readonly programImageForSymbols: string | null;
  readonly maps: readonly SdfMap[];
  readonly irqs: readonly Irq[];
  readonly setvars: readonly SetVar[];
  readonly capMaps: readonly CapMap[];
  /** The id its parent uses for it (child PDs only). */
  readonly id: number | null;
  readonly setvarId: string | null;
  /** Name of the parent PD (child PDs only). */
  readonly parent: string | null;
  /** Names of the direct children. */
  readonly children: readonly string[];
  readonly pos: SourcePos;
}

export interface ChannelEnd {
  readonly pd: string;
  readonly id: number;
  /** This end may notify the other end. */
  readonly notify: boolean;
  /** This end may make protected procedure calls to the other end. */
  readonly pp: boolean;
  readonly setvarId: string | null;
  readonly pos: SourcePos;
}

export interface Channel {
  readonly a: ChannelEnd;
  readonly b: ChannelEnd;
  readonly pos: SourcePos;
}

export type PhysAddrKind = 'specified' | 'unspecified' | 'tool_allocated';

export interface MemoryRegion {
  readonly name: string;
  readonly size: number;
  /** Page size in effect after the tool's page-size promotion. */
  readonly pageSize: PageSize;
  readonly pageSizeSpecified: boolean;
  readonly pageCount: number;
  /** Fixed physical address, when given. */
  readonly physAddr: number | null;
  /**
   * `specified`: `phys_addr` given; `tool_allocated`: no `phys_addr` but some PD asks for it
   * with `<setvar region_paddr>`; `unspecified`: anywhere.
   */
  readonly physAddrKind: PhysAddrKind;
  readonly prefillPath: string | null;
  readonly prefillBytes: Uint8Array | null;
  readonly prefillBootinfo: 'fdt' | null;
  readonly pos: SourcePos;
}

export interface SchedulingDomain {
  readonly name: string;
  readonly id: number;
  readonly pos: SourcePos;
}

export type DomainScheduleEntry =
  | {
      readonly kind: 'entry';
      readonly domain: string;
      readonly domainId: number;
      readonly duration: number;
      readonly unit: 'us' | 'ticks';
      readonly pos: SourcePos;
    }
  | { readonly kind: 'end_marker'; readonly pos: SourcePos };

export interface DomainSchedule {
  readonly domains: readonly SchedulingDomain[];
  readonly startIndex: number;
  readonly indexShift: number | null;
  readonly entries: readonly DomainScheduleEntry[];
  readonly pos: SourcePos;
}

export interface SdfWarning {
  readonly pos: SourcePos;
  readonly message: string;
}

export interface SystemDescription {
  readonly fileName: string;
  /** All PDs, each parent followed by its children (depth first), in file order. */
  readonly protectionDomains: readonly ProtectionDomain[];
  readonly memoryRegions: readonly MemoryRegion[];
  readonly channels: readonly Channel[];
  readonly domains: DomainSchedule | null;
  /** What the tool would print as warnings (unused regions...), plus a few of our own. */
  readonly warnings: readonly SdfWarning[];
  readonly pos: SourcePos;
}

/** The PD called `name`, if any. */
export function findProtectionDomain(sys: SystemDescription, name: string): ProtectionDomain | undefined {
  return sys.protectionDomains.find((pd) => pd.name === name);
}

/** The memory region called `name`, if any. */
export function findMemoryRegion(sys: SystemDescription, name: string): MemoryRegion | undefined {
  return sys.memoryRegions.find((mr) => mr.name === name);
}

/** Channels with an end in PD `name`. */
export function channelsOf(sys: SystemDescription, name: string): Channel[] {
  return sys.channels.filter((ch) => ch.a.pd === name || ch.b.pd === name);
}

// ---------------------------------------------------------------------------------------------
// Errors, options, plugins
// ---------------------------------------------------------------------------------------------

/** An invalid system description: `message` is `file:line:col: what is wrong`. */
export class SdfError extends Error {
  constructor(
    readonly pos: SourcePos,
    readonly problem: string,
  ) {
    super(`${pos.file}:${pos.line}:${pos.column}: ${problem}`);
    this.name = 'SdfError';
  }
  get file(): string {
    return this.pos.file;
  }
  get line(): number {
    return this.pos.line;
  }
  get column(): number {
    return this.pos.column;
  }
}

export interface SdfPluginContext {
  /** Rejects the system with an error at `pos`. */
  error(pos: SourcePos, problem: string): never;
  warn(pos: SourcePos, message: string): void;
}

/** Extra checks run after all of the tool's checks passed (e.g. that program images exist). */
export interface SdfPlugin {
  readonly name: string;
  check(system: SystemDescription, ctx: SdfPluginContext): void;
}

export interface ParseOptions {
  /** Extra validation, run last. */
  plugin?: SdfPlugin | readonly SdfPlugin[];
  /** Cores of the kernel configuration (`cpu` must be below this). Default 1. */
  numCores?: number;
  /** KernelNumDomains. Default 1. */
  numDomains?: number;
  /** KernelNumDomainSchedules. Default 2. */
  numDomainSchedules?: number;
  /** Where `prefill_path` files are looked up. Default: the current directory. */
  searchPaths?: readonly string[];
  /** Reads a `prefill_path` file; returns undefined when it does not exist. */
  readFile?: (path: string, searchPaths: readonly string[]) => Uint8Array | undefined;
}

// ---------------------------------------------------------------------------------------------
// Integers as the tool reads them
// ---------------------------------------------------------------------------------------------

type IntKind = 'u64' | 'u8' | 'i64';

const INT_RANGE: Record<IntKind, readonly [bigint, bigint]> = {
  u64: [0n, (1n << 64n) - 1n],
  u8: [0n, 255n],
  i64: [-(1n << 63n), (1n << 63n) - 1n],
};

/**
 * Reads an integer the way the Microkit tool does: underscores are dropped anywhere, a
 * leading `0x` (lower case x) selects hexadecimal, otherwise decimal; an optional `+` sign
 * (or `-` for signed kinds) may follow. Returns the value or the reason it is not one.
 */
export function parseSdfInteger(text: string, kind: IntKind = 'u64'): { value: bigint } | { error: string } {
  let s = text.replace(/_/g, '');
  let radix = 10;
  if (s.startsWith('0x')) {
    s = s.slice(2);
    radix = 16;
  }
  if (s === '') return { error: 'cannot parse integer from empty string' };
  let negative = false;
  if (s[0] === '+' || s[0] === '-') {
    negative = s[0] === '-';
    s = s.slice(1);
    if (s === '' || (negative && kind !== 'i64')) return { error: 'invalid digit found in string' };
  }
  const digits = radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/;
  if (!digits.test(s)) return { error: 'invalid digit found in string' };
  let value = BigInt(radix === 16 ? `0x${s}` : s);
  if (negative) value = -value;
  const [min, max] = INT_RANGE[kind];
  if (value > max) return { error: 'number too large to fit in target type' };
  if (value < min) return { error: 'number too small to fit in target type' };
  return { value };
}

function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

// ---------------------------------------------------------------------------------------------
// The parser
// ---------------------------------------------------------------------------------------------

const PD_ATTRIBUTES = [
  'name',
  'priority',
  'budget',
  'period',
  'passive',
  'stack_size',
  'smc',
  'cpu',
  'domain',
  'fpu',
] as const;
const CHILD_PD_ATTRIBUTES = [...PD_ATTRIBUTES, 'id', 'setvar_id'] as const;
const MAP_ATTRIBUTES = ['mr', 'vaddr', 'perms', 'cached', 'setvar_vaddr', 'setvar_size', 'setvar_prefill_size'] as const;
const IRQ_ATTRIBUTES = ['irq', 'id', 'setvar_id', 'trigger'] as const;
const END_ATTRIBUTES = ['pd', 'id', 'pp', 'notify', 'setvar_id'] as const;
const MR_ATTRIBUTES = ['name', 'size', 'page_size', 'phys_addr', 'prefill_path', 'prefill_bootinfo'] as const;
const X86_BOOTINFO = ['x86_vbe', 'x86_mbmmap', 'x86_acpi_rsdp', 'x86_framebuffer', 'x86_tsc_freq'];

/** Mutable PD under construction; frozen into ProtectionDomain at the end. */
interface PdDraft {
  name: string;
  priority: number;
  budget: number;
  period: number;
  passive: boolean;
  stackSize: number;
  cpu: number;
  domain: string | null;
  domainId: number | null;
  fpu: boolean;
  programImage: string;
  programImageForSymbols: string | null;
  maps: SdfMap[];
  irqs: Irq[];
  setvars: SetVar[];
  capMaps: CapMap[];
  id: number | null;
  setvarId: string | null;
  parent: string | null;
  childDrafts: PdDraft[];
  children: string[];
  pos: SourcePos;
}

interface MrDraft {
  name: string;
  size: number;
  pageSize: PageSize;
  pageSizeSpecified: boolean;
  physAddr: number | null;
  physAddrKind: PhysAddrKind;
  prefillPath: string | null;
  prefillBytes: Uint8Array | null;
  prefillBootinfo: 'fdt' | null;
  pos: SourcePos;
}

interface DomainsState {
  nameToId: ReadonlyMap<string, number>;
  schedule: DomainSchedule;
}

function where(pos: SourcePos): string {
  return `${pos.line}:${pos.column}`;
}

class Parser {
  readonly warnings: SdfWarning[] = [];
  private domains: DomainsState | null = null;
  private readonly numCores: number;
  private readonly numDomains: number;
  private readonly numDomainSchedules: number;

  constructor(
    readonly file: string,
    readonly opts: ParseOptions,
  ) {
    this.numCores = opts.numCores ?? DEFAULT_NUM_CORES;
    this.numDomains = opts.numDomains ?? DEFAULT_NUM_DOMAINS;
    this.numDomainSchedules = opts.numDomainSchedules ?? DEFAULT_NUM_DOMAIN_SCHEDULES;
  }

  // -- helpers ---------------------------------------------------------------------------------

  fail(at: XmlElement | SourcePos, problem: string): never {
    throw new SdfError('tag' in at ? at.pos : at, problem);
  }

  warn(pos: SourcePos, message: string): void {
    this.warnings.push({ pos, message });
  }

  attr(node: XmlElement, name: string): string | undefined {
    return node.attributes.find((a) => a.name === name)?.value;
  }

  checkAttributes(node: XmlElement, allowed: readonly string[]): void {
    for (const a of node.attributes) {
      if (!allowed.includes(a.name)) {
        const list = allowed.length === 0 ? 'it takes no attributes' : `allowed: ${allowed.join(', ')}`;
        this.fail(node, `invalid attribute '${a.name}' on <${node.tag}> (${list})`);
      }
    }
  }

  required(node: XmlElement, name: string): string {
    const v = this.attr(node, name);
    if (v === undefined) this.fail(node, `missing required attribute '${name}' on <${node.tag}>`);
    return v;
  }

  bigInt(node: XmlElement, name: string, kind: IntKind = 'u64'): bigint | undefined {
    const text = this.attr(node, name);
    if (text === undefined) return undefined;
    const r = parseSdfInteger(text, kind);
    if ('error' in r) {
      this.fail(node, `failed to parse attribute ${name}="${text}" on <${node.tag}> as an integer: ${r.error}`);
    }
    return r.value;
  }

  requiredBigInt(node: XmlElement, name: string, kind: IntKind = 'u64'): bigint {
    this.required(node, name);
    return this.bigInt(node, name, kind)!;
  }

  /** A parsed integer as a JS number; values past 2^53-1 cannot be held exactly. */
  num(node: XmlElement, name: string, v: bigint): number {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      this.fail(node, `attribute ${name}=${hex(v)} on <${node.tag}> is larger than 2^53-1, which sel4ts cannot represent`);
    }
    return Number(v);
  }

  bool(node: XmlElement, name: string): boolean | undefined {
    const text = this.attr(node, name);
    if (text === undefined) return undefined;
    if (text === 'true') return true;
    if (text === 'false') return false;
    this.fail(node, `attribute ${name}="${text}" on <${node.tag}> must be 'true' or 'false'`);
  }

  addSetvar(setvars: SetVar[], setvar: SetVar, node: XmlElement): void {
    const other = setvars.find((s) => s.symbol === setvar.symbol);
    if (other) {
      this.fail(node, `setvar on symbol '${setvar.symbol}' already exists (first set at ${where(other.pos)})`);
    }
    setvars.push(setvar);
  }

  invalidElement(node: XmlElement, parent: string): never {
    this.fail(node, `invalid XML element <${node.tag}> in <${parent}>`);
  }

  // -- elements --------------------------------------------------------------------------------

  parseMap(node: XmlElement, maxVaddr: number): SdfMap {
    this.checkAttributes(node, MAP_ATTRIBUTES);
    const mr = this.required(node, 'mr');
    const vaddrBig = this.requiredBigInt(node, 'vaddr');
    if (vaddrBig >= BigInt(maxVaddr)) {
      this.fail(node, `vaddr (${hex(vaddrBig)}) must be less than ${hex(maxVaddr)} (the PD's stack is above)`);
    }
    const vaddr = Number(vaddrBig);
    let perms: MapPerms = { read: true, write: true, execute: false };
    const permsText = this.attr(node, 'perms');
    if (permsText !== undefined) {
      let read = false;
      let write = false;
      let execute = false;
      for (const c of permsText) {
        if (c === 'r') read = true;
        else if (c === 'w') write = true;
        else if (c === 'x') execute = true;
        else this.fail(node, `perms="${permsText}" on <map> must only be a combination of 'r', 'w' and 'x'`);
      }
      if (write && !read) {
        this.fail(node, `perms="${permsText}" on <map>: write-only mappings are not allowed`);
      }
      if (!read && !write && !execute) {
        this.warn(node.pos, `<map> of '${mr}' has empty perms: the mapping grants no access`);
      }
      perms = { read, write, execute };
    }
    const cached = this.bool(node, 'cached') ?? MAP_DEFAULT_CACHED;
    return {
      mr,
      vaddr,
      perms,
      cached,
      setvarVaddr: this.attr(node, 'setvar_vaddr') ?? null,
      setvarSize: this.attr(node, 'setvar_size') ?? null,
      setvarPrefillSize: this.attr(node, 'setvar_prefill_size') ?? null,
      pos: node.pos,
    };
  }

  /** Parses a channel or IRQ id: 0..PD_MAX_ID. */
  parseId(node: XmlElement): number {
    const id = this.requiredBigInt(node, 'id', 'i64');
    if (id > BigInt(PD_MAX_ID)) this.fail(node, `id ${id} on <${node.tag}> must be < ${PD_MAX_ID + 1}`);
    if (id < 0n) this.fail(node, `id ${id} on <${node.tag}> must be >= 0`);
    return Number(id);
  }

  parseIrq(node: XmlElement, setvars: SetVar[]): Irq {
    const id = this.parseId(node);
    const setvarId = this.attr(node, 'setvar_id') ?? null;
    if (setvarId !== null) this.addSetvar(setvars, { kind: 'id', symbol: setvarId, id, pos: node.pos }, node);
    if (this.attr(node, 'irq') === undefined) {
      if (this.attr(node, 'pin') !== undefined) {
        this.fail(node, `x86 I/O APIC interrupts (<irq pin=...>) are not supported on riscv64`);
      }
      if (this.attr(node, 'pcidev') !== undefined) {
        this.fail(node, `x86 MSI interrupts (<irq pcidev=...>) are not supported on riscv64`);
      }
      this.required(node, 'irq');
    }
    this.checkAttributes(node, IRQ_ATTRIBUTES);
    const irq = this.num(node, 'irq', this.requiredBigInt(node, 'irq'));
    const triggerText = this.attr(node, 'trigger');
    let trigger: IrqTrigger = IRQ_DEFAULT_TRIGGER;
    if (triggerText !== undefined) {
      if (triggerText !== 'level' && triggerText !== 'edge') {
        this.fail(node, `trigger="${triggerText}" on <irq> must be either 'level' or 'edge'`);
      }
      trigger = triggerText;
    }
    return { irq, id, trigger, setvarId, pos: node.pos };
  }

  parseCspace(node: XmlElement): CapMap[] {
    this.checkAttributes(node, []);
    const out: CapMap[] = [];
    for (const child of node.children) {
      const type: CapMapType | undefined =
        child.tag === 'cap_tcb' ? 'tcb' : child.tag === 'cap_sc' ? 'sc' : child.tag === 'cap_vspace' ? 'vspace' : undefined;
      if (type === undefined) {
        if (child.tag === 'cap_cspace') {
          this.fail(child, `<cap_cspace> (with <cnode>) is a newer Microkit feature this parser does not support`);
        }
        if (child.tag.startsWith('cap_')) {
          this.fail(child, `cap type '${child.tag.slice(4)}' is not supported in <cspace> (use cap_tcb, cap_sc or cap_vspace)`);
        }
        this.fail(child, `element <${child.tag}> is not supported in a <cspace> element`);
      }
      this.checkAttributes(child, ['slot', 'pd']);
      const pd = this.required(child, 'pd');
      const slot = this.requiredBigInt(child, 'slot');
      if (slot === 0n) this.fail(child, `destination slot 0 of <${child.tag}> is reserved for the Microkit CNode`);
      if (slot >= BigInt(CAP_MAP_MAX_SLOT)) {
        this.fail(child, `slot ${slot} of <${child.tag}>: there are only ${CAP_MAP_MAX_SLOT} destination cspace slots`);
      }
      out.push({ type, pd, slot: Number(slot), pos: child.pos });
    }
    return out;
  }

  parsePd(node: XmlElement, isChild: boolean): PdDraft {
    this.checkAttributes(node, isChild ? CHILD_PD_ATTRIBUTES : PD_ATTRIBUTES);
    const name = this.required(node, 'name');
    let id: number | null = null;
    let setvarId: string | null = null;
    if (isChild) {
      id = this.num(node, 'id', this.requiredBigInt(node, 'id'));
      setvarId = this.attr(node, 'setvar_id') ?? null;
    }

    const budgetBig = this.bigInt(node, 'budget') ?? BigInt(PD_DEFAULT_BUDGET_US);
    const periodBig = this.bigInt(node, 'period') ?? budgetBig;
    if (budgetBig > periodBig) {
      this.fail(node, `budget (${budgetBig}) must be less than, or equal to, period (${periodBig}) in protection domain '${name}'`);
    }
    const budget = this.num(node, 'budget', budgetBig);
    const period = this.num(node, 'period', periodBig);

    const passive = this.bool(node, 'passive') ?? false;
    const stackBig = this.bigInt(node, 'stack_size') ?? BigInt(PD_DEFAULT_STACK_SIZE);

    const smc = this.bool(node, 'smc') ?? false;
    if (smc) this.fail(node, `smc="true": ARM SMC forwarding is not available on riscv64`);

    const cpu = Number(this.bigInt(node, 'cpu', 'u8') ?? 0n);
    if (cpu >= this.numCores) {
      this.fail(node, `cpu core must be less than ${this.numCores}, got ${cpu}`);
    }

    let domain: string | null = null;
    let domainId: number | null = null;
    const domainText = this.attr(node, 'domain');
    if (this.domains) {
      domain = this.required(node, 'domain');
      const did = this.domains.nameToId.get(domain);
      if (did === undefined) this.fail(node, `domain '${domain}' is not declared in <domains>`);
      domainId = did;
    } else if (domainText !== undefined) {
      this.fail(node, `domain="${domainText}" given, but no <domains> schedule is declared before this protection domain`);
    }

    if (stackBig < BigInt(PD_MIN_STACK_SIZE) || stackBig > BigInt(PD_MAX_STACK_SIZE)) {
      this.fail(node, `stack_size (${hex(stackBig)}) must be between ${hex(PD_MIN_STACK_SIZE)} and ${hex(PD_MAX_STACK_SIZE)} bytes`);
    }
    const stackSize = Number(stackBig);
    if (stackSize % SMALL_PAGE_SIZE !== 0) {
      this.fail(node, `stack_size (${hex(stackSize)}) must be a multiple of the smallest page size, ${SMALL_PAGE_SIZE} bytes`);
    }

    const priorityBig = this.bigInt(node, 'priority') ?? BigInt(PD_DEFAULT_PRIORITY);
    if (priorityBig > BigInt(PD_MAX_PRIORITY)) {
      this.fail(node, `priority (${priorityBig}) must be between 0 and ${PD_MAX_PRIORITY}`);
    }
    const priority = Number(priorityBig);
    const fpu = this.bool(node, 'fpu') ?? PD_DEFAULT_FPU;

    const maps: SdfMap[] = [];
    const irqs: Irq[] = [];
    const setvars: SetVar[] = [];
    const childDrafts: PdDraft[] = [];
    let programImage: string | null = null;
    let programImageForSymbols: string | null = null;
    let capMaps: CapMap[] | null = null;
    const maxVaddr = pdMapMaxVaddr(stackSize);

    for (const child of node.children) {
      switch (child.tag) {
        case 'program_image': {
          this.checkAttributes(child, ['path', 'path_for_symbols']);
          if (programImage !== null) {
            this.fail(child, `program_image must only be specified once in protection domain '${name}'`);
          }
          programImage = this.required(child, 'path');
          programImageForSymbols = this.attr(child, 'path_for_symbols') ?? null;
          break;
        }
        case 'map': {
          const map = this.parseMap(child, maxVaddr);
          if (map.setvarVaddr !== null) {
            this.addSetvar(setvars, { kind: 'vaddr', symbol: map.setvarVaddr, address: map.vaddr, pos: child.pos }, child);
          }
          if (map.setvarSize !== null) {
            this.addSetvar(setvars, { kind: 'size', symbol: map.setvarSize, mr: map.mr, pos: child.pos }, child);
          }
          if (map.setvarPrefillSize !== null) {
            this.addSetvar(setvars, { kind: 'prefill_size', symbol: map.setvarPrefillSize, mr: map.mr, pos: child.pos }, child);
          }
          maps.push(map);
          break;
        }
        case 'irq':
          irqs.push(this.parseIrq(child, setvars));
          break;
        case 'ioport':
          this.fail(child, `I/O ports (<ioport>) are only available on x86, not riscv64`);
        // falls through (fail never returns)
        case 'setvar': {
          this.checkAttributes(child, ['symbol', 'region_paddr']);
          const symbol = this.required(child, 'symbol');
          const region = this.required(child, 'region_paddr');
          this.addSetvar(setvars, { kind: 'paddr', symbol, region, pos: child.pos }, child);
          break;
        }
        case 'protection_domain': {
          const c = this.parsePd(child, true);
          if (c.setvarId !== null) {
            this.addSetvar(setvars, { kind: 'id', symbol: c.setvarId, id: c.id!, pos: child.pos }, child);
          }
          childDrafts.push(c);
          break;
        }
        case 'virtual_machine':
          this.fail(
            child,
            `virtual machines are not available: seL4 for riscv64 / qemu virt is not built as a hypervisor`,
          );
        // falls through (fail never returns)
        case 'cspace': {
          if (capMaps !== null) this.fail(child, `cspace must only be specified once in protection domain '${name}'`);
          capMaps = this.parseCspace(child);
          break;
        }
        default:
          this.invalidElement(child, 'protection_domain');
      }
    }

    if (programImage === null) {
      this.fail(node, `missing <program_image> element in protection domain '${name}'`);
    }
    for (const t of node.texts) this.warn(t.pos, `text '${t.text}' inside <${node.tag}> is ignored`);

    return {
      name,
      priority,
      budget,
      period,
      passive,
      stackSize,
      cpu,
      domain,
      domainId,
      fpu,
      programImage,
      programImageForSymbols,
      maps,
      irqs,
      setvars,
      capMaps: capMaps ?? [],
      id,
      setvarId,
      parent: null,
      childDrafts,
      children: childDrafts.map((c) => c.name),
      pos: node.pos,
    };
  }

  readPrefill(node: XmlElement, path: string): Uint8Array {
    const searchPaths = this.opts.searchPaths ?? ['.'];
    const read = this.opts.readFile ?? defaultReadFile;
    let bytes: Uint8Array | undefined;
    try {
      bytes = read(path, searchPaths);
    } catch {
      this.fail(node, `failed to read file '${path}' at prefill_path`);
    }
    if (bytes === undefined) {
      this.fail(node, `unable to find prefill file '${path}' (searched: ${searchPaths.join(', ')})`);
    }
    if (bytes.length === 0) this.fail(node, `prefill file '${path}' is empty`);
    return bytes;
  }

  parseMemoryRegion(node: XmlElement): MrDraft {
    if (this.attr(node, 'receive_all_untypeds') !== undefined) {
      this.fail(node, `attribute 'receive_all_untypeds' on <memory_region> is a newer Microkit feature this parser does not support`);
    }
    this.checkAttributes(node, MR_ATTRIBUTES);
    const name = this.required(node, 'name');
    const pageSizeBig = this.bigInt(node, 'page_size');
    const pageSizeSpecified = pageSizeBig !== undefined;
    const pageSizeValue = pageSizeBig ?? BigInt(SMALL_PAGE_SIZE);
    if (!PAGE_SIZES.some((p) => BigInt(p) === pageSizeValue)) {
      this.fail(
        node,
        `page_size ${hex(pageSizeValue)} of memory region '${name}' is not supported (riscv64: ${PAGE_SIZES.map(hex).join(', ')})`,
      );
    }
    const pageSize = Number(pageSizeValue) as PageSize;

    const prefillPath = this.attr(node, 'prefill_path') ?? null;
    const prefillBytes = prefillPath === null ? null : this.readPrefill(node, prefillPath);

    const bootinfoText = this.attr(node, 'prefill_bootinfo');
    let prefillBootinfo: 'fdt' | null = null;
    if (bootinfoText !== undefined) {
      if (X86_BOOTINFO.includes(bootinfoText)) {
        this.fail(node, `prefill_bootinfo="${bootinfoText}" is x86 boot information, not available on riscv64`);
      }
      if (bootinfoText !== 'fdt') this.fail(node, `prefill_bootinfo type '${bootinfoText}' is not supported`);
      prefillBootinfo = 'fdt';
    }
    if (prefillBytes !== null && prefillBootinfo !== null) {
      this.fail(node, `prefill_path and prefill_bootinfo cannot both be specified`);
    }

    let size: number;
    const sizeBig = this.bigInt(node, 'size');
    if (sizeBig !== undefined) {
      if (sizeBig % BigInt(pageSize) !== 0n) {
        this.fail(node, `size ${hex(sizeBig)} of memory region '${name}' is not a multiple of the page size ${hex(pageSize)}`);
      }
      size = this.num(node, 'size', sizeBig);
      if (prefillBytes !== null && prefillBytes.length > size) {
        this.fail(node, `size of prefill file exceeds memory region size: ${hex(prefillBytes.length)} > ${hex(size)}`);
      }
    } else if (prefillBootinfo !== null) {
      size = pageSize;
    } else if (prefillBytes !== null) {
      size = Math.ceil(prefillBytes.length / pageSize) * pageSize;
    } else {
      this.fail(node, `missing attribute 'size' on <memory_region> '${name}': size must be specified if the region is not prefilled`);
    }
    if (size === 0) this.warn(node.pos, `memory region '${name}' has size 0`);

    let physAddr: number | null = null;
    const physBig = this.bigInt(node, 'phys_addr');
    if (physBig !== undefined) {
      if (physBig % BigInt(pageSize) !== 0n) {
        this.fail(node, `phys_addr ${hex(physBig)} of memory region '${name}' is not aligned to the page size ${hex(pageSize)}`);
      }
      physAddr = this.num(node, 'phys_addr', physBig);
    }
    for (const t of node.texts) this.warn(t.pos, `text '${t.text}' inside <memory_region> is ignored`);
    if (node.children.length > 0) {
      // The tool ignores children of <memory_region>; nothing is allowed there per the manual.
      this.warn(node.children[0]!.pos, `<memory_region> takes no child elements; <${node.children[0]!.tag}> is ignored`);
    }
    return {
      name,
      size,
      pageSize,
      pageSizeSpecified,
      physAddr,
      physAddrKind: physAddr === null ? 'unspecified' : 'specified',
      prefillPath,
      prefillBytes,
      prefillBootinfo,
      pos: node.pos,
    };
  }

  parseChannelEnd(node: XmlElement, pds: ReadonlyMap<string, PdDraft>): ChannelEnd {
    if (node.tag !== 'end') this.invalidElement(node, 'channel');
    this.checkAttributes(node, END_ATTRIBUTES);
    const pd = this.required(node, 'pd');
    const id = this.parseId(node);
    const notify = this.bool(node, 'notify') ?? CHANNEL_END_DEFAULT_NOTIFY;
    const pp = this.bool(node, 'pp') ?? CHANNEL_END_DEFAULT_PP;
    if (!pds.has(pd)) this.fail(node, `invalid PD name '${pd}' on <end>: no such protection domain`);
    return { pd, id, notify, pp, setvarId: this.attr(node, 'setvar_id') ?? null, pos: node.pos };
  }

  parseChannel(node: XmlElement, pds: ReadonlyMap<string, PdDraft>): Channel {
    this.checkAttributes(node, []);
    const ends = node.children.map((c) => this.parseChannelEnd(c, pds));
    if (ends.length !== 2) {
      this.fail(node, `exactly two <end> elements must be specified in <channel>, found ${ends.length}`);
    }
    const [a, b] = ends as [ChannelEnd, ChannelEnd];
    if (a.pp && b.pp) this.fail(node, `cannot ppc bidirectionally: only one <end> of a channel may have pp="true"`);
    return { a, b, pos: node.pos };
  }

  parseDomains(node: XmlElement): DomainsState {
    this.checkAttributes(node, []);
    if (this.numCores !== 1) {
      this.fail(node, `the domain scheduler is not supported in multicore builds of seL4`);
    }
    const declared = new Map<string, { id: number | null; pos: SourcePos }>();
    const idToName = new Map<number, string>();
    let scheduleNode: XmlElement | null = null;
    for (const child of node.children) {
      if (child.tag === 'domain') {
        this.checkAttributes(child, ['name', 'id']);
        const name = this.required(child, 'name');
        const idBig = this.bigInt(child, 'id');
        let id: number | null = null;
        if (idBig !== undefined) {
          if (idBig >= BigInt(this.numDomains)) {
            this.fail(child, `domain id ${idBig} should be less than the configured KernelNumDomains value of ${this.numDomains}`);
          }
          id = Number(idBig);
        }
        const existing = declared.get(name);
        if (existing) {
          this.fail(child, `each <domain> name must be unique: '${name}' is already declared at ${where(existing.pos)}`);
        }
        declared.set(name, { id, pos: child.pos });
        if (id !== null) {
          const other = idToName.get(id);
          if (other !== undefined) {
            this.fail(child, `each <domain> id must be unique: domain '${other}' already has id ${id}`);
          }
          idToName.set(id, name);
        }
      } else if (child.tag === 'domain_schedule') {
        if (scheduleNode) this.fail(child, `the <domain_schedule> element can only appear once`);
        scheduleNode = child;
      } else {
        this.invalidElement(child, 'domains');
      }
    }
    if (!scheduleNode) this.fail(node, `the <domain_schedule> element must appear once in <domains>`);

    // Domains without an id get the smallest free id, in name order (the tool keeps them in a
    // sorted map).
    const nameToId = new Map<string, number>();
    for (const name of [...declared.keys()].sort()) {
      const d = declared.get(name)!;
      let id = d.id;
      if (id === null) {
        for (let i = 0; i < this.numDomains; i++) {
          if (!idToName.has(i)) {
            id = i;
            break;
          }
        }
        if (id === null) this.fail(node, `number of domains exceeds KernelNumDomains (${this.numDomains})`);
        idToName.set(id, name);
      }
      nameToId.set(name, id);
    }
    const domains: SchedulingDomain[] = [...declared.entries()].map(([name, d]) => ({
      name,
      id: nameToId.get(name)!,
      pos: d.pos,
    }));

    const sn = scheduleNode;
    this.checkAttributes(sn, ['index_shift', 'start_index']);
    const startIndex = this.bigInt(sn, 'start_index') ?? 0n;
    const indexShift = this.bigInt(sn, 'index_shift');
    const entries: DomainScheduleEntry[] = [];
    for (const child of sn.children) {
      if (child.tag === 'schedule_entry') {
        this.checkAttributes(child, ['domain', 'duration']);
        const domain = this.required(child, 'domain');
        const durationText = this.required(child, 'duration');
        const domainId = nameToId.get(domain);
        if (domainId === undefined) this.fail(child, `domain '${domain}' of <schedule_entry> does not exist in <domains>`);
        const space = durationText.indexOf(' ');
        if (space < 0) {
          this.fail(child, `duration '${durationText}' must contain a value and a unit, e.g. '1000 us'`);
        }
        const raw = durationText.slice(0, space);
        const unit = durationText.slice(space + 1);
        const r = parseSdfInteger(raw, 'u64');
        if ('error' in r) this.fail(child, `failed to parse duration value '${raw}' on <schedule_entry>: ${r.error}`);
        if (r.value === 0n) this.fail(child, `duration '${durationText}' must be non-zero`);
        if (unit !== 'us' && unit !== 'ticks') {
          this.fail(child, `duration '${durationText}' must be in either 'ticks' or 'us'`);
        }
        entries.push({ kind: 'entry', domain, domainId, duration: this.num(child, 'duration', r.value), unit, pos: child.pos });
      } else if (child.tag === 'schedule_end_marker') {
        this.checkAttributes(child, []);
        entries.push({ kind: 'end_marker', pos: child.pos });
      } else {
        this.invalidElement(child, 'domain_schedule');
      }
    }
    if (entries.length >= this.numDomainSchedules) {
      this.fail(
        sn,
        `${entries.length} schedule entries: there must be fewer than the configured KernelNumDomainSchedules (${this.numDomainSchedules})`,
      );
    }
    if (startIndex >= BigInt(entries.length)) {
      this.fail(sn, `start_index ${startIndex} is not less than the length of the schedule (${entries.length})`);
    }
    if (indexShift !== undefined && indexShift + BigInt(entries.length) >= BigInt(this.numDomainSchedules)) {
      this.fail(
        sn,
        `index_shift ${indexShift} on top of the schedule length ${entries.length} would exceed the configured KernelNumDomainSchedules (${this.numDomainSchedules})`,
      );
    }
    return {
      nameToId,
      schedule: {
        domains,
        startIndex: Number(startIndex),
        indexShift: indexShift === undefined ? null : Number(indexShift),
        entries,
        pos: node.pos,
      },
    };
  }

  // -- whole system ----------------------------------------------------------------------------

  flatten(pd: PdDraft, out: PdDraft[]): void {
    out.push(pd);
    const seen = new Map<number, PdDraft>();
    for (const c of pd.childDrafts) {
      const prev = seen.get(c.id!);
      if (prev) {
        this.fail(c.pos, `duplicate child id ${c.id} in protection domain '${pd.name}' (also used by '${prev.name}' at ${where(prev.pos)})`);
      }
      seen.set(c.id!, c);
    }
    for (const c of pd.childDrafts) {
      c.parent = pd.name;
      this.flatten(c, out);
    }
  }

  parseSystem(root: XmlElement): SystemDescription {
    if (root.tag !== 'system') this.fail(root, `the root element must be <system>, found <${root.tag}>`);
    // The tool rejects text directly inside <system>; elsewhere it ignores it.
    for (const t of root.texts) this.fail(t.pos, `unexpected text '${t.text}' found in element 'system'`);

    const rootPds: PdDraft[] = [];
    const mrs: MrDraft[] = [];
    const channelNodes: XmlElement[] = [];
    for (const child of root.children) {
      switch (child.tag) {
        case 'protection_domain':
          rootPds.push(this.parsePd(child, false));
          break;
        case 'channel':
          channelNodes.push(child);
          break;
        case 'memory_region':
          mrs.push(this.parseMemoryRegion(child));
          break;
        case 'io_address_space':
          this.fail(child, `<io_address_space> requires seL4 built with IOMMU support, which riscv64 / qemu virt does not have`);
        // falls through (fail never returns)
        case 'virtual_machine':
          this.fail(child, `<virtual_machine> must be a child of a protection domain (and is not available on riscv64)`);
        // falls through (fail never returns)
        case 'cnode':
          this.fail(
            child,
            `<cnode> (CNodes shared through <cap_cspace>) is a newer Microkit feature this parser does not support`,
          );
        // falls through (fail never returns)
        case 'domains':
          if (this.domains) this.fail(child, `<domains> must only be specified once`);
          this.domains = this.parseDomains(child);
          break;
        default:
          this.invalidElement(child, 'system');
      }
    }

    const drafts: PdDraft[] = [];
    for (const pd of rootPds) this.flatten(pd, drafts);

    if (drafts.length === 0) this.fail(root, `at least one protection domain must be defined`);
    if (drafts.length > MAX_PDS) {
      this.fail(drafts[MAX_PDS]!.pos, `too many protection domains (${drafts.length}) defined; the maximum is ${MAX_PDS}`);
    }
    const pdByName = new Map<string, PdDraft>();
    for (const pd of drafts) {
      const prev = pdByName.get(pd.name);
      if (prev) this.fail(pd.pos, `duplicate protection domain name '${pd.name}' (first defined at ${where(prev.pos)})`);
      if (pd.name === MONITOR_PD_NAME) this.fail(pd.pos, `the PD name '${MONITOR_PD_NAME}' is reserved for the Microkit monitor`);
      pdByName.set(pd.name, pd);
    }

    const channels: Channel[] = [];
    for (const node of channelNodes) {
      const ch = this.parseChannel(node, pdByName);
      for (const end of [ch.a, ch.b]) {
        if (end.setvarId !== null) {
          this.addSetvar(pdByName.get(end.pd)!.setvars, { kind: 'id', symbol: end.setvarId, id: end.id, pos: end.pos }, node);
        }
      }
      channels.push(ch);
    }

    for (const pd of drafts) {
      for (const cm of pd.capMaps) {
        if (!pdByName.has(cm.pd)) this.fail(cm.pos, `unknown PD name '${cm.pd}' in <cap_${cm.type}>`);
      }
    }

    const mrByName = new Map<string, MrDraft>();
    for (const mr of mrs) {
      const prev = mrByName.get(mr.name);
      if (prev) this.fail(mr.pos, `duplicate memory region name '${mr.name}' (first defined at ${where(prev.pos)})`);
      mrByName.set(mr.name, mr);
    }

    // Each hardware IRQ may belong to one PD only.
    const irqOwner = new Map<number, { pd: string; pos: SourcePos }>();
    for (const pd of drafts) {
      for (const irq of pd.irqs) {
        const prev = irqOwner.get(irq.irq);
        if (prev) {
          this.fail(irq.pos, `duplicate irq ${irq.irq} in protection domain '${pd.name}' (already used by '${prev.pd}' at ${where(prev.pos)})`);
        }
        irqOwner.set(irq.irq, { pd: pd.name, pos: irq.pos });
      }
    }

    // Channel ids of a PD: IRQ ids and channel end ids share one space per PD.
    const ids = new Map<string, Map<number, SourcePos>>();
    for (const pd of drafts) {
      const m = new Map<number, SourcePos>();
      for (const irq of pd.irqs) {
        const prev = m.get(irq.id);
        if (prev) this.fail(irq.pos, `duplicate channel id ${irq.id} in protection domain '${pd.name}' (also used at ${where(prev)})`);
        m.set(irq.id, irq.pos);
      }
      ids.set(pd.name, m);
    }
    for (const ch of channels) {
      for (const end of [ch.a, ch.b]) {
        const m = ids.get(end.pd)!;
        const prev = m.get(end.id);
        if (prev) this.fail(end.pos, `duplicate channel id ${end.id} in protection domain '${end.pd}' (also used at ${where(prev)})`);
        m.set(end.id, end.pos);
      }
      for (const [caller, callee] of [
        [ch.a, ch.b],
        [ch.b, ch.a],
      ] as const) {
        if (!caller.pp) continue;
        const from = pdByName.get(caller.pd)!;
        const to = pdByName.get(callee.pd)!;
        if (from.priority >= to.priority) {
          this.fail(
            caller.pos,
            `PPCs must be to protection domains of strictly higher priority; channel with PPC exists from pd ${from.name} (priority: ${from.priority}) to pd ${to.name} (priority: ${to.priority})`,
          );
        }
      }
    }

    // Maps: region exists, alignment, inside the address space, no overlap within a PD.
    for (const pd of drafts) {
      const maxEnd = pdMapMaxVaddr(pd.stackSize);
      const placed: { mr: string; start: number; end: number; pos: SourcePos }[] = [];
      for (const map of pd.maps) {
        const mr = mrByName.get(map.mr);
        if (!mr) this.fail(map.pos, `invalid memory region name '${map.mr}' on <map>: no such memory region`);
        if (map.vaddr % mr.pageSize !== 0) {
          this.fail(map.pos, `invalid vaddr alignment on <map>: ${hex(map.vaddr)} is not a multiple of the page size ${hex(mr.pageSize)} of '${mr.name}'`);
        }
        const start = map.vaddr;
        const end = start + mr.size;
        if (end > maxEnd) {
          this.fail(
            map.pos,
            `map for '${map.mr}' has virtual address range [${hex(start)}..${hex(end)}) which exceeds the valid address space [0x0..${hex(maxEnd)}) of protection domain '${pd.name}'`,
          );
        }
        for (const p of placed) {
          if (!(start >= p.end || end <= p.start)) {
            this.fail(
              map.pos,
              `map for '${map.mr}' has virtual address range [${hex(start)}..${hex(end)}) which overlaps with map for '${p.mr}' [${hex(p.start)}..${hex(p.end)}) (at ${where(p.pos)}) in protection domain '${pd.name}'`,
            );
          }
        }
        placed.push({ mr: map.mr, start, end, pos: map.pos });
      }
    }

    // Cap maps: one per destination slot.
    for (const pd of drafts) {
      const bySlot = new Map<number, CapMap>();
      for (const cm of pd.capMaps) {
        const prev = bySlot.get(cm.slot);
        if (prev) {
          this.fail(
            cm.pos,
            `overlapping user caps in slot ${cm.slot} of protection domain '${pd.name}': cap_${cm.type} from '${cm.pd}' and cap_${prev.type} from '${prev.pd}' (at ${where(prev.pos)})`,
          );
        }
        bySlot.set(cm.slot, cm);
      }
    }

    // Regions at fixed physical addresses must not overlap.
    const fixed: MrDraft[] = [];
    for (const mr of mrs) {
      if (mr.physAddr === null) continue;
      const start = mr.physAddr;
      const end = start + mr.size;
      for (const o of fixed) {
        const oStart = o.physAddr!;
        const oEnd = oStart + o.size;
        if (!(start >= oEnd || end <= oStart)) {
          this.fail(
            mr.pos,
            `memory region '${mr.name}' physical address range [${hex(start)}..${hex(end)}) overlaps with another memory region '${o.name}' [${hex(oStart)}..${hex(oEnd)}) (at ${where(o.pos)})`,
          );
        }
      }
      fixed.push(mr);
    }

    // Unused regions are only a warning.
    const allMaps = drafts.flatMap((pd) => pd.maps);
    for (const mr of mrs) {
      if (!allMaps.some((m) => m.mr === mr.name)) this.warn(mr.pos, `unused memory region '${mr.name}'`);
    }

    // Page-size promotion: a region whose page size was not given uses the largest page size
    // that its size, every vaddr it is mapped at and its phys_addr are aligned to.
    for (const mr of mrs) {
      if (mr.pageSizeSpecified) continue;
      const largest = [...PAGE_SIZES].reverse().find((p) => mr.size % p === 0)!;
      if (mr.pageSize === largest) continue;
      const addrs = allMaps.filter((m) => m.mr === mr.name).map((m) => m.vaddr);
      if (mr.physAddr !== null) addrs.push(mr.physAddr);
      for (const larger of PAGE_SIZES.filter((p) => p > mr.pageSize).reverse()) {
        if (addrs.some((a) => a % larger !== 0)) continue;
        mr.pageSize = larger;
      }
    }

    // setvar region_paddr makes the tool pick a physical address; setvar_prefill_size needs a
    // prefilled region.
    for (const pd of drafts) {
      for (const sv of pd.setvars) {
        if (sv.kind === 'paddr') {
          const mr = mrByName.get(sv.region);
          if (!mr) this.fail(sv.pos, `setvar '${sv.symbol}': region_paddr names unknown memory region '${sv.region}'`);
          if (mr.physAddrKind === 'unspecified') mr.physAddrKind = 'tool_allocated';
        } else if (sv.kind === 'prefill_size') {
          const mr = mrByName.get(sv.mr);
          if (mr && mr.prefillBytes === null) {
            this.fail(sv.pos, `'setvar_prefill_size' used for memory region '${mr.name}' (at ${where(mr.pos)}) without a 'prefill_path'`);
          }
        }
      }
    }

    this.extraWarnings(drafts, channels);

    const system: SystemDescription = {
      fileName: this.file,
      protectionDomains: drafts.map(freezePd),
      memoryRegions: mrs.map((mr) => ({ ...mr, pageCount: mr.size / mr.pageSize })),
      channels,
      domains: this.domains?.schedule ?? null,
      warnings: this.warnings,
      pos: root.pos,
    };
    return system;
  }

  /** Things the tool accepts but that are almost certainly mistakes. */
  extraWarnings(drafts: readonly PdDraft[], channels: readonly Channel[]): void {
    for (const pd of drafts) {
      if (pd.name.length > PD_MAX_NAME_LENGTH) {
        this.warn(pd.pos, `protection domain name '${pd.name}' is longer than ${PD_MAX_NAME_LENGTH} characters and will be truncated`);
      }
      if (pd.id !== null && pd.id > PD_MAX_ID) {
        this.warn(pd.pos, `child id ${pd.id} of '${pd.name}' is larger than ${PD_MAX_ID}; libmicrokit cannot address it`);
      }
      if (pd.passive) {
        const reachable =
          pd.irqs.length > 0 ||
          channels.some(
            (ch) => (ch.a.pd === pd.name && (ch.b.pp || ch.b.notify)) || (ch.b.pd === pd.name && (ch.a.pp || ch.a.notify)),
          );
        if (!reachable) {
          this.warn(pd.pos, `passive protection domain '${pd.name}' has no IRQ and no channel that can call or notify it: it can never run after init`);
        }
      }
    }
    for (const ch of channels) {
      if (ch.a.pd === ch.b.pd) this.warn(ch.pos, `channel connects protection domain '${ch.a.pd}' to itself`);
    }
  }
}

function freezePd(d: PdDraft): ProtectionDomain {
  return {
    name: d.name,
    priority: d.priority,
    budget: d.budget,
    period: d.period,
    passive: d.passive,
    stackSize: d.stackSize,
    smc: false,
    cpu: d.cpu,
    domain: d.domain,
    domainId: d.domainId,
    fpu: d.fpu,
    programImage: d.programImage,
    programImageForSymbols: d.programImageForSymbols,
    maps: d.maps,
    irqs: d.irqs,
    setvars: d.setvars,
    capMaps: d.capMaps,
    id: d.id,
    setvarId: d.setvarId,
    parent: d.parent,
    children: d.children,
    pos: d.pos,
  };
}

interface NodeFs {
  existsSync(p: string): boolean;
  readFileSync(p: string): Uint8Array;
}
interface NodePath {
  isAbsolute(p: string): boolean;
  join(...parts: string[]): string;
}

/** Default `prefill_path` reader: the path as given if absolute, else under each search path. */
function defaultReadFile(path: string, searchPaths: readonly string[]): Uint8Array | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  const np = proc?.getBuiltinModule?.('node:path') as NodePath | undefined;
  if (!fs || !np) throw new Error('no file system available; pass ParseOptions.readFile');
  const candidates = np.isAbsolute(path) ? [path] : searchPaths.map((sp) => np.join(sp, path));
  for (const c of candidates) {
    if (fs.existsSync(c)) return fs.readFileSync(c);
  }
  return undefined;
}

function isPluginList(p: SdfPlugin | readonly SdfPlugin[]): p is readonly SdfPlugin[] {
  return Array.isArray(p);
}

/**
 * Parses and validates a Microkit System Description File for riscv64 / QEMU virt.
 * @param xml the file's text
 * @param fileName used in error messages (`file:line:col: ...`)
 * @throws SdfError for malformed XML and for every rule the Microkit tool enforces
 */
export function parseSystem(xml: string, fileName: string, opts: ParseOptions = {}): SystemDescription {
  let root: XmlElement;
  try {
    root = parseXmlDocument(xml, fileName);
  } catch (e) {
    if (e instanceof XmlSyntaxError) throw new SdfError(e.pos, e.problem);
    throw e;
  }
  const parser = new Parser(fileName, opts);
  const system = parser.parseSystem(root);
  const plugins: readonly SdfPlugin[] =
    opts.plugin === undefined ? [] : isPluginList(opts.plugin) ? opts.plugin : [opts.plugin];
  for (const plugin of plugins) {
    plugin.check(system, {
      error: (pos, problem) => {
        throw new SdfError(pos, `${problem} [${plugin.name}]`);
      },
      warn: (pos, message) => {
        parser.warnings.push({ pos, message: `${message} [${plugin.name}]` });
      },
    });
  }
  return system;
}

// Differences from the Microkit tool, on purpose:
// - Integers above 2^53-1 (addresses, sizes, times) are rejected: sel4ts keeps them as numbers.
// - Positions: every error names the offending element (the tool sometimes names the PD, or
//   nothing, e.g. for duplicate names); the wording is ours.
// - A channel whose two ends are the same PD with the same id is rejected (the tool checks
//   both ends before recording either).
// - `<setvar region_paddr>` naming an unknown region is rejected here (the tool fails later,
//   while building).
// - x86 `prefill_bootinfo` kinds are rejected on riscv64; domain ids are auto-assigned below
//   KernelNumDomains (the tool's loop also allows KernelNumDomains itself).
// - Not checked, as they need the program image: maps overlapping the ELF segments.
// - Not supported (seen in newer Microkit examples, rules not available to us): <cnode>,
//   <cap_cspace>, memory_region receive_all_untypeds. They are rejected with a clear error.
