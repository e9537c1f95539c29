import fs from 'node:fs';
import path from 'node:path';
import { Rng, readSafetensors, serializeNpy, type TensorDict } from '@srdiff/core';
import { tempDir as coreTempDir } from '@srdiff/core/testing';

export { relError } from '@srdiff/core/testing';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const SRM_FIXTURE = path.join(FIXTURES, 'srm');

export async function fixture(rel: string): Promise<TensorDict> {
  return (await readSafetensors(path.join(FIXTURES, rel))).tensors;
}

export function fixtureMeta(): any {
  return JSON.parse(fs.readFileSync(path.join(SRM_FIXTURE, 'meta.json'), 'utf8'));
}

export function tempDir(prefix = 'srm-test-'): string {
  return coreTempDir(prefix);
}

/**
 * Synthetic embedding pairs: GT = A·LQ + b + noise·ε with a fixed random affine map (A = I + spread·R,
 * R Gaussian / sqrt(dim)), so GT is learnable from LQ but far from it in cosine terms.
 */
export function syntheticPairs(count: number, dim: number, options: { seed?: number; spread?: number; noise?: number; mapSeed?: number } = {}) {
  const { seed = 1, spread = 1.5, noise = 0.05, mapSeed = 99 } = options;
  const mapRng = new Rng(mapSeed);
  const A = new Float32Array(dim * dim);
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) A[i * dim + j] = (i === j ? 1 : 0) + (spread * mapRng.normal()) / Math.sqrt(dim);
  const b = mapRng.normalArray(dim).map((v) => 0.5 * v);
  const rng = new Rng(seed);
  const lq: Float32Array[] = [];
  const gt: Float32Array[] = [];
  for (let n = 0; n < count; n++) {
    const x = rng.normalArray(dim);
    const y = new Float32Array(dim);
    for (let i = 0; i < dim; i++) {
      let s = b[i]!;
      for (let j = 0; j < dim; j++) s += A[i * dim + j]! * x[j]!;
      y[i] = s + noise * rng.normal();
    }
    lq.push(x);
    gt.push(y);
  }
  return { lq, gt };
}

/** Writes `<dir>/<name>.npy` for each vector (shape `[D]`, or `[1, D]` with `rowShape`). */
export function writeEmbeddings(dir: string, vectors: Record<string, ArrayLike<number>>, rowShape = false): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, v] of Object.entries(vectors)) {
    const data = Float32Array.from(v);
    fs.writeFileSync(path.join(dir, `${name}.npy`), serializeNpy({ shape: rowShape ? [1, data.length] : [data.length], data }));
  }
}

/** A `.npy` of int32 values (not an embedding). */
export function intNpy(values: number[]): Uint8Array {
  let header = `{'descr': '<i4', 'fortran_order': False, 'shape': (${values.length},), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + 4 * values.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  values.forEach((v, i) => view.setInt32(10 + header.length + 4 * i, v, true));
  return out;
}
