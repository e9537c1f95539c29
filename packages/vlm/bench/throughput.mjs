// Images/second of @srdiff/vlm with the tiny CLIP fixture, at batch 1 and 16.
// Build first: npm run build -w @srdiff/core -w @srdiff/vlm; then: node packages/vlm/bench/throughput.mjs [N]
// Three numbers per batch size: end to end from PNG files (decode + preprocess + model),
// preprocessing only, and the model only (ONNX Runtime via transformers.js on ready pixel_values).
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createClipExtractor, decodeImage } from '../dist/index.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, '..', 'test', 'fixtures', 'tiny-clip');
const N = Number(process.argv[2] ?? 512);
const files = Array.from({ length: N }, (_, i) => path.join(fixture, 'images', ['rgb_32x32.png', 'rgb_50x40.png', 'gray_32x32.png'][i % 3]));

async function timed(fn) {
  await fn(); // warm-up
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    await fn();
    runs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  runs.sort((a, b) => a - b);
  return runs[2]; // median of 5
}

const rows = [];
for (const preprocessing of ['python', 'transformers-js']) {
  const extractor = await createClipExtractor({ model: path.join(fixture, 'model'), allowRemote: false, preprocessing });
  const decoded = await Promise.all(files.map((f) => decodeImage(f, f)));
  for (const batchSize of [1, 16]) {
    const chunks = [];
    for (let i = 0; i < N; i += batchSize) chunks.push(decoded.slice(i, i + batchSize));
    const pixels = await Promise.all(chunks.map((c) => extractor.preprocess(c)));
    const endToEnd = await timed(() => extractor.extract(files, { batchSize }));
    const preprocess = await timed(async () => { for (const c of chunks) await extractor.preprocess(c); });
    const model = await timed(async () => { for (const p of pixels) await extractor.run(p); });
    rows.push({ preprocessing, batch: batchSize, 'end-to-end img/s': Math.round(N / endToEnd), 'preprocess img/s': Math.round(N / preprocess), 'model img/s': Math.round(N / model) });
  }
  await extractor.dispose();
}
console.log(`@srdiff/vlm throughput, tiny CLIP (32x32 input, 25k params), ${N} images, node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model})`);
console.table(rows);
