import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng, toleranceError } from '@srdiff/core';
import { BlipOnnxModel, BlipWeightsError, createBlipEmbedder, resolveBlipConfig } from '../src';
import { decoderForward, visionForward } from './helpers/blip-reference-f64';
import { randomBlipStateDict, SMALL_BLIP_CONFIG_JSON, writeRandomBlipFolder } from './helpers/random-blip';

const config = resolveBlipConfig(SMALL_BLIP_CONFIG_JSON);
const CLS = 101;
// What BlipProcessor's tokenizer gives for text="" padded to 30: [CLS] [SEP] [PAD]×28.
const inputIds = [CLS, 102, ...new Array(28).fill(0)];
const attentionMask = [1, 1, ...new Array(28).fill(0)];

function randomPixels(batch: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const s = config.vision_config.image_size;
  return Float32Array.from({ length: batch * 3 * s * s }, () => 2 * rng.normal());
}

/**
 * The graph against an independent float64 implementation of the original's whole call path
 * (the decoder on the padded 30-token sequence with its causal + padding mask), on a BLIP with
 * other sizes, head counts, layer counts and a non-default eps than the reference fixture: the
 * one-token decoder and everything read from the config agree with it.
 */
describe('BLIP graph vs a float64 implementation of the full call path', () => {
  const stateDict = randomBlipStateDict(config, 7);
  let model: BlipOnnxModel;
  beforeAll(async () => {
    model = await BlipOnnxModel.create(stateDict, config, { clsTokenId: CLS, debugOutputs: true });
  });
  afterAll(() => model.dispose());

  it('matches per image in a batch of 3: vision states and the position-0 embedding within 1e-5 relative', async () => {
    const s = config.vision_config.image_size;
    const per = 3 * s * s;
    const pixels = randomPixels(3, 11);
    const out = await model.run({ shape: [3, 3, s, s], data: pixels });
    expect(out.cls.shape).toEqual([3, config.text_config.hidden_size]);
    const tokens = (s / config.vision_config.patch_size) ** 2 + 1;
    expect(out.visionLastHiddenState!.shape).toEqual([3, tokens, config.vision_config.hidden_size]);
    for (let b = 0; b < 3; b++) {
      const image = visionForward(stateDict, config, pixels.subarray(b * per, (b + 1) * per));
      const visionWidth = tokens * config.vision_config.hidden_size;
      expect(toleranceError(out.visionLastHiddenState!.data.subarray(b * visionWidth, (b + 1) * visionWidth), image.flatMap((r) => [...r]), 'rel')).toBeLessThan(1e-5);
      const last = decoderForward(stateDict, config, image, inputIds, attentionMask);
      const h = config.text_config.hidden_size;
      expect(toleranceError(out.cls.data.subarray(b * h, (b + 1) * h), [...last[0]!], 'rel')).toBeLessThan(1e-5);
    }
  });

  it('a different image gives a different embedding (the cross-attention reaches the image)', async () => {
    const s = config.vision_config.image_size;
    const a = await model.run({ shape: [1, 3, s, s], data: randomPixels(1, 1) });
    const b = await model.run({ shape: [1, 3, s, s], data: randomPixels(1, 2) });
    expect(toleranceError(a.cls.data, b.cls.data, 'rel')).toBeGreaterThan(1e-2);
  });

  it('rejects pixel_values of another size, naming the expected shape', async () => {
    await expect(model.run({ shape: [1, 3, 8, 8], data: new Float32Array(192) })).rejects.toThrow(/\[B, 3, 12, 12\] \(vision_config.image_size\)/);
  });
});

describe('BLIP weights are checked key by key', () => {
  const base = () => randomBlipStateDict(config, 3);

  it('ignores the LM head and the position_ids buffer older checkpoints saved', async () => {
    const sd = base();
    sd['text_decoder.bert.embeddings.position_ids'] = { shape: [1, 32], data: Float32Array.from({ length: 32 }, (_, i) => i) };
    const m = await BlipOnnxModel.create(sd, config, { clsTokenId: CLS });
    await m.dispose();
  });

  it('names an unexpected key (e.g. a BlipModel pooler), a missing key and a wrong shape', async () => {
    const extra = { ...base(), 'text_decoder.bert.pooler.dense.weight': { shape: [16, 16], data: new Float32Array(256) } };
    await expect(BlipOnnxModel.create(extra, config, { clsTokenId: CLS, source: 'x.safetensors' })).rejects.toThrow(/x.safetensors: 1 key\(s\) this BLIP config has no place for: "text_decoder.bert.pooler.dense.weight"/);
    const missing = base();
    delete missing['text_decoder.bert.encoder.layer.2.crossattention.self.key.weight'];
    await expect(BlipOnnxModel.create(missing, config, { clsTokenId: CLS })).rejects.toThrow(/missing key "text_decoder.bert.encoder.layer.2.crossattention.self.key.weight" \(expected shape \[16, 12\]\)/);
    const wrong = base();
    wrong['vision_model.embeddings.position_embedding'] = { shape: [1, 17, 12], data: new Float32Array(17 * 12) };
    await expect(BlipOnnxModel.create(wrong, config, { clsTokenId: CLS })).rejects.toThrow(BlipWeightsError);
    await expect(BlipOnnxModel.create(wrong, config, { clsTokenId: CLS })).rejects.toThrow(/"vision_model.embeddings.position_embedding" has shape \[1, 17, 12\], the config implies \[1, 10, 12\]/);
  });

  it('rejects a [CLS] id outside the vocabulary', async () => {
    await expect(BlipOnnxModel.create(base(), config, { clsTokenId: 110 })).rejects.toThrow(/\[CLS\] token id 110 is outside the vocabulary \(vocab_size 110\)/);
  });
});

describe('a BLIP folder with other sizes loads from its files alone', () => {
  it('reads config (defaults omitted), preprocessor, vocab and weights', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blip-small-'));
    try {
      const { stateDict } = await writeRandomBlipFolder(dir, SMALL_BLIP_CONFIG_JSON, 5);
      const embedder = await createBlipEmbedder({ model: dir, allowRemote: false });
      try {
        expect(embedder.width).toBe(16);
        expect(embedder.clsTokenId).toBe(101);
        expect(embedder.config.vision_config.layer_norm_eps).toBe(1e-6);
        expect(embedder.config.text_config.layer_norm_eps).toBe(1e-12);
        const pixels = { data: new Uint8Array(20 * 15 * 3).map((_, i) => (i * 37) % 256), width: 20, height: 15, channels: 3 };
        const [v] = await embedder.embed([pixels]);
        const pv = embedder.preprocess([pixels]);
        const last = decoderForward(stateDict, embedder.config, visionForward(stateDict, embedder.config, pv.data), inputIds, attentionMask);
        expect(toleranceError(v!, [...last[0]!], 'rel')).toBeLessThan(1e-5);
      } finally {
        await embedder.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
