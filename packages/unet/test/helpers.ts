import fs from 'node:fs';
import path from 'node:path';
import { readSafetensors, tf, type HostTensor, type TensorDict } from '@srdiff/core';

export const REFERENCE_DIR = path.join(__dirname, 'fixtures', 'unet');

export interface ReferenceMeta {
  constructor: Record<string, unknown> & { nf: number; context_dim: number };
  params: Array<[string, number[]]>;
  param_count: number;
}

export function referenceMeta(): ReferenceMeta {
  return JSON.parse(fs.readFileSync(path.join(REFERENCE_DIR, 'meta.json'), 'utf8')) as ReferenceMeta;
}

export async function referenceTensors(file: string): Promise<TensorDict> {
  return (await readSafetensors(path.join(REFERENCE_DIR, file))).tensors;
}

/** A reference NCHW tensor as NHWC. */
export function nhwc(t: HostTensor): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(t.data, t.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** max|a - b| / max|b|. */
export function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(got.length).toBe(ref.length);
  let d = 0;
  let r = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - ref[i]!));
    r = Math.max(r, Math.abs(ref[i]!));
  }
  return r === 0 ? d : d / r;
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Deterministic NHWC test image in [0, 1). */
export function image(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.randomUniform(shape, 0, 1, 'float32', seed);
}
