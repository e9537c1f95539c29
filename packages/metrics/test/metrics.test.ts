import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  evaluateBatch,
  evaluatePair,
  psnr,
  readImageWithSharp,
  ssim,
  tensor2img,
  verifyMetricsReference,
  type PixelImage,
  type Uint8Image,
} from '../src';

const FIXTURES = path.join(__dirname, 'fixtures', 'metrics');
const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'meta.json'), 'utf8'));

let gt: Uint8Image;
let restored: Uint8Image;
beforeAll(async () => {
  gt = await readImageWithSharp(path.join(FIXTURES, 'gt.png'));
  restored = await readImageWithSharp(path.join(FIXTURES, 'restored.png'));
});

function toFloat(img: Uint8Image): PixelImage {
  return { ...img, data: Float32Array.from(img.data, (v) => v / 255) };
}

function channel(img: Uint8Image, c: number): Uint8Image {
  const data = new Uint8Array(img.width * img.height);
  for (let i = 0; i < data.length; i++) data[i] = img.data[i * 3 + c]!;
  return { width: img.width, height: img.height, channels: 1, data };
}

describe('parity with the original test.py metric block (reference metrics/)', () => {
  for (const crop of [4, 0]) {
    test(`crop ${crop}: PSNR, SSIM, PSNR-Y, SSIM-Y`, () => {
      const expected = meta.results[String(crop)];
      const got = evaluatePair(restored, gt, { cropBorder: crop });
      const report = {
        psnr: Math.abs(got.psnr - expected.psnr),
        ssim: Math.abs(got.ssim - expected.ssim),
        psnrY: Math.abs(got.psnrY - expected.psnr_y),
        ssimY: Math.abs(got.ssimY - expected.ssim_y),
      };
      console.log(`metrics parity crop ${crop}: |error| ${JSON.stringify(report)}`);
      expect(report.psnr).toBeLessThanOrEqual(meta.tolerances[`meta:results.${crop}.psnr`].value);
      expect(report.ssim).toBeLessThanOrEqual(meta.tolerances[`meta:results.${crop}.ssim`].value);
      expect(report.psnrY).toBeLessThanOrEqual(meta.tolerances[`meta:results.${crop}.psnr_y`].value);
      expect(report.ssimY).toBeLessThanOrEqual(meta.tolerances[`meta:results.${crop}.ssim_y`].value);
    });

    test(`crop ${crop}: the single metrics and float [0,1] input agree with evaluatePair`, () => {
      const expected = meta.results[String(crop)];
      const opts = { cropBorder: crop };
      expect(Math.abs(psnr(toFloat(restored), toFloat(gt), opts) - expected.psnr)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(ssim(toFloat(restored), gt, opts) - expected.ssim)).toBeLessThanOrEqual(1e-7);
      expect(Math.abs(psnr(restored, gt, { ...opts, yChannel: true }) - expected.psnr_y)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(ssim(restored, gt, { ...opts, yChannel: true }) - expected.ssim_y)).toBeLessThanOrEqual(1e-7);
    });

    test(`crop ${crop}: per-channel SSIM matches the crosscheck (the 3-channel loop quirk)`, () => {
      const perChannelBgr: number[] = meta.crosscheck[String(crop)].ssim_per_channel_bgr;
      perChannelBgr.forEach((value, bgrIndex) => {
        const c = 2 - bgrIndex;
        expect(Math.abs(ssim(channel(restored, c), channel(gt, c), { cropBorder: crop }) - value)).toBeLessThanOrEqual(1e-7);
      });
    });
  }

  test('verifyMetricsReference passes every row of the reference folder', async () => {
    const rows = await verifyMetricsReference(FIXTURES);
    for (const r of rows) console.log(`verify ${r.key}: error ${r.error} (${r.kind} tol ${r.tolerance}) ${r.pass ? 'ok' : 'FAIL'}`);
    expect(rows).toHaveLength(9);
    expect(rows.every((r) => r.pass)).toBe(true);
    expect(rows.map((r) => r.key)).toContain('tensor2img.safetensors:expected_hwc_bgr');
  });
});

describe('verifyMetricsReference on altered folders', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-metrics-'));
    for (const f of fs.readdirSync(FIXTURES)) fs.copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a wrong expected value fails its row only', async () => {
    const altered = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    altered.results['0'].ssim += 1e-5;
    fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(altered));
    const rows = await verifyMetricsReference(dir);
    expect(rows.filter((r) => !r.pass).map((r) => r.key)).toEqual(['meta:results.0.ssim']);
  });

  test('a missing tolerance or file is a clear error', async () => {
    const altered = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    delete altered.tolerances['meta:results.4.psnr'];
    fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(altered));
    await expect(verifyMetricsReference(dir)).rejects.toThrow(/no usable tolerance for "meta:results.4.psnr"/);
    fs.rmSync(path.join(dir, 'restored.png'));
    await expect(verifyMetricsReference(dir)).rejects.toThrow(/restored\.png: missing/);
  });
});

describe('tensor2img', () => {
  test('clamps, scales in float32 and rounds half to even', () => {
    // 2.5/255 and 3.5/255 as float32 times 255 in float32 are exactly 2.5 and 3.5.
    const half = (k: number) => Math.fround((k + 0.5) / 255);
    expect(Math.fround(half(2) * 255)).toBe(2.5);
    expect(Array.from(tensor2img([half(2), half(3), -0.2, -0, 1.3, 1, 0, NaN, 0.5]))).toEqual([2, 4, 0, 0, 255, 255, 0, 0, 128]);
  });

  test('uint8 → /255 → tensor2img is the identity', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(tensor2img(Float32Array.from(all, (v) => v / 255)))).toEqual(Array.from(all));
  });
});

