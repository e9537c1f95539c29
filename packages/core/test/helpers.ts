import path from 'node:path';
import { readSafetensors, type TensorDict } from '../src';

export const FIXTURES = path.join(__dirname, 'fixtures');

export async function fixture(rel: string): Promise<TensorDict> {
  return (await readSafetensors(path.join(FIXTURES, rel))).tensors;
}

export { relError, absError } from '../src/testing';
