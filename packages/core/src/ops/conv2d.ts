import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link conv2d}, in PyTorch's terms. */
export interface Conv2dOptions {
  /** Stride (rows, cols); a number applies to both. Default 1. */
  stride?: number | [number, number];
  /** Zero padding added to each side (rows, cols), as PyTorch's `padding`. Default 0. */
  padding?: number | [number, number];
}

/**
 * 2-D convolution of NHWC `x` with a `[kh, kw, in, out]` filter, as PyTorch's `F.conv2d` (zero padding
 * on both sides, cross-correlation). Differentiable with respect to both inputs.
 *
 * PLACEHOLDER: plain tf.conv2d; the fast-gradient version (matrix-product gradients that run on wasm)
 * replaces this body.
 */
export function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, options: Conv2dOptions = {}): tf.Tensor4D {
  const [sh, sw] = pair(options.stride ?? 1);
  const [ph, pw] = pair(options.padding ?? 0);
  return tf.conv2d(x, filter, [sh, sw], [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
}

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}
