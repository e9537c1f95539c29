import fs from 'node:fs';
import path from 'node:path';
import { embeddingStem, findEmbeddingFile, mapLimit, serializeNpy, tf, writeFileAtomic, type HostTensor } from '@srdiff/core';
import { REFINE_DEFAULTS, resolveBatchSize } from './config';
import { EMBEDDING_EXTENSION, listEmbeddingFiles, readEmbeddingFile } from './data/embedding-files';
import type { SemanticRefinementModule } from './models/semantic-refinement-module';

export interface RefineOptions {
  /** Embeddings per forward pass (default 1024). */
  batchSize?: number;
}

/**
 * Refines a batch of VLM embeddings with a (frozen) SRM — no gradients are recorded.
 * - `tf.Tensor2D [N, D]` → `tf.Tensor2D [N, D]` (caller disposes);
 * - `HostTensor` of shape `[N, D]` → `HostTensor`;
 * - `Float32Array[]` (one vector each) → `Float32Array[]`.
 * Width mismatches are errors naming the expected width.
 */
export function refine(model: SemanticRefinementModule, embeddings: tf.Tensor2D, options?: RefineOptions): tf.Tensor2D;
export function refine(model: SemanticRefinementModule, embeddings: HostTensor, options?: RefineOptions): HostTensor;
export function refine(model: SemanticRefinementModule, embeddings: readonly Float32Array[], options?: RefineOptions): Float32Array[];
export function refine(
  model: SemanticRefinementModule,
  embeddings: tf.Tensor2D | HostTensor | readonly Float32Array[],
  options: RefineOptions = {},
): tf.Tensor2D | HostTensor | Float32Array[] {
  const batchSize = resolveBatchSize('refine', options.batchSize, REFINE_DEFAULTS.batchSize);
  const D = model.inputDim;
  if (embeddings instanceof tf.Tensor) return model.forward(embeddings);
  if (Array.isArray(embeddings)) {
    const rows = embeddings as readonly Float32Array[];
    rows.forEach((r, i) => {
      if (r.length !== D) throw new Error(`refine: embedding ${i} is ${r.length} wide, the SRM expects ${D}`);
    });
    const flat = new Float32Array(rows.length * D);
    rows.forEach((r, i) => flat.set(r, i * D));
    const out = refineRows(model, flat, rows.length, batchSize);
    return rows.map((_, i) => out.slice(i * D, (i + 1) * D));
  }
  const host = embeddings as HostTensor;
  if (host.shape.length !== 2 || host.shape[1] !== D || host.data.length !== host.shape[0]! * D) {
    throw new Error(`refine: expected a [N, ${D}] tensor, got shape [${host.shape.join(', ')}]`);
  }
  return { shape: [...host.shape], data: refineRows(model, host.data, host.shape[0]!, batchSize) };
}

function refineRows(model: SemanticRefinementModule, flat: Float32Array, count: number, batchSize: number): Float32Array {
  const D = model.inputDim;
  const out = new Float32Array(count * D);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const y = tf.tidy(() => model.forward(tf.tensor2d(flat.subarray(start * D, (start + n) * D), [n, D])));
    out.set(y.dataSync() as Float32Array, start * D);
    y.dispose();
  }
  return out;
}

export interface RefineFolderOptions extends RefineOptions {
  /** Keep `.npy` files already in `outDir` (resume an interrupted run). Default false: recompute all. */
  skipExisting?: boolean;
  onProgress?: (progress: { done: number; total: number }) => void;
  signal?: AbortSignal;
}

export interface RefineFolderResult {
  outDir: string;
  total: number;
  written: number;
  skipped: number;
}

/**
 * Writes the SRM's refinement of every embedding in `lqClsDir` (`LQCLS/*.npy`, or the original's
 * `*.pt`) to `outDir/<same basename>.npy` — the original's `RestoreCLS/`, the context the diffusion model is
 * conditioned on. Each file keeps its input's shape (`[D]` or `[1, D]`), is float32 and is written
 * atomically, so an interrupted run leaves only complete files (`skipExisting` then resumes).
 */
export async function refineFolder(lqClsDir: string, outDir: string, model: SemanticRefinementModule, options: RefineFolderOptions = {}): Promise<RefineFolderResult> {
  const batchSize = resolveBatchSize('refineFolder', options.batchSize, REFINE_DEFAULTS.batchSize);
  if (path.resolve(lqClsDir) === path.resolve(outDir)) throw new Error(`refineFolder: outDir must differ from the input folder ${lqClsDir}`);
  const names = await listEmbeddingFiles(lqClsDir);
  await fs.promises.mkdir(outDir, { recursive: true });
  // Inputs may be the original's .pt files; outputs are always .npy. An output already there in
  // either form counts as done when resuming, and a .pt one is never overwritten or duplicated.
  const outputOf = (n: string) => `${embeddingStem(n)}${EMBEDDING_EXTENSION}`;
  const existing = (n: string) => findEmbeddingFile(outDir, embeddingStem(n));
  const todo = options.skipExisting ? names.filter((n) => !existing(n)) : names;
  if (!options.skipExisting) {
    const original = names.map(existing).find((f) => f !== undefined && !f.endsWith(EMBEDDING_EXTENSION));
    if (original) throw new Error(`refineFolder: ${original} already exists (a .pt embedding, e.g. the original code's); refining would write a second file beside it. Move the .pt files away or pass skipExisting`);
  }
  const total = names.length;
  let done = total - todo.length;
  options.onProgress?.({ done, total });
  for (let start = 0; start < todo.length; start += batchSize) {
    if (options.signal?.aborted) {
      const reason = options.signal.reason;
      throw reason instanceof Error ? reason : new Error(`refineFolder: aborted after ${done} of ${total} files`);
    }
    const batch = todo.slice(start, start + batchSize);
    const inputs = await mapLimit(batch, 32, (n) => readEmbeddingFile(path.join(lqClsDir, n), model.inputDim));
    const refined = refine(model, inputs.map((e) => e.data));
    await mapLimit(batch, 16, (n, i) => writeFileAtomic(path.join(outDir, outputOf(n)), serializeNpy({ shape: inputs[i]!.shape, data: refined[i]! })));
    done += batch.length;
    options.onProgress?.({ done, total });
  }
  return { outDir, total, written: todo.length, skipped: total - todo.length };
}
