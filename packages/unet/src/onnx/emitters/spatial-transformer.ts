import { attr } from '@srdiff/core';
import { GROUP_NORM_EPS, GROUP_NORM_GROUPS, LAYER_NORM_EPS } from '../../config';
import { weight, type EmitContext } from '../emit-context';
import { emitSelfAttention, emitSingleTokenCrossAttention } from './cross-attention';
import { emitGegluFeedForward } from './feed-forward';

/** `nn.GroupNorm(32, C, eps=1e-6)` on NCHW: statistics per (sample, group) via InstanceNormalization. */
export function emitGroupNorm(ctx: EmitContext, key: string, x: string, channels: number): string {
  const { g } = ctx;
  const grouped = g.reshape(x, [0, GROUP_NORM_GROUPS, -1]);
  const normalized = g.op('InstanceNormalization', [
    grouped,
    g.constFloat(new Float32Array(GROUP_NORM_GROUPS).fill(1), [GROUP_NORM_GROUPS]),
    g.constFloat(new Float32Array(GROUP_NORM_GROUPS), [GROUP_NORM_GROUPS]),
  ], { epsilon: attr.float(GROUP_NORM_EPS) });
  const restored = g.reshape(normalized, g.shape(x));
  const perChannel = (name: string) => g.reshape(weight(ctx, `${key}.${name}`, [channels]), [channels, 1, 1]);
  return g.add(g.mul(restored, perChannel('weight')), perChannel('bias'));
}

function layerNorm(ctx: EmitContext, key: string, x: string, dim: number): string {
  return ctx.g.layerNorm(x, weight(ctx, `${key}.weight`, [dim]), weight(ctx, `${key}.bias`, [dim]), LAYER_NORM_EPS);
}

/**
 * attention.py `SpatialTransformer(C, C/32 heads, 32, depth=1, context_dim)` on NCHW `x`:
 * GroupNorm → 1×1 `proj_in` → tokens `[B, H·W, C]` → BasicTransformerBlock
 * (`x += attn1(norm1 x)`; `x += attn2(norm2 x, context)`; `x += ff(norm3 x)`) → `proj_out` → `+ x`.
 * `context` is the `[B, context_dim]` image context (one token); without one, attn2 attends to the
 * tokens themselves, as the original does (possible only when context_dim equals the width).
 */
export function emitSpatialTransformer(ctx: EmitContext, path: string, x: string, channels: number, context: string | undefined, contextDim: number): string {
  const { g } = ctx;
  const dim = channels; // inner_dim = heads·32 = C (the config guarantees C % 32 == 0)
  const block = `${path}.transformer_blocks.0`;
  const normed = emitGroupNorm(ctx, `${path}.norm`, x, channels);
  const projected = g.conv(normed, weight(ctx, `${path}.proj_in.weight`, [dim, channels, 1, 1]), weight(ctx, `${path}.proj_in.bias`, [dim]));
  let tokens = g.transpose(g.reshape(projected, [0, dim, -1]), [0, 2, 1]);
  tokens = g.add(emitSelfAttention(ctx, `${block}.attn1`, layerNorm(ctx, `${block}.norm1`, tokens, dim), dim), tokens);
  if (context) {
    // norm2 feeds only the queries of attn2, which a one-token context makes irrelevant.
    ctx.w.take(`${block}.norm2.weight`, [dim]);
    ctx.w.take(`${block}.norm2.bias`, [dim]);
    tokens = g.add(emitSingleTokenCrossAttention(ctx, `${block}.attn2`, context, dim, contextDim), tokens);
  } else {
    tokens = g.add(emitSelfAttention(ctx, `${block}.attn2`, layerNorm(ctx, `${block}.norm2`, tokens, dim), dim), tokens);
  }
  tokens = g.add(emitGegluFeedForward(ctx, `${block}.ff`, layerNorm(ctx, `${block}.norm3`, tokens, dim), dim), tokens);
  const spatial = g.reshape(g.transpose(tokens, [0, 2, 1]), g.shape(x));
  const out = g.conv(spatial, weight(ctx, `${path}.proj_out.weight`, [channels, dim, 1, 1]), weight(ctx, `${path}.proj_out.bias`, [channels]));
  return g.add(out, x);
}
