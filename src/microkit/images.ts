/**
 * Program images: what `<program_image path="...">` names for sel4ts.
 *
 * - `foo.ts` (or .mts): a TypeScript PD program next to the .system file; sel4ts
 *   runs its compiled JavaScript: `foo.js` beside it, or, when the file lives in
 *   this repository, `dist/<same relative path>/foo.js` (what `npm run build` emits).
 * - `foo.js` / `foo.mjs`: a JavaScript module, used as is.
 * - anything else, e.g. an ELF file: not supported yet (sel4ts runs TypeScript
 *   PD programs; running RISC-V ELF PDs on the emulated hart is separate work).
 *
 * Each PD gets its own instance of its module (imported with a per-PD query
 * string), as each PD has its own copy of its ELF image: module-level state is
 * private to the PD, and the `setvar` object can be patched per PD.
 */
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MicrokitProgram } from './libmicrokit.js';
import type { SdfPlugin, SystemDescription } from './sdf.js';

/** A program given directly (tests, embedders): an object, or a factory called once per PD. */
export type ProgramSource = MicrokitProgram | (() => MicrokitProgram);

/** The repository root when running from dist/src/microkit/ (or src/microkit/ under a TS runner). */
function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up2 = resolve(here, '..', '..');
  return up2.endsWith(`${sep}dist`) ? dirname(up2) : up2;
}

export type ResolvedImage = { ok: true; path: string } | { ok: false; problem: string };

function isElf(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    closeSync(fd);
    return b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
  } catch {
    return false;
  }
}

/** Resolve a program image path (relative to the .system file's directory) to a JavaScript module. */
export function resolveImage(image: string, systemDir: string): ResolvedImage {
  const abs = isAbsolute(image) ? image : resolve(systemDir, image);
  const ext = extname(abs).toLowerCase();
  if (ext === '.js' || ext === '.mjs') {
    return existsSync(abs) ? { ok: true, path: abs } : { ok: false, problem: `program image '${image}' not found (looked for ${abs})` };
  }
  if (ext === '.ts' || ext === '.mts') {
    const jsName = abs.slice(0, -ext.length) + (ext === '.ts' ? '.js' : '.mjs');
    const candidates = [jsName];
    const root = repoRoot();
    const rel = relative(root, jsName);
    if (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`dist${sep}`)) candidates.push(join(root, 'dist', rel));
    for (const c of candidates) if (existsSync(c)) return { ok: true, path: c };
    if (existsSync(abs)) {
      return { ok: false, problem: `program image '${image}' has not been compiled (looked for ${candidates.join(' and ')}; run npm run build)` };
    }
    return { ok: false, problem: `program image '${image}' not found (looked for ${abs})` };
  }
  if (isElf(abs)) {
    return {
      ok: false,
      problem: `program image '${image}' is an ELF file: sel4ts runs TypeScript PD programs (.ts/.js modules); ELF protection domains are not supported yet`,
    };
  }
  if (!existsSync(abs)) return { ok: false, problem: `program image '${image}' not found (looked for ${abs})` };
  return { ok: false, problem: `program image '${image}' is not a TypeScript or JavaScript module (.ts, .js or .mjs)` };
}

/** SDF plugin for `sel4ts check`: every program image must resolve (or be provided). */
export function programImagePlugin(systemDir: string, provided: ReadonlySet<string> = new Set()): SdfPlugin {
  return {
    name: 'sel4ts program images',
    check(system, ctx) {
      for (const pd of system.protectionDomains) {
        if (provided.has(pd.programImage)) continue;
        const r = resolveImage(pd.programImage, systemDir);
        if (!r.ok) ctx.error(pd.pos, `protection domain '${pd.name}': ${r.problem}`);
      }
    },
  };
}

/** A PD program could not be loaded. */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

function validate(m: Partial<MicrokitProgram>, pdName: string, image: string): MicrokitProgram {
  for (const fn of ['init', 'notified'] as const) {
    if (typeof m[fn] !== 'function') throw new ImageError(`program image '${image}' for PD '${pdName}' does not export a '${fn}' entry point`);
  }
  for (const fn of ['protected', 'fault'] as const) {
    if (m[fn] !== undefined && typeof m[fn] !== 'function') throw new ImageError(`program image '${image}' for PD '${pdName}': '${fn}' is not a function`);
  }
  return m as MicrokitProgram;
}

/** Systems loaded so far in this process (module instances are per load). */
let loads = 0;

/**
 * Load the program of every PD. `provided` maps a program_image string to a
 * program given directly; other images are resolved and imported.
 */
export async function loadPrograms(
  system: SystemDescription,
  systemDir: string,
  provided: ReadonlyMap<string, ProgramSource> = new Map(),
): Promise<Map<string, MicrokitProgram>> {
  const out = new Map<string, MicrokitProgram>();
  loads++;
  for (const pd of system.protectionDomains) {
    const src = provided.get(pd.programImage);
    if (src !== undefined) {
      out.set(pd.name, validate(typeof src === 'function' ? src() : src, pd.name, pd.programImage));
      continue;
    }
    const r = resolveImage(pd.programImage, systemDir);
    if (!r.ok) throw new ImageError(`${pd.pos.file}:${pd.pos.line}:${pd.pos.column}: protection domain '${pd.name}': ${r.problem}`);
    // A fresh module instance per PD and per loaded system, as each PD of
    // each booted image has its own copy of the program's data.
    const url = `${pathToFileURL(r.path).href}?pd=${encodeURIComponent(pd.name)}&image=${loads}`;
    const mod = (await import(url)) as Partial<MicrokitProgram>;
    out.set(pd.name, validate(mod, pd.name, pd.programImage));
  }
  return out;
}
