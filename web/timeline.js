// Scheduling timeline on a canvas: one row per thread, time on x, the
// slices during which each thread was current, and markers for IPC (arrows
// from sender to receiver), scheduling-context donation, signals, faults,
// errors, postponement until the next refill, exits, retypes/maps and
// snapshot times. Wheel zooms, drag pans, double-click resets, click selects
// the snapshot at or before the clicked time.

export function fmtTime(ns) {
  if (!Number.isFinite(ns)) return String(ns);
  const a = Math.abs(ns);
  if (a < 1e3) return `${+ns.toFixed(1)} ns`;
  if (a < 1e6) return `${+(ns / 1e3).toPrecision(4)} µs`;
  if (a < 1e9) return `${+(ns / 1e6).toPrecision(4)} ms`;
  return `${+(ns / 1e9).toPrecision(4)} s`;
}

/** Colour of a thread by its position in the trace's thread list. */
export function threadColours(threads) {
  const out = new Map();
  let n = 0;
  for (const t of threads) {
    if (t.isIdle) out.set(t.tid, '#b8bcc4');
    else out.set(t.tid, `hsl(${(n++ * 137.508 + 200) % 360} 62% 55%)`);
  }
  return out;
}

export const MARKER_STYLE = {
  ipc: { colour: '#1d3f8f', label: 'IPC (arrow: sender → receiver)' },
  donate: { colour: '#8a3ffc', label: 'SC donation' },
  signal: { colour: '#c48a00', label: 'signal' },
  fault: { colour: '#da1e28', label: 'fault' },
  timeout: { colour: '#a2191f', label: 'timeout (budget exhausted)' },
  release: { colour: '#24a148', label: 'released (refill ready)' },
  error: { colour: '#ff832b', label: 'syscall error' },
  postpone: { colour: '#6f6f6f', label: 'postponed until refill' },
  exit: { colour: '#161616', label: 'thread exit' },
  retype: { colour: '#007d79', label: 'retype / map' },
  irq: { colour: '#9f1853', label: 'interrupt' },
};

/** Detail keys that only repeat what the viewer shows otherwise (thread ids). */
export function hiddenDetail(k) {
  return k.endsWith('Tid') || k === 'fromId' || k === 'toId';
}

const ROW_H = 24;
const AXIS_H = 28;
const GUTTER = 190;
const PAD_R = 16;

function niceStep(span, px) {
  const target = span / Math.max(1, px / 110);
  const p = 10 ** Math.floor(Math.log10(target));
  for (const m of [1, 2, 5, 10]) if (p * m >= target) return p * m;
  return p * 10;
}

