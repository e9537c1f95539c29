import fs from 'node:fs';
import path from 'node:path';
import { Rng, type HostTensor } from '@srdiff/core';
import { psnr } from '@srdiff/metrics';
import {
  addHaze,
  addMotionBlur,
  addRain,
  buildDegradedDataset,
  bundledCleanImagesDir,
  cameraShakeKernel,
  degrade,
  DEGRADATION_TASKS,
  discoverDataset,
  makeLowLight,
  poisson,
  readImage,
  type DegradationTask,
} from '../src';
import { tempDir } from './helpers';

let clean: { name: string; image: HostTensor }[];
beforeAll(async () => {
  const dir = bundledCleanImagesDir();
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
  clean = await Promise.all(files.map(async (f) => ({ name: f, image: await readImage(path.join(dir, f)) })));
});

/** The top-left `size`² corner, as `[1, size, size, 3]` (keeps the slow-in-jest loops short). */
function crop(img: HostTensor, size: number): HostTensor {
  const width = img.shape[2]!;
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) data.set(img.data.subarray(y * width * 3, (y * width + size) * 3), y * size * 3);
  return { shape: [1, size, size, 3], data };
}

function psnrOf(a: HostTensor, b: HostTensor): number {
  const [height, width] = [b.shape[1]!, b.shape[2]!];
  return psnr({ height, width, channels: 3, data: a.data }, { height, width, channels: 3, data: b.data });
}

/** The range every LQ's PSNR against its clean image must fall in (README, "Synthetic degradations"). */
const PSNR_RANGE: Record<DegradationTask, [number, number]> = {
  hazy: [5, 17],
  'low-light': [5, 15],
  rainy: [18, 29],
  'motion-blurry': [16, 38],
};

describe('bundled clean photographs', () => {
  test('at least six images, each recorded in NOTICE', () => {
    expect(clean.length).toBeGreaterThanOrEqual(6);
    const notice = fs.readFileSync(path.join(bundledCleanImagesDir(), '..', '..', 'NOTICE'), 'utf8');
    for (const { name, image } of clean) {
      expect(notice).toContain(`assets/clean/${name}`);
      expect(Math.max(image.shape[1]!, image.shape[2]!)).toBe(256);
    }
  });
});

describe.each(DEGRADATION_TASKS)('%s', (task) => {
  test('deterministic for a seed, different across seeds, same shape, values in [0, 1]', () => {
    const img = crop(clean[0]!.image, 64);
    const a = degrade(task, img, 11);
    const b = degrade(task, img, 11);
    const c = degrade(task, img, 12);
    expect(a.image.shape).toEqual(img.shape);
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(b.image.data.buffer))).toBe(true);
    expect(a.params).toEqual(b.params);
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(c.image.data.buffer))).toBe(false);
    expect(a.image.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    const hwc = degrade(task, { shape: img.shape.slice(1), data: img.data }, 11);
    expect(hwc.image.shape).toEqual(img.shape.slice(1));
    expect(Buffer.from(hwc.image.data.buffer).equals(Buffer.from(a.image.data.buffer))).toBe(true);
  });

  test(`PSNR against the clean image within ${PSNR_RANGE[task].join('–')} dB on every bundled photo`, () => {
    const values = clean.map(({ image }, i) => psnrOf(degrade(task, image, 100 + i).image, image));
    console.log(`${task}: PSNR ${values.map((v) => v.toFixed(2)).join(', ')}`);
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(PSNR_RANGE[task][0]);
      expect(v).toBeLessThanOrEqual(PSNR_RANGE[task][1]);
    }
  });
});

