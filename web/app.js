// sel4ts trace viewer: loads a "sel4ts-trace" JSON file (file input, drag and
// drop, or ?trace=URL on the same origin) or runs a demo live in the browser
// with the compiled kernel from ../dist, then shows the scheduling timeline,
// the kernel events, and the kernel state at each snapshot.
import { Timeline, MARKER_STYLE, fmtTime, hiddenDetail, threadColours } from './timeline.js';
import { SnapshotViews, h } from './views.js';

const $ = (id) => document.getElementById(id);

const state = {
  trace: null,
  snap: 0,
  view: [0, 1],
  eventFilter: '',
  capFilter: '',
};

const timeline = new Timeline($('timeline'), $('tooltip'), {
  onSelectTime: (t) => selectSnapshotAt(t),
  onViewChange: (t0, t1) => {
    state.view = [t0, t1];
    $('view-range').textContent = `${fmtTime(t0)} – ${fmtTime(t1)}`;
    scheduleEvents();
  },
});

const views = new SnapshotViews({
  colours: new Map(),
  threadName: (tid) => state.trace?.threads.find((t) => t.tid === tid)?.name ?? `tid ${tid}`,
  onSelectSlot: (id) => selectSlot(id),
});

function status(msg, bad = false) {
  const el = $('status');
  el.textContent = msg;
  el.className = bad ? 'bad' : '';
}

/** Envelope check (the same rules as checkTraceEnvelope in src/trace/recorder.ts). */
function checkTrace(x) {
  if (typeof x !== 'object' || x === null) return 'not a JSON object';
  if (x.format !== 'sel4ts-trace') return 'format is not "sel4ts-trace"';
  if (x.version !== 1) return `unsupported version ${x.version}`;
  for (const f of ['threads', 'slices', 'events', 'snapshots']) if (!Array.isArray(x[f])) return `missing array "${f}"`;
  return null;
}

function loadTrace(trace, source) {
  const err = checkTrace(trace);
  if (err !== null) {
    status(`Cannot show ${source}: ${err}`, true);
    return;
  }
  state.trace = trace;
  state.snap = Math.max(0, trace.snapshots.length - 1);
  views.ctx.colours = threadColours(trace.threads);
  views.selectedSlot = null;
  document.body.classList.add('loaded');
  const m = trace.meta;
  $('title').textContent = m.title;
  $('summary').replaceChildren(
    h('span', {}, `${fmtTime(m.startTime)} – ${fmtTime(m.endTime)}`),
    h('span', {}, `${trace.threads.length} threads`),
    h('span', {}, `${m.eventCount} events${m.droppedEvents ? ` (${m.droppedEvents} not stored)` : ''}`),
    h('span', {}, `${m.kernelEntries} kernel entries`),
    h('span', {}, `${trace.snapshots.length} snapshots`),
    h('span', { class: 'muted' }, `from ${source}`),
  );
  $('legend').replaceChildren(...Object.entries(MARKER_STYLE).map(([, s]) => h('span', { class: 'legend-item' }, h('i', { style: `background:${s.colour}` }), s.label)));
  const kinds = [...new Set(trace.events.map((e) => e.kind))].sort();
  $('event-kind').replaceChildren(h('option', { value: '' }, 'all kinds'), ...kinds.map((k) => h('option', { value: k }, k)));
  $('console-out').textContent = trace.console || '(no console output)';
  timeline.setTrace(trace);
  renderSnapshotBar();
  renderSnapshot();
  status(`Loaded ${source}.`);
}

function renderSnapshotBar() {
  const t = state.trace;
  $('snapshots').replaceChildren(
    ...t.snapshots.map((s, i) =>
      h('button', { class: i === state.snap ? 'snap active' : 'snap', onclick: () => selectSnapshot(i), title: `event index ${s.eventIndex}` }, `S${i} ${s.label} @ ${fmtTime(s.time)}`),
    ),
  );
}

