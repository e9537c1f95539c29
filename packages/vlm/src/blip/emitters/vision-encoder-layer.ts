import type { BlipVisionConfig } from '../blip-config';
import { layerNorm, linear, type BlipEmitContext } from '../emit-context';
import { emitActivation } from './activation';

/**
 * `BlipAttention`: one fused `qkv` Linear whose output holds q, k and v in that order, heads
 * contiguous inside each (`reshape(B, N, 3, heads, head_dim).permute(2, 0, 3, 1, 4)`); softmax of
 * `q·kᵀ · head_dim^-0.5` over all tokens (no mask); heads merged; `projection` Linear.
 */
function emitVisionAttention(ctx: BlipEmitContext, prefix: string, x: string, vision: BlipVisionConfig): string {
  const { g } = ctx;
  const hidden = vision.hidden_size;
  const heads = vision.num_attention_heads;
  const headDim = hidden / heads;
  return g.scope(`${prefix}.self_attn`, () => {
    const qkv = linear(ctx, `${prefix}.self_attn.qkv`, x, hidden, 3 * hidden); // [B, N, 3·hidden]
    const split = g.transpose(g.reshape(qkv, [0, 0, 3, heads, headDim]), [2, 0, 3, 1, 4]); // [3, B, heads, N, d]
    const [q, k, v] = g.split(split, [1, 1, 1], 0).map((t) => g.squeeze(t, [0])) as [string, string, string];
    const scores = g.mul(g.matMul(q, g.transpose(k, [0, 1, 3, 2])), g.constFloat(headDim ** -0.5));
    const context = g.matMul(g.softmax(scores, -1), v); // [B, heads, N, d]
    const merged = g.reshape(g.transpose(context, [0, 2, 1, 3]), [0, 0, hidden]);
    return linear(ctx, `${prefix}.self_attn.projection`, merged, hidden, hidden);
  });
}

/** `BlipEncoderLayer` (pre-LN): `x + attn(ln1(x))`, then `x + fc2(act(fc1(ln2(x))))`. */
export function emitVisionEncoderLayer(ctx: BlipEmitContext, index: number, x: string, vision: BlipVisionConfig): string {
  const { g } = ctx;
  const prefix = `vision_model.encoder.layers.${index}`;
  const hidden = vision.hidden_size;
  const eps = vision.layer_norm_eps;
  return g.scope(prefix, () => {
    const attended = g.add(x, emitVisionAttention(ctx, prefix, layerNorm(ctx, `${prefix}.layer_norm1`, x, hidden, eps), vision));
    const normed = layerNorm(ctx, `${prefix}.layer_norm2`, attended, hidden, eps);
    const mlp = linear(ctx, `${prefix}.mlp.fc2`, emitActivation(g, linear(ctx, `${prefix}.mlp.fc1`, normed, hidden, vision.intermediate_size), vision.hidden_act), vision.intermediate_size, hidden);
    return g.add(attended, mlp);
  });
}
