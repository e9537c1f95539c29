#!/usr/bin/env node
// Serves the built app (apps/web/dist) on 127.0.0.1, cross-origin isolated (COOP/COEP, so
// onnxruntime-web runs threads). `npm run serve -w apps/web -- --port 5173 [--dir DIR]`.
// Also used by the browser test and the browser bench. Only GET/HEAD, only files under the folder.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
};

export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' };

/** Starts the server; `mounts` maps URL prefixes (e.g. '/extra/') to more folders. Resolves to { url, close }. */
export function serve({ dir, port = 0, host = '127.0.0.1', mounts = {}, log = () => {} }) {
  const roots = [...Object.entries(mounts).map(([prefix, folder]) => [prefix, path.resolve(folder)]), ['/', path.resolve(dir)]];
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathname = decodeURIComponent(url.pathname);
    const [prefix, root] = roots.find(([p]) => pathname.startsWith(p));
    let file = path.join(root, pathname.slice(prefix.length));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) {
      log(`404 ${pathname}`);
      res.writeHead(404, { 'Content-Type': 'text/plain', ...ISOLATION_HEADERS }).end('not found');
      return;
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length, 'Cache-Control': 'no-cache', ...ISOLATION_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({ url: `http://${host}:${actual}/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

if (path.resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
  const dir = flag('--dir', path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist'));
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    console.error(`${dir} has no index.html: build the app first (npm run build -w apps/web)`);
    process.exit(1);
  }
  serve({ dir, port: Number(flag('--port', 5173)), log: console.log }).then(({ url }) => console.log(`srdiff web app at ${url} (Ctrl-C stops)`));
}