function selectSnapshot(i) {
  state.snap = i;
  timeline.selectedSnapshot = i;
  timeline.draw();
  renderSnapshotBar();
  renderSnapshot();
}

/** Select the last snapshot taken at or before time t (the first one if none). */
function selectSnapshotAt(t) {
  const snaps = state.trace.snapshots;
  let best = 0;
  snaps.forEach((s, i) => {
    if (s.time <= t) best = i;
  });
  selectSnapshot(best);
}

function selectSlot(id) {
  views.selectedSlot = views.selectedSlot === id ? null : id;
  renderSnapshot();
  if (views.selectedSlot !== null) {
    for (const el of document.querySelectorAll(`[data-slot="${CSS.escape(id)}"]`)) el.scrollIntoView({ block: 'nearest' });
  }
}

function renderSnapshot() {
  const t = state.trace;
  if (t === null || t.snapshots.length === 0) return;
  timeline.selectedSnapshot = state.snap;
  const snap = t.snapshots[state.snap];
  const prev = state.snap > 0 ? t.snapshots[state.snap - 1] : null;
  $('snap-title').textContent = `Snapshot S${state.snap} "${snap.label}" at ${fmtTime(snap.time)}`;
  $('threads').replaceChildren(...views.threads(snap));
  $('objects').replaceChildren(...views.objects(snap));
  $('cspace').replaceChildren(...views.cspaces(snap, prev, state.capFilter));
  $('captree').replaceChildren(...views.capTree(snap, state.capFilter));
  $('memory').replaceChildren(...views.memory(snap));
}

let eventsPending = false;
function scheduleEvents() {
  if (eventsPending) return;
  eventsPending = true;
  requestAnimationFrame(() => {
    eventsPending = false;
    renderEvents();
  });
}

function renderEvents() {
  const t = state.trace;
  if (t === null) return;
  const [t0, t1] = state.view;
  const rows = [];
  let total = 0;
  for (const e of t.events) {
    if (e.t < t0 || e.t > t1) continue;
    if (state.eventFilter !== '' && e.kind !== state.eventFilter) continue;
    total++;
    if (rows.length >= 400) continue;
    const d = Object.entries(e.d)
      .filter(([k]) => !hiddenDetail(k))
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join('  ');
    rows.push(
      h(
        'tr',
        {},
        h('td', { class: 'num' }, e.i),
        h('td', { class: 'num' }, fmtTime(e.t)),
        h('td', {}, h('span', { class: `ev ev-${e.kind}` }, e.kind)),
        h('td', {}, views.chip(e.cur)),
        h('td', { class: 'mono small' }, d),
      ),
    );
  }
  $('event-count').textContent = total > rows.length ? `showing ${rows.length} of ${total} in view` : `${total} in view`;
  $('events').replaceChildren(
    h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['#', 'time', 'kind', 'current thread', 'detail'].map((x) => h('th', {}, x)))), h('tbody', {}, rows)),
  );
}

// ------------------------------------------------------------------ loading

async function loadURL(url) {
  let u;
  try {
    u = new URL(url, location.href);
  } catch {
    status(`Bad trace URL: ${url}`, true);
    return;
  }
  if (u.origin !== location.origin) {
    status(`Refusing to fetch ${u.href}: only traces from this server (${location.origin}) are loaded.`, true);
    return;
  }
  status(`Fetching ${u.pathname}…`);
  try {
    const r = await fetch(u);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    loadTrace(await r.json(), u.pathname);
  } catch (e) {
    status(`Could not load ${u.pathname}: ${e.message}`, true);
  }
}

function loadFile(file) {
  file
    .text()
    .then((text) => loadTrace(JSON.parse(text), file.name))
    .catch((e) => status(`Could not read ${file.name}: ${e.message}`, true));
}

