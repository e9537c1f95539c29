import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { readSafetensors } from '@srdiff/core';
import { createClipExtractor, ImageDecodeError, ModelNotFoundError, type ClipExtractor } from '../src';

const fixture = path.join(__dirname, 'fixtures', 'tiny-clip');
const modelDir = path.join(fixture, 'model');
const images = ['rgb_32x32', 'rgb_50x40', 'gray_32x32'].map((n) => path.join(fixture, 'images', `${n}.png`));

interface RefImage {
  name: string;
  image_embeds: { data: number[] };
  last_hidden_state_cls: { data: number[] };
}
const expected = JSON.parse(fs.readFileSync(path.join(fixture, 'expected.json'), 'utf8')) as { images: RefImage[] };

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - Math.fround(b[i]!)));
  return m;
}

async function firstImageRgb(): Promise<{ data: Uint8Array; width: number; height: number; channels: 3 }> {
  const { data, info } = await sharp(images[0]!).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
}

let extractor: ClipExtractor;
beforeAll(async () => {
  extractor = await createClipExtractor({ model: modelDir, allowRemote: false });
});
afterAll(() => extractor.dispose());

describe('createClipExtractor', () => {
  it('loads a local folder offline, reports its width and settings', () => {
    expect(extractor.width).toBe(16);
    expect(extractor.output).toBe('image_embeds');
    expect(extractor.preprocessing).toBe('python');
    expect(extractor.id).toBe(modelDir);
    expect(extractor.revision).toBeNull();
  });

  it('extract: one image_embeds vector per image, equal to the Python reference', async () => {
    const vectors = await extractor.extract(images);
    expect(vectors).toHaveLength(3);
    vectors.forEach((v, i) => expect(maxAbs(v, expected.images[i]!.image_embeds.data)).toBeLessThanOrEqual(1e-5));
  });

  it('every input kind gives the same vector: path, Buffer, sharp, raw pixels, NHWC tensor', async () => {
    const file = images[1]!;
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    const [fromPath, fromBuffer, fromSharp, fromRaw] = await extractor.extract([file, fs.readFileSync(file), sharp(file), { data, width: info.width, height: info.height, channels: 3 }]);
    const [fromTensor] = await extractor.extract({ shape: [1, info.height, info.width, 3], data: Float32Array.from(data, (v) => v / 255) });
    for (const v of [fromBuffer, fromSharp, fromRaw, fromTensor]) expect(Array.from(v!)).toEqual(Array.from(fromPath!));
  });

  it('batch size does not change the vectors', async () => {
    const many = Array.from({ length: 20 }, (_, i) => images[i % 3]!);
    const one = await extractor.extract(many, { batchSize: 1 });
    const sixteen = await extractor.extract(many, { batchSize: 16 });
    one.forEach((v, i) => expect(maxAbs(v, sixteen[i]!)).toBeLessThanOrEqual(1e-6));
  });

  it("output 'pooled' is post_layernorm(CLS): LayerNorm of Python's CLS with the model's weights, and projects to image_embeds", async () => {
    const pooledExtractor = await createClipExtractor({ model: modelDir, allowRemote: false, output: 'pooled' });
    try {
      expect(pooledExtractor.width).toBe(32);
      const { tensors } = await readSafetensors(path.join(modelDir, 'model.safetensors'));
      const gamma = tensors['vision_model.post_layernorm.weight']!.data;
      const beta = tensors['vision_model.post_layernorm.bias']!.data;
      const projection = tensors['visual_projection.weight']!; // [16, 32]
      const pooled = await pooledExtractor.extract(images);
      pooled.forEach((v, i) => {
        const cls = expected.images[i]!.last_hidden_state_cls.data;
        const mean = cls.reduce((a, b) => a + b, 0) / cls.length;
        const variance = cls.reduce((a, b) => a + (b - mean) ** 2, 0) / cls.length;
        const layerNorm = cls.map((x, j) => ((x - mean) / Math.sqrt(variance + 1e-5)) * gamma[j]! + beta[j]!);
        expect(maxAbs(v, layerNorm)).toBeLessThanOrEqual(1e-5);
        const projected = Array.from({ length: 16 }, (_, o) => v.reduce((s, x, j) => s + x * projection.data[o * 32 + j]!, 0));
        expect(maxAbs(projected, expected.images[i]!.image_embeds.data)).toBeLessThanOrEqual(1e-5);
      });
    } finally {
      await pooledExtractor.dispose();
    }
  });

  it('normalize: unit L2 norm, same direction', async () => {
    const normalized = await createClipExtractor({ model: modelDir, allowRemote: false, normalize: true });
    try {
      const [raw] = await extractor.extract([images[0]!]);
      const [unit] = await normalized.extract([images[0]!]);
      const norm = Math.hypot(...raw!);
      expect(Math.hypot(...unit!)).toBeCloseTo(1, 6);
      unit!.forEach((x, i) => expect(x).toBeCloseTo(raw![i]! / norm, 6));
    } finally {
      await normalized.dispose();
    }
  });

  it("onError 'stop' names the corrupt file; 'skip' returns null for it and embeds the rest", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vlm-bad-'));
    const bad = path.join(dir, 'corrupt.png');
    fs.writeFileSync(bad, Buffer.from('\x89PNG\r\n\x1a\n not really'));
    try {
      await expect(extractor.extract([images[0]!, bad, images[2]!])).rejects.toThrow(ImageDecodeError);
      await expect(extractor.extract([images[0]!, bad])).rejects.toThrow(`${bad}: cannot decode image`);
      const skipped: string[] = [];
      const out = await extractor.extract([images[0]!, bad, images[2]!], { onError: 'skip', onSkip: (f) => skipped.push(f.source) });
      expect(out[1]).toBeNull();
      expect(skipped).toEqual([bad]);
      expect(maxAbs(out[2]!, expected.images[2]!.image_embeds.data)).toBeLessThanOrEqual(1e-5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports progress per batch and stops on an aborted signal', async () => {
    const progress: number[] = [];
    await extractor.extract([...images, ...images], { batchSize: 2, onProgress: (p) => progress.push(p.done) });
    expect(progress).toEqual([2, 4, 6]);
    const controller = new AbortController();
    controller.abort();
    await expect(extractor.extract(images, { signal: controller.signal })).rejects.toThrow();
  });
});

describe('missing models and bad options', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vlm-model-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a hub id offline that is nowhere local: says where it looked and how to provide it', async () => {
    const err = await createClipExtractor({ model: 'Xenova/clip-vit-base-patch32', allowRemote: false, localModelPath: tmp, cacheDir: path.join(tmp, 'cache') }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelNotFoundError);
    expect(err.message).toContain("CLIP model 'Xenova/clip-vit-base-patch32' is not available offline (allowRemote: false)");
    expect(err.message).toContain(path.join(tmp, 'Xenova/clip-vit-base-patch32', 'onnx/vision_model.onnx'));
    expect(err.message).toContain(path.join(tmp, 'cache', 'Xenova/clip-vit-base-patch32', 'config.json'));
    expect(err.message).toContain('huggingface-cli download Xenova/clip-vit-base-patch32');
  });

  it('a hub id found under localModelPath loads offline', async () => {
    const local = path.join(tmp, 'models');
    fs.cpSync(modelDir, path.join(local, 'someone', 'tiny-clip'), { recursive: true });
    const ex = await createClipExtractor({ model: 'someone/tiny-clip', allowRemote: false, localModelPath: local });
    try {
      expect(ex.id).toBe('someone/tiny-clip');
      expect(ex.revision).toBe('main');
      const [v] = await ex.extract([images[0]!]);
      expect(maxAbs(v!, expected.images[0]!.image_embeds.data)).toBeLessThanOrEqual(1e-5);
    } finally {
      await ex.dispose();
    }
  });

  it('a hub id found in cacheDir (transformers.js cache layout) loads offline', async () => {
    const cacheDir = path.join(tmp, 'hub-cache');
    fs.cpSync(modelDir, path.join(cacheDir, 'someone', 'cached-clip'), { recursive: true });
    const ex = await createClipExtractor({ model: 'someone/cached-clip', allowRemote: false, cacheDir, localModelPath: path.join(tmp, 'empty') });
    // 'pooled' rewrites the graph, read back from where transformers.js found it (the cache here).
    const pooled = await createClipExtractor({ model: 'someone/cached-clip', allowRemote: false, cacheDir, localModelPath: path.join(tmp, 'empty'), output: 'pooled' });
    try {
      expect(ex.width).toBe(16);
      expect(pooled.width).toBe(32);
      const [fromCache] = await pooled.extract([images[0]!]);
      const [projected] = await ex.extract([images[0]!]);
      // Same session otherwise: the extra output leaves image_embeds as they were.
      expect(maxAbs((await pooled.run(await pooled.preprocess([await firstImageRgb()]))).image_embeds.data, projected!)).toBe(0);
      expect(fromCache).toHaveLength(32);
    } finally {
      await ex.dispose();
      await pooled.dispose();
    }
  });

  it('a config without projection_dim: the width is learned from one blank image', async () => {
    const folder = path.join(tmp, 'no-sizes');
    fs.cpSync(modelDir, folder, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8'));
    delete config.projection_dim;
    fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(config));
    const ex = await createClipExtractor({ model: folder, allowRemote: false });
    try {
      expect(ex.width).toBe(16);
    } finally {
      await ex.dispose();
    }
  });

  it('a folder without the quantized file: names the missing file and suggests quantized: false', async () => {
    const err = await createClipExtractor({ model: modelDir, quantized: true }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelNotFoundError);
    expect(err.message).toContain(path.join(modelDir, 'onnx/vision_model_quantized.onnx'));
    expect(err.message).toContain('pass quantized: false');
  });

  it('a folder path that does not exist', async () => {
    await expect(createClipExtractor({ model: './no/such/folder' })).rejects.toThrow(/model folder .*no\/such\/folder does not exist/);
  });

  it('rejects unknown and invalid options by name', async () => {
    await expect(createClipExtractor({ model: modelDir, output: 'cls' as never })).rejects.toThrow(/option 'output' must be one of 'image_embeds', 'pooled'/);
    await expect(createClipExtractor({ model: modelDir, normalise: true } as never)).rejects.toThrow(/unknown option\(s\) normalise/);
    await expect(extractor.extract(images, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
  });
});
