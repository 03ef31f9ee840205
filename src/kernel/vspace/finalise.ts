/**
 * Finalising RISC-V architecture caps: a frame or page table whose cap is
 * deleted is unmapped; a VSpace root loses its ASID; an ASID pool is removed
 * from the ASID table.
 */
import { Cap, CapType } from '../cap.js';
import type { Kernel } from '../kernel.js';
import { deleteASID, deleteASIDPool, findVSpaceForASID, unmapPage, unmapPageTable } from './vspace.js';

export function archFinaliseCap(k: Kernel, cap: Cap, final: boolean): void {
  switch (cap.type) {
    case CapType.Frame:
      if (cap.isMapped) unmapPage(k, cap);
      return;
    case CapType.PageTable:
      if (final && cap.isMapped) {
        if (findVSpaceForASID(k, cap.mappedASID) === cap.paddr) deleteASID(k, cap.mappedASID, cap.paddr);
        else unmapPageTable(k, cap.mappedASID, cap.mappedAddr, cap.paddr);
      }
      return;
    case CapType.ASIDPool:
      if (final) deleteASIDPool(k, cap.word, cap);
      return;
    default:
      return;
  }
}
