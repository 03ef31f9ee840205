/**
 * Static checks of a system description for sel4ts (what `sel4ts check`
 * runs): the Microkit tool's rules (sdf.ts), program images that sel4ts can
 * run (images.ts), and the features the sel4ts builder does not support.
 * This module does not load the kernel.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { programImagePlugin } from './images.js';
import { PD_IMAGE_BASE, PD_IMAGE_SIZE } from './layout.js';
import { parseSystem, type SdfMap, type SystemDescription } from './sdf.js';

function at(pos: { file: string; line: number; column: number }): string {
  return `${pos.file}:${pos.line}:${pos.column}`;
}

function mapSize(sys: SystemDescription, m: SdfMap): number {
  return sys.memoryRegions.find((r) => r.name === m.mr)?.size ?? 0;
}

/** Reject what the sel4ts builder does not do (yet), with the position of the offending element. */
export function unsupportedFeature(sys: SystemDescription): string | null {
  for (const pd of sys.protectionDomains) {
    const cm = pd.capMaps[0];
    if (cm !== undefined) return `${at(cm.pos)}: <cspace> cap maps are not supported by the sel4ts builder`;
    for (const m of pd.maps) {
      if (m.vaddr < PD_IMAGE_BASE + PD_IMAGE_SIZE && PD_IMAGE_BASE < m.vaddr + mapSize(sys, m)) {
        return (
          `${at(m.pos)}: mapping '${m.mr}' into '${pd.name}' overlaps the program image at ` +
          `[0x${PD_IMAGE_BASE.toString(16)}, 0x${(PD_IMAGE_BASE + PD_IMAGE_SIZE).toString(16)}) (the IPC buffer of a TypeScript PD)`
        );
      }
    }
  }
  if (sys.domains !== null) return `${at(sys.domains.pos)}: domain scheduling is not supported by the sel4ts builder`;
  for (const mr of sys.memoryRegions) {
    if (mr.prefillBootinfo !== null) return `${at(mr.pos)}: prefill_bootinfo is not supported by the sel4ts builder`;
  }
  return null;
}

/**
 * Parse a .system file with the program-image check. `provided` names
 * program_image strings whose programs are given directly (no file needed).
 * @throws SdfError (file:line:col) for any invalid description
 */
export function checkSystemFile(
  file: string,
  xml?: string,
  provided: ReadonlySet<string> = new Set(),
  numCores = 1,
): SystemDescription {
  const text = xml ?? readFileSync(file, 'utf8');
  const dir = dirname(resolve(file));
  return parseSystem(text, file, { searchPaths: [dir], plugin: programImagePlugin(dir, provided), numCores });
}
