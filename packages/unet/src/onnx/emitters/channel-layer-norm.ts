import { CHANNEL_LAYER_NORM_EPS } from '../../config';
import { weight, type EmitContext } from '../emit-context';

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
