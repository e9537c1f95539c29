import fs from 'node:fs';
import path from 'node:path';
import { Rng, writeSafetensors, type TensorDict } from '@srdiff/core';
import { resolveBlipConfig, type BlipConfig } from '../../src';

/** A `config.json` of a small BLIP with a different shape from the tiny-blip fixture, defaults omitted. */
export const SMALL_BLIP_CONFIG_JSON = {
  architectures: ['BlipForConditionalGeneration'],
  model_type: 'blip',
  text_config: { hidden_size: 16, encoder_hidden_size: 12, intermediate_size: 24, num_attention_heads: 2, num_hidden_layers: 3, vocab_size: 110, max_position_embeddings: 32 },
  vision_config: { hidden_size: 12, intermediate_size: 20, num_attention_heads: 3, num_hidden_layers: 2, image_size: 12, patch_size: 4, layer_norm_eps: 1e-6 },
};

/** Every key `BlipForConditionalGeneration(config).state_dict()` has (the LM head included), random. */
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
  const tokens = (v.image_size / v.patch_size) ** 2 + 1;
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

/** A BERT-style vocab.txt of `size` tokens with [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102. */
export function bertVocab(size: number): string {
  const special: Record<number, string> = { 0: '[PAD]', 100: '[UNK]', 101: '[CLS]', 102: '[SEP]', 103: '[MASK]' };
  return Array.from({ length: size }, (_, i) => special[i] ?? `tok${i}`).join('\n') + '\n';
}

/** Writes a complete `save_pretrained`-style BLIP folder with random weights; returns its config. */
export async function writeRandomBlipFolder(dir: string, configJson: Record<string, unknown> = SMALL_BLIP_CONFIG_JSON, seed = 1): Promise<{ config: BlipConfig; stateDict: TensorDict }> {
  const config = resolveBlipConfig(configJson);
  const stateDict = randomBlipStateDict(config, seed);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(configJson, null, 2));
  const size = config.vision_config.image_size;
  fs.writeFileSync(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ image_processor_type: 'BlipImageProcessor', size: { height: size, width: size } }));
  fs.writeFileSync(path.join(dir, 'vocab.txt'), bertVocab(config.text_config.vocab_size));
  await writeSafetensors(path.join(dir, 'model.safetensors'), stateDict);
  return { config, stateDict };
}
