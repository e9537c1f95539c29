import { tf } from '@srdiff/core';
import { REFINE_DEFAULTS, resolveBatchSize } from '../config';
import type { EmbeddingPairs } from '../data/embedding-pairs';
import { HYBRID_LOSS_ALPHA, rowCosineSimilarity } from '../loss/hybrid-loss';
import type { SemanticRefinementModule } from '../models/semantic-refinement-module';

/** How well refinement works on a set of pairs. */
export interface SrmEvaluation {
  /** Pairs evaluated. */
  count: number;
  /** Mean cosine similarity of refined LQ vs GT embeddings. */
  cosineRefined: number;
  /** Mean cosine similarity of the raw LQ vs GT embeddings: the baseline refinement must beat. */
  cosineLq: number;
  /** Mean absolute difference, refined vs GT (the L1 term). */
  l1Refined: number;
  /** Mean absolute difference, raw LQ vs GT. */
  l1Lq: number;
  /** Hybrid loss over the whole set (α·l1Refined + (1-α)·(1 - cosineRefined)). */
  loss: number;
}

export interface EvaluateSrmOptions {
  batchSize?: number;
  alpha?: number;
}

/**
 * Runs the SRM over every pair (no gradients) and reports cosine similarity and L1 of refined vs GT
 * next to raw LQ vs GT — the numbers that say whether refinement helps. Sums are accumulated in
 * float64 over the whole set, so the result does not depend on the batch size.
 */
export function evaluateSrm(model: SemanticRefinementModule, pairs: EmbeddingPairs, options: EvaluateSrmOptions = {}): SrmEvaluation {
  const batchSize = resolveBatchSize('evaluateSrm', options.batchSize, REFINE_DEFAULTS.batchSize);
  const alpha = options.alpha ?? HYBRID_LOSS_ALPHA;
  if (pairs.dim !== model.inputDim) throw new Error(`evaluateSrm: embeddings are ${pairs.dim} wide, the SRM expects ${model.inputDim}`);
  const { dim, count } = pairs;
  const sums = { cosineRefined: 0, cosineLq: 0, l1Refined: 0, l1Lq: 0 };
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const stats = tf.tidy(() => {
      const lq = tf.tensor2d(pairs.lq.subarray(start * dim, (start + n) * dim), [n, dim]);
      const gt = tf.tensor2d(pairs.gt.subarray(start * dim, (start + n) * dim), [n, dim]);
      const refined = model.forward(lq);
      return tf.stack([
        tf.sum(rowCosineSimilarity(refined, gt)),
        tf.sum(rowCosineSimilarity(lq, gt)),
        tf.sum(tf.abs(tf.sub(refined, gt))),
        tf.sum(tf.abs(tf.sub(lq, gt))),
      ]);
    });
    const [cr, cl, lr, ll] = stats.dataSync();
    stats.dispose();
    sums.cosineRefined += cr!;
    sums.cosineLq += cl!;
    sums.l1Refined += lr!;
    sums.l1Lq += ll!;
  }
  const cosineRefined = sums.cosineRefined / count;
  const l1Refined = sums.l1Refined / (count * dim);
  return {
    count,
    cosineRefined,
    cosineLq: sums.cosineLq / count,
    l1Refined,
    l1Lq: sums.l1Lq / (count * dim),
    loss: alpha * l1Refined + (1 - alpha) * (1 - cosineRefined),
  };
}
