/**
 * What the data layer does with files that break: non-finite embeddings name their file, a pair
 * that fails to decode mid-stream is skipped deterministically under `onError: 'skip'` (the same
 * stream with or without prefetch, and after a resume), whole-image iteration can skip too, error
 * hints use the caller's option names, and the image listing is the one extraction uses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Rng, selectBackend, writeNpy } from '@srdiff/core';
import { DatasetError, PairedDataset, TrainBatchLoader, discoverDataset, listImageFiles, wholeImages, type TrainBatch } from '../src';
import { coordinatePixels, tempDir, writePng } from './helpers';

let root: string;
const N = 6;
const taskDir = () => path.join(root, 'train', 'hazy');
beforeAll(async () => {
  await selectBackend('cpu');
  root = tempDir();
  for (let i = 0; i < N; i++) {
    await writePng(path.join(taskDir(), 'LQ', `p${i}.png`), 20, 20, coordinatePixels(20, 20, 100 + i));
    await writePng(path.join(taskDir(), 'GT', `p${i}.png`), 20, 20, coordinatePixels(20, 20, 200 + i));
    await writeNpy(path.join(taskDir(), 'LQCLS', `p${i}.npy`), { shape: [3], data: Float32Array.from([i, 1, 2]) });
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Keeps the header of a PNG and cuts its pixel data short: discovery passes, decoding fails. */
function truncate(file: string): void {
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
}

const names = (b: TrainBatch) => b.pairs.map((p) => p.name).join(',');

