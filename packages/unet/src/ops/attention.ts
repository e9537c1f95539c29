import { tf } from '@srdiff/core';
import { batchMatMul, matMul2d } from './matmul';
import { concatRows, splitRows } from './split-rows';

/**
 * Largest score matrix (rows × columns) computed for several groups in one product on wasm: the
 * packed product does c× the useful work for c groups, so only small token counts are packed.
 */
const PACKED_LIMIT = 1 << 17;
const MASKED = -1e30;

/**
 * Scaled dot-product attention of G independent groups (batch × heads): softmax(q·kᵀ·scale)·v
 * with q `[G, N, d]`, k and v `[G, M, d]` → `[G, N, d]`.
 *
 * On wasm, small problems (the SpatialTransformer's few tokens) run as two products over chunks
 * of c groups with the scores between different groups masked out before the softmax (their
 * weights are exactly 0): c·N × c·M scores instead of c separate small products, whose per-call
 * cost (XNNPACK operator creation, tfjs bookkeeping) dominates at these sizes. Larger ones run one
 * product per group (ops/matmul.ts); other backends use their batched matMul.
 */
export function groupedAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [g, n, d] = q.shape;
    const m = k.shape[1];
    if (tf.getBackend() !== 'wasm') return tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale)), v) as tf.Tensor3D;
    const c = packedGroups(g, n, m);
    if (c > 1) {
      // Chunks of c groups: one masked product per chunk.
      const chunks = g / c;
      const [qs, ks, vs] = [q, k, v].map((t) => splitRows(tf.reshape(t, [g * t.shape[1], d]) as tf.Tensor2D, chunks));
      const outs = qs!.map((qc, i) => {
        const scores = tf.add(tf.mul(matMul2d(qc, tf.transpose(ks![i]!)), scale), groupMask(c, n, m));
        return matMul2d(tf.softmax(scores) as tf.Tensor2D, vs![i]!);
      });
      return tf.reshape(concatRows(outs), [g, n, d]) as tf.Tensor3D;
    }
    const weights = tf.softmax(tf.mul(batchMatMul(q, tf.transpose(k, [0, 2, 1])), scale)) as tf.Tensor3D;
    return batchMatMul(weights, v);
  });
}

/** The largest divisor c of g whose c·n × c·m score matrix fits the packing limit. */
function packedGroups(g: number, n: number, m: number): number {
  for (let c = g; c > 1; c--) if (g % c === 0 && c * n * c * m <= PACKED_LIMIT) return c;
  return 1;
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
