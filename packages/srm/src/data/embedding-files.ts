import fs from 'node:fs';
import path from 'node:path';
import { embeddingStem, isEmbeddingFileName, readEmbeddingTensor } from '@srdiff/core';

/**
 * One embedding per file: `.npy` (what `srdiff extract` writes to `LQCLS/`, `GTCLS/`, and what
 * `refine` writes) or the original's torch `.pt` (`sr/getCLS.py`), float data of shape `[D]` or
 * `[1, D]` (the original's `.pt` files hold `[1, D]` and its loader squeezes them). Non-float
 * dtypes are refused by core's `readEmbeddingTensor`, naming the file.
 */
export const EMBEDDING_EXTENSION = '.npy';

/**
 * The embedding files (`.npy`, `.pt`) of a folder (not recursive, hidden and temporary files
 * skipped), sorted by name. Two files for one name (`a.npy` and `a.pt`) are an error naming both.
 */
export async function listEmbeddingFiles(dir: string): Promise<string[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`@srdiff/srm: cannot read embedding folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const files = entries
    .filter((e) => e.isFile() && isEmbeddingFileName(e.name))
    .map((e) => e.name)
    .sort();
  if (!files.length) throw new Error(`@srdiff/srm: no .npy or .pt embeddings in ${dir} (run \`srdiff extract\` first)`);
  const byStem = new Map<string, string>();
  for (const f of files) {
    const other = byStem.get(embeddingStem(f));
    if (other) throw new Error(`@srdiff/srm: ${path.join(dir, other)} and ${path.join(dir, f)} are two embeddings of one image; keep one`);
    byStem.set(embeddingStem(f), f);
  }
  return files;
}

export interface EmbeddingFile {
  /** The vector (float32). */
  data: Float32Array;
  /** Its shape in the file (`[D]` or `[1, D]`), kept so refined outputs are written alike. */
  shape: number[];
}

/**
 * Reads one embedding; `expectedDim` (when known) is checked. Errors name the file, the shape found
 * and the width expected.
 */
export async function readEmbeddingFile(file: string, expectedDim?: number): Promise<EmbeddingFile> {
  const t = await readEmbeddingTensor(file);
  const width = t.shape[t.shape.length - 1];
  if (!t.shape.length || width === undefined || t.shape.slice(0, -1).some((n) => n !== 1)) {
    throw new Error(`${file}: expected one embedding of shape [D] or [1, D], got shape [${t.shape.join(', ')}]`);
  }
  if (expectedDim !== undefined && width !== expectedDim) {
    throw new Error(`${file}: embedding is ${width} wide, expected ${expectedDim} (all embeddings must come from the same VLM, and match the SRM's inputDim)`);
  }
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i]!)) throw new Error(`${file}: value ${i} is ${t.data[i]} (embeddings must be finite)`);
  }
  return { data: t.data, shape: t.shape };
}
