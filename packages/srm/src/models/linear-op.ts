import { tf } from '@srdiff/core';

/**
 * `y = x·Wᵀ + b` for a PyTorch-layout weight `[out, in]`, with a hand-written gradient.
 *
 * Why not core's `Linear.forward`: on the tfjs `wasm` backend any matMul with a transposed operand
 * (`matMul(a, b, false, true)` in the forward pass, `matMul(dy, x, true, false)` for dW in tfjs's own
 * gradient) is 10–20× slower than a plain one (measured 1.16 s vs 0.05 s for 256×1024·1024×1024). Here
 * every product is a plain matMul of explicitly transposed operands:
 * y = x·transpose(W), dx = dy·W, dW = transpose(dy)·x, db = Σ_rows dy. The SRM's training step is
 * nothing but such products, so this is where its speed comes from.
 */
const linearWithBias = tf.customGrad((x, w, b, save) => {
  const input = x as tf.Tensor2D;
  const weight = w as tf.Tensor2D;
  (save as tf.GradSaveFunc)([input, weight]);
  return {
    value: tf.add(tf.matMul(input, tf.transpose(weight)), b as tf.Tensor1D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, ws), tf.matMul(tf.transpose(g), xs), tf.sum(g, 0)];
    },
  };
});

const linearWithoutBias = tf.customGrad((x, w, save) => {
  const input = x as tf.Tensor2D;
  const weight = w as tf.Tensor2D;
  (save as tf.GradSaveFunc)([input, weight]);
  return {
    value: tf.matMul(input, tf.transpose(weight)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, ws), tf.matMul(tf.transpose(g), xs)];
    },
  };
});

/**
 * Applies a linear map over the last axis of `x` (any rank ≥ 2 is flattened to rows and restored).
 * `weight` is `[out, in]` (PyTorch layout), `bias` `[out]`.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const [outFeatures, inFeatures] = weight.shape as [number, number];
  const inner = x.shape[x.rank - 1];
  if (inner !== inFeatures) throw new Error(`linear(${inFeatures} → ${outFeatures}): input's last axis is ${inner}, expected ${inFeatures}`);
  return tf.tidy(() => {
    const rows = x.rank === 2 ? x : tf.reshape(x, [-1, inFeatures]);
    const y = bias ? linearWithBias(rows, weight, bias) : linearWithoutBias(rows, weight);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), outFeatures]);
  });
}
