import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createBlipEmbedder, createClipExtractor, createWebBlipEmbedder, createWebClipEmbedder, memoryFileSource, rgbFromImageData, type ModelFileSource } from '../src';

// The page's embedders (vlm/src/web, what apps/web runs on onnxruntime-web) read a model's files
// through a ModelFileSource instead of paths; in Node the same code runs on onnxruntime-node, and
// must give the Node embedders' vectors for the same image: same graph, same preprocessing.
const blipModel = path.join(__dirname, 'fixtures', 'tiny-blip', 'model');
const clipModel = path.join(__dirname, 'fixtures', 'tiny-clip', 'model');
const blipImage = path.join(__dirname, 'fixtures', 'tiny-blip', 'images', 'rgb_wide_57x23.png');
const clipImage = path.join(__dirname, 'fixtures', 'tiny-clip', 'images', 'rgb_50x40.png');

function folderSource(dir: string): ModelFileSource {
  const files = new Map<string, Uint8Array>();
  const walk = (d: string, prefix: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), `${prefix}${e.name}/`);
      else files.set(`${prefix}${e.name}`, new Uint8Array(fs.readFileSync(path.join(d, e.name))));
    }
  };
  walk(dir, '');
  return memoryFileSource(files);
}

/** RGBA pixels as a canvas gives them (alpha 255), from the PNG. */
async function imageData(file: string): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data) };
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

type NodeEmbedder = { width: number; extract(files: string[]): Promise<Float32Array[]>; dispose(): Promise<void> };
type WebEmbedder = { width: number; embed(images: ReturnType<typeof rgbFromImageData>[]): Promise<Float32Array[]>; dispose(): Promise<void> };

/** The web embedder gives the Node embedder's vector for `image` (same width, within 1e-6); both are disposed. */
async function expectSameEmbedding(node: NodeEmbedder, web: WebEmbedder, image: string): Promise<void> {
  try {
    expect(web.width).toBe(node.width);
    const [want] = await node.extract([image]);
    const [got] = await web.embed([rgbFromImageData(await imageData(image))]);
    expect(maxAbs(got!, want!)).toBeLessThan(1e-6);
  } finally {
    await node.dispose();
    await web.dispose();
  }
}

describe('web embedders (the browser path) match the Node embedders', () => {
  it('WebBlipEmbedder: the BLIP position-0 state of the same image', async () => {
    const node = await createBlipEmbedder({ model: blipModel, allowRemote: false, threads: 1 });
    const web = await createWebBlipEmbedder({ files: folderSource(blipModel), id: 'tiny-blip', session: { threads: 1 } });
    await expectSameEmbedding(node, web, blipImage);
  });

  it('WebClipEmbedder: the CLIP image_embeds of the same image, files served by our fetch', async () => {
    const node = await createClipExtractor({ model: clipModel, allowRemote: false });
    const web = await createWebClipEmbedder({ files: folderSource(clipModel), id: 'tiny-clip' });
    await expectSameEmbedding(node, web, clipImage);
  });

  it('a missing file is an error naming the model and the file', async () => {
    const files = memoryFileSource({});
    await expect(createWebBlipEmbedder({ files, id: 'my-blip' })).rejects.toThrow(/my-blip: the model has no config\.json/);
    await expect(createWebClipEmbedder({ files, id: 'my-clip' })).rejects.toThrow(/my-clip: the model has no config\.json/);
  });
});
