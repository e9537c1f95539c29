import { tf, type HostTensor } from '@srdiff/core';

/** A reference NCHW host tensor (PyTorch's layout) as an NHWC tfjs tensor (ours). */
export function nhwc(host: HostTensor): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(host.data, host.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** An NHWC tensor's values in NCHW order (rank 4, or rank 5 with a leading step axis), to compare with a reference. */
export function nchwValues(x: tf.Tensor): Float32Array {
  return tf.tidy(() => tf.transpose(x, x.rank === 5 ? [0, 1, 4, 2, 3] : [0, 3, 1, 2]).dataSync() as Float32Array);
}

/** A deterministic NHWC image in [0, 1). */
export function randomImage(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.randomUniform(shape, 0, 1, 'float32', seed);
}
