import { tf } from '@srdiff/core';

/**
 * The original's `SinusoidalPosEmb(dim)` (module_util.py): with half = dim/2 and
 * f_i = exp(-i·ln(10000)/(half - 1)), emb(t) = [sin(t·f), cos(t·f)] — sine first. `time` `[B]` → `[B, dim]`.
 */
export function sinusoidalPosEmb(time: tf.Tensor1D, dim: number): tf.Tensor2D {
  const half = Math.floor(dim / 2);
  return tf.tidy(() => {
    const angles = tf.mul(tf.reshape(time, [-1, 1]), tf.reshape(frequencies(half), [1, half]));
    return tf.concat([tf.sin(angles), tf.cos(angles)], 1) as tf.Tensor2D;
  });
}

const cache = new Map<number, Float32Array>();

/** f_i computed as PyTorch does: float32 `arange(half) * -step` (step a double rounded to float32), then exp in float32. */
function frequencies(half: number): tf.Tensor1D {
  let f = cache.get(half);
  if (!f) {
    const step = Math.fround(-Math.log(10000) / (half - 1));
    f = Float32Array.from({ length: half }, (_, i) => Math.exp(Math.fround(i * step)));
    cache.set(half, f);
  }
  return tf.tensor1d(f);
}
