/**
 * `BlipForConditionalGeneration`'s `config.json`, resolved the way transformers' `BlipConfig`
 * does it. `save_pretrained` writes only the values that differ from the class defaults, so a
 * checkpoint's file omits e.g. `layer_norm_eps` and `hidden_act`; reading it right needs the
 * defaults, written once below.
 *
 * Source: huggingface/transformers `src/transformers/models/blip/configuration_blip.py`
 * (`BlipTextConfig.__init__`, `BlipVisionConfig.__init__`, `BlipConfig.__init__`; unchanged from
 * v4.30, which the original SR-Diff's requirements pin, to v4.49).
 */

/** `BlipVisionConfig.__init__` defaults (the keys the vision model's maths depends on). */
export const BLIP_VISION_DEFAULTS = {
  hidden_size: 768,
  intermediate_size: 3072,
  projection_dim: 512,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 384,
  patch_size: 16,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-5,
  attention_dropout: 0.0,
  initializer_range: 1e-10,
} as const;

/** `BlipTextConfig.__init__` defaults. */
export const BLIP_TEXT_DEFAULTS = {
  vocab_size: 30524,
  hidden_size: 768,
  encoder_hidden_size: 768,
  intermediate_size: 3072,
  projection_dim: 768,
  num_hidden_layers: 12,
  num_attention_heads: 8,
  max_position_embeddings: 512,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-12,
  hidden_dropout_prob: 0.0,
  attention_probs_dropout_prob: 0.0,
  initializer_range: 0.02,
  bos_token_id: 30522,
  eos_token_id: 2,
  pad_token_id: 0,
  sep_token_id: 102,
  is_decoder: true,
  use_cache: true,
  label_smoothing: 0.0,
} as const;

/** `BlipConfig.__init__` defaults of the top level. */
export const BLIP_TOP_DEFAULTS = {
  projection_dim: 512,
  logit_scale_init_value: 2.6592,
  image_text_hidden_size: 256,
  label_smoothing: 0.0,
  initializer_factor: 1.0,
  initializer_range: 0.02,
} as const;

type Widen<T> = { -readonly [K in keyof T]: T[K] extends number ? number : T[K] extends boolean ? boolean : T[K] extends string ? string : T[K] };

export type BlipVisionConfig = Widen<typeof BLIP_VISION_DEFAULTS>;
export type BlipTextConfig = Widen<typeof BLIP_TEXT_DEFAULTS>;

export interface BlipConfig extends Widen<typeof BLIP_TOP_DEFAULTS> {
  model_type: 'blip';
  vision_config: BlipVisionConfig;
  text_config: BlipTextConfig;
}

/** Activations the graph can emit, by transformers' `ACT2FN` names. */
export const BLIP_ACTIVATIONS = ['gelu', 'relu', 'gelu_new', 'gelu_pytorch_tanh', 'quick_gelu'] as const;

export class BlipConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlipConfigError';
  }
}

function resolveSection<T extends Record<string, number | string | boolean>>(raw: unknown, defaults: T, where: string): Widen<T> {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw new BlipConfigError(`${where} must be an object, got ${JSON.stringify(raw)}`);
  const given = (raw ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = given[key] ?? fallback;
    if (typeof value !== typeof fallback) throw new BlipConfigError(`${where}.${key} must be a ${typeof fallback}, got ${JSON.stringify(given[key])}`);
    if (typeof fallback === 'number' && !Number.isFinite(value as number)) throw new BlipConfigError(`${where}.${key} must be a finite number, got ${JSON.stringify(given[key])}`);
    out[key] = value;
  }
  return out as Widen<T>;
}

function positiveInt(value: number, where: string): void {
  if (!Number.isInteger(value) || value < 1) throw new BlipConfigError(`${where} must be a positive integer, got ${value}`);
}

function checkHeads(hidden: number, heads: number, where: string): void {
  if (hidden % heads !== 0) throw new BlipConfigError(`${where}: hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}`);
}

function checkActivation(act: string, where: string): void {
  if (!(BLIP_ACTIVATIONS as readonly string[]).includes(act)) throw new BlipConfigError(`${where}.hidden_act '${act}' is not supported (supported: ${BLIP_ACTIVATIONS.join(', ')})`);
}

/**
 * A parsed `config.json` object → every value the model uses, defaults filled in as `BlipConfig`
 * would. `source` names the file in errors. Only `model_type: 'blip'` is accepted.
 */
export function resolveBlipConfig(raw: Record<string, unknown>, source = 'config.json'): BlipConfig {
  if (raw.model_type !== 'blip') {
    throw new BlipConfigError(`${source}: model_type is ${JSON.stringify(raw.model_type)}, expected "blip" (a BlipForConditionalGeneration checkpoint such as Salesforce/blip-image-captioning-base)`);
  }
  const top = resolveSection(raw, BLIP_TOP_DEFAULTS, source);
  const vision = resolveSection(raw.vision_config, BLIP_VISION_DEFAULTS, `${source}: vision_config`);
  const text = resolveSection(raw.text_config, BLIP_TEXT_DEFAULTS, `${source}: text_config`);
  for (const key of ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'image_size', 'patch_size', 'num_channels'] as const) positiveInt(vision[key], `${source}: vision_config.${key}`);
  for (const key of ['hidden_size', 'encoder_hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'max_position_embeddings', 'vocab_size'] as const) positiveInt(text[key], `${source}: text_config.${key}`);
  checkHeads(vision.hidden_size, vision.num_attention_heads, `${source}: vision_config`);
  checkHeads(text.hidden_size, text.num_attention_heads, `${source}: text_config`);
  checkActivation(vision.hidden_act, `${source}: vision_config`);
  checkActivation(text.hidden_act, `${source}: text_config`);
  if (vision.image_size % vision.patch_size !== 0) throw new BlipConfigError(`${source}: vision_config.image_size ${vision.image_size} is not a multiple of patch_size ${vision.patch_size}`);
  if (vision.num_channels !== 3) throw new BlipConfigError(`${source}: vision_config.num_channels ${vision.num_channels} is not supported (RGB images: 3)`);
  if (text.encoder_hidden_size !== vision.hidden_size) {
    throw new BlipConfigError(`${source}: text_config.encoder_hidden_size ${text.encoder_hidden_size} differs from vision_config.hidden_size ${vision.hidden_size}; the decoder cross-attends to the vision tokens`);
  }
  return { ...top, model_type: 'blip', vision_config: vision, text_config: text };
}

/** Tokens the vision model produces: one per patch plus the class token. */
export function visionTokens(vision: BlipVisionConfig): number {
  return (vision.image_size / vision.patch_size) ** 2 + 1;
}
