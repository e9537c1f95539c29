/**
 * Configuration of the ConditionalUNet, with the original's option names (they come straight from
 * `network_G.setting` of an SR-Diff `train.yml`), the defaults in one place, validation with
 * readable messages, and the per-level widths every module is built from.
 */

/** The options of the original `ConditionalUNet(in_nc, out_nc, nf, ch_mult, context_dim, use_degra_context, use_image_context)`. */
export interface UNetConfig {
  /** Channels of the image (x_t and the condition each have in_nc channels). */
  in_nc: number;
  /** Channels of the predicted noise. */
  out_nc: number;
  /** Base width: level L works with nf·ch_mult[L] channels; the time embedding has 4·nf. */
  nf: number;
  /** Width multipliers, one per level; depth = ch_mult.length, inputs are padded to a multiple of 2^depth. */
  ch_mult: number[];
  /** Width of the semantic context vectors; null (or ≤ 0) disables both context paths, as in the original. */
  context_dim: number | null;
  /** The prompt path: a text/degradation embedding modulates the time embedding (`text_mlp`, `prompt`, `prompt_mlp`). */
  use_degra_context: boolean;
  /** Cross-attention to the image context: SpatialTransformer at levels ≥ 3 and in the middle. */
  use_image_context: boolean;
}

/** What a caller passes: in_nc, out_nc and nf are required (as in the original), the rest has defaults. */
export type UNetOptions = Pick<UNetConfig, 'in_nc' | 'out_nc' | 'nf'> &
  Partial<Omit<UNetConfig, 'in_nc' | 'out_nc' | 'nf'>> & {
    /** Accepted for YAML compatibility; the original stores it and never uses it. Must be 1. */
    upscale?: number;
  };

/** The original constructor's defaults (`ch_mult=[1, 2, 4, 4], context_dim=512, use_degra_context=True, use_image_context=False`). */
export const UNET_DEFAULTS: Readonly<Omit<UNetConfig, 'in_nc' | 'out_nc' | 'nf'>> = Object.freeze({
  ch_mult: [1, 2, 4, 4],
  context_dim: 512,
  use_degra_context: true,
  use_image_context: false,
});

/** SR-Diff's own network (`ir/config/SRdiff-sde/options/train.yml` → `network_G.setting`). */
export const SRDIFF_UNET_CONFIG: Readonly<UNetConfig> = Object.freeze({
  in_nc: 3,
  out_nc: 3,
  nf: 64,
  ch_mult: [1, 2, 4, 8],
  context_dim: 768,
  use_degra_context: false,
  use_image_context: true,
});

/** Channels per attention head of the SpatialTransformer and LinearAttention (the original's `num_head_channels`). */
export const HEAD_CHANNELS = 32;
/** LinearAttention always uses 4 heads × 32 channels, whatever the level's width. */
export const LINEAR_ATTENTION_HEADS = 4;
/** Levels from this index on use a SpatialTransformer (when the image context is on). */
export const FIRST_TRANSFORMER_LEVEL = 3;
/** GroupNorm groups of the SpatialTransformer (`Normalize`). */
export const GROUP_NORM_GROUPS = 32;
/** eps of the SpatialTransformer's GroupNorm (`Normalize`: `GroupNorm(32, C, eps=1e-6)`). */
export const GROUP_NORM_EPS = 1e-6;
/** eps of the transformer block's `nn.LayerNorm(dim)` (PyTorch's default). */
export const LAYER_NORM_EPS = 1e-5;
/** eps of module_util's channel `LayerNorm` for float32. */
export const CHANNEL_LAYER_NORM_EPS = 1e-5;

const KNOWN_KEYS = ['in_nc', 'out_nc', 'nf', 'ch_mult', 'context_dim', 'use_degra_context', 'use_image_context', 'upscale'];

export class UNetConfigError extends Error {
  constructor(message: string) {
    super(`ConditionalUNet config: ${message}`);
    this.name = 'UNetConfigError';
  }
}

