import { Rng, type TensorDict } from '@srdiff/core';
import { visionTokens, type BlipConfig } from './blip-config';

/**
 * Random weights for a BLIP config, with every key `BlipForConditionalGeneration(config)
 * .state_dict()` has (the LM head included): for tests, benchmarks and examples that need a
 * model of a given size and no checkpoint. Seeded; values are small and normal-range (linear
 * weights ~ N(0, 1/fan_in), LayerNorm scales ~ 1), not a trained or HF-initialised model.
 */
export function randomBlipStateDict(config: BlipConfig, seed = 1): TensorDict {
  const rng = new Rng(seed);
  const sd: TensorDict = {};
  const rand = (key: string, shape: number[], scale = 0.3, offset = 0) => {
    sd[key] = { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => offset + scale * rng.normal()) };
  };
  const ln = (prefix: string, dim: number) => {
    rand(`${prefix}.weight`, [dim], 0.1, 1);
    rand(`${prefix}.bias`, [dim], 0.1);
  };
  const lin = (prefix: string, out: number, inp: number) => {
    rand(`${prefix}.weight`, [out, inp], 1 / Math.sqrt(inp));
    rand(`${prefix}.bias`, [out], 0.1);
  };
  const v = config.vision_config;
  const t = config.text_config;
  const tokens = visionTokens(v);
  rand('vision_model.embeddings.class_embedding', [1, 1, v.hidden_size]);
  rand('vision_model.embeddings.patch_embedding.weight', [v.hidden_size, 3, v.patch_size, v.patch_size], 0.2);
  rand('vision_model.embeddings.patch_embedding.bias', [v.hidden_size], 0.1);
  rand('vision_model.embeddings.position_embedding', [1, tokens, v.hidden_size]);
  for (let l = 0; l < v.num_hidden_layers; l++) {
    const p = `vision_model.encoder.layers.${l}`;
    ln(`${p}.layer_norm1`, v.hidden_size);
    ln(`${p}.layer_norm2`, v.hidden_size);
    lin(`${p}.self_attn.qkv`, 3 * v.hidden_size, v.hidden_size);
    lin(`${p}.self_attn.projection`, v.hidden_size, v.hidden_size);
    lin(`${p}.mlp.fc1`, v.intermediate_size, v.hidden_size);
    lin(`${p}.mlp.fc2`, v.hidden_size, v.intermediate_size);
  }
  ln('vision_model.post_layernorm', v.hidden_size);
  rand('text_decoder.bert.embeddings.word_embeddings.weight', [t.vocab_size, t.hidden_size]);
  rand('text_decoder.bert.embeddings.position_embeddings.weight', [t.max_position_embeddings, t.hidden_size]);
  ln('text_decoder.bert.embeddings.LayerNorm', t.hidden_size);
  for (let l = 0; l < t.num_hidden_layers; l++) {
    const p = `text_decoder.bert.encoder.layer.${l}`;
    for (const [block, kv] of [['attention', t.hidden_size], ['crossattention', t.encoder_hidden_size]] as const) {
      lin(`${p}.${block}.self.query`, t.hidden_size, t.hidden_size);
      lin(`${p}.${block}.self.key`, t.hidden_size, kv);
      lin(`${p}.${block}.self.value`, t.hidden_size, kv);
      lin(`${p}.${block}.output.dense`, t.hidden_size, t.hidden_size);
      ln(`${p}.${block}.output.LayerNorm`, t.hidden_size);
    }
    lin(`${p}.intermediate.dense`, t.intermediate_size, t.hidden_size);
    lin(`${p}.output.dense`, t.hidden_size, t.intermediate_size);
    ln(`${p}.output.LayerNorm`, t.hidden_size);
  }
  lin('text_decoder.cls.predictions.transform.dense', t.hidden_size, t.hidden_size);
  ln('text_decoder.cls.predictions.transform.LayerNorm', t.hidden_size);
  rand('text_decoder.cls.predictions.decoder.weight', [t.vocab_size, t.hidden_size]);
  rand('text_decoder.cls.predictions.bias', [t.vocab_size]);
  return sd;
}
