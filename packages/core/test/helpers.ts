import path from 'node:path';
import { readSafetensors, type TensorDict } from '../src';

export const FIXTURES = path.join(__dirname, 'fixtures');

export async function fixture(rel: string): Promise<TensorDict> {
  return (await readSafetensors(path.join(FIXTURES, rel))).tensors;
}

/** max|a-b| / max|b| — the reference sets' `rel` measure. */
export function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - ref[i]!));
    m = Math.max(m, Math.abs(ref[i]!));
  }
  return m === 0 ? d : d / m;
}

export function absError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(got[i]! - ref[i]!));
  return d;
}
