// Snapshot views: threads and scheduler queues, IPC objects, CSpaces (CNode
// tables), the capability derivation tree, untyped memory and VSpace
// mappings. All text from the trace goes through textContent (never HTML).
import { fmtTime } from './timeline.js';

/** Create an element: h('td', { class: 'x', onclick: f }, 'text', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'style') el.style.cssText = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const hex = (n) => (typeof n === 'number' ? '0x' + n.toString(16) : String(n));

function table(headers, rows, cls = '') {
  return h('table', { class: `grid ${cls}` }, h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))), h('tbody', {}, rows));
}

export class SnapshotViews {
  constructor(ctx) {
    // ctx: { colours: Map, threadName(tid), onSelectSlot(id) }
    this.ctx = ctx;
    this.selectedSlot = null;
  }

  chip(tid) {
    const name = this.ctx.threadName(tid);
    return h('span', { class: 'chip', style: `--c:${this.ctx.colours.get(tid) ?? '#888'}`, title: `tid ${tid}` }, name);
  }

  capChip(cap) {
    return h('span', { class: `cap cap-${cap.type}` }, cap.type);
  }

  threads(snap) {
    const rows = snap.threads.map((t) =>
      h(
        'tr',
        { class: t.tid === snap.curThread ? 'current' : '' },
        h('td', {}, this.chip(t.tid)),
        h('td', { class: `state st-${t.state}` }, t.state),
        h('td', { class: 'num' }, `${t.priority}/${t.mcp}`),
        h('td', { class: 'num' }, t.domain),
        h('td', {}, t.sc === null ? h('span', { class: 'muted' }, 'passive') : scText(t.scBudget, t.scPeriod)),
        h('td', {}, t.boundNotification ?? ''),
        h('td', {}, t.blockedOn ?? ''),
        h('td', {}, t.reply ?? ''),
        h('td', { class: t.fault ? 'bad' : '' }, t.fault ?? ''),
        h('td', { class: 'num' }, fmtTime(t.cpuTime)),
      ),
    );
    const queues = h(
      'div',
      { class: 'queues' },
      h('span', { class: 'label' }, 'current: '),
      this.chip(snap.curThread),
      h('span', { class: 'label' }, ' ready: '),
      snap.readyQueues.length === 0 ? h('span', { class: 'muted' }, 'empty') : null,
      snap.readyQueues.map((q) => h('span', { class: 'queue' }, `d${q.domain} p${q.priority}: `, q.threads.map((x) => this.chip(x)))),
      h('span', { class: 'label' }, ' release: '),
      snap.releaseQueue.length === 0 ? h('span', { class: 'muted' }, 'empty') : snap.releaseQueue.map((x) => this.chip(x)),
    );
    return [
      table(['thread', 'state', 'prio/mcp', 'dom', 'SC budget/period', 'bound ntfn', 'blocked on', 'reply', 'fault', 'cpu'], rows),
      queues,
    ];
  }

  objects(snap) {
    const queue = (q) => (q.length === 0 ? h('span', { class: 'muted' }, '—') : q.map((x) => this.chip(x)));
    const eps = table(
      ['endpoint', 'state', 'queue (head first)'],
      snap.endpoints.map((e) => h('tr', {}, h('td', {}, e.id), h('td', { class: `state ep-${e.state}` }, e.state), h('td', {}, queue(e.queue)))),
    );
    const ntfns = table(
      ['notification', 'state', 'word', 'queue', 'bound TCB', 'SC'],
      snap.notifications.map((n) =>
        h(
          'tr',
          {},
          h('td', {}, n.id),
          h('td', { class: 'state' }, n.state),
          h('td', { class: 'mono' }, n.word),
          h('td', {}, queue(n.queue)),
          h('td', {}, n.boundTCB === null ? '' : this.chip(n.boundTCB)),
          h('td', {}, n.sc ?? ''),
        ),
      ),
    );
    const replies = table(
      ['reply', 'caller / owner'],
      snap.replies.map((r) => h('tr', {}, h('td', {}, r.id), h('td', {}, r.tcb === null ? h('span', { class: 'muted' }, '—') : this.chip(r.tcb)))),
    );
    const scs = table(
      ['scheduling context', 'budget/period', 'refills (time: amount)', 'bound TCB', 'consumed'],
      snap.schedContexts.map((s) =>
        h(
          'tr',
          {},
          h('td', {}, s.id),
          h('td', {}, scText(s.budget, s.period)),
          h('td', { class: 'mono small' }, s.refills.map((r) => `${fmtTime(r.time)}: ${fmtTime(r.amount)}`).join(', ')),
          h('td', {}, s.tcb === null ? '' : this.chip(s.tcb)),
          h('td', { class: 'num' }, fmtTime(s.consumed)),
        ),
      ),
    );
    return [h('h3', {}, 'Endpoints'), eps, h('h3', {}, 'Notifications'), ntfns, h('h3', {}, 'Reply objects'), replies, h('h3', {}, 'Scheduling contexts'), scs];
  }

  /** CNode tables (non-empty slots) and TCB slots; rows for slots that are new or changed since `prev` are marked. */
  cspaces(snap, prev, filter) {
    const before = new Map();
    if (prev) for (const s of allSlots(prev)) before.set(s.id, s.cap.text);
    const f = (filter ?? '').toLowerCase();
    const keep = (s) => f === '' || s.id.toLowerCase().includes(f) || s.cap.text.toLowerCase().includes(f) || s.cap.type.toLowerCase().includes(f);
    const row = (s, name) => {
      const old = before.get(s.id);
      const mark = prev === undefined || prev === null ? '' : old === undefined ? 'new' : old !== s.cap.text ? 'changed' : '';
      return h(
        'tr',
        { class: `${s.id === this.selectedSlot ? 'selected' : ''} ${mark}`, 'data-slot': s.id, onclick: () => this.ctx.onSelectSlot(s.id) },
        h('td', { class: 'num' }, name ?? s.index),
        h('td', {}, this.capChip(s.cap)),
        h('td', { class: 'mono' }, s.cap.text),
        h('td', { class: 'small' }, [s.revocable ? 'rev' : '', s.firstBadged ? 'fb' : ''].filter(Boolean).join(' ')),
        h('td', { class: 'small' }, mark),
      );
    };
    const out = [];
    for (const cn of snap.cnodes) {
      const rows = cn.slots.filter(keep).map((s) => row(s));
      out.push(h('h3', {}, `${cn.id} — radix ${cn.radix} (${2 ** cn.radix} slots, ${cn.slots.length} used)`));
      out.push(table(['slot', 'type', 'capability', 'MDB', ''], rows, 'slots'));
    }
    const tcbRows = [];
    for (const t of snap.threads) for (const s of t.slots) if (keep(s)) tcbRows.push(row(s, `${t.name}.${s.id.slice(s.id.indexOf('[') + 1, -1)}`));
    out.push(h('h3', {}, 'TCB slots (CSpace root, VSpace root, IPC buffer, fault / timeout handler)'));
    out.push(table(['slot', 'type', 'capability', 'MDB', ''], tcbRows, 'slots'));
    return out;
  }

  /** The capability derivation tree decoded from the MDB. */
  capTree(snap, filter) {
    const capOf = new Map();
    for (const s of allSlots(snap)) capOf.set(s.id, s.cap);
    const kids = new Map();
    for (const [p, c] of snap.capTree.edges) {
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p).push(c);
    }
    const f = (filter ?? '').toLowerCase();
    const matches = new Map();
    const match = (id) => {
      if (matches.has(id)) return matches.get(id);
      const cap = capOf.get(id);
      const self = f === '' || id.toLowerCase().includes(f) || (cap !== undefined && cap.text.toLowerCase().includes(f));
      const r = self || (kids.get(id) ?? []).some(match);
      matches.set(id, r);
      return r;
    };
    const node = (id, depth) => {
      const cap = capOf.get(id);
      const children = (kids.get(id) ?? []).filter(match);
      const label = h(
        'span',
        { class: `node ${id === this.selectedSlot ? 'selected' : ''}`, 'data-slot': id, onclick: (e) => (e.preventDefault(), this.ctx.onSelectSlot(id)) },
        cap ? this.capChip(cap) : '',
        ' ',
        h('span', { class: 'mono' }, cap ? cap.text : '?'),
        ' ',
        h('span', { class: 'slotid' }, id),
      );
      if (children.length === 0) return h('li', { class: 'leaf' }, label);
      const open = depth < 1 || f !== '' || this.selectedInside(id, kids);
      return h('li', {}, h('details', { open }, h('summary', {}, label, h('span', { class: 'muted' }, ` (${children.length})`)), h('ul', {}, children.map((c) => node(c, depth + 1)))));
    };
    const roots = snap.capTree.roots.filter(match);
    return [
      h('p', { class: 'muted small' }, `${snap.capTree.order.length} capabilities, ${snap.capTree.roots.length} derivation roots, ${snap.capTree.edges.length} parent→child edges`),
      h('ul', { class: 'tree' }, roots.map((r) => node(r, 0))),
    ];
  }

  selectedInside(id, kids) {
    if (this.selectedSlot === null) return false;
    const stack = [...(kids.get(id) ?? [])];
    while (stack.length > 0) {
      const x = stack.pop();
      if (x === this.selectedSlot) return true;
      stack.push(...(kids.get(x) ?? []));
    }
    return false;
  }

  memory(snap) {
    const uts = table(
      ['slot', 'paddr', 'size', 'used', ''],
      snap.untypeds.map((u) => {
        const size = 2 ** u.sizeBits;
        const pct = Math.min(100, (100 * u.freeIndex) / size);
        return h(
          'tr',
          { onclick: () => this.ctx.onSelectSlot(u.slot) },
          h('td', { class: 'small' }, u.slot),
          h('td', { class: 'mono' }, hex(u.paddr)),
          h('td', { class: 'num' }, `2^${u.sizeBits}${u.isDevice ? ' dev' : ''}`),
          h('td', { class: 'num' }, hex(u.freeIndex)),
          h('td', {}, h('div', { class: 'bar' }, h('div', { style: `width:${pct.toFixed(1)}%` }))),
        );
      }),
    );
    const maps = table(
      ['asid', 'vaddr', 'kind', 'paddr', 'size', 'rights', 'cap'],
      snap.mappings.map((m) =>
        h(
          'tr',
          { onclick: () => this.ctx.onSelectSlot(m.slot) },
          h('td', { class: 'num' }, m.asid),
          h('td', { class: 'mono' }, m.vspaceRoot ? '—' : hex(m.vaddr)),
          h('td', {}, m.vspaceRoot ? 'VSpace root' : m.type),
          h('td', { class: 'mono' }, hex(m.paddr)),
          h('td', { class: 'num' }, `2^${m.sizeBits}`),
          h('td', {}, m.rights),
          h('td', { class: 'small' }, m.slot, m.copies > 1 ? ` (+${m.copies - 1} copies)` : ''),
        ),
      ),
    );
    const irqs = table(
      ['irq', 'state', 'notification'],
      snap.irqs.map((q) => h('tr', {}, h('td', { class: 'num' }, q.irq), h('td', {}, q.state), h('td', { class: 'mono' }, q.slot ? q.slot.cap.text : ''))),
    );
    return [h('h3', {}, 'VSpace mappings'), maps, h('h3', {}, 'Untyped memory (free index)'), uts, h('h3', {}, 'IRQs'), irqs];
  }
}

function scText(budget, period) {
  if (budget === null || budget === undefined) return '';
  if (budget === 0) return 'unconfigured';
  return period === 0 ? `${fmtTime(budget)} round robin` : `${fmtTime(budget)} / ${fmtTime(period)}`;
}

/** Every slot a snapshot describes (CNodes, TCB slots, IRQ slots). */
export function allSlots(snap) {
  const out = [];
  for (const cn of snap.cnodes) out.push(...cn.slots);
  for (const t of snap.threads) out.push(...t.slots);
  for (const q of snap.irqs) if (q.slot) out.push(q.slot);
  return out;
}