describe('non-finite embeddings', () => {
  test('are an error naming the file, the first bad value and how many', async () => {
    const dir = tempDir();
    try {
      fs.cpSync(taskDir(), path.join(dir, 'train', 'hazy'), { recursive: true });
      const bad = path.join(dir, 'train', 'hazy', 'LQCLS', 'p2.npy');
      await writeNpy(bad, { shape: [3], data: Float32Array.from([0, Infinity, NaN]) });
      const ds = await PairedDataset.open({ root: dir, phase: 'train' });
      const err = await ds.readEmbedding(2).catch((e: Error) => e);
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as DatasetError).problem).toBe('bad-embedding');
      expect((err as Error).message).toBe(`${bad}: the embedding is not finite (Infinity at index 1; 2 of 3 values)`);
      expect((err as DatasetError).files).toEqual([bad]);
      await expect(ds.readEmbedding(1)).resolves.toHaveLength(3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("onError: 'skip' in the training stream", () => {
  let dir: string;
  let victim: string;
  beforeAll(() => {
    dir = tempDir();
    fs.cpSync(taskDir(), path.join(dir, 'train', 'hazy'), { recursive: true });
    victim = path.join(dir, 'train', 'hazy', 'LQ', 'p3.png');
    truncate(victim);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("'stop' (the default) fails naming the file", async () => {
    const ds = await PairedDataset.open({ root: dir, phase: 'train' });
    const loader = new TrainBatchLoader(ds, { batchSize: 2, patchSize: 16, seed: 3, prefetch: 0 });
    let err: unknown;
    for (let i = 0; i < 3 * N && !err; i++) err = await loader.next().then(() => undefined, (e: Error) => e);
    expect((err as Error).message).toContain(victim);
  });

  test('replaces the pair by the next good one of the epoch, reports it once, and is the same stream with prefetch and after a resume', async () => {
    const ds = await PairedDataset.open({ root: dir, phase: 'train' });
    const skips: string[] = [];
    const make = (prefetch: number) => new TrainBatchLoader(ds, { batchSize: 2, patchSize: 16, seed: 3, prefetch, onError: 'skip', onSkip: (pair, e) => skips.push(`${pair.lq}: ${e.message}`) });
    const a = make(0);
    const stream: string[] = [];
    for (let i = 0; i < 3 * N; i++) stream.push(names(await a.next()));
    expect(stream.join(',')).not.toContain('p3');
    expect(a.skipped.pairs.map((p) => p.lq)).toEqual([victim]);
    expect(a.skipped.samples).toBe(6); // 36 samples = six epochs of the 6 pairs: p3's position replaced once in each
    expect(skips.filter((s) => s.startsWith(victim))).toHaveLength(1);

    const b = make(2);
    const prefetched: string[] = [];
    for (let i = 0; i < 3 * N; i++) prefetched.push(names(await b.next()));
    expect(prefetched).toEqual(stream);

    const c = make(1);
    for (let i = 0; i < 5; i++) await c.next();
    const d = make(0);
    d.setState(c.getState());
    const resumed: string[] = [];
    for (let i = 5; i < 3 * N; i++) resumed.push(names(await d.next()));
    expect(resumed).toEqual(stream.slice(5));
  });

  test('fails when no pair of the epoch can be read', async () => {
    const all = tempDir();
    try {
      fs.cpSync(taskDir(), path.join(all, 'train', 'hazy'), { recursive: true });
      for (let i = 0; i < N; i++) truncate(path.join(all, 'train', 'hazy', 'LQ', `p${i}.png`));
      const ds = await PairedDataset.open({ root: all, phase: 'train' });
      const loader = new TrainBatchLoader(ds, { batchSize: 2, patchSize: 16, prefetch: 0, onError: 'skip', onSkip: () => undefined });
      await expect(loader.next()).rejects.toThrow(/no pair of the dataset could be read \(6 tried\)/);
    } finally {
      fs.rmSync(all, { recursive: true, force: true });
    }
  });

  test('wholeImages skips a failing pair when asked, and reports it', async () => {
    const ds = await PairedDataset.open({ root: dir, phase: 'train' });
    const skipped: string[] = [];
    const seen: string[] = [];
    for await (const s of wholeImages(ds, { onSkip: (pair) => skipped.push(pair.name) })) seen.push(s.pair.name);
    expect(seen).toEqual(['p0', 'p1', 'p2', 'p4', 'p5']);
    expect(skipped).toEqual(['p3']);
    await expect((async () => {
      for await (const _ of wholeImages(ds)) void _;
    })()).rejects.toThrow(victim);
  });
});

describe('hints name the caller\'s options', () => {
  test('a discovery problem and a too-small image suggest the option names given', async () => {
    const dir = tempDir();
    try {
      fs.cpSync(taskDir(), path.join(dir, 'train', 'hazy'), { recursive: true });
      fs.rmSync(path.join(dir, 'train', 'hazy', 'GT', 'p1.png'));
      const hints = { onInvalid: 'datasets.train.on_error: skip', smallImages: 'datasets.train.small_images: pad' };
      await expect(discoverDataset({ root: dir, phase: 'train' }, { hints })).rejects.toThrow(/\(set datasets\.train\.on_error: skip to leave such pairs out\)/);
      await expect(discoverDataset({ root: dir, phase: 'train' })).rejects.toThrow(/\(pass onInvalid: 'skip' to leave such pairs out\)/);
      const ds = await PairedDataset.open({ root: dir, phase: 'train' }, { hints, onInvalid: 'skip', warn: () => undefined });
      await expect(ds.trainSample(0, new Rng(0), { patchSize: 32 })).rejects.toThrow(/smaller than patch_size 32; use larger images, a smaller patch, or datasets\.train\.small_images: pad/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('listImageFiles', () => {
  test('lists what discovery pairs: sub-folders by relative path, symlinked files, no hidden entries', async () => {
    const dir = tempDir();
    try {
      const lq = path.join(dir, 'LQ');
      await writePng(path.join(lq, 'a.png'), 8, 8, coordinatePixels(8, 8, 1));
      await writePng(path.join(lq, 'sub', 'b.png'), 8, 8, coordinatePixels(8, 8, 2));
      await writePng(path.join(dir, 'elsewhere', 'c.png'), 8, 8, coordinatePixels(8, 8, 3));
      fs.symlinkSync(path.join(dir, 'elsewhere', 'c.png'), path.join(lq, 'c.png'));
      fs.writeFileSync(path.join(lq, '.d.png'), '');
      fs.writeFileSync(path.join(lq, 'notes.txt'), '');
      expect(listImageFiles(lq).map((f) => f.name)).toEqual(['a', 'c', 'sub/b']);
      expect(listImageFiles(lq).map((f) => path.relative(lq, f.file))).toEqual(['a.png', 'c.png', path.join('sub', 'b.png')]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
