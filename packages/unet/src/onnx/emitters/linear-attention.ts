import { HEAD_CHANNELS, LINEAR_ATTENTION_HEADS } from '../../config';
import { rows, weight, type EmitContext } from '../emit-context';
import { emitChannelLayerNorm, emitChannelNormalize } from './channel-layer-norm';

const HEADS = LINEAR_ATTENTION_HEADS;
const HEAD_DIM = HEAD_CHANNELS;
const HIDDEN = HEADS * HEAD_DIM;

/** Largest |logit| for which exp() without the max shift stays far from float32 overflow, even summed over 2^24 positions. */
export const EXP_SAFE_LOGIT = 60;

/**
 * Bound on |(w ⊙ g)·x̂| over every input, where x̂ is a channel-normalised pixel (zero mean, unit
 * biased variance, so ‖x̂‖₂ ≤ √C): by Cauchy–Schwarz, √C·‖w ⊙ g‖₂. Returns the max over `rows`.
 */
export function normalizedLogitBound(w: Float32Array, rows: Iterable<number>, dim: number, gain: Float32Array): number {
  let bound = 0;
  for (const r of rows) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += (w[r * dim + c]! * gain[c]!) ** 2;
    bound = Math.max(bound, Math.sqrt(s * dim));
  }
  return bound;
}

const range = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

/**
 * `Residual(PreNorm(C, LinearAttention(C)))` at `path` on NCHW `x`, as module_util's
 * `LinearAttention` (4 heads × 32 whatever the width): q | k | v = 1×1 conv chunks, heads `(h c)`
 * (head index slower); q softmax over its 32 channels, k softmax over the positions, q ·= 32^-0.5,
 * v /= H·W; context = k·vᵀ `[B, h, d, e]`; out = contextᵀ·q; `to_out` = 1×1 conv (bias) → channel
 * LayerNorm; plus the residual.
 *
 * Same values, cheaper form:
 * - the PreNorm gain g is folded into the q/k/v weights (it only feeds them; graph ops on the
 *   weights, folded into constants by ORT in an inference graph);
 * - the q softmax runs over axis 2 of `[B, 4, 32, N]` as `exp / Σ` (ORT's Softmax transposes for a
 *   non-last axis); the usual max shift is left out when the weights bound every q logit by
 *   {@link EXP_SAFE_LOGIT} (a shift does not change a softmax, only its overflow risk);
 * - 32^-0.5 and 1/(H·W) scale the 32×32 context instead of the `[B, 128, H·W]` tensors.
 */
export function emitLinearAttentionBlock(ctx: EmitContext, path: string, x: string, dim: number): string {
  const { g } = ctx;
  const attn = `${path}.fn.fn`;
  const gain = weight(ctx, `${path}.fn.norm.g`, [1, dim, 1, 1]);
  const qkvW = weight(ctx, `${attn}.to_qkv.weight`, [3 * HIDDEN, dim, 1, 1]);
  const xn = emitChannelNormalize(ctx, x);
  const project = (part: number) => {
    // The gain g scales the input channels of this chunk of to_qkv ([HIDDEN, C, 1, 1] ⊙ [1, C, 1, 1]).
    const conv = g.conv(xn, g.mul(rows(ctx, qkvW, part * HIDDEN, (part + 1) * HIDDEN), gain), undefined);
    return g.reshape(conv, [0, HEADS, HEAD_DIM, -1]); // [B, heads, 32, H·W]
  };
  const q = project(0);
  const qLogits = qLogitsBounded(ctx, path, dim) ? q : g.sub(q, g.stopGradient(g.op('ReduceMax', [q], { axes: [2], keepdims: 1 })));
  const qExp = g.op('Exp', [qLogits]);
  const qSoft = g.div(qExp, g.op('ReduceSum', [qExp, g.constInt64([2])], { keepdims: 1 }));
  const k = g.softmax(project(1), 3);
  const v = project(2);
  const positions = g.op('Cast', [g.shape(v, 3, 4)], { to: 1 });
  const kv = g.matMul(k, g.transpose(v, [0, 1, 3, 2])); // Σ_n k[d,n]·v[e,n]: [B, h, d, e]
  const context = g.div(g.mul(kv, g.constFloat(HEAD_DIM ** -0.5)), positions);
  const out = g.matMul(g.transpose(context, [0, 1, 3, 2]), qSoft); // [B, h, e, n]
  const merged = g.reshape(out, g.concat([g.shape(x, 0, 1), g.constInt64([HIDDEN]), g.shape(x, 2, 4)], 0));
  const projected = g.conv(merged, weight(ctx, `${attn}.to_out.0.weight`, [dim, HIDDEN, 1, 1]), weight(ctx, `${attn}.to_out.0.bias`, [dim]));
  return g.add(emitChannelLayerNorm(ctx, `${attn}.to_out.1.g`, projected, dim), x);
}

/**
 * Whether the q softmax may skip its max shift: only for fixed weights (an inference graph) whose
 * bound keeps every logit under {@link EXP_SAFE_LOGIT}. A training graph's weights change, so it
 * always shifts (the shift is a stop-gradient value: it changes no gradient either).
 */
function qLogitsBounded(ctx: EmitContext, path: string, dim: number): boolean {
  if (ctx.w.trainable) return false;
  const gain = ctx.w.take(`${path}.fn.norm.g`, [1, dim, 1, 1]).data;
  const qkvW = ctx.w.take(`${path}.fn.fn.to_qkv.weight`, [3 * HIDDEN, dim, 1, 1]).data;
  return normalizedLogitBound(qkvW, range(0, HIDDEN), dim, gain) <= EXP_SAFE_LOGIT;
}
