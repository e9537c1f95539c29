import { Linear, Module, MultiheadAttention, tf, linear } from '@srdiff/core';
import { GeluMlp } from './gelu-mlp';
/**
 * One layer of the SRM's lower path (`SREncoderLayer` of `sr/CLSEnhancer.py`):
 *
 *     a = pre_linear(x);  m = MHA(a, a, a);  out = post_net(cat([x, m], -1))
 *
 * with `post_net` = Linear(2H→H), GELU, Linear(H→H) and **no residual** around the layer, as in the
 * original. The attention is `nn.MultiheadAttention(H, heads, batch_first=True)` without dropout;
 * its parameters live in core's {@link MultiheadAttention} (packed `in_proj_weight` rows q | k | v),
 * the arithmetic is done here with the fast {@link linear} op.
 *
 * The SRM runs every layer on a sequence of length 1 (`x.unsqueeze(1)`), where the softmax over one
 * key is exactly 1 and the attention output is `out_proj(v_proj(a))`. With
 * {@link lengthOneFastPath} (default on) that is computed directly: q and k are never formed, and
 * because only the v rows of `in_proj_weight`/`in_proj_bias` are read, the gradients of the q/k rows
 * are exactly 0 — what PyTorch computes through the full attention. Longer sequences always take the
 * full attention.
 */
export class SREncoderLayer extends Module {
  readonly preLinear: Linear;
  readonly mha: MultiheadAttention;
  readonly postNet: GeluMlp;
  /** Skip q, k and the softmax when the sequence length is 1 (identical results, see the class doc). */
  lengthOneFastPath = true;

  constructor(readonly hiddenDim: number, readonly numHeads: number) {
    super();
    this.preLinear = this.addModule('pre_linear', new Linear(hiddenDim, hiddenDim));
    this.mha = this.addModule('mha', new MultiheadAttention(hiddenDim, numHeads));
    this.postNet = this.addModule('post_net', new GeluMlp(2 * hiddenDim, hiddenDim, hiddenDim));
  }

  /**
   * `[batch, length, H]` → `[batch, length, H]`. A `[batch, H]` input is a batch of length-1
   * sequences (how the SRM calls it) and comes back as `[batch, H]`.
   */
  forward(x: tf.Tensor): tf.Tensor {
    const H = this.hiddenDim;
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[x.rank - 1] !== H) {
      throw new Error(`SREncoderLayer(${H}): input must be [batch, ${H}] or [batch, length, ${H}], got [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const a = linear(x, this.preLinear.weight, this.preLinear.bias);
      const m = x.rank === 2 ? this.attendLengthOne(a as tf.Tensor2D) : this.attend(a as tf.Tensor3D);
      return this.postNet.forward(tf.concat([x, m], -1));
    });
  }

  private attendLengthOne(a: tf.Tensor2D): tf.Tensor2D {
    if (!this.lengthOneFastPath) return tf.squeeze(this.attend(tf.expandDims(a, 1) as tf.Tensor3D), [1]) as tf.Tensor2D;
    const H = this.hiddenDim;
    const wv = tf.slice(this.mha.inProjWeight, [2 * H, 0], [H, H]);
    const bv = tf.slice(this.mha.inProjBias, [2 * H], [H]);
    const out = this.mha.outProj;
    return linear(linear(a, wv, bv), out.weight, out.bias) as tf.Tensor2D;
  }

  /** Full scaled dot-product self-attention (PyTorch's `multi_head_attention_forward`, no dropout). */
  private attend(a: tf.Tensor3D): tf.Tensor3D {
    const [batch, length] = a.shape;
    const H = this.hiddenDim;
    const heads = this.numHeads;
    const d = H / heads;
    const qkv = linear(a, this.mha.inProjWeight, this.mha.inProjBias) as tf.Tensor3D;
    // [B, L, 3H] → three [B, heads, L, d]; a head is a contiguous block of d channels.
    const [q, k, v] = tf.split(qkv, 3, -1).map((t) => tf.transpose(tf.reshape(t, [batch, length, heads, d]), [0, 2, 1, 3])) as [
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor4D,
    ];
    const scores = tf.matMul(tf.mul(q, d ** -0.5) as tf.Tensor4D, tf.transpose(k, [0, 1, 3, 2]));
    const context = tf.matMul(tf.softmax(scores), v);
    const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch, length, H]);
    return linear(merged, this.mha.outProj.weight, this.mha.outProj.bias) as tf.Tensor3D;
  }
}