/** Run a demo in this page with the compiled kernel (../dist) and show its trace. */
async function runDemo(name) {
  status(`Running demo "${name}" in the browser…`);
  let lib;
  try {
    const base = new URL('../dist/src/', import.meta.url);
    const [machine, user, recorder, demos] = await Promise.all([
      import(new URL('machine/machine.js', base).href),
      import(new URL('user/index.js', base).href),
      import(new URL('trace/recorder.js', base).href),
      import('./demos.js'),
    ]);
    lib = { Machine: machine.Machine, s: user, recordMachine: recorder.recordMachine, demos: demos.DEMOS };
  } catch (e) {
    status(`Cannot load the compiled kernel from ../dist (build with "npx tsc -p tsconfig.json" and serve the repository root with "node web/serve.mjs"): ${e.message}`, true);
    return;
  }
  const demo = lib.demos[name];
  if (demo === undefined) {
    status(`No demo named "${name}"`, true);
    return;
  }
  await new Promise((r) => setTimeout(r, 0));
  try {
    const t0 = performance.now();
    const r = demo.run(lib);
    const ms = performance.now() - t0;
    loadTrace(r.trace, `live demo "${name}"`);
    const took = ms >= 1 ? ` in ${ms.toFixed(0)} ms` : '';
    status(`Ran demo "${name}" in the browser: ${fmtTime(r.result.now)} simulated${took}, stopped: ${r.result.reason}.`);
  } catch (e) {
    console.error(e);
    status(`Demo "${name}" failed: ${e.message}`, true);
  }
}

function download() {
  if (state.trace === null) return;
  const blob = new Blob([JSON.stringify(state.trace)], { type: 'application/json' });
  const a = h('a', { href: URL.createObjectURL(blob), download: 'sel4ts-trace.json' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ------------------------------------------------------------------- wiring

$('file').addEventListener('change', (e) => {
  const f = e.target.files?.[0];
  if (f) loadFile(f);
});
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  const f = e.dataTransfer?.files?.[0];
  if (f) loadFile(f);
});
$('run-demo').addEventListener('click', () => runDemo($('demo').value));
$('download').addEventListener('click', download);
$('zoom-in').addEventListener('click', () => timeline.zoom(0.5));
$('zoom-out').addEventListener('click', () => timeline.zoom(2));
$('zoom-reset').addEventListener('click', () => timeline.resetView());
$('event-kind').addEventListener('change', (e) => {
  state.eventFilter = e.target.value;
  renderEvents();
});
$('cap-filter').addEventListener('input', (e) => {
  state.capFilter = e.target.value;
  renderSnapshot();
});

// URL parameters: trace=URL (same origin) or demo=name; then optionally
// view=t0,t1 (ns), snap=i, slot=<slot id>, events=<kind>, filter=<text>.
const params = new URLSearchParams(location.search);
function applyViewParams() {
  const t = state.trace;
  if (t === null) return;
  const snap = Number(params.get('snap'));
  if (params.has('snap') && Number.isInteger(snap) && snap >= 0 && snap < t.snapshots.length) selectSnapshot(snap);
  const view = (params.get('view') ?? '').split(',').map(Number);
  if (view.length === 2 && view.every(Number.isFinite) && view[1] > view[0]) timeline.setView(view[0], view[1]);
  if (params.has('events')) {
    state.eventFilter = params.get('events');
    $('event-kind').value = state.eventFilter;
    renderEvents();
  }
  if (params.has('filter')) {
    state.capFilter = params.get('filter');
    $('cap-filter').value = state.capFilter;
    renderSnapshot();
  }
  if (params.has('slot')) selectSlot(params.get('slot'));
}
if (params.has('trace')) loadURL(params.get('trace')).then(applyViewParams);
else if (params.has('demo')) {
  $('demo').value = params.get('demo');
  runDemo(params.get('demo')).then(applyViewParams);
} else status('Open a trace file (or drop one here), or run a demo in the browser.');