/** Applies the defaults and validates; every error names the option and the expected value. */
export function resolveUnetConfig(options: UNetOptions): UNetConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new UNetConfigError('expected an object { in_nc, out_nc, nf, ch_mult?, context_dim?, use_degra_context?, use_image_context? }');
  }
  const unknown = Object.keys(options).filter((k) => !KNOWN_KEYS.includes(k));
  if (unknown.length) {
    throw new UNetConfigError(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; known: ${KNOWN_KEYS.join(', ')}`);
  }
  const config: UNetConfig = {
    in_nc: options.in_nc,
    out_nc: options.out_nc,
    nf: options.nf,
    ch_mult: options.ch_mult === undefined ? [...UNET_DEFAULTS.ch_mult] : options.ch_mult,
    context_dim: options.context_dim === undefined ? UNET_DEFAULTS.context_dim : options.context_dim,
    use_degra_context: options.use_degra_context ?? UNET_DEFAULTS.use_degra_context,
    use_image_context: options.use_image_context ?? UNET_DEFAULTS.use_image_context,
  };
  validate(config, options.upscale);
  return { ...config, ch_mult: [...config.ch_mult] };
}

function positiveInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new UNetConfigError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

function validate(c: UNetConfig, upscale: number | undefined): void {
  positiveInteger('in_nc', c.in_nc);
  positiveInteger('out_nc', c.out_nc);
  positiveInteger('nf', c.nf);
  // SinusoidalPosEmb(nf) divides by nf/2 - 1 and must produce nf features for Linear(nf, 4nf).
  if (c.nf < 4 || c.nf % 2 !== 0) throw new UNetConfigError(`nf must be an even number ≥ 4 (the sinusoidal time embedding has nf features), got ${c.nf}`);
  if (!Array.isArray(c.ch_mult) || c.ch_mult.length === 0) {
    throw new UNetConfigError(`ch_mult must be a non-empty list of positive integers, got ${JSON.stringify(c.ch_mult)}`);
  }
  c.ch_mult.forEach((m, i) => positiveInteger(`ch_mult[${i}]`, m));
  if (c.context_dim !== null && (typeof c.context_dim !== 'number' || !Number.isInteger(c.context_dim))) {
    throw new UNetConfigError(`context_dim must be an integer or null, got ${JSON.stringify(c.context_dim)}`);
  }
  for (const flag of ['use_degra_context', 'use_image_context'] as const) {
    if (typeof c[flag] !== 'boolean') throw new UNetConfigError(`${flag} must be true or false, got ${JSON.stringify(c[flag])}`);
  }
  if (upscale !== undefined && upscale !== 1) {
    throw new UNetConfigError(`upscale must be 1 (the original accepts it but never uses it), got ${JSON.stringify(upscale)}`);
  }
  const plan = planLevels(c);
  if (plan.imageContext) {
    for (const level of plan.levels) {
      for (const [side, width] of [['down', level.dimIn], ['up', level.dimOut]] as const) {
        if (level.index >= FIRST_TRANSFORMER_LEVEL && width % GROUP_NORM_GROUPS !== 0) {
          throw new UNetConfigError(
            `level ${level.index} (${side} path) is ${width} channels wide (nf ${c.nf} × ${multiplierName(c, level.index, side)}); ` +
              `with use_image_context its SpatialTransformer needs a multiple of ${GROUP_NORM_GROUPS} (GroupNorm(32))`,
          );
        }
      }
    }
    if (plan.midDim % GROUP_NORM_GROUPS !== 0) {
      throw new UNetConfigError(
        `the middle is ${plan.midDim} channels wide (nf ${c.nf} × ch_mult[${c.ch_mult.length - 1}] = ${c.ch_mult[c.ch_mult.length - 1]}); ` +
          `with use_image_context its SpatialTransformer needs a multiple of ${GROUP_NORM_GROUPS} (GroupNorm(32))`,
      );
    }
  }
}

function multiplierName(c: UNetConfig, level: number, side: 'down' | 'up'): string {
  const i = side === 'down' ? level - 1 : level;
  return i < 0 ? '1' : `ch_mult[${i}] = ${c.ch_mult[i]}`;
}

/** Widths of one level: the down path works at dimIn, the up path at dimOut. */
export interface LevelPlan {
  index: number;
  dimIn: number;
  dimOut: number;
  /** SpatialTransformer (cross-attention) at this level; otherwise LinearAttention. */
  transformer: boolean;
  /** The deepest level ends its down path with a 3×3 conv instead of a strided one. */
  isDeepest: boolean;
  /** The shallowest level ends its up path with a 3×3 conv instead of upsampling. */
  isShallowest: boolean;
}

export interface UNetPlan {
  depth: number;
  /** Inputs are reflect-padded (bottom/right) to a multiple of this: 2^depth. */
  padMultiple: number;
  /** Width of the time embedding: 4·nf. */
  timeDim: number;
  midDim: number;
  /** The SpatialTransformers exist and need an image context (use_image_context with context_dim > 0). */
  imageContext: boolean;
  /** The prompt path exists (use_degra_context with context_dim > 0). */
  degraContext: boolean;
  levels: LevelPlan[];
}

/** The architecture a config describes (widths per level, which blocks exist). */
export function planLevels(c: UNetConfig): UNetPlan {
  const depth = c.ch_mult.length;
  const mult = [1, ...c.ch_mult];
  const hasContext = c.context_dim !== null && c.context_dim > 0;
  const imageContext = c.use_image_context && hasContext;
  const levels: LevelPlan[] = [];
  for (let i = 0; i < depth; i++) {
    levels.push({
      index: i,
      dimIn: c.nf * mult[i]!,
      dimOut: c.nf * mult[i + 1]!,
      transformer: imageContext && i >= FIRST_TRANSFORMER_LEVEL,
      isDeepest: i === depth - 1,
      isShallowest: i === 0,
    });
  }
  return {
    depth,
    padMultiple: 2 ** depth,
    timeDim: 4 * c.nf,
    midDim: c.nf * mult[depth]!,
    imageContext,
    degraContext: c.use_degra_context && hasContext,
    levels,
  };
}

/** A compact one-line description, e.g. for error messages. */
export function describeConfig(c: UNetConfig): string {
  return `{ in_nc: ${c.in_nc}, out_nc: ${c.out_nc}, nf: ${c.nf}, ch_mult: [${c.ch_mult.join(', ')}], context_dim: ${c.context_dim}, ` +
    `use_degra_context: ${c.use_degra_context}, use_image_context: ${c.use_image_context} }`;
}
