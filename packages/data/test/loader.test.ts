import fs from 'node:fs';
import path from 'node:path';
import { Rng, selectBackend, tf, writeNpy } from '@srdiff/core';
import { batchToTensors, DatasetError, PairedDataset, TrainBatchLoader, wholeImages, type TrainBatch } from '../src';
import { coordinatePixels, tempDir, writePng } from './helpers';

let root: string;
let dataset: PairedDataset;
const SIZES: [number, number][] = [
  [40, 30],
  [32, 32],
  [50, 20],
  [24, 36],
  [30, 30],
];

beforeAll(async () => {
  await selectBackend('cpu');
  root = tempDir();
  const t = path.join(root, 'train', 'hazy');
  for (const [i, [w, h]] of SIZES.entries()) {
    // LQ and GT encode their own coordinates (R = x, G = y), told apart by B.
    await writePng(path.join(t, 'LQ', `p${i}.png`), w, h, coordinatePixels(w, h, 100 + i));
    await writePng(path.join(t, 'GT', `p${i}.png`), w, h, coordinatePixels(w, h, 200 + i));
    await writeNpy(path.join(t, 'RestoreCLS', `p${i}.npy`), { shape: [1, 3], data: Float32Array.from([i, i + 0.5, -i]) });
  }
  dataset = await PairedDataset.open({ root, phase: 'train' });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const px = (v: number) => Math.round(v * 255);

describe('training samples', () => {
  test('LQ and GT patches come from the same place, with the drawn flips / rotation applied', async () => {
    const P = 16;
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const i = seed % SIZES.length;
      const [w, h] = SIZES[i]!;
      const s = await dataset.trainSample(i, new Rng(seed), { patchSize: P });
      const { top, left, hflip, vflip, rot90 } = s.placement;
      seen.add(`${hflip}${vflip}${rot90}`);
      expect(top).toBeGreaterThanOrEqual(0);
      expect(top).toBeLessThanOrEqual(h - P);
      expect(left).toBeLessThanOrEqual(w - P);
      const mismatches: string[] = [];
      for (let y = 0; y < P; y++) {
        for (let x = 0; x < P; x++) {
          // The original's order: hflip (columns), vflip (rows), then transpose.
          let [r, c] = rot90 ? [x, y] : [y, x];
          if (vflip) r = P - 1 - r;
          if (hflip) c = P - 1 - c;
          const o = (y * P + x) * 3;
          const gt = `${px(s.gt[o]!)},${px(s.gt[o + 1]!)},${px(s.gt[o + 2]!)}`;
          const lq = `${px(s.lq[o]!)},${px(s.lq[o + 1]!)},${px(s.lq[o + 2]!)}`;
          if (gt !== `${left + c},${top + r},${200 + i}` || lq !== `${left + c},${top + r},${100 + i}`) mismatches.push(`(${y},${x}): gt ${gt} lq ${lq}`);
        }
      }
      expect(mismatches).toEqual([]);
    }
    expect(seen.size).toBe(8); // all flip / rotation combinations occur
  });

  test('use_flip / use_rot off: plain crops', async () => {
    for (let seed = 0; seed < 10; seed++) {
      const s = await dataset.trainSample(0, new Rng(seed), { patchSize: 8, useFlip: false, useRot: false });
      expect([s.placement.hflip, s.placement.vflip, s.placement.rot90]).toEqual([false, false, false]);
    }
  });

  test('images smaller than the patch: an error naming the pair, or mirror padding', async () => {
    await expect(dataset.trainSample(2, new Rng(0), { patchSize: 24 })).rejects.toThrow(
      `pair "p2" (${path.join(root, 'train', 'hazy', 'LQ', 'p2.png')}) is 50×20, smaller than patch_size 24`,
    );
    const s = await dataset.trainSample(2, new Rng(0), { patchSize: 24, smallImages: 'pad', useFlip: false, useRot: false });
    expect(s.placement.top).toBe(0);
    const row = (y: number) => px(s.gt[(y * 24) * 3 + 1]!);
    // Rows 0..19 then mirrored: 18, 17, 16, 15 (no edge repeat).
    expect([row(0), row(19), row(20), row(21), row(23)]).toEqual([0, 19, 18, 17, 15]);
  });
});

describe('TrainBatchLoader', () => {
  const opts = { batchSize: 2, patchSize: 16, seed: 7, smallImages: 'pad' as const };

  async function take(loader: TrainBatchLoader, n: number): Promise<TrainBatch[]> {
    const out: TrainBatch[] = [];
    for (let i = 0; i < n; i++) out.push(await loader.next());
    return out;
  }

  test('batches: NHWC shapes, embeddings [B, D], every pair once per epoch (batches may span epochs)', async () => {
    const loader = new TrainBatchLoader(dataset, opts);
    const batches = await take(loader, 5); // 10 samples = 2 epochs of 5
    expect(batches[0]!.lq.shape).toEqual([2, 16, 16, 3]);
    expect(batches[0]!.gt.shape).toEqual([2, 16, 16, 3]);
    expect(batches[0]!.embedding!.shape).toEqual([2, 3]);
    const names = batches.flatMap((b) => b.pairs.map((p) => p.name));
    expect(names.slice(0, 5).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(names.slice(5).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(names.slice(0, 5)).not.toEqual(names.slice(5)); // reshuffled
    expect([batches[2]!.epoch, batches[2]!.index, batches[3]!.epoch, batches[3]!.index]).toEqual([0, 4, 1, 1]);
    const b0 = batches[0]!;
    const i = Number(b0.pairs[1]!.name.slice(1));
    expect(Array.from(b0.embedding!.data.subarray(3))).toEqual([i, i + 0.5, -i]);
    expect(px(b0.gt.data[16 * 16 * 3 + 2]!)).toBe(200 + i); // second sample's GT tag
  });

  test('the stream is the same with and without prefetch', async () => {
    const a = await take(new TrainBatchLoader(dataset, { ...opts, prefetch: 0 }), 6);
    const b = await take(new TrainBatchLoader(dataset, { ...opts, prefetch: 4 }), 6);
    for (let k = 0; k < 6; k++) {
      expect(b[k]!.pairs.map((p) => p.name)).toEqual(a[k]!.pairs.map((p) => p.name));
      expect(Buffer.from(b[k]!.lq.data.buffer).equals(Buffer.from(a[k]!.lq.data.buffer))).toBe(true);
    }
    const other = await take(new TrainBatchLoader(dataset, { ...opts, seed: 8 }), 1);
    expect(Buffer.from(other[0]!.lq.data.buffer).equals(Buffer.from(a[0]!.lq.data.buffer))).toBe(false);
  });

  test('getState / setState resume the exact stream (through JSON, as in a checkpoint)', async () => {
    const reference = await take(new TrainBatchLoader(dataset, opts), 7);
    const first = new TrainBatchLoader(dataset, { ...opts, prefetch: 3 });
    await take(first, 3);
    const saved = JSON.parse(JSON.stringify(first.getState()));
    expect(saved).toEqual({ seed: 7, epoch: 1, index: 1, size: 5, fingerprint: dataset.fingerprint });
    const resumed = new TrainBatchLoader(dataset, { ...opts, prefetch: 1 });
    resumed.setState(saved);
    const rest = await take(resumed, 4);
    for (let k = 0; k < 4; k++) {
      expect(rest[k]!.pairs.map((p) => p.name)).toEqual(reference[k + 3]!.pairs.map((p) => p.name));
      expect(Buffer.from(rest[k]!.gt.data.buffer).equals(Buffer.from(reference[k + 3]!.gt.data.buffer))).toBe(true);
    }
  });

  test('a saved position does not resume on another dataset or seed', async () => {
    const loader = new TrainBatchLoader(dataset, opts);
    const state = loader.getState();
    const smaller = new PairedDataset(dataset.pairs.slice(1));
    expect(() => new TrainBatchLoader(smaller, opts).setState(state)).toThrow(DatasetError);
    expect(() => new TrainBatchLoader(smaller, opts).setState(state)).toThrow(/saved for a dataset of 5 pairs/);
    expect(() => new TrainBatchLoader(dataset, { ...opts, seed: 1 }).setState(state)).toThrow(/seed 7, this loader 1/);
  });

  test('decode errors surface at the batch that needs them', async () => {
    const dir = tempDir();
    try {
      const t = path.join(dir, 'train', 'rainy');
      await writePng(path.join(t, 'LQ', 'a.png'), 20, 20, coordinatePixels(20, 20, 1));
      await writePng(path.join(t, 'GT', 'a.png'), 20, 20, coordinatePixels(20, 20, 2));
      const ds = await PairedDataset.open({ root: dir, phase: 'train' });
      fs.writeFileSync(path.join(t, 'GT', 'a.png'), 'corrupted after discovery');
      const loader = new TrainBatchLoader(ds, { batchSize: 1, patchSize: 8 });
      await expect(loader.next()).rejects.toThrow(`${path.join(t, 'GT', 'a.png')}: cannot decode image`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('batchToTensors gives tfjs tensors and leaks nothing once disposed', async () => {
    const batch = await new TrainBatchLoader(dataset, opts).next();
    const before = tf.memory().numTensors;
    const t = batchToTensors(batch);
    expect(t.lq.shape).toEqual([2, 16, 16, 3]);
    expect(t.embedding!.shape).toEqual([2, 3]);
    tf.dispose([t.lq, t.gt, t.embedding!]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('options are validated', () => {
    expect(() => new TrainBatchLoader(dataset, { batchSize: 0, patchSize: 8 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new TrainBatchLoader(dataset, { batchSize: 2, patchSize: 8, prefetch: -1 })).toThrow(/prefetch/);
  });
});

describe('wholeImages (validation)', () => {
  test('yields every pair in order as [1, H, W, 3] tensors with [1, D] embeddings', async () => {
    const seen: string[] = [];
    for await (const s of wholeImages(dataset, { prefetch: 2 })) {
      const [w, h] = SIZES[Number(s.pair.name.slice(1))]!;
      expect(s.lq.shape).toEqual([1, h, w, 3]);
      expect(s.embedding!.shape).toEqual([1, 3]);
      const last = (h * w - 1) * 3;
      expect([px(s.gt.data[last]!), px(s.gt.data[last + 1]!)]).toEqual([w - 1, h - 1]);
      seen.push(s.pair.name);
    }
    expect(seen).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
  });

  test('stops on abort', async () => {
    const controller = new AbortController();
    const it = wholeImages(dataset, { signal: controller.signal });
    await it.next();
    controller.abort();
    await expect(it.next()).rejects.toThrow();
  });
});
