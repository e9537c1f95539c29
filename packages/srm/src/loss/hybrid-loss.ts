import { tf } from '@srdiff/core';

/** `nn.CosineEmbeddingLoss`'s guard on the squared norms (PyTorch's `EPSILON = 1e-12`). */
const COSINE_EPS = 1e-12;

/** The original `HybridLoss(alpha=0.7)` of `sr/train.py`. */
export const HYBRID_LOSS_ALPHA = 0.7;

function assertPair(where: string, pred: tf.Tensor, target: tf.Tensor): void {
  if (pred.rank !== 2 || target.rank !== 2 || pred.shape[0] !== target.shape[0] || pred.shape[1] !== target.shape[1]) {
    throw new Error(`${where}: pred and target must both be [batch, dim] of the same shape, got [${pred.shape.join(', ')}] and [${target.shape.join(', ')}]`);
  }
}

/**
 * Row-wise cosine similarity of two `[batch, dim]` tensors as `nn.CosineEmbeddingLoss` computes it:
 * `Σab / sqrt((Σa² + 1e-12)·(Σb² + 1e-12))` (so a zero row gives 0, not NaN).
 */
export function rowCosineSimilarity(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  assertPair('rowCosineSimilarity', a, b);
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(a, b), -1);
    const norms = tf.mul(tf.add(tf.sum(tf.square(a), -1), COSINE_EPS), tf.add(tf.sum(tf.square(b), -1), COSINE_EPS));
    return tf.div(dot, tf.sqrt(norms)) as tf.Tensor1D;
  });
}

/**
 * SR-Diff's SRM loss: `alpha · L1(pred, target) + (1 - alpha) · CosineEmbeddingLoss(pred, target, 1)`,
 * i.e. α · mean|pred - target| (over every element) + (1 - α) · mean over rows of (1 - cos).
 */
export function hybridLoss(pred: tf.Tensor2D, target: tf.Tensor2D, alpha = HYBRID_LOSS_ALPHA): tf.Scalar {
  assertPair('hybridLoss', pred, target);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`hybridLoss: alpha must be in [0, 1], got ${alpha}`);
  return tf.tidy(() => {
    const l1 = tf.mean(tf.abs(tf.sub(pred, target)));
    const cosine = tf.mean(tf.sub(1, rowCosineSimilarity(pred, target)));
    return tf.add(tf.mul(l1, alpha), tf.mul(cosine, 1 - alpha)) as tf.Scalar;
  });
}
