/**
 * The web view's Node-testable parts (no browser): the code the page imports
 * from dist/ uses only relative ES module imports and no Node-only API, the
 * page itself references nothing outside the server, its demos run and record
 * valid traces, and the static server serves only web/ and dist/ on 127.0.0.1.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Machine } from '../src/machine/machine.js';
import * as user from '../src/user/index.js';
import { Trace, checkTraceEnvelope, recordMachine } from '../src/trace/recorder.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WEB = join(REPO, 'web');

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s*(?:[^'"`;]*?\s+from\s*)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
const NODE_ONLY_RE = /\bprocess\.|\bBuffer\b|\brequire\(|__dirname|__filename/;

/** Module specifiers a JS file imports statically (or with a literal dynamic import). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2])!);
  return out;
}

/** Walk the import graph from `entries`; return files reached and every non-relative import / Node-only use. */
function browserGraph(entries: string[]): { files: string[]; problems: string[] } {
  const seen = new Set<string>();
  const problems: string[] = [];
  const stack = [...entries];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const text = readFileSync(f, 'utf8');
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    if (NODE_ONLY_RE.test(code)) problems.push(`${f}: uses a Node-only global (${code.match(NODE_ONLY_RE)![0]})`);
    for (const spec of specifiers(f)) {
      if (!spec.startsWith('./') && !spec.startsWith('../')) {
        problems.push(`${f}: imports "${spec}"`);
        continue;
      }
      const target = resolve(dirname(f), spec);
      if (!existsSync(target)) problems.push(`${f}: "${spec}" does not exist`);
      else stack.push(target);
    }
  }
  return { files: [...seen], problems };
}

interface DemoResult {
  trace: Trace;
  result: { reason: string; now: number };
  results?: number[];
}
type Demos = Record<string, { title: string; run: (lib: unknown, opts?: unknown) => DemoResult }>;

async function demos(): Promise<Demos> {
  const mod = (await import(pathToFileURL(join(WEB, 'demos.js')).href)) as { DEMOS: Demos };
  return mod.DEMOS;
}

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (body += c));
      r.on('end', () => res({ status: r.statusCode ?? 0, type: String(r.headers['content-type'] ?? ''), body }));
    });
    req.on('error', rej);
    req.end();
  });
}

