#!/usr/bin/env node
// Milliseconds per UNet step (one forward pass of the ConditionalUNet, what each sampling step
// costs) in headless Chromium on onnxruntime-web (WebAssembly, 1 and 2 threads) beside
// onnxruntime-node (1 and 2 threads), for nf 8 and nf 16 at 256×256, run back to back so the
// rows compare on the same (possibly busy) machine. Needs the built web app (apps/web/dist) and
// Debian's chromium:
//   node tools/bench/browser-unet.mjs [--nf 8,16] [--size 256] [--runs 5] [--threads 1,2]
// Prints a table; writes bench-results/browser-unet.json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { serve } = await import(path.join(root, 'apps/web/scripts/serve.mjs'));

function flag(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const nfs = flag('--nf', '8,16').split(',').map(Number);
const size = Number(flag('--size', '256'));
const runs = Number(flag('--runs', '5'));
const threadCounts = flag('--threads', '1,2').split(',').map(Number);
const CHROMIUM = process.env.SRDIFF_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const { selectBackend } = await import('@srdiff/core');
const { ConditionalUNet, OnnxUNet, resolveUnetConfig, unetToOnnxBytes } = await import('@srdiff/unet');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The demo's network shape at width nf (ch_mult [1, 2, 4, 8], a 16-wide image context), random weights. */
function modelBytes(nf) {
  const config = resolveUnetConfig({ in_nc: 3, out_nc: 3, nf, ch_mult: [1, 2, 4, 8], context_dim: 16, use_image_context: true });
  const unet = new ConditionalUNet(config);
  try {
    return { config, bytes: unetToOnnxBytes(unet.stateDict(), config) };
  } finally {
    unet.dispose();
  }
}

async function nodeTimes(bytes, config, threads) {
  const unet = await OnnxUNet.create(bytes, { threads });
  const fill = (n, k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + k) * 0.5);
  const shape = [1, 3, size, size];
  const inputs = { xt: { shape, data: fill(3 * size * size, 1) }, cond: { shape, data: fill(3 * size * size, 2) }, time: 10, imageContext: { shape: [1, config.context_dim], data: fill(config.context_dim, 3) } };
  try {
    for (let i = 0; i < 2; i++) await unet.run(inputs);
    const ms = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await unet.run(inputs);
      ms.push(performance.now() - t);
    }
    return ms;
  } finally {
    await unet.dispose();
  }
}

async function main() {
  const dist = path.join(root, 'apps/web/dist');
  if (!fs.existsSync(path.join(dist, 'bench.html'))) throw new Error('apps/web/dist/bench.html is missing: build the web app first (npx nx run @srdiff/web:build)');
  await selectBackend('cpu');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-bench-browser-'));
  const models = {};
  for (const nf of nfs) {
    models[nf] = modelBytes(nf);
    fs.writeFileSync(path.join(tmp, `unet-nf${nf}.onnx`), models[nf].bytes);
  }
  const server = await serve({ dir: dist, mounts: { '/bench-models/': tmp } });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const rows = [];
  const loadBefore = os.loadavg()[0];
  try {
    for (const nf of nfs) {
      for (const threads of threadCounts) {
        const node = await nodeTimes(models[nf].bytes, models[nf].config, threads);
        rows.push({ nf, size, engine: 'onnxruntime-node', threads, medianMs: median(node), ms: node });
        const page = await browser.newPage();
        await page.goto(`${server.url}bench.html?model=${encodeURIComponent(`/bench-models/unet-nf${nf}.onnx`)}&threads=${threads}&runs=${runs}&size=${size}`);
        await page.waitForFunction(() => window.benchResult, null, { timeout: 600_000 });
        const r = await page.evaluate(() => window.benchResult);
        await page.close();
        if (r.error) throw new Error(`browser nf ${nf}, ${threads} thread(s): ${r.error}`);
        rows.push({ nf, size, engine: `onnxruntime-web (${r.providers[0]})`, threads: r.threads, medianMs: r.median, ms: r.ms, crossOriginIsolated: r.crossOriginIsolated });
      }
    }
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`UNet step (one forward pass, 1×3×${size}×${size}, ch_mult [1, 2, 4, 8], context 16), median of ${runs} after 2 warm-up runs; load average ${loadBefore.toFixed(1)} → ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
  console.log('nf  engine                      threads  ms/step   vs node (same threads)');
  for (const r of rows) {
    const nodeRow = rows.find((x) => x.nf === r.nf && x.threads === r.threads && x.engine === 'onnxruntime-node');
    console.log(`${String(r.nf).padEnd(3)} ${r.engine.padEnd(27)} ${String(r.threads).padEnd(8)} ${r.medianMs.toFixed(1).padStart(7)}   ${(r.medianMs / nodeRow.medianMs).toFixed(2)}×`);
  }
  const out = path.join(root, 'bench-results', 'browser-unet.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, chromium: execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim(), loadAverage: os.loadavg(), rows }, null, 2)}\n`);
  console.log(`→ ${path.relative(process.cwd(), out)}`);
}

main().catch((err) => {
  console.error(err.stack ?? err);
  process.exitCode = 1;
});
