// Training-batch throughput of @srdiff/data: batch 4, patch 128, from 512×512 PNG pairs, with and
// without prefetch, with an idle consumer and with a consumer that computes for a while per batch
// (a stand-in for a training step). Run after `npm run build -w @srdiff/data`:
//   node packages/data/bench/batches.mjs [--batches 40] [--step-ms 150] [--json out.json]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { PairedDataset, TrainBatchLoader, bundledCleanImagesDir, degrade, readImage, writeImage } from '../dist/index.mjs';

const require = createRequire(import.meta.url);
const sharp = require('sharp');

const { values } = parseArgs({ options: { batches: { type: 'string', default: '40' }, 'step-ms': { type: 'string', default: '150' }, json: { type: 'string' }, pairs: { type: 'string', default: '16' } } });
const BATCHES = Number(values.batches);
const STEP_MS = Number(values['step-ms']);
const PAIRS = Number(values.pairs);
const BATCH = 4;
const PATCH = 128;

async function makeDataset(root) {
  const clean = fs.readdirSync(bundledCleanImagesDir()).filter((f) => f.endsWith('.png')).sort();
  const dir = path.join(root, 'train', 'hazy');
  for (let i = 0; i < PAIRS; i++) {
    const src = path.join(bundledCleanImagesDir(), clean[i % clean.length]);
    const gtFile = path.join(dir, 'GT', `${String(i).padStart(3, '0')}.png`);
    fs.mkdirSync(path.dirname(gtFile), { recursive: true });
    await sharp(src).resize(512, 512, { fit: 'cover' }).rotate(90 * Math.floor(i / clean.length)).toColourspace('srgb').png().toFile(gtFile);
    const gt = await readImage(gtFile);
    await writeImage(path.join(dir, 'LQ', path.basename(gtFile)), degrade('hazy', gt, i).image);
  }
}

function busy(ms) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

async function run(dataset, { prefetch, stepMs }) {
  const loader = new TrainBatchLoader(dataset, { batchSize: BATCH, patchSize: PATCH, prefetch, seed: 1 });
  for (let i = 0; i < 3; i++) await loader.next(); // warm-up (JIT, thread pool, page cache)
  let waited = 0;
  const start = performance.now();
  for (let i = 0; i < BATCHES; i++) {
    const t = performance.now();
    await loader.next();
    waited += performance.now() - t;
    if (stepMs) busy(stepMs);
  }
  const seconds = (performance.now() - start) / 1000;
  return { prefetch, stepMs, batchesPerSecond: BATCHES / seconds, waitMsPerBatch: waited / BATCHES };
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-bench-data-'));
try {
  await makeDataset(root);
  const dataset = await PairedDataset.open({ root, phase: 'train' });
  const cached = await PairedDataset.open({ root, phase: 'train' }, { cacheImages: true });
  const rows = [];
  for (const stepMs of [0, STEP_MS]) {
    for (const prefetch of [0, 2, 4]) rows.push({ images: 'decode each time', ...(await run(dataset, { prefetch, stepMs })) });
  }
  rows.push({ images: 'cached in memory', ...(await run(cached, { prefetch: 2, stepMs: 0 })) });

  const env = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)', sharpConcurrency: sharp.concurrency(), pairs: PAIRS, batch: BATCH, patch: PATCH, image: '512x512 PNG (LQ + GT)', batches: BATCHES };
  console.log(`@srdiff/data training batches — batch ${BATCH}, patch ${PATCH}, ${PAIRS} pairs of 512×512 PNGs, ${BATCHES} batches per row`);
  console.log(`${env.cpus} CPUs (${env.cpu}), ${env.node}, libuv pool ${env.uvThreadpool}\n`);
  console.log('images            consumer step  prefetch  batches/s  wait in next() ms/batch');
  for (const r of rows) {
    console.log(`${r.images.padEnd(17)} ${String(r.stepMs ? `${r.stepMs} ms` : 'none').padStart(13)}  ${String(r.prefetch).padStart(8)}  ${r.batchesPerSecond.toFixed(2).padStart(9)}  ${r.waitMsPerBatch.toFixed(1).padStart(10)}`);
  }
  const report = { bench: 'data/batches', env, rows };
  console.log(`\n${JSON.stringify(report)}`);
  if (values.json) fs.writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
