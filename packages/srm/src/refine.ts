import fs from 'node:fs';
import path from 'node:path';
import { embeddingStem, findEmbeddingFile, mapLimit, serializeNpy, writeFileAtomic } from '@srdiff/core';
import { REFINE_DEFAULTS, resolveBatchSize } from './config';
import { EMBEDDING_EXTENSION, listEmbeddingFiles, readEmbeddingFile } from './data/embedding-files';
import type { SemanticRefinementModule } from './models/semantic-refinement-module';
import { refine, type RefineOptions } from './refine-embeddings';

// Refining embeddings in memory is in refine-embeddings.ts (browsers load it too); folders here.
export { refine, type RefineOptions } from './refine-embeddings';

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
