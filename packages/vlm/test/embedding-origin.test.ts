import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertOneEmbeddingOrigin, createImageEmbedder, MixedEmbeddingsError, readManifest } from '../src';

const blipModel = path.join(__dirname, 'fixtures', 'tiny-blip', 'model');
const clipModel = path.join(__dirname, 'fixtures', 'tiny-clip', 'model');
const images = path.join(__dirname, 'fixtures', 'tiny-blip', 'images');

describe('folders record which VLM made their embeddings; mixing two is an error naming both', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vlm-origin-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  async function extractWith(model: string, out: string, blipPreprocessing: 'slow' | 'fast' = 'slow'): Promise<void> {
    const embedder = await createImageEmbedder(model, { allowRemote: false, blip: { preprocessing: blipPreprocessing } });
    try {
      await embedder.extractFolder(images, out);
    } finally {
      await embedder.dispose();
    }
  }

  it('BLIP and CLIP folders are told apart by family, model and settings', async () => {
    const [blipA, blipB, blipFast, clip] = ['blip-a', 'blip-b', 'blip-fast', 'clip'].map((d) => path.join(tmp, d)) as [string, string, string, string];
    await extractWith(blipModel, blipA);
    await extractWith(blipModel, blipB);
    await extractWith(blipModel, blipFast, 'fast');
    await extractWith(clipModel, clip);
    expect(await readManifest(blipA)).toMatchObject({ family: 'blip', model: blipModel, output: 'decoder_cls', preprocessing: 'slow', width: 32 });
    expect(await readManifest(clip)).toMatchObject({ family: 'clip', model: clipModel });

    expect(await assertOneEmbeddingOrigin([blipA, blipB, path.join(tmp, 'no-manifest')])).toMatchObject({ family: 'blip', model: blipModel });
    const mixed = await assertOneEmbeddingOrigin([blipA, clip]).catch((e: Error) => e);
    expect(mixed).toBeInstanceOf(MixedEmbeddingsError);
    expect((mixed as Error).message).toContain(`${blipA} was made by blip '${blipModel}' (decoder_cls, slow preprocessing, 32 wide)`);
    expect((mixed as Error).message).toContain(`${clip} by clip '${clipModel}'`);
    await expect(assertOneEmbeddingOrigin([blipA, blipFast])).rejects.toThrow(/fast preprocessing/);
  });
});
