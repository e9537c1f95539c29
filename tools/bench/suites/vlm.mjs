// The paper's semantic vector: one BLIP-base-sized CLS embedding per image (the original's
// BLIPFeatureExtractor.get_cls_embedding) on ONNX Runtime, batch 1 and 8, with random weights of
// Salesforce/blip-image-captioning-base's sizes: vision 384², patch 16, 12 layers of 768 (12 heads,
// MLP 3072); text decoder 12 layers of 768 (12 heads, FFN 3072) cross-attending to the 577 image
// tokens. Only position 0 of the decoder is computed (see @srdiff/vlm's decoder emitter), so the
// vision model is almost all of the work.
//
// Target (issue 16): under 1.5 s per image on this machine's two cores.
import os from 'node:os';

const TARGET_S_PER_IMAGE = 1.5;
const BATCHES = [1, 8];
/** Salesforce/blip-image-captioning-base's config.json (what it states; the rest are BlipConfig defaults). */
const BASE_CONFIG = {
  model_type: 'blip',
  text_config: { num_attention_heads: 12, vocab_size: 30524 },
  vision_config: { image_size: 384, patch_size: 16 },
};

/**
 * Multiply-add FLOPs of one image as the graph computes it: the vision encoder, and the decoder at
 * position 0 (self-attention = value + output projections; cross-attention with its one query
 * mapped into the image tokens' space, so no per-token key/value projections; feed-forward).
 */
export function blipClsFlops(config) {
  const v = config.vision_config;
  const t = config.text_config;
  const tokens = (v.image_size / v.patch_size) ** 2 + 1;
  const H = v.hidden_size;
  const patch = 2 * (tokens - 1) * 3 * v.patch_size ** 2 * H;
  const layer = 2 * tokens * H * 3 * H + 2 * 2 * tokens * tokens * H + 2 * tokens * H * H + 2 * 2 * tokens * H * v.intermediate_size;
  const T = t.hidden_size;
  const E = t.encoder_hidden_size;
  const cross = 2 * T * T + 2 * T * E + 2 * 2 * t.num_attention_heads * tokens * E + 2 * E * T + 2 * T * T;
  const decoderLayer = 2 * 2 * T * T + cross + 2 * 2 * T * t.intermediate_size;
  return patch + v.num_hidden_layers * layer + t.num_hidden_layers * decoderLayer;
}

export default {
  name: 'vlm',
  description: 'BLIP-base CLS embedding (the paper\'s semantic vector) on ONNX Runtime, batch 1 and 8',
  requires: ['core', 'vlm'],
  backends: ['cpu'],

  async run(ctx) {
    const vlm = await ctx.importPackage('vlm');
    const ort = ctx.core.loadOnnxRuntime();
    const threads = os.availableParallelism?.() ?? os.cpus().length;
    const backend = { name: 'ort', spec: `ort:${threads}`, threads };
    const config = vlm.resolveBlipConfig(BASE_CONFIG);
    const flopsPerImage = blipClsFlops(config);
    const buildStart = performance.now();
    const model = await vlm.BlipOnnxModel.create(vlm.randomBlipStateDict(config), config, { clsTokenId: 101, session: { threads } });
    ctx.log(`vlm: random BLIP-base weights made, graph built and loaded in ${((performance.now() - buildStart) / 1000).toFixed(1)} s`);
    const size = config.vision_config.image_size;
    try {
      for (const batch of BATCHES) {
        if (!ctx.wants('ort', `cls embedding ×${batch}`)) continue;
        const data = new Float32Array(batch * 3 * size * size);
        for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.001) * 2;
        await ctx.measure({
          case: `BLIP base ${size}², batch ${batch}`,
          op: `cls embedding ×${batch}`,
          impl: 'ort',
          backend,
          flops: flopsPerImage * batch,
          ...(batch > 1 ? { repeat: Math.min(ctx.options.repeat ?? 3, 3) } : {}),
          run: () => model.run({ shape: [batch, 3, size, size], data }),
          note: `onnxruntime-node ${ort.env?.versions?.node ?? ''}, ${threads} threads, pixel_values → cls; ${(flopsPerImage / 1e9).toFixed(0)} GFLOP per image`,
        });
      }
    } finally {
      await model.dispose();
    }
  },

  summarize(rows) {
    return rows
      .filter((r) => r.status === 'ok' && r.op.startsWith('cls embedding'))
      .map((r) => {
        const batch = Number(r.op.split('×')[1]);
        const perImage = r.medianMs / 1000 / batch;
        return `BLIP base, batch ${batch}: ${(1 / perImage).toFixed(2)} images/s, ${perImage.toFixed(2)} s per image (target < ${TARGET_S_PER_IMAGE} s)`;
      });
  },
};
