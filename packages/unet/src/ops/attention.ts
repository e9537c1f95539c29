import { tf } from '@srdiff/core';
import { batchMatMul, matMul2d } from './matmul';

/** Largest score matrix (rows × columns) computed for all groups in one product on wasm. */
const PACKED_LIMIT = 1 << 20;
const MASKED = -1e30;

/**
 * Scaled dot-product attention of G independent groups (batch × heads): softmax(q·kᵀ·scale)·v
 * with q `[G, N, d]`, k and v `[G, M, d]` → `[G, N, d]`.
 *
 * On wasm, small problems (the SpatialTransformer's few tokens) run as two products over all
 * groups at once with the scores between different groups masked out before the softmax
 * (their weights are exactly 0): G·N × G·M scores instead of G separate small products, whose
 * per-call cost (XNNPACK operator creation, tfjs bookkeeping) dominates at these sizes. Larger ones
 * run one product per group (ops/matmul.ts); other backends use their batched matMul.
 */
export function groupedAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [g, n, d] = q.shape;
    const m = k.shape[1];
    if (tf.getBackend() !== 'wasm') return tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale)), v) as tf.Tensor3D;
    if (g > 1 && g * n * g * m <= PACKED_LIMIT) {
      const scores = tf.add(tf.mul(matMul2d(tf.reshape(q, [g * n, d]), tf.transpose(tf.reshape(k, [g * m, d]))), scale), groupMask(g, n, m));
      return tf.reshape(matMul2d(tf.softmax(scores) as tf.Tensor2D, tf.reshape(v, [g * m, d])), [g, n, d]) as tf.Tensor3D;
    }
    const weights = tf.softmax(tf.mul(batchMatMul(q, tf.transpose(k, [0, 2, 1])), scale)) as tf.Tensor3D;
    return batchMatMul(weights, v);
  });
}

const masks = new Map<string, Float32Array>();

/** 0 on the G diagonal N×M blocks, a large negative number elsewhere. */
function groupMask(g: number, n: number, m: number): tf.Tensor2D {
  const key = `${g}:${n}:${m}`;
  let mask = masks.get(key);
  if (!mask) {
    mask = new Float32Array(g * n * g * m).fill(MASKED);
    for (let i = 0; i < g; i++) for (let r = 0; r < n; r++) mask.fill(0, (i * n + r) * g * m + i * m, (i * n + r) * g * m + (i + 1) * m);
    if (masks.size > 32) masks.clear();
    masks.set(key, mask);
  }
  return tf.tensor2d(mask, [g * n, g * m]);
}
