import { weight, type EmitContext } from '../emit-context';

/** eps of the original's channel LayerNorm for float32 (module_util `LayerNorm`). */
export const CHANNEL_LAYER_NORM_EPS = 1e-5;

/** The channel LayerNorm without its gain: `(x - mean) · rsqrt(var + eps)` over axis 1 of NCHW, biased variance. */
export function emitChannelNormalize(ctx: EmitContext, x: string): string {
  const { g } = ctx;
  const centered = g.sub(x, g.reduceMean(x, [1]));
  const variance = g.reduceMean(g.mul(centered, centered), [1]);
  return g.mul(centered, g.op('Reciprocal', [g.op('Sqrt', [g.add(variance, g.constFloat(CHANNEL_LAYER_NORM_EPS))])]));
}

/**
 * module_util's `LayerNorm`: normalise over the channel axis of NCHW with the biased variance,
 * `(x - mean) · rsqrt(var + eps) · g`, `g` `[1, C, 1, 1]`, no bias.
 */
export function emitChannelLayerNorm(ctx: EmitContext, key: string, x: string, channels: number): string {
  return ctx.g.mul(emitChannelNormalize(ctx, x), weight(ctx, key, [1, channels, 1, 1]));
}