export class Timeline {
  constructor(canvas, tooltip, { onSelectTime, onViewChange } = {}) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.onSelectTime = onSelectTime ?? (() => {});
    this.onViewChange = onViewChange ?? (() => {});
    this.trace = null;
    this.selectedSnapshot = -1;
    this.hits = [];
    this.drag = null;
    canvas.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    canvas.addEventListener('mousedown', (e) => this.down(e));
    window.addEventListener('mousemove', (e) => this.move(e));
    window.addEventListener('mouseup', (e) => this.up(e));
    canvas.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    canvas.addEventListener('dblclick', () => this.resetView());
    window.addEventListener('resize', () => this.draw());
  }

  setTrace(trace) {
    this.trace = trace;
    this.colours = threadColours(trace.threads);
    // Rows: every thread that ran or appears in an event, idle last.
    const used = new Set(trace.slices.map((s) => s.tid));
    for (const e of trace.events) {
      used.add(e.cur);
      for (const k of ['fromTid', 'toTid', 'threadTid']) if (typeof e.d[k] === 'number') used.add(e.d[k]);
    }
    const rows = trace.threads.filter((t) => used.has(t.tid) || !t.isIdle);
    rows.sort((a, b) => (a.isIdle - b.isIdle) || a.tid - b.tid);
    this.rows = rows;
    this.rowOf = new Map(rows.map((t, i) => [t.tid, i]));
    this.resetView();
  }

  resetView() {
    if (this.trace === null) return;
    const m = this.trace.meta;
    const span = Math.max(1, m.endTime - m.startTime);
    this.t0 = m.startTime;
    this.t1 = m.startTime + span;
    this.draw();
    this.onViewChange(this.t0, this.t1);
  }

  setView(t0, t1) {
    this.t0 = t0;
    this.t1 = Math.max(t1, t0 + 1);
    this.draw();
    this.onViewChange(this.t0, this.t1);
  }

  zoom(factor, atX) {
    const w = this.plotWidth();
    const frac = atX === undefined ? 0.5 : Math.min(1, Math.max(0, (atX - GUTTER) / w));
    const at = this.t0 + frac * (this.t1 - this.t0);
    const span = Math.max(10, (this.t1 - this.t0) * factor);
    this.setView(at - frac * span, at - frac * span + span);
  }

  plotWidth() {
    return Math.max(10, this.canvas.clientWidth - GUTTER - PAD_R);
  }

  x(t) {
    return GUTTER + ((t - this.t0) / (this.t1 - this.t0)) * this.plotWidth();
  }

  timeAt(px) {
    return this.t0 + ((px - GUTTER) / this.plotWidth()) * (this.t1 - this.t0);
  }

  rowY(tid) {
    const r = this.rowOf.get(tid);
    return r === undefined ? null : AXIS_H + r * ROW_H;
  }

  wheel(e) {
    if (this.trace === null) return;
    e.preventDefault();
    const rect = this.canvas.getBoundingClientRect();
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      const d = (e.shiftKey ? e.deltaY : e.deltaX) / this.plotWidth();
      const span = this.t1 - this.t0;
      this.setView(this.t0 + d * span, this.t1 + d * span);
    } else {
      this.zoom(e.deltaY > 0 ? 1.25 : 0.8, e.clientX - rect.left);
    }
  }

  down(e) {
    if (this.trace === null) return;
    const rect = this.canvas.getBoundingClientRect();
    this.drag = { x: e.clientX, t0: this.t0, t1: this.t1, moved: false, px: e.clientX - rect.left };
  }

  move(e) {
    if (this.trace === null) return;
    const rect = this.canvas.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    if (this.drag !== null) {
      const dx = e.clientX - this.drag.x;
      if (Math.abs(dx) > 3) this.drag.moved = true;
      if (this.drag.moved) {
        const dt = (dx / this.plotWidth()) * (this.drag.t1 - this.drag.t0);
        this.setView(this.drag.t0 - dt, this.drag.t1 - dt);
      }
      return;
    }
    if (px < 0 || py < 0 || px > rect.width || py > rect.height) return;
    this.hover(px, py, e.clientX, e.clientY);
  }

  up() {
    if (this.drag === null) return;
    const d = this.drag;
    this.drag = null;
    if (!d.moved && d.px >= GUTTER) this.onSelectTime(this.timeAt(d.px));
  }

  hover(px, py, cx, cy) {
    let best = null;
    let bestD = 7;
    for (const h of this.hits) {
      const d = Math.hypot(h.x - px, h.y - py);
      if (d < bestD) {
        bestD = d;
        best = h.text;
      }
    }
    if (best === null && px >= GUTTER && py >= AXIS_H) {
      const row = Math.floor((py - AXIS_H) / ROW_H);
      const t = this.timeAt(px);
      const th = this.rows[row];
      if (th !== undefined) {
        const s = this.trace.slices.find((s) => s.tid === th.tid && s.start <= t && t < s.end);
        if (s !== undefined) {
          const where = typeof s.core === 'number' ? ` on core ${s.core}` : '';
          best = `${th.name} running${where}\n${fmtTime(s.start)} → ${fmtTime(s.end)} (${fmtTime(s.end - s.start)})`;
        }
      }
    }
    const tip = this.tooltip;
    if (best === null) {
      tip.hidden = true;
      return;
    }
    tip.textContent = best;
    tip.hidden = false;
    const parent = tip.offsetParent?.getBoundingClientRect() ?? { left: 0, top: 0 };
    tip.style.left = `${cx - parent.left + 14}px`;
    tip.style.top = `${cy - parent.top + 14}px`;
  }

  nameOf(tid) {
    const t = this.trace.threads.find((x) => x.tid === tid);
    return t === undefined ? `tid ${tid}` : t.name;
  }

  draw() {
    const c = this.canvas;
    if (this.trace === null) return;
    const rows = this.rows;
    const cssW = c.clientWidth;
    const cssH = AXIS_H + rows.length * ROW_H + 8;
    c.style.height = `${cssH}px`;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(cssW * dpr);
    c.height = Math.round(cssH * dpr);
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cssW, cssH);
    g.font = '12px system-ui, sans-serif';
    g.textBaseline = 'middle';
    this.hits = [];
    const { t0, t1 } = this;
    const right = GUTTER + this.plotWidth();

    // Row backgrounds and names.
    rows.forEach((t, i) => {
      const y = AXIS_H + i * ROW_H;
      g.fillStyle = i % 2 === 0 ? '#f7f8fa' : '#ffffff';
      g.fillRect(0, y, right, ROW_H);
      g.fillStyle = this.colours.get(t.tid);
      g.fillRect(8, y + 7, 10, 10);
      g.fillStyle = '#161616';
      const label = `${t.name}`;
      g.fillText(label.length > 24 ? label.slice(0, 23) + '…' : label, 24, y + ROW_H / 2);
    });

    // Axis.
    const step = niceStep(t1 - t0, this.plotWidth());
    g.strokeStyle = '#e0e0e0';
    g.fillStyle = '#525252';
    g.textAlign = 'center';
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      const x = this.x(t);
      g.beginPath();
      g.moveTo(x, AXIS_H - 4);
      g.lineTo(x, cssH - 8);
      g.stroke();
      g.fillText(fmtTime(t), x, 10);
    }
    g.textAlign = 'left';

    g.save();
    g.beginPath();
    g.rect(GUTTER, 0, this.plotWidth(), cssH);
    g.clip();

    // Slices.
    for (const s of this.trace.slices) {
      if (s.end < t0 || s.start > t1) continue;
      const y = this.rowY(s.tid);
      if (y === null) continue;
      const x0 = Math.max(GUTTER - 2, this.x(s.start));
      const x1 = Math.min(right + 2, this.x(s.end));
      g.fillStyle = this.colours.get(s.tid) ?? '#888';
      g.fillRect(x0, y + 4, Math.max(1, x1 - x0), ROW_H - 8);
    }

    // Snapshot lines.
    (this.trace.snapshots ?? []).forEach((s, i) => {
      if (s.time < t0 || s.time > t1) return;
      const x = this.x(s.time);
      const sel = i === this.selectedSnapshot;
      g.strokeStyle = sel ? '#0f62fe' : '#8d8d8d';
      g.lineWidth = sel ? 2 : 1;
      g.setLineDash([4, 3]);
      g.beginPath();
      g.moveTo(x, 16);
      g.lineTo(x, cssH - 8);
      g.stroke();
      g.setLineDash([]);
      g.lineWidth = 1;
      g.fillStyle = sel ? '#0f62fe' : '#6f6f6f';
      g.fillText(`S${i}`, x + 3, 22);
      this.hits.push({ x, y: 22, text: `snapshot S${i} "${s.label}" at ${fmtTime(s.time)} (click to select)` });
    });

    // Markers. Thin out when zoomed far out so drawing stays fast.
    const evs = this.trace.events;
    let lo = 0;
    let hi = evs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (evs[mid].t < t0) lo = mid + 1;
      else hi = mid;
    }
    let drawn = 0;
    for (let i = lo; i < evs.length && evs[i].t <= t1 && drawn < 6000; i++) {
      if (this.marker(g, evs[i])) drawn++;
    }
    g.restore();

    // Border.
    g.strokeStyle = '#c6c6c6';
    g.strokeRect(GUTTER + 0.5, AXIS_H - 0.5, this.plotWidth(), rows.length * ROW_H);
  }

  /** Draw one event marker; returns whether anything was drawn. */
  marker(g, e) {
    const x = this.x(e.t);
    const d = e.d;
    const tipHead = `${e.kind} at ${fmtTime(e.t)} (#${e.i})`;
    const detail = Object.entries(d)
      .filter(([k]) => !hiddenDetail(k))
      .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join('\n');
    const text = `${tipHead}\n${detail}`;
    const arrow = (fromTid, toTid, colour, dashed) => {
      const y0 = this.rowY(fromTid);
      const y1 = this.rowY(toTid);
      if (y0 === null || y1 === null) return false;
      const a = y0 + ROW_H / 2;
      const b = y1 + ROW_H / 2;
      g.strokeStyle = colour;
      g.fillStyle = colour;
      g.lineWidth = 1.5;
      if (dashed) g.setLineDash([3, 2]);
      g.beginPath();
      g.moveTo(x, a);
      g.lineTo(x, b);
      g.stroke();
      g.setLineDash([]);
      g.lineWidth = 1;
      const dir = b >= a ? 1 : -1;
      g.beginPath();
      g.moveTo(x, b);
      g.lineTo(x - 4, b - 6 * dir);
      g.lineTo(x + 4, b - 6 * dir);
      g.closePath();
      g.fill();
      g.beginPath();
      g.arc(x, a, 2.5, 0, 2 * Math.PI);
      g.fill();
      this.hits.push({ x, y: a, text });
      this.hits.push({ x, y: b, text });
      return true;
    };
    const rowMid = (tid) => {
      const y = this.rowY(tid);
      return y === null ? null : y + ROW_H / 2;
    };
    switch (e.kind) {
      case 'ipc':
        return arrow(d.fromTid, d.toTid, MARKER_STYLE.ipc.colour, d.call === false);
      case 'donate':
        return typeof d.fromTid === 'number' ? arrow(d.fromTid, d.toTid, MARKER_STYLE.donate.colour, true) : false;
      case 'signal': {
        const y = rowMid(e.cur);
        if (y === null) return false;
        g.fillStyle = MARKER_STYLE.signal.colour;
        g.beginPath();
        g.moveTo(x, y - 6);
        g.lineTo(x + 5, y);
        g.lineTo(x, y + 6);
        g.lineTo(x - 5, y);
        g.closePath();
        g.fill();
        this.hits.push({ x, y, text });
        return true;
      }
      case 'fault':
      case 'error': {
        const y = rowMid(d.threadTid ?? e.cur);
        if (y === null) return false;
        g.fillStyle = MARKER_STYLE[e.kind].colour;
        g.strokeStyle = MARKER_STYLE[e.kind].colour;
        if (e.kind === 'fault') {
          g.beginPath();
          g.moveTo(x, y - 8);
          g.lineTo(x + 7, y + 6);
          g.lineTo(x - 7, y + 6);
          g.closePath();
          g.fill();
        } else {
          g.lineWidth = 2;
          g.beginPath();
          g.moveTo(x - 4, y - 4);
          g.lineTo(x + 4, y + 4);
          g.moveTo(x + 4, y - 4);
          g.lineTo(x - 4, y + 4);
          g.stroke();
          g.lineWidth = 1;
        }
        this.hits.push({ x, y, text });
        return true;
      }
      case 'postpone': {
        const y = rowMid(d.threadTid ?? e.cur);
        if (y === null) return false;
        const until = typeof d.until === 'number' ? this.x(d.until) : x;
        g.strokeStyle = MARKER_STYLE.postpone.colour;
        g.setLineDash([2, 3]);
        g.beginPath();
        g.moveTo(x, y);
        g.lineTo(until, y);
        g.stroke();
        g.setLineDash([]);
        g.beginPath();
        g.moveTo(x, y - 7);
        g.lineTo(x, y + 7);
        g.moveTo(until, y - 5);
        g.lineTo(until, y + 5);
        g.stroke();
        this.hits.push({ x, y, text });
        this.hits.push({ x: until, y, text: `${text}\n(release time)` });
        return true;
      }
      case 'timeout':
      case 'release': {
        const y = rowMid(d.threadTid ?? e.cur);
        if (y === null) return false;
        g.strokeStyle = MARKER_STYLE[e.kind].colour;
        g.lineWidth = 2;
        g.beginPath();
        const dir = e.kind === 'release' ? -1 : 1;
        g.moveTo(x - 4, y - 3 * dir);
        g.lineTo(x, y + 3 * dir);
        g.lineTo(x + 4, y - 3 * dir);
        g.stroke();
        g.lineWidth = 1;
        this.hits.push({ x, y, text });
        return true;
      }
      case 'exit': {
        const y = rowMid(d.threadTid ?? e.cur);
        if (y === null) return false;
        g.fillStyle = MARKER_STYLE.exit.colour;
        g.fillRect(x - 4, y - 4, 8, 8);
        this.hits.push({ x, y, text });
        return true;
      }
      case 'retype':
      case 'map': {
        const y = this.rowY(e.cur);
        if (y === null) return false;
        g.strokeStyle = MARKER_STYLE.retype.colour;
        g.beginPath();
        g.moveTo(x, y + ROW_H - 2);
        g.lineTo(x, y + ROW_H - 9);
        g.stroke();
        this.hits.push({ x, y: y + ROW_H - 5, text });
        return true;
      }
      case 'irq': {
        g.fillStyle = MARKER_STYLE.irq.colour;
        g.beginPath();
        g.arc(x, AXIS_H - 5, 3, 0, 2 * Math.PI);
        g.fill();
        this.hits.push({ x, y: AXIS_H - 5, text });
        return true;
      }
      default:
        return false;
    }
  }
}