describe('metric definitions', () => {
  const w = 16;
  const h = 14;
  const base = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 200 + 20);
  const img = (data: Uint8Array, channels = 3): Uint8Image => ({ width: w, height: h, channels, data });

  test('PSNR: identical images are infinite; a uniform error of 1 gives 20·log10(255)', () => {
    expect(psnr(img(base), img(base))).toBe(Infinity);
    const shifted = base.map((v) => v + 1);
    expect(psnr(img(shifted), img(base))).toBeCloseTo(20 * Math.log10(255), 12);
  });

  test('SSIM of an image with itself is 1 and falls as noise grows', () => {
    expect(ssim(img(base), img(base))).toBeCloseTo(1, 12);
    const noisy = (amp: number) => base.map((v, i) => v + Math.round(amp * (((i * 7919) % 21) / 10 - 1)));
    const s = [5, 10, 20].map((amp) => ssim(img(noisy(amp)), img(base)));
    expect(s[0]).toBeGreaterThan(s[1]!);
    expect(s[1]).toBeGreaterThan(s[2]!);
  });

  test('SSIM equals a direct (non-separable) 11×11 window computation', () => {
    const other = base.map((v, i) => v + ((i * 7919) % 31) - 15);
    const k1 = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5)));
    const ksum = k1.reduce((a, b) => a + b, 0);
    const win = k1.map((a) => k1.map((b) => (a / ksum) * (b / ksum)));
    let total = 0;
    let count = 0;
    for (let c = 0; c < 3; c++) {
      const at = (d: Uint8Array, y: number, x: number) => d[(y * w + x) * 3 + c]!;
      for (let y = 0; y + 11 <= h; y++) {
        for (let x = 0; x + 11 <= w; x++) {
          let m1 = 0, m2 = 0, e11 = 0, e22 = 0, e12 = 0;
          for (let i = 0; i < 11; i++) {
            for (let j = 0; j < 11; j++) {
              const a = at(other, y + i, x + j);
              const b = at(base, y + i, x + j);
              const wt = win[i]![j]!;
              m1 += wt * a; m2 += wt * b; e11 += wt * a * a; e22 += wt * b * b; e12 += wt * a * b;
            }
          }
          const C1 = (0.01 * 255) ** 2, C2 = (0.03 * 255) ** 2;
          total += ((2 * m1 * m2 + C1) * (2 * (e12 - m1 * m2) + C2)) / ((m1 * m1 + m2 * m2 + C1) * (e11 - m1 * m1 + e22 - m2 * m2 + C2));
          count++;
        }
      }
    }
    expect(Math.abs(ssim(img(other), img(base)) - total / count)).toBeLessThan(1e-12);
  });

  test('one-channel images: the Y metrics equal the plain ones', () => {
    const g = img(base.subarray(0, w * h), 1);
    const n = img(base.subarray(0, w * h).map((v) => v + 3), 1);
    const m = evaluatePair(n, g, { cropBorder: 0 });
    expect(m.psnrY).toBe(m.psnr);
    expect(m.ssimY).toBe(m.ssim);
  });

  test('bad input is rejected with what was expected', () => {
    expect(() => psnr(img(base), { width: w, height: h + 1, channels: 3, data: new Uint8Array(w * (h + 1) * 3) })).toThrow(/same dimensions/);
    expect(() => ssim(img(base), img(base), { cropBorder: 2 })).toThrow(/at least 11×11/);
    expect(() => psnr(img(base), img(base), { cropBorder: 7 })).toThrow(/leaves nothing/);
    expect(() => psnr({ width: w, height: h, channels: 3, data: new Uint8Array(5) }, img(base))).toThrow(/needs 672 values, got 5/);
    expect(() => psnr({ width: w, height: h, channels: 4, data: new Uint8Array(w * h * 4) }, img(base))).toThrow(/1 or 3 channels/);
  });
});

describe('tensor adapters and batches', () => {
  test('tensors with dataSync() and host tensors give the same rows as PixelImages', () => {
    const n = 2;
    const size = gt.width * gt.height * 3;
    const gtBatch = new Float32Array(n * size);
    const srBatch = new Float32Array(n * size);
    for (let i = 0; i < n; i++) {
      gtBatch.set(toFloat(gt).data as Float32Array, i * size);
      srBatch.set(toFloat(i === 0 ? restored : gt).data as Float32Array, i * size);
    }
    const shape = [n, gt.height, gt.width, 3];
    const tensorLike = { shape, dataSync: () => srBatch };
    const summary = evaluateBatch(tensorLike, { shape, data: gtBatch }, { names: ['a', 'b'] });
    expect(summary.count).toBe(2);
    expect(summary.rows.map((r) => r.name)).toEqual(['a', 'b']);
    expect(Math.abs(summary.rows[0]!.psnr - meta.results['4'].psnr)).toBeLessThanOrEqual(1e-6);
    expect(summary.rows[1]!.psnr).toBe(Infinity);
    expect(summary.mean.ssim).toBeCloseTo((summary.rows[0]!.ssim + 1) / 2, 12);

    const single = evaluatePair({ shape: [1, gt.height, gt.width, 3], dataSync: () => srBatch.subarray(0, size) }, gt);
    expect(single.ssimY).toBeCloseTo(meta.results['4'].ssim_y, 7);
    expect(() => evaluatePair({ shape, dataSync: () => srBatch }, gt)).toThrow(/batch 1/);
  });
});
