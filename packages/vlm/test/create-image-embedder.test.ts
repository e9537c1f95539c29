import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createImageEmbedder, detectVlmFamily } from '../src';

const blipModel = path.join(__dirname, 'fixtures', 'tiny-blip', 'model');
const clipModel = path.join(__dirname, 'fixtures', 'tiny-clip', 'model');
const image = path.join(__dirname, 'fixtures', 'tiny-blip', 'images', 'rgb_wide_57x23.png');

describe('createImageEmbedder picks CLIP or BLIP by config.json model_type', () => {
  it('detects each fixture from its config', async () => {
    expect(await detectVlmFamily(blipModel)).toEqual({ family: 'blip', reason: 'config.json model_type "blip"' });
    expect((await detectVlmFamily(clipModel)).family).toBe('clip');
  });

  it('offline hub ids without a config are read by name', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vlm-detect-'));
    try {
      expect((await detectVlmFamily('Salesforce/blip-image-captioning-large', { cacheDir, allowRemote: false })).family).toBe('blip');
      expect((await detectVlmFamily('Xenova/clip-vit-base-patch32', { cacheDir, allowRemote: false })).family).toBe('clip');
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('rejects a model of another kind, naming its model_type', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vlm-detect-'));
    try {
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
      await expect(detectVlmFamily(dir)).rejects.toThrow(/model_type "bert" is not a VLM srdiff can embed with \(supported: clip, clip_vision_model/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates the matching embedder, family-specific options going to that family only', async () => {
    const heard: string[] = [];
    const blip = await createImageEmbedder(blipModel, { allowRemote: false, blip: { preprocessing: 'fast' }, clip: { output: 'pooled' }, onDetect: (f) => heard.push(f) });
    const clip = await createImageEmbedder(clipModel, { allowRemote: false, blip: { preprocessing: 'fast' }, onDetect: (f) => heard.push(f) });
    try {
      expect(heard).toEqual(['blip', 'clip']);
      expect(blip).toMatchObject({ family: 'blip', width: 32, preprocessing: 'fast', output: 'decoder_cls' });
      expect(clip).toMatchObject({ family: 'clip', preprocessing: 'python' });
      expect((await blip.extract([image]))[0]).toHaveLength(32);
      expect((await clip.extract([image]))[0]).toHaveLength(clip.width);
    } finally {
      await blip.dispose();
      await clip.dispose();
    }
  });
});
