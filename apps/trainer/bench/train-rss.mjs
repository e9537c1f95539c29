// Where a training run's resident memory goes, step by step: `srdiff train`'s loop (trainDiffusion,
// from the build) on a small dataset, sampling every --every steps the process RSS split by kind of
// mapping (/proc/self/smaps: glibc's brk heap and thread arenas, other anonymous memory — V8's heap,
// the wasm memory, large mallocs — and files), the JS
// heap, external/ArrayBuffer memory, the tfjs tensor count and the wasm heap size, and sharp's
// (libvips') operation cache. Switches isolate the suspects: --sharp-cache off, --ckpt-freq, --threads,
// --prefetch, --engine tfjs|onnx (train.engine). Run after `npx nx build trainer`:
//   node --expose-gc apps/trainer/bench/train-rss.mjs [--steps 2000] [--every 100] [--engine tfjs] [--sharp-cache on|off] [--json out.json]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { tf, writeNpy } from '@srdiff/core';
import { buildDegradedDataset, bundledCleanImagesDir } from '@srdiff/data';
import { TRAIN_OPTIONS_SCHEMA, loadOptions, trainDiffusion } from '../dist/index.mjs';

const require = createRequire(import.meta.url);
const sharp = require('sharp');

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '2000' },
    engine: { type: 'string', default: 'tfjs' },
    every: { type: 'string', default: '100' },
    nf: { type: 'string', default: '8' },
    batch: { type: 'string', default: '4' },
    patch: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    prefetch: { type: 'string', default: '2' },
    'ckpt-freq': { type: 'string', default: '200' },
    'ch-mult': { type: 'string', default: '1,2' },
    context: { type: 'string', default: 'off' },
    'val-freq': { type: 'string', default: '0' },
    'val-engine': { type: 'string', default: 'auto' },
    'sharp-cache': { type: 'string', default: 'on' },
    json: { type: 'string' },
  },
});
const STEPS = Number(values.steps);
const EVERY = Number(values.every);
if (values['sharp-cache'] === 'off') sharp.cache(false);

const MiB = 2 ** 20;

/** Resident kB of the process by kind of mapping, from /proc/self/smaps (Linux). */
function residentByKind() {
  const out = { brkHeap: 0, arenas: 0, otherAnon: 0, files: 0 };
  let text;
  try {
    text = fs.readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return undefined;
  }
  let kind = 'otherAnon';
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const size = Number(BigInt(`0x${head[2]}`) - BigInt(`0x${head[1]}`));
      const name = head[3];
      if (name === '[heap]') kind = 'brkHeap';
      // glibc's per-thread malloc arenas are 64 MiB reservations (HEAP_MAX_SIZE on 64-bit).
      else if (!name && size === 64 * MiB) kind = 'arenas';
      else if (name && !name.startsWith('[')) kind = 'files';
      else kind = 'otherAnon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]);
  }
  for (const k of Object.keys(out)) out[k] = +(out[k] / 1024).toFixed(1);
  return out;
}

function wasmHeapMiB() {
  const b = tf.backend();
  const heap = b?.wasm?.HEAPU8;
  return heap ? +(heap.length / MiB).toFixed(1) : undefined;
}

function sample(step) {
  // With --expose-gc, a full collection first: the JS heap figures are then live data, not GC timing.
  globalThis.gc?.();
  const m = process.memoryUsage();
  const t = tf.memory();
  const cache = sharp.cache();
  return {
    step,
    rssMiB: +(m.rss / MiB).toFixed(1),
    heapUsedMiB: +(m.heapUsed / MiB).toFixed(1),
    heapTotalMiB: +(m.heapTotal / MiB).toFixed(1),
    externalMiB: +(m.external / MiB).toFixed(1),
    arrayBuffersMiB: +(m.arrayBuffers / MiB).toFixed(1),
    tensors: t.numTensors,
    wasmHeapMiB: wasmHeapMiB(),
    // V8's committed size per heap space: which one grows when heapTotal does.
    ...Object.fromEntries(v8.getHeapSpaceStatistics().map((sp) => [`v8_${sp.space_name}MiB`, +(sp.space_size / MiB).toFixed(1)])),
    sharpCacheMiB: +(cache.memory.current).toFixed(1),
    ...Object.fromEntries(Object.entries(residentByKind() ?? {}).map(([k, v]) => [`${k}MiB`, v])),
  };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-rss-'));
try {
  const data = path.join(tmp, 'data');
  const valFreq = Number(values['val-freq']);
  await buildDegradedDataset(bundledCleanImagesDir(), data, { tasks: ['rainy', 'hazy'], perImage: 2, patchSize: 64, valFraction: valFreq ? 0.25 : 0, seed: 3 });
  const useContext = values.context === 'on';
  if (useContext) {
    // Random 16-wide "embeddings" (the memory question does not depend on their meaning).
    for (const phase of ['train', 'val']) {
      for (const task of ['rainy', 'hazy']) {
        const lq = path.join(data, phase, task, 'LQ');
        if (!fs.existsSync(lq)) continue;
        for (const f of fs.readdirSync(lq)) {
          await writeNpy(path.join(data, phase, task, 'RestoreCLS', f.replace(/\.png$/, '.npy')), { shape: [16], data: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + f.length)) });
        }
      }
    }
  }
  const { options } = loadOptions(TRAIN_OPTIONS_SCHEMA, undefined, {
    name: 'rss',
    backend: 'wasm',
    engine: values['val-engine'],
    sde: { T: 20, sample_T: 4 },
    datasets: {
      train: { dataroot: data, batch_size: Number(values.batch), patch_size: Number(values.patch), n_workers: Number(values.prefetch) },
      ...(valFreq ? { val: { dataroot: data, max_images: 4 } } : {}),
    },
    network_G: { setting: { nf: Number(values.nf), ch_mult: values['ch-mult'].split(',').map(Number), context_dim: 16, use_image_context: useContext } },
    path: { experiments_root: path.join(tmp, 'run') },
    train: { niter: STEPS, lr_G: 1e-4, threads: Number(values.threads), ema_update_every: 10, engine: values.engine, val_freq: valFreq || STEPS + 1 },
    logger: { print_freq: 50, save_checkpoint_freq: Number(values['ckpt-freq']) },
  });
  const rows = [];
  const started = Date.now();
  await trainDiffusion({
    options,
    onEvent: (e) => {
      if (e.type === 'start') rows.push(sample(e.step));
      if (e.type === 'step' && e.step % EVERY === 0) {
        rows.push(sample(e.step));
        const r = rows[rows.length - 1];
        process.stderr.write(`step ${r.step}: rss ${r.rssMiB} MiB (brk ${r.brkHeapMiB}, arenas ${r.arenasMiB}, other anon ${r.otherAnonMiB}, files ${r.filesMiB}), JS heap ${r.heapUsedMiB}/${r.heapTotalMiB}, external ${r.externalMiB}, tensors ${r.tensors}, wasm heap ${r.wasmHeapMiB}\n`);
      }
    },
  });
  const first = rows.find((r) => r.step >= EVERY) ?? rows[0];
  const last = rows[rows.length - 1];
  const delta = Object.fromEntries(Object.keys(last).filter((k) => typeof last[k] === 'number' && k !== 'step').map((k) => [k, +(last[k] - first[k]).toFixed(1)]));
  const result = { settings: values, seconds: (Date.now() - started) / 1000, from: first.step, to: last.step, delta, rows };
  process.stdout.write(`${JSON.stringify({ settings: values, from: first.step, to: last.step, delta })}\n`);
  if (values.json) fs.writeFileSync(values.json, JSON.stringify(result, null, 2));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
