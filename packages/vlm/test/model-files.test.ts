import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBlipEmbedder, ModelFiles, ModelNotFoundError, ModelSourceError, resolveModelSource } from '../src';

const fixtureModel = path.join(__dirname, 'fixtures', 'tiny-blip', 'model');
const image = path.join(__dirname, 'fixtures', 'tiny-blip', 'images', 'rgb_square_40x40.png');

/** Hub ids are found offline in the download cache, a local model folder, or the Python hub cache; never fetched here. */
describe('model files: local folders, caches and offline mode', () => {
  let tmp: string;
  const savedEnv = { ...process.env };
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vlm-files-'));
    process.env.HF_HUB_CACHE = path.join(tmp, 'hf-hub');
  });
  afterEach(() => {
    process.env = { ...savedEnv };
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('tells folders from hub ids', () => {
    expect(resolveModelSource(fixtureModel)).toEqual({ kind: 'folder', id: fixtureModel, folder: fixtureModel });
    expect(resolveModelSource('Salesforce/blip-image-captioning-base')).toEqual({ kind: 'hub', id: 'Salesforce/blip-image-captioning-base' });
    expect(() => resolveModelSource('./no/such/folder')).toThrow(ModelSourceError);
    expect(() => resolveModelSource('not a model id')).toThrow(/neither an existing folder nor a hub id/);
  });

  it('a hub id from the download cache (<cacheDir>/<id>/…), with a revision subfolder for non-main revisions', async () => {
    const cacheDir = path.join(tmp, 'cache');
    fs.cpSync(fixtureModel, path.join(cacheDir, 'test-org', 'tiny-blip'), { recursive: true });
    const embedder = await createBlipEmbedder({ model: 'test-org/tiny-blip', cacheDir, allowRemote: false });
    try {
      expect(embedder.id).toBe('test-org/tiny-blip');
      expect(embedder.revision).toBe('main');
      expect((await embedder.extract([image]))[0]).toHaveLength(32);
    } finally {
      await embedder.dispose();
    }
    const files = new ModelFiles('test-org/tiny-blip', { cacheDir, revision: 'v2', allowRemote: false });
    expect(files.candidates('config.json')[0]).toBe(path.join(cacheDir, 'test-org', 'tiny-blip', 'v2', 'config.json'));
  });

  it('a hub id from localModelPath and from the Python huggingface_hub cache', async () => {
    const local = path.join(tmp, 'models');
    fs.cpSync(fixtureModel, path.join(local, 'test-org', 'tiny-blip'), { recursive: true });
    const a = new ModelFiles('test-org/tiny-blip', { cacheDir: path.join(tmp, 'empty'), localModelPath: local, allowRemote: false });
    expect(a.findLocal('config.json')).toBe(path.join(local, 'test-org', 'tiny-blip', 'config.json'));

    const repo = path.join(tmp, 'hf-hub', 'models--test-org--tiny-blip');
    const commit = 'a'.repeat(40);
    fs.mkdirSync(path.join(repo, 'refs'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'refs', 'main'), `${commit}\n`);
    fs.cpSync(fixtureModel, path.join(repo, 'snapshots', commit), { recursive: true });
    const embedder = await createBlipEmbedder({ model: 'test-org/tiny-blip', cacheDir: path.join(tmp, 'empty'), allowRemote: false });
    try {
      expect(embedder.weightsFiles).toEqual([path.join(repo, 'snapshots', commit, 'model.safetensors')]);
    } finally {
      await embedder.dispose();
    }
  });

  it('offline and nowhere: ModelNotFoundError listing where it looked and how to get it', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const err = await createBlipEmbedder({ model: 'Salesforce/blip-image-captioning-base', cacheDir, allowRemote: false }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ModelNotFoundError);
    expect((err as Error).message).toContain(`BLIP model 'Salesforce/blip-image-captioning-base' is not available offline: no config.json`);
    expect((err as Error).message).toContain(path.join(cacheDir, 'Salesforce', 'blip-image-captioning-base', 'config.json'));
    expect((err as Error).message).toContain('huggingface-cli download Salesforce/blip-image-captioning-base');
  });

  it('an incomplete folder names the missing weights', async () => {
    const dir = path.join(tmp, 'partial');
    fs.cpSync(fixtureModel, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'model.safetensors'));
    await expect(createBlipEmbedder({ model: dir })).rejects.toThrow(/model folder .*partial is incomplete: no weights \(model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json\)/);
  });

  it('reads pytorch_model.bin (torch.save, no Python) to the same embedding as model.safetensors', async () => {
    const dir = path.join(tmp, 'bin');
    fs.cpSync(fixtureModel, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'model.safetensors'));
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'tiny-blip-bin', 'pytorch_model.bin'), path.join(dir, 'pytorch_model.bin'));
    const fromBin = await createBlipEmbedder({ model: dir });
    const fromSafetensors = await createBlipEmbedder({ model: fixtureModel });
    try {
      expect(fromBin.weightsFiles).toEqual([path.join(dir, 'pytorch_model.bin')]);
      const [a] = await fromBin.extract([image]);
      const [b] = await fromSafetensors.extract([image]);
      expect(Array.from(a!)).toEqual(Array.from(b!));
    } finally {
      await fromBin.dispose();
      await fromSafetensors.dispose();
    }
  });

  it('builds the download URL a hub id would be fetched from', () => {
    const files = new ModelFiles('Salesforce/blip-image-captioning-large', { revision: 'refs/pr/1' });
    expect(files.url('model.safetensors')).toBe('https://huggingface.co/Salesforce/blip-image-captioning-large/resolve/refs%2Fpr%2F1/model.safetensors');
    expect(files.allowRemote).toBe(true);
    expect(new ModelFiles(fixtureModel).allowRemote).toBe(false);
  });
});
