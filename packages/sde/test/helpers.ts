import path from 'node:path';
import { readSafetensors, tf, type HostTensor, type TensorDict } from '@srdiff/core';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const SDE_DIR = path.join(FIXTURES, 'sde');

export async function loadTensors(file: string): Promise<TensorDict> {
  return (await readSafetensors(path.join(FIXTURES, file))).tensors;
}

/** A reference NCHW tensor as NHWC. */
export function nhwc(host: HostTensor): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(host.data, host.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** NHWC tensor values in NCHW order (rank 4, or rank 5 with a leading step axis). */
export function nchwValues(x: tf.Tensor): Float32Array {
  return tf.tidy(() => tf.transpose(x, x.rank === 5 ? [0, 1, 4, 2, 3] : [0, 3, 1, 2]).dataSync() as Float32Array);
}

/** The reference README's `rel` error: max|got - ref| / max|ref|. */
export function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(got.length).toBe(ref.length);
  let d = 0;
  let r = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - ref[i]!));
    r = Math.max(r, Math.abs(ref[i]!));
  }
  return d / r;
}

export function randomImage(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.randomUniform(shape, 0, 1, 'float32', seed);
}
