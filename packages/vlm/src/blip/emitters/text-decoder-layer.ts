import type { BlipTextConfig } from '../blip-config';
import { layerNorm, linear, type BlipEmitContext } from '../emit-context';
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
 * ones): the token attends to every vision token, the class token included.
 */
export function emitTextDecoderLayerPosition0(ctx: BlipEmitContext, index: number, x: string, image: string, text: BlipTextConfig): string {
  const { g } = ctx;
  const prefix = `text_decoder.bert.encoder.layer.${index}`;
  const hidden = text.hidden_size;
  const encoderHidden = text.encoder_hidden_size;
  const heads = text.num_attention_heads;
  const headDim = hidden / heads;
  const eps = text.layer_norm_eps;
  return g.scope(prefix, () => {
    // Self-attention over the one token: softmax over a single key is exactly 1.
    ctx.w.take(`${prefix}.attention.self.query.weight`, [hidden, hidden]);
    ctx.w.take(`${prefix}.attention.self.query.bias`, [hidden]);
    ctx.w.take(`${prefix}.attention.self.key.weight`, [hidden, hidden]);
    ctx.w.take(`${prefix}.attention.self.key.bias`, [hidden]);
    const selfValue = linear(ctx, `${prefix}.attention.self.value`, x, hidden, hidden);
    const selfOut = layerNorm(ctx, `${prefix}.attention.output.LayerNorm`, g.add(linear(ctx, `${prefix}.attention.output.dense`, selfValue, hidden, hidden), x), hidden, eps);

    // Cross-attention: one query against all image tokens, per head.
    const cross = `${prefix}.crossattention`;
    const heads4 = (t: string) => g.reshape(t, [0, 0, heads, headDim]);
    const q = g.transpose(heads4(linear(ctx, `${cross}.self.query`, selfOut, hidden, hidden)), [0, 2, 1, 3]); // [B, h, 1, d]
    const k = g.transpose(heads4(linear(ctx, `${cross}.self.key`, image, encoderHidden, hidden)), [0, 2, 3, 1]); // [B, h, d, T]
    const v = g.transpose(heads4(linear(ctx, `${cross}.self.value`, image, encoderHidden, hidden)), [0, 2, 1, 3]); // [B, h, T, d]
    const scores = g.div(g.matMul(q, k), g.constFloat(Math.sqrt(headDim)));
    const context = g.reshape(g.transpose(g.matMul(g.softmax(scores, -1), v), [0, 2, 1, 3]), [0, 0, hidden]); // [B, 1, hidden]
    const crossOut = layerNorm(ctx, `${cross}.output.LayerNorm`, g.add(linear(ctx, `${cross}.output.dense`, context, hidden, hidden), selfOut), hidden, eps);

    // Feed-forward.
    const inter = emitActivation(g, linear(ctx, `${prefix}.intermediate.dense`, crossOut, hidden, text.intermediate_size), text.hidden_act);
    return layerNorm(ctx, `${prefix}.output.LayerNorm`, g.add(linear(ctx, `${prefix}.output.dense`, inter, text.intermediate_size, hidden), crossOut), hidden, eps);
  });
}
