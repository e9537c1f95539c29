import type { EmitContext } from '../emit-context';
import { emitChannelLayerNorm } from './channel-layer-norm';
import { emitLinearAttentionBlock } from './linear-attention';
import { emitSpatialTransformer } from './spatial-transformer';

/** How a level's SpatialTransformer gets its context: the graph's `image_context` input, or none (self-attention). */
export interface ImageContext {
  /** The `[B, context_dim]` tensor; undefined when attn2 falls back to self-attention. */
  tensor?: string;
  dim: number;
}

/**
 * `Residual(PreNorm(C, attention))` at `path` (`downs.L.2`, `ups.L.2`, `mid_attn`):
 * `attention(LN(x)) + x`, with a SpatialTransformer when the level attends to the image context
 * (`context` given) and a LinearAttention otherwise.
 */
export function emitAttentionBlock(ctx: EmitContext, path: string, x: string, channels: number, context: ImageContext | undefined): string {
  return ctx.g.scope(path, () => {
    if (!context) return ctx.record(path, emitLinearAttentionBlock(ctx, path, x, channels));
    const normed = emitChannelLayerNorm(ctx, `${path}.fn.norm.g`, x, channels);
    const attended = emitSpatialTransformer(ctx, `${path}.fn.fn`, normed, channels, context.tensor, context.dim);
    return ctx.record(path, ctx.g.add(attended, x));
  });
}