describe('physical models', () => {
  test('haze: every pixel is J·t + A·(1 − t) with one transmission per pixel, clearer at the bottom', () => {
    const img = crop(clean[0]!.image, 96);
    const { image, params } = addHaze(img, 5);
    const A = params.airlight as number[];
    const beta = params.beta as number;
    const n = 96 * 96;
    let checked = 0;
    let spread = 0;
    let [tMin, tMax] = [Infinity, -Infinity];
    const meanT = [0, 0];
    for (let p = 0; p < n; p++) {
      const ts: number[] = [];
      for (let c = 0; c < 3; c++) {
        const J = img.data[p * 3 + c]!;
        if (Math.abs(A[c]! - J) > 0.3) ts.push((A[c]! - image.data[p * 3 + c]!) / (A[c]! - J));
      }
      if (ts.length >= 2) {
        spread = Math.max(spread, Math.max(...ts) - Math.min(...ts));
        checked++;
      }
      if (ts.length > 0) {
        [tMin, tMax] = [Math.min(tMin, ts[0]!), Math.max(tMax, ts[0]!)];
        meanT[p < n / 2 ? 0 : 1] += ts[0]!;
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(spread).toBeLessThan(1e-4);
    expect(tMin).toBeGreaterThan(Math.exp(-beta) - 1e-3);
    expect(tMax).toBeLessThan(1 + 1e-3);
    expect(meanT[1]).toBeGreaterThan(meanT[0]!); // bottom half (near) more transmissive
  });

  test('rain: the screened streak layer only brightens, on a minority of pixels', () => {
    const img = crop(clean[1]!.image, 128);
    const { image, params } = addRain(img, 3);
    let changed = 0;
    let darkest = 0;
    for (let i = 0; i < img.data.length; i++) {
      const d = image.data[i]! - img.data[i]!;
      darkest = Math.min(darkest, d);
      if (d > 1 / 255) changed++;
    }
    expect(darkest).toBeGreaterThan(-1e-6);
    const fraction = changed / img.data.length;
    expect(fraction).toBeGreaterThan(0.01);
    expect(fraction).toBeLessThan(0.5);
    expect(params.streaks).toBeGreaterThan(0);
  });

  test('motion blur: the trajectory kernel is a normalised, non-negative path of about the drawn length', () => {
    for (let seed = 0; seed < 5; seed++) {
      const k = cameraShakeKernel(new Rng(seed), { length: [12, 12] });
      expect(k.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(k.weights.every((v) => v >= 0)).toBe(true);
      expect(k.size).toBeLessThanOrEqual(2 * Math.ceil(12 / 2 + 1) + 1 + 12); // bounded by the path length
      expect(k.taps.length).toBeGreaterThan(3); // a path, not a point
    }
    const flat: HostTensor = { shape: [20, 24, 3], data: new Float32Array(20 * 24 * 3).fill(0.4) };
    const { image } = addMotionBlur(flat, 1);
    expect(image.data.every((v) => Math.abs(v - 0.4) < 1e-6)).toBe(true);
  });

  test('low light: without noise it is exactly α·J^γ; with noise its mean stays there', () => {
    const img = crop(clean[2]!.image, 96);
    const noiseless = makeLowLight(img, 4, { photonsAtFullScale: [1e9, 1e9], readNoise: [0, 0] });
    const alpha = noiseless.params.exposure as number;
    const gamma = noiseless.params.gamma as number;
    let worst = 0;
    for (let i = 0; i < img.data.length; i++) worst = Math.max(worst, Math.abs(noiseless.image.data[i]! - alpha * img.data[i]! ** gamma));
    expect(worst).toBeLessThan(1e-4);

    const noisy = makeLowLight(img, 4);
    expect(noisy.params.exposure).toBe(alpha); // same draws for the same seed
    const mean = (d: Float32Array) => d.reduce((a, b) => a + b, 0) / d.length;
    expect(Math.abs(mean(noisy.image.data) - mean(noiseless.image.data))).toBeLessThan(0.003);
  });

  test('Poisson draws have mean and variance λ', () => {
    const rng = new Rng(9);
    for (const lambda of [3, 80]) {
      const draws = Array.from({ length: 20000 }, () => poisson(rng, lambda));
      const m = draws.reduce((a, b) => a + b, 0) / draws.length;
      const v = draws.reduce((a, b) => a + (b - m) ** 2, 0) / draws.length;
      expect(Math.abs(m - lambda)).toBeLessThan(0.05 * lambda);
      expect(Math.abs(v - lambda)).toBeLessThan(0.1 * lambda);
    }
  });

  test('bad options are rejected with what was expected', () => {
    const img = crop(clean[0]!.image, 16);
    expect(() => addHaze(img, 1, { beta: [3, 1] })).toThrow(/haze\.beta: expected \[min, max\]/);
    expect(() => makeLowLight(img, 1, { exposure: [0.5, 2] })).toThrow(/lowLight\.exposure/);
    expect(() => degrade('snowy' as DegradationTask, img, 1)).toThrow(/unknown task "snowy"/);
    expect(() => addRain({ shape: [4, 4, 4], data: new Float32Array(64) }, 1)).toThrow(/expected an RGB image/);
  });
});

describe('buildDegradedDataset', () => {
  let out: string;
  beforeAll(() => {
    out = tempDir();
  });
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  const files = (root: string) =>
    fs
      .readdirSync(root, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.png'))
      .sort();

  test('writes the standard layout, deterministic for a seed and independent of the task list', async () => {
    const a = path.join(out, 'a');
    const progress: number[] = [];
    const result = await buildDegradedDataset(bundledCleanImagesDir(), a, { patchSize: 48, seed: 3, valFraction: 0.3, onProgress: (p) => progress.push(p.done) });
    const n = clean.length;
    const nVal = Math.round(n * 0.3);
    expect(result.pairs).toBe(4 * n);
    expect(progress.at(-1)).toBe(4 * n);
    for (const task of DEGRADATION_TASKS) {
      expect(result.counts.val[task]).toBe(nVal);
      expect(result.counts.train[task]).toBe(n - nVal);
      expect(result.psnr[task]!.count).toBe(n);
    }
    const train = await discoverDataset({ root: a, phase: 'train' });
    const val = await discoverDataset({ root: a, phase: 'val' });
    expect(train.tasks).toEqual(['hazy', 'low-light', 'motion-blurry', 'rainy']);
    expect(train.pairs.length + val.pairs.length).toBe(4 * n);
    expect(train.pairs.every((p) => p.width === 48 && p.height === 48)).toBe(true);
    const valNames = new Set(val.pairs.map((p) => p.name));
    expect(train.pairs.some((p) => valNames.has(p.name))).toBe(false); // no clean image in both splits

    const manifest = JSON.parse(fs.readFileSync(result.manifest, 'utf8'));
    expect(manifest.items).toHaveLength(4 * n);
    expect(manifest.items[0].params).toBeDefined();

    // The same seed again → identical files; only hazy → identical hazy files.
    const b = path.join(out, 'b');
    await buildDegradedDataset(bundledCleanImagesDir(), b, { patchSize: 48, seed: 3, valFraction: 0.3, tasks: ['hazy'] });
    const hazy = files(a).filter((f) => f.includes(`${path.sep}hazy${path.sep}`));
    expect(files(b)).toEqual(hazy);
    for (const f of hazy) expect(fs.readFileSync(path.join(b, f)).equals(fs.readFileSync(path.join(a, f)))).toBe(true);
  });

  test('refuses to mix with an existing output unless asked to overwrite', async () => {
    const c = path.join(out, 'c');
    await buildDegradedDataset(bundledCleanImagesDir(), c, { tasks: ['rainy'], patchSize: 32, valFraction: 0 });
    await expect(buildDegradedDataset(bundledCleanImagesDir(), c, { tasks: ['rainy'], patchSize: 32 })).rejects.toThrow(/train.rainy already exists; pass overwrite: true/);
    const again = await buildDegradedDataset(bundledCleanImagesDir(), c, { tasks: ['rainy'], patchSize: 32, perImage: 2, overwrite: true, valFraction: 0 });
    expect(again.counts.train.rainy).toBe(2 * clean.length);
    expect(again.pairs).toBe(2 * clean.length); // counted without an onProgress callback too
    expect(files(c).filter((f) => f.includes('LQ'))).toHaveLength(2 * clean.length);
    expect(files(c)[0]).toMatch(/_00\.png$/);
  });

  test('validates its options', async () => {
    await expect(buildDegradedDataset(bundledCleanImagesDir(), out, { valFraction: 1 })).rejects.toThrow(/valFraction must be in \[0, 1\)/);
    await expect(buildDegradedDataset(bundledCleanImagesDir(), out, { perImage: 0 })).rejects.toThrow(/perImage/);
    await expect(buildDegradedDataset(path.join(out, 'nowhere'), out)).rejects.toThrow(/cannot read clean folder/);
  });
});
