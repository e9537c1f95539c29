import type { BlipTextConfig } from '../blip-config';
import { layerNorm, linear, weight, type BlipEmitContext } from '../emit-context';
import { emitActivation } from './activation';

/**
 * `BlipTextLayer` (post-LN BERT layer with cross-attention) for position 0 only.
 *
 * Why one position is enough: the original keeps `hidden_states[-1][:, 0, :]`. The decoder's
 * self-attention is causal (plus the padding mask), so position 0 attends to position 0 alone,
 * and every other sub-module (cross-attention, feed-forward, LayerNorms) works token by token.
 * Nothing at positions 1…29 can reach position 0 in any layer, so the decoder is run on a
 * one-token sequence, `[CLS]` alone, and gives the same state (the reference measured ≤ 6e-7
 * between sequence lengths 1 and 30). With one key, softmax gives weight 1: self-attention's
 * output is the value projection of the token itself, and `query`/`key` drop out (they are read
 * and shape-checked, not emitted). Cross-attention is unmasked (`encoder_attention_mask` is all
 * ones): the token attends to every vision token, the class token included
 * ({@link emitOneQueryCrossAttention}).
 */
export function emitTextDecoderLayerPosition0(ctx: BlipEmitContext, index: number, x: string, image: string, text: BlipTextConfig): string {
  const { g } = ctx;
  const prefix = `text_decoder.bert.encoder.layer.${index}`;
  const hidden = text.hidden_size;
  const eps = text.layer_norm_eps;
  return g.scope(prefix, () => {
    // Self-attention over the one token: softmax over a single key is exactly 1.
    ctx.w.take(`${prefix}.attention.self.query.weight`, [hidden, hidden]);
    ctx.w.take(`${prefix}.attention.self.query.bias`, [hidden]);
    ctx.w.take(`${prefix}.attention.self.key.weight`, [hidden, hidden]);
    ctx.w.take(`${prefix}.attention.self.key.bias`, [hidden]);
    const selfValue = linear(ctx, `${prefix}.attention.self.value`, x, hidden, hidden);
    const selfOut = layerNorm(ctx, `${prefix}.attention.output.LayerNorm`, g.add(linear(ctx, `${prefix}.attention.output.dense`, selfValue, hidden, hidden), x), hidden, eps);

    const crossOut = layerNorm(ctx, `${prefix}.crossattention.output.LayerNorm`, g.add(emitOneQueryCrossAttention(ctx, `${prefix}.crossattention`, selfOut, image, text), selfOut), hidden, eps);

    // Feed-forward.
    const inter = emitActivation(g, linear(ctx, `${prefix}.intermediate.dense`, crossOut, hidden, text.intermediate_size), text.hidden_act);
    return layerNorm(ctx, `${prefix}.output.LayerNorm`, g.add(linear(ctx, `${prefix}.output.dense`, inter, text.intermediate_size, hidden), crossOut), hidden, eps);
  });
}

/**
 * `BlipTextAttention` as cross-attention for one query token per image, `[B, 1, hidden]` against the
 * image tokens `E` `[B, T, encoder_hidden]`, then its output `dense` (the residual and LayerNorm are
 * the caller's). With a single query the key and value projections of all T tokens need not be
 * computed; per head h, exactly:
 *
 *   scores_t = q_h·(W_k,h E_t + b_k,h)/√d = (W_k,hᵀ q_h)·E_t/√d + q_h·b_k,h/√d
 *   context_h = Σ_t p_t (W_v,h E_t + b_v,h) = W_v,h (Σ_t p_t E_t) + b_v,h        (Σ_t p_t = 1)
 *
 * and the q·b_k term is the same for every t, which softmax ignores. So the query is projected
 * into the image tokens' space once (`u_h = W_k,hᵀ q_h`), the softmax pools the tokens
 * themselves, and the pooled token is projected by W_v,h: O(heads · T · encoder_hidden) instead of
 * the 2 · T · encoder_hidden · hidden of projecting every token (a BLIP-base embedding: 16 of its
 * 127 GFLOP). The values are those of the original's order of operations up to float32 rounding.
 */
function emitOneQueryCrossAttention(ctx: BlipEmitContext, prefix: string, x: string, image: string, text: BlipTextConfig): string {
  const { g } = ctx;
  const hidden = text.hidden_size;
  const encoderHidden = text.encoder_hidden_size;
  const heads = text.num_attention_heads;
  const headDim = hidden / heads;
  // W_k [hidden, enc] is W_k,h stacked by head: as [heads, d, enc] it needs no copy.
  const wk = ctx.w.take(`${prefix}.self.key.weight`, [hidden, encoderHidden]);
  ctx.w.take(`${prefix}.self.key.bias`, [hidden]); // cancels in the softmax (see above)
  const keyWeight = g.initializer(`${prefix}.self.key.weight[heads]`, wk.data, [heads, headDim, encoderHidden]);
  // W_v,hᵀ per head: [heads, enc, d].
  const wv = ctx.w.take(`${prefix}.self.value.weight`, [hidden, encoderHidden]);
  const wvT = new Float32Array(hidden * encoderHidden);
  for (let h = 0; h < heads; h++) {
    for (let c = 0; c < headDim; c++) for (let e = 0; e < encoderHidden; e++) wvT[(h * encoderHidden + e) * headDim + c] = wv.data[(h * headDim + c) * encoderHidden + e]!;
  }
  const valueWeight = g.initializer(`${prefix}.self.value.weight[heads]^T`, wvT, [heads, encoderHidden, headDim]);
  return g.scope(prefix, () => {
    const q = g.transpose(g.reshape(linear(ctx, `${prefix}.self.query`, x, hidden, hidden), [0, 0, heads, headDim]), [0, 2, 1, 3]); // [B, h, 1, d]
    const u = g.matMul(q, keyWeight); // [B, h, 1, enc]
    const tokens = g.unsqueeze(image, [1]); // [B, 1, T, enc]
    const scores = g.div(g.matMul(u, g.transpose(tokens, [0, 1, 3, 2])), g.constFloat(Math.sqrt(headDim))); // [B, h, 1, T]
    const pooled = g.matMul(g.softmax(scores, -1), tokens); // [B, h, 1, enc]
    const perHead = g.matMul(pooled, valueWeight); // [B, h, 1, d]
    const context = g.add(g.reshape(g.transpose(perHead, [0, 2, 1, 3]), [0, 0, hidden]), weight(ctx, `${prefix}.self.value.bias`, [hidden])); // [B, 1, hidden]
    return linear(ctx, `${prefix}.output.dense`, context, hidden, hidden);
  });
}
