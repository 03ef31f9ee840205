#!/usr/bin/env node
// A tiny static server for the web view: serves the repository's web/ and
// dist/ directories (the page imports the compiled kernel from ../dist) on
// 127.0.0.1 only, GET/HEAD only, no directory listings, and exits by itself
// after --exit-after seconds (default 3600; 0 = never).
//
//   node web/serve.mjs [--port=8754] [--exit-after=3600]
//   then open http://127.0.0.1:8754/web/  (or /web/?demo=mcs, /web/?trace=/web/sample-trace.json)
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const ALLOWED = ['web', 'dist'];
const MAX_FILE = 64 * 1024 * 1024;
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.md': 'text/markdown; charset=utf-8',
};

/** Map a request path to a file under ROOT/web or ROOT/dist, or null. */
export function resolveRequest(root, urlPath) {
  let p;
  try {
    p = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
  } catch {
    return null;
  }
  if (p.includes('\0')) return null;
  if (p === '/' || p === '/web') p = '/web/';
  if (p.endsWith('/')) p += 'index.html';
  const rel = normalize(p).replace(/^[/\\]+/, '');
  const top = rel.split(/[/\\]/)[0];
  if (!ALLOWED.includes(top)) return null;
  const file = resolve(join(root, rel));
  if (!file.startsWith(resolve(root, top) + sep)) return null;
  return file;
}

export function startServer({ port = 8754, root = ROOT, log = true } = {}) {
  const server = createServer(async (req, res) => {
    const send = (code, body, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (req.url === '/' || req.url === '/web') {
      res.writeHead(302, { location: '/web/' });
      return res.end();
    }
    const file = resolveRequest(root, req.url ?? '/');
    if (file === null) return send(404, 'not found\n');
    try {
      const st = await stat(file);
      if (!st.isFile() || st.size > MAX_FILE) return send(404, 'not found\n');
      send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(404, 'not found\n');
    }
    if (log) console.log(`${req.method} ${req.url} -> ${res.statusCode}`);
  });
  server.listen(port, '127.0.0.1');
  return server;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => {
    const a = process.argv.find((x) => x.startsWith(`--${name}=`));
    return a === undefined ? dflt : Number(a.slice(name.length + 3));
  };
  const port = arg('port', 8754);
  const exitAfter = arg('exit-after', 3600);
  const server = startServer({ port });
  if (exitAfter > 0) {
    setTimeout(() => {
      console.log(`exiting after ${exitAfter}s`);
      server.closeAllConnections();
      server.close(() => process.exit(0));
    }, exitAfter * 1000).unref();
  }
  server.on('listening', () => {
    console.log(`serving ${ROOT}/{web,dist} at http://127.0.0.1:${port}/web/${exitAfter > 0 ? ` for ${exitAfter}s` : ''}`);
  });
}