describe('web view', () => {
  it('the kernel, machine, user library and recorder the page imports use no Node-only module or API', () => {
    const dist = join(REPO, 'dist', 'src');
    const entries = ['machine/machine.js', 'user/index.js', 'trace/recorder.js', 'trace/snapshot.js'].map((p) => join(dist, p));
    const { files, problems } = browserGraph(entries);
    assert.deepEqual(problems, []);
    assert.ok(files.some((f) => f.endsWith(join('kernel', 'syscall.js'))), 'the walk reached the kernel');
    assert.ok(files.length > 30, `walked ${files.length} modules`);
  });

  it('the page loads only its own files: relative imports, no external URLs', () => {
    const pageFiles = ['index.html', 'app.js', 'timeline.js', 'views.js', 'demos.js', 'style.css'];
    for (const f of pageFiles) {
      const text = readFileSync(join(WEB, f), 'utf8');
      assert.doesNotMatch(text, /https?:\/\//, `${f} names no absolute URL`);
    }
    const { problems } = browserGraph(['app.js', 'demos.js'].map((f) => join(WEB, f)));
    assert.deepEqual(problems, []);
    const html = readFileSync(join(WEB, 'index.html'), 'utf8');
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.ok(existsSync(join(WEB, m[1]!)), `${m[1]} exists`);
    // Trace text reaches the DOM only through text nodes.
    for (const f of ['app.js', 'timeline.js', 'views.js']) assert.doesNotMatch(readFileSync(join(WEB, f), 'utf8'), /innerHTML|outerHTML|insertAdjacentHTML/);
  });

  it('the echo demo records its six round trips', async () => {
    const d = await demos();
    const r = d['echo']!.run({ Machine, s: user, recordMachine });
    assert.equal(r.result.reason, 'quiescent');
    assert.deepEqual(r.results, [1, 11, 21, 31, 41, 51]);
    const tr = r.trace;
    assert.equal(checkTraceEnvelope(JSON.parse(JSON.stringify(tr))), null);
    const names = new Map(tr.threads.map((t) => [t.tid, t.name]));
    const calls = tr.events.filter((e) => e.kind === 'ipc').map((e) => `${names.get(e.d['fromTid'] as number)}->${names.get(e.d['toTid'] as number)}`);
    assert.deepEqual(calls, new Array(6).fill('client->server'));
    assert.match(tr.console, /client: done/);
  });

  it('the MCS demo shows donation, postponement, a handled page fault and signals', async () => {
    const d = await demos();
    const r = d['mcs']!.run({ Machine, s: user, recordMachine });
    const tr = r.trace;
    assert.equal(checkTraceEnvelope(tr), null);
    const kinds = new Set(tr.events.map((e) => e.kind));
    for (const k of ['ipc', 'donate', 'postpone', 'fault', 'signal', 'switch', 'retype', 'map']) assert.ok(kinds.has(k), `has ${k} events`);
    assert.match(tr.console, /faulter: read back 0x5e14/);
    const fault = tr.events.find((e) => e.kind === 'fault')!;
    assert.equal(tr.threads.find((t) => t.tid === fault.cur)!.name, 'faulter');
    const end = tr.snapshots.at(-1)!;
    assert.ok(end.mappings.some((m) => m.vaddr === 0x10000000 && m.type === 'Frame'), 'the pager mapped the faulting page');
    // The passive server gets its clients' scheduling contexts by donation, and hands them back.
    const name = (tid: unknown) => tr.threads.find((t) => t.tid === tid)!.name;
    const donations = tr.events.filter((e) => e.kind === 'donate').map((e) => `${name(e.d['fromTid'])} -> ${name(e.d['toTid'])}`);
    assert.ok(donations.includes('client A 300us/1ms -> server (passive)'));
    assert.ok(donations.includes('server (passive) -> client A 300us/1ms'));
    assert.ok(donations.every((x) => x.includes('server (passive)')));
    assert.equal(end.threads.find((t) => t.name === 'rootserver')!.state, 'Inactive');
    let at = tr.meta.startTime;
    for (const sl of tr.slices) {
      assert.equal(sl.start, at);
      at = sl.end;
    }
    assert.equal(at, tr.meta.endTime);
  });

  it('the SMP demo runs threads on three cores, migrates one, and records per-core slices', async () => {
    const d = await demos();
    const r = d['smp']!.run({ Machine, s: user, recordMachine });
    const tr = r.trace;
    assert.equal(checkTraceEnvelope(JSON.parse(JSON.stringify(tr))), null);
    assert.equal(tr.meta.numCores, 3);
    assert.match(tr.console, /client \(core 0\): 20 calls served/);
    const name = (tid: number) => tr.threads.find((t) => t.tid === tid)!.name;
    const coresOf = (n: string) => [...new Set(tr.slices.filter((x) => name(x.tid) === n).map((x) => x.core))].sort();
    assert.deepEqual(coresOf('producer (core 1)'), [1]);
    assert.deepEqual(coresOf('consumer (core 2)'), [2]);
    assert.deepEqual(coresOf('busy (core 1, then 2)'), [1, 2]);
    // The passive server runs only on its callers' core.
    assert.deepEqual(coresOf('server (passive)').filter((c) => c !== 2), [0]);
    assert.ok(tr.events.some((e) => e.kind === 'migrate'));
    for (let c = 0; c < 3; c++) {
      const mine = tr.slices.filter((x) => x.core === c);
      for (let i = 1; i < mine.length; i++) assert.equal(mine[i]!.start, mine[i - 1]!.end, `core ${c} slices are contiguous`);
    }
  });

  it('the static server serves web/ and dist/ on 127.0.0.1 and nothing else', async () => {
    const mod = (await import(pathToFileURL(join(WEB, 'serve.mjs')).href)) as {
      resolveRequest: (root: string, path: string) => string | null;
      startServer: (o: { port: number; log: boolean }) => Server;
    };
    const rr = (p: string) => mod.resolveRequest(REPO, p);
    assert.equal(rr('/web/'), join(WEB, 'index.html'));
    assert.equal(rr('/dist/src/trace/recorder.js'), join(REPO, 'dist', 'src', 'trace', 'recorder.js'));
    for (const bad of ['/package.json', '/web/../package.json', '/web/%2e%2e/package.json', '/dist/../../etc/passwd', '/src/trace/recorder.ts', '/web%00/x', '/%E0%A4%A']) {
      assert.equal(rr(bad), null, bad);
    }
    const server = mod.startServer({ port: 0, log: false });
    await new Promise<void>((r) => server.once('listening', () => r()));
    try {
      const addr = server.address() as AddressInfo;
      assert.equal(addr.address, '127.0.0.1');
      const page = await get(addr.port, '/web/');
      assert.equal(page.status, 200);
      assert.match(page.type, /text\/html/);
      assert.match(page.body, /<script type="module" src="app.js">/);
      const js = await get(addr.port, '/dist/src/trace/recorder.js');
      assert.equal(js.status, 200);
      assert.match(js.type, /text\/javascript/);
      assert.equal((await get(addr.port, '/')).status, 302);
      assert.equal((await get(addr.port, '/package.json')).status, 404);
      assert.equal((await get(addr.port, '/web/%2e%2e/package.json')).status, 404);
      assert.equal((await get(addr.port, '/web/nonexistent.js')).status, 404);
      assert.equal((await get(addr.port, '/dist/src')).status, 404, 'no directory listing');
      assert.equal((await get(addr.port, '/web/index.html', 'POST')).status, 405);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    assert.ok(readdirSync(WEB).includes('README.md'), 'web/README.md documents the format');
  });
});
