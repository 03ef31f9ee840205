/**
 * Text formatting for the command line: the per-PD summary table.
 */
import type { PdSummary } from '../microkit/system.js';

export function ms(ns: number, digits = 3): string {
  return (ns / 1e6).toFixed(digits);
}

/** Right-align numbers, left-align text, two spaces between columns. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export interface ExtraThread {
  name: string;
  priority: number;
  cpuNs: number;
  syscalls: number;
  state: string;
}

/** The summary printed after a run: one row per PD, then the monitor and the initialiser. */
export function summaryTable(pds: readonly PdSummary[], extra: readonly ExtraThread[], cores = 1): string {
  const header = ['PD', 'prio', 'budget/period us', 'CPU ms', 'syscalls', 'IPC in', 'signals in', 'faults', 'state'];
  const numeric = [false, true, true, true, true, true, true, true, false];
  const rows = pds.map((p) => [
    p.name + (p.passive ? ' (passive)' : ''),
    String(p.priority),
    `${p.budgetUs}/${p.periodUs}`,
    ms(p.cpuNs),
    String(p.syscalls),
    String(p.ipcIn),
    String(p.signalsIn),
    String(p.faults),
    p.state,
  ]);
  for (const t of extra) rows.push([`(${t.name})`, String(t.priority), '', ms(t.cpuNs), String(t.syscalls), '', '', '', t.state]);
  if (cores > 1) {
    // With several cores, each PD's cpu (the monitor and initialiser run on core 0).
    header.splice(2, 0, 'cpu');
    numeric.splice(2, 0, true);
    rows.forEach((r, i) => r.splice(2, 0, i < pds.length ? String(pds[i]!.cpu) : '0'));
  }
  return table(header, rows, numeric);
}
