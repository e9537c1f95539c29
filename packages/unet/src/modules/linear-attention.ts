import { ChannelLayerNorm, Conv2d, Module, tf } from '@srdiff/core';
import { CHANNEL_LAYER_NORM_EPS, HEAD_CHANNELS, LINEAR_ATTENTION_HEADS } from '../config';
import { matMul2d } from '../ops/matmul';
import { concatRows, splitRows } from '../ops/split-rows';
import { SparseSequential } from './containers';

/**
 * The original's `LinearAttention` (module_util.py; 4 heads × 32 channels whatever the width):
 * `q | k | v = to_qkv(x).chunk(3)` (1×1 conv, no bias), heads split as `(h c)`; q softmax over its
 * 32 channels, k softmax over the positions, q ·= 32^-0.5, v /= H·W;
 * context_h[d, e] = Σ_n k[d, n]·v[e, n], out[e, n] = Σ_d context_h[d, e]·q[d, n];
 * then `to_out` = 1×1 conv (bias) → channel LayerNorm. Cost linear in H·W.
 *
 * Computed per image with the products re-associated (exact in real arithmetic, since to_qkv has
 * no bias): with X the image as [N, C] and W_q, W_k, W_v, W_out the 1×1 weights as matrices,
 *   K̃ = softmax_n(W_kᵀ·Xᵀ)  [128, N],    P = K̃·X  [128, C],
 *   Ctx = blockdiag_h((P·W_v)_hh)·(32^-0.5 / N)  [128, 128],   M = Ctx·W_out  [128, C_out],
 *   y = softmax_c(X·W_q)·M + b_out  [N, C_out].
 * Every product contracts over a short axis or has the long axis N where XNNPACK wants it, no
 * per-head or per-position transposes of [N, 128] activations are needed (forward or backward),
 * and at widths C < 128 it takes half the multiplications of projecting q, k, v first.
 */
export class LinearAttention extends Module {
  readonly toQkv: Conv2d;
  readonly outConv: Conv2d;
  readonly outNorm: ChannelLayerNorm;
  readonly heads = LINEAR_ATTENTION_HEADS;
  readonly headDim = HEAD_CHANNELS;

  constructor(readonly dim: number) {
    super();
    const hidden = this.heads * this.headDim;
    this.toQkv = this.addModule('to_qkv', new Conv2d(dim, 3 * hidden, 1, { bias: false }));
    this.outConv = new Conv2d(hidden, dim, 1);
    this.outNorm = new ChannelLayerNorm(dim, CHANNEL_LAYER_NORM_EPS);
    this.addModule('to_out', new SparseSequential([[0, this.outConv], [1, this.outNorm]]));
  }

  /** NHWC `[B, H, W, dim]` → same shape. The context argument of the original is ignored here too. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const n = h * w;
      const hidden = this.heads * this.headDim;
      const qkv = tf.reshape(this.toQkv.weight, [c, 3 * hidden]) as tf.Tensor2D;
      const wq = tf.slice(qkv, [0, 0], [c, hidden]);
      const wkT = tf.transpose(tf.slice(qkv, [0, hidden], [c, hidden]));
      const wv = tf.slice(qkv, [0, 2 * hidden], [c, hidden]);
      const wOut = tf.reshape(this.outConv.weight, [hidden, c]) as tf.Tensor2D;
      const contextMask = tf.tensor2d(blockDiagonal(this.heads, this.headDim, this.headDim ** -0.5 / n), [hidden, hidden]);

      const pixels = tf.reshape(x, [b, n, c]) as tf.Tensor3D;
      // One image at a time: a product over all images at once packs 4× larger operands in the
      // backward pass (measured 1.5× slower on wasm).
      const images = splitRows(pixels, b).map((p) => tf.reshape(p, [n, c]) as tf.Tensor2D);
      const imagesT = splitRows(tf.transpose(pixels, [0, 2, 1]), b).map((p) => tf.reshape(p, [c, n]) as tf.Tensor2D);
      const outputs = images.map((xi, i) => {
        const keys = tf.softmax(matMul2d(wkT, imagesT[i]!)); // [128, N], softmax over the positions
        const pooled = matMul2d(keys, xi); // [128, C]
        const context = tf.mul(matMul2d(pooled, wv), contextMask) as tf.Tensor2D; // [128, 128], one 32×32 block per head
        const mixing = matMul2d(context, wOut); // [128, C_out]
        const queries = tf.reshape(tf.softmax(tf.reshape(matMul2d(xi, wq), [n, this.heads, this.headDim])), [n, hidden]) as tf.Tensor2D;
        return matMul2d(queries, mixing); // [N, C_out]
      });
      const y = tf.add(concatRows(outputs), this.outConv.bias!);
      return this.outNorm.forward(tf.reshape(y, [b, h, w, c]) as tf.Tensor4D);
    });
  }
}

const masks = new Map<string, Float32Array>();

/** `scale` on the heads' diagonal blocks of a [heads·size]² matrix, 0 elsewhere. */
function blockDiagonal(heads: number, size: number, scale: number): Float32Array {
  const key = `${heads}:${size}:${scale}`;
  let m = masks.get(key);
  if (!m) {
    const dim = heads * size;
    m = new Float32Array(dim * dim);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) if (Math.floor(i / size) === Math.floor(j / size)) m[i * dim + j] = scale;
    if (masks.size > 64) masks.clear();
    masks.set(key, m);
  }
  return m;
}
