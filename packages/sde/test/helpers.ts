import path from 'node:path';
import { readSafetensors, type TensorDict } from '@srdiff/core';

export { nhwc, nchwValues, relError, randomImage } from '@srdiff/core/testing';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const SDE_DIR = path.join(FIXTURES, 'sde');

export async function loadTensors(file: string): Promise<TensorDict> {
  return (await readSafetensors(path.join(FIXTURES, file))).tensors;
}
