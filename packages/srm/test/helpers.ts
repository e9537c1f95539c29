import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensors, type TensorDict } from '@srdiff/core';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const SRM_FIXTURE = path.join(FIXTURES, 'srm');

export async function fixture(rel: string): Promise<TensorDict> {
  return (await readSafetensors(path.join(FIXTURES, rel))).tensors;
}

export function fixtureMeta(): any {
  return JSON.parse(fs.readFileSync(path.join(SRM_FIXTURE, 'meta.json'), 'utf8'));
}

export function tempDir(prefix = 'srm-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
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
