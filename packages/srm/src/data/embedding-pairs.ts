import path from 'node:path';
import { Rng } from '@srdiff/core';
import { embeddingStem, mapLimit } from '@srdiff/core';
import { listEmbeddingFiles, readEmbeddingFile } from './embedding-files';

/**
 * The SRM's training data: `(LQ, GT)` embedding pairs held as two row-major `[count, dim]` float32
 * matrices (row i of `lq` belongs with row i of `gt`, both named `names[i]`).
 */
export interface EmbeddingPairs {
  readonly names: readonly string[];
  readonly dim: number;
  readonly count: number;
  readonly lq: Float32Array;
  readonly gt: Float32Array;
}

/**
 * Builds pairs from vectors in memory (`lq[i]` with `gt[i]`); checks that the counts match and that
 * every vector has the same width.
 */
export function createEmbeddingPairs(lq: readonly ArrayLike<number>[], gt: readonly ArrayLike<number>[], names?: readonly string[]): EmbeddingPairs {
  if (lq.length !== gt.length) throw new Error(`createEmbeddingPairs: ${lq.length} LQ embeddings but ${gt.length} GT embeddings`);
  if (!lq.length) throw new Error('createEmbeddingPairs: no embeddings');
  if (names && names.length !== lq.length) throw new Error(`createEmbeddingPairs: ${names.length} names for ${lq.length} pairs`);
  const dim = lq[0]!.length;
  const pack = (rows: readonly ArrayLike<number>[], which: string) => {
    const out = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => {
      if (r.length !== dim) throw new Error(`createEmbeddingPairs: ${which}[${i}] is ${r.length} wide, expected ${dim} (the width of lq[0])`);
      out.set(r, i * dim);
    });
    return out;
  };
  return { names: names ? [...names] : lq.map((_, i) => String(i)), dim, count: lq.length, lq: pack(lq, 'lq'), gt: pack(gt, 'gt') };
}

export interface ReadEmbeddingPairsOptions {
  /** Required width; by default the width of the first file, which every other file must share. */
  inputDim?: number;
  /** Files read concurrently (default 32). */
  concurrency?: number;
  onProgress?: (progress: { done: number; total: number }) => void;
  signal?: AbortSignal;
}

/**
 * Reads `(LQ, GT)` pairs from two folders of embeddings (`.npy` or the original's `.pt`) matched by
 * name (`LQCLS/0001.npy` with `GTCLS/0001.npy`, or `0001.pt`) — not by sort order, as the original's loader does. A file
 * without a partner, an empty folder, a non-float file or a width mismatch is an error naming the file.
 */
export async function readEmbeddingPairs(lqDir: string, gtDir: string, options: ReadEmbeddingPairsOptions = {}): Promise<EmbeddingPairs> {
  const [lqFiles, gtFiles] = await Promise.all([listEmbeddingFiles(lqDir), listEmbeddingFiles(gtDir)]);
  // Matched by name without extension: LQCLS/0001.pt pairs with GTCLS/0001.npy.
  const gtByStem = new Map(gtFiles.map((f) => [embeddingStem(f), f]));
  const lqStems = new Set(lqFiles.map(embeddingStem));
  const lonelyLq = lqFiles.filter((f) => !gtByStem.has(embeddingStem(f)));
  const lonelyGt = gtFiles.filter((f) => !lqStems.has(embeddingStem(f)));
  if (lonelyLq.length || lonelyGt.length) {
    const lines = [
      ...lonelyLq.slice(0, 5).map((f) => `${path.join(lqDir, f)} has no partner ${path.join(gtDir, `${embeddingStem(f)}.npy`)} (or .pt)`),
      ...lonelyGt.slice(0, 5).map((f) => `${path.join(gtDir, f)} has no partner ${path.join(lqDir, `${embeddingStem(f)}.npy`)} (or .pt)`),
    ];
    const more = lonelyLq.length + lonelyGt.length - lines.length;
    throw new Error(`@srdiff/srm: unmatched embeddings (pairs are matched by basename):\n  ${lines.join('\n  ')}${more > 0 ? `\n  … and ${more} more` : ''}`);
  }
  const total = lqFiles.length;
  const first = await readEmbeddingFile(path.join(lqDir, lqFiles[0]!), options.inputDim);
  const dim = first.data.length;
  const lq = new Float32Array(total * dim);
  const gt = new Float32Array(total * dim);
  let done = 0;
  await mapLimit(lqFiles, options.concurrency ?? 32, async (name, i) => {
    if (options.signal?.aborted) throw abortError(options.signal);
    const [a, b] = await Promise.all([readEmbeddingFile(path.join(lqDir, name), dim), readEmbeddingFile(path.join(gtDir, gtByStem.get(embeddingStem(name))!), dim)]);
    lq.set(a.data, i * dim);
    gt.set(b.data, i * dim);
    options.onProgress?.({ done: ++done, total });
  });
  return { names: lqFiles.map(embeddingStem), dim, count: total, lq, gt };
}

/** The pairs at `indices`, in that order. */
export function selectPairs(pairs: EmbeddingPairs, indices: readonly number[]): EmbeddingPairs {
  const { dim } = pairs;
  const lq = new Float32Array(indices.length * dim);
  const gt = new Float32Array(indices.length * dim);
  indices.forEach((src, i) => {
    if (!(src >= 0 && src < pairs.count)) throw new Error(`selectPairs: index ${src} out of range [0, ${pairs.count})`);
    lq.set(pairs.lq.subarray(src * dim, (src + 1) * dim), i * dim);
    gt.set(pairs.gt.subarray(src * dim, (src + 1) * dim), i * dim);
  });
  return { names: indices.map((i) => pairs.names[i]!), dim, count: indices.length, lq, gt };
}

/**
 * Holds out `round(count · valFraction)` pairs (at least 1 when the fraction is > 0 and there are at
 * least 2 pairs) chosen by a generator seeded with `seed`; the rest, in their original order, train.
 */
export function splitEmbeddingPairs(pairs: EmbeddingPairs, valFraction: number, seed: number): { train: EmbeddingPairs; val?: EmbeddingPairs } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`splitEmbeddingPairs: valFraction must be in [0, 1), got ${valFraction}`);
  const nVal = valFraction > 0 && pairs.count >= 2 ? Math.min(pairs.count - 1, Math.max(1, Math.round(pairs.count * valFraction))) : 0;
  if (!nVal) return { train: pairs };
  const order = new Rng(seed).permutation(pairs.count);
  const valIdx = order.slice(0, nVal).sort((a, b) => a - b);
  const held = new Set(valIdx);
  const trainIdx = Array.from({ length: pairs.count }, (_, i) => i).filter((i) => !held.has(i));
  return { train: selectPairs(pairs, trainIdx), val: selectPairs(pairs, valIdx) };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('@srdiff/srm: reading embeddings aborted');
}
