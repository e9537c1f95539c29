import { tf } from '@srdiff/core';

/**
 * The network the samplers query: given the state x_t, the condition mu (the degraded image) and
 * the time t·sampleScale (a float, as the original passes it), predict the noise in x_t. NHWC
 * tensors. Engine-agnostic: a tfjs UNet or an ONNX Runtime session wrapped in a function both fit.
 * The sampler owns (and disposes) the returned tensor; a denoiser must not dispose its inputs.
 */
export type Denoiser = (xt: tf.Tensor4D, mu: tf.Tensor4D, t: number, context?: tf.Tensor) => Promise<tf.Tensor4D>;

/** Coefficients of {@link toyDenoiser}. */
export interface ToyDenoiserCoefficients {
  a: number;
  b: number;
}

/**
 * The reference's toy noise model, a stand-in for the UNet in tests and parity checks:
 * `a·(x - mu) + b·t` (defaults a = 0.1, b = 0.01, as in the PyTorch reference set's `sde/`).
 */
export function toyDenoiser({ a, b }: ToyDenoiserCoefficients = { a: 0.1, b: 0.01 }): Denoiser {
  return async (xt, mu, t) => tf.tidy(() => tf.add(tf.mul(tf.sub(xt, mu), a), b * t) as tf.Tensor4D);
}
