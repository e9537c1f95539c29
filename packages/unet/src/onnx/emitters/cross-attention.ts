import { HEAD_CHANNELS } from '../../config';
import { weight, type EmitContext } from '../emit-context';

const HEAD_DIM = HEAD_CHANNELS;

/** A Linear weight tensor `[out, in]` as a MatMul right operand `[in, out]` (optionally scaled). */
export function transposedWeight(ctx: EmitContext, tensor: string, scale = 1): string {
  const t = ctx.g.transpose(tensor, [1, 0]);
  return scale === 1 ? t : ctx.g.mul(t, ctx.g.constFloat(scale));
}

/** {@link transposedWeight} of the state-dict key `key` `[out, in]`. */
export function linearRight(ctx: EmitContext, key: string, out: number, inp: number, scale = 1): string {
  return transposedWeight(ctx, weight(ctx, key, [out, inp]), scale);
}

/** attention.py `CrossAttention` used as self-attention on tokens `[B, N, dim]` (`attn1`). */
export function emitSelfAttention(ctx: EmitContext, path: string, x: string, dim: number): string {
  const { g } = ctx;
  const heads = dim / HEAD_DIM;
  return g.scope(path, () => {
    // 'b n (h d) -> b h n d'; the head index is the slower part of the channel axis.
    const split = (t: string, perm: number[]) => g.transpose(g.reshape(t, [0, 0, heads, HEAD_DIM]), perm);
    // The softmax scale d^-0.5 is folded into W_q (the original scales q·kᵀ; same value up to rounding).
    const q = split(g.matMul(x, linearRight(ctx, `${path}.to_q.weight`, dim, dim, HEAD_DIM ** -0.5)), [0, 2, 1, 3]);
    const k = split(g.matMul(x, linearRight(ctx, `${path}.to_k.weight`, dim, dim)), [0, 2, 3, 1]);
    const v = split(g.matMul(x, linearRight(ctx, `${path}.to_v.weight`, dim, dim)), [0, 2, 1, 3]);
    const attention = g.softmax(g.matMul(q, k), 3); // [B, h, N, N]
    const merged = g.reshape(g.transpose(g.matMul(attention, v), [0, 2, 1, 3]), [0, 0, dim]);
    return g.add(g.matMul(merged, linearRight(ctx, `${path}.to_out.0.weight`, dim, dim)), weight(ctx, `${path}.to_out.0.bias`, [dim]));
  });
}

/**
 * attention.py `CrossAttention` against a context of ONE token (`attn2`; SR-Diff unsqueezes its
 * `[B, context_dim]` vector to `[B, 1, context_dim]`). A softmax over a single key is exactly 1, so
 * every query receives that token's value: the output is `to_out(to_v(context))` for all positions,
 * `[B, 1, dim]`, and q, k and the norm before it do not influence it (their weights are read and
 * shape-checked, then left out of the graph).
 */
export function emitSingleTokenCrossAttention(ctx: EmitContext, path: string, context: string, dim: number, contextDim: number): string {
  const { g } = ctx;
  return g.scope(path, () => {
    ctx.w.take(`${path}.to_q.weight`, [dim, dim]);
    ctx.w.take(`${path}.to_k.weight`, [dim, contextDim]);
    const v = g.gemm(context, weight(ctx, `${path}.to_v.weight`, [dim, contextDim]));
    const out = g.gemm(v, weight(ctx, `${path}.to_out.0.weight`, [dim, dim]), weight(ctx, `${path}.to_out.0.bias`, [dim]));
    return g.unsqueeze(out, [1]);
  });
}
