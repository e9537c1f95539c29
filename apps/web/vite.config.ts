import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const here = path.dirname(new URL(import.meta.url).pathname);

/** Cross-origin isolation: SharedArrayBuffer, so onnxruntime-web can run several threads. */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

function listFiles(dir: string, prefix = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

/** precache.json for the service worker (public/sw.js): every built and public file, and a version that changes with them. */
function precacheManifest(): Plugin {
  return {
    name: 'srdiff-precache',
    apply: 'build',
    generateBundle(_, bundle) {
      const built = Object.keys(bundle);
      const publicFiles = listFiles(path.join(here, 'public')).filter((f) => f !== 'sw.js');
      const files = [...built, ...publicFiles].filter((f) => !f.endsWith('.map')).sort();
      const hash = createHash('sha256');
      for (const f of built) {
        const item = bundle[f]!;
        hash.update(f).update(item.type === 'chunk' ? item.code : typeof item.source === 'string' ? item.source : Buffer.from(item.source));
      }
      for (const f of publicFiles) hash.update(f).update(fs.readFileSync(path.join(here, 'public', f)));
      this.emitFile({ type: 'asset', fileName: 'precache.json', source: JSON.stringify({ version: hash.digest('hex').slice(0, 16), files }, null, 1) });
    },
  };
}

export default defineConfig({
  root: here,
  // Relative URLs: the built app can be served from any folder.
  base: './',
  resolve: {
    // The manifest's definition is the exporter's (no Node.js in it).
    alias: { '@srdiff/trainer/web-manifest': path.join(here, '../trainer/src/pipeline/web-manifest.ts') },
  },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    assetsInlineLimit: 0,
    // The app, and the page tools/bench/browser-unet.mjs times the UNet in.
    rollupOptions: { input: { main: path.join(here, 'index.html'), bench: path.join(here, 'bench.html') } },
  },
  server: { headers: ISOLATION_HEADERS, host: '127.0.0.1' },
  preview: { headers: ISOLATION_HEADERS, host: '127.0.0.1' },
  plugins: [precacheManifest()],
});
