import fs from 'node:fs';
import path from 'node:path';
import { writeSafetensors, type TensorDict } from '@srdiff/core';
import { randomBlipStateDict, resolveBlipConfig, type BlipConfig } from '../../src';

export { randomBlipStateDict };

/** A `config.json` of a small BLIP with a different shape from the tiny-blip fixture, defaults omitted. */
export const SMALL_BLIP_CONFIG_JSON = {
  architectures: ['BlipForConditionalGeneration'],
  model_type: 'blip',
  text_config: { hidden_size: 16, encoder_hidden_size: 12, intermediate_size: 24, num_attention_heads: 2, num_hidden_layers: 3, vocab_size: 110, max_position_embeddings: 32 },
  vision_config: { hidden_size: 12, intermediate_size: 20, num_attention_heads: 3, num_hidden_layers: 2, image_size: 12, patch_size: 4, layer_norm_eps: 1e-6 },
};

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
