import * as tf from '@tensorflow/tfjs-core';

/*
 * Layer normalisation over the last axis with a hand-written gradient. tfjs differentiates the
 * composed forward (moments, subtract, rsqrt, scale) op by op: about 35 kernels and as many passes
 * over the activation per normalisation; the closed form below takes 21. The arithmetic is
 * PyTorch's: biased variance, (x - mean)·rsqrt(var + eps)·weight (+ bias).
 */

/** x̂ = (x - mean)·rsqrt(var + eps) over the last axis, and rsqrt(var + eps). */
function standardize(x: tf.Tensor, eps: number): { xhat: tf.Tensor; rstd: tf.Tensor } {
  const { mean, variance } = tf.moments(x, -1, true);
  const rstd = tf.rsqrt(tf.add(variance, eps));
  return { xhat: tf.mul(tf.sub(x, mean), rstd), rstd };
}

/** dL/dx and dL/dw of y = x̂·w: dx = rstd·(dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)), means over the last axis. */
function gradients(dy: tf.Tensor, xhat: tf.Tensor, rstd: tf.Tensor, w: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const c = w.shape[0]!;
  const dxhat = tf.mul(dy, w);
  const dx = tf.mul(tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(xhat, tf.mean(tf.mul(dxhat, xhat), -1, true))), rstd);
  return [dx, tf.sum(tf.reshape(tf.mul(dy, xhat), [-1, c]), 0)];
}

/** One customGrad op per eps (the op's closure holds it), with and without a bias. */
const withBias = new Map<number, (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor>();
const withoutBias = new Map<number, (x: tf.Tensor, w: tf.Tensor) => tf.Tensor>();

function biasedOp(eps: number) {
  return tf.customGrad((x, w, b, save) => {
    const { xhat, rstd } = standardize(x as tf.Tensor, eps);
    (save as tf.GradSaveFunc)([xhat, rstd, w as tf.Tensor]);
    return {
      value: tf.add(tf.mul(xhat, w as tf.Tensor), b as tf.Tensor),
      gradFunc: (dy: tf.Tensor, [sx, sr, sw]: tf.Tensor[]) => [...gradients(dy, sx!, sr!, sw!), tf.sum(tf.reshape(dy, [-1, sw!.shape[0]!]), 0)],
    };
  }) as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;
}

function unbiasedOp(eps: number) {
  return tf.customGrad((x, w, save) => {
    const { xhat, rstd } = standardize(x as tf.Tensor, eps);
    (save as tf.GradSaveFunc)([xhat, rstd, w as tf.Tensor]);
    return {
      value: tf.mul(xhat, w as tf.Tensor),
      gradFunc: (dy: tf.Tensor, [sx, sr, sw]: tf.Tensor[]) => gradients(dy, sx!, sr!, sw!),
    };
  }) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
}

/** y = x̂·weight (+ bias), x̂ normalised over the last axis; weight and bias `[C]`. */
export function layerNormLastAxis<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor | undefined, eps: number): T {
  if (bias) {
    let op = withBias.get(eps);
    if (!op) withBias.set(eps, (op = biasedOp(eps)));
    return op(x, weight, bias) as T;
  }
  let op = withoutBias.get(eps);
  if (!op) withoutBias.set(eps, (op = unbiasedOp(eps)));
  return op(x, weight) as T;
}
