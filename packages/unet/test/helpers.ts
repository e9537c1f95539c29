import fs from 'node:fs';
import path from 'node:path';
import { readSafetensors, tf, type TensorDict } from '@srdiff/core';

export { nhwc, relError, randomImage as image } from '@srdiff/core/testing';

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

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
