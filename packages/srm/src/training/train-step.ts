import { clipGradNorm, disposeGradients, tf, valueAndGrads, type AdamW } from '@srdiff/core';
import { hybridLoss } from '../loss/hybrid-loss';
import type { SemanticRefinementModule } from '../models/semantic-refinement-module';

export interface SrmStepSettings {
  /** Learning rate of this step (from the schedule). */
  lr: number;
  /** Hybrid-loss weight of L1. */
  alpha: number;
  /** Global gradient-norm clip. */
  maxGradNorm: number;
}

export interface SrmStepResult {
  /** Hybrid loss of the batch before the update. */
  loss: number;
  /** Global L2 norm of the true gradients before clipping. */
  gradNorm: number;
  /** Factor the gradients were multiplied by (1 when the clip did not fire). */
  clipScale: number;
}

/**
 * One optimisation step of `sr/train.py` in float32: hybrid loss of `model(lq)` against `gt`, all
 * gradients, `clip_grad_norm_(…, maxGradNorm)`, one AdamW update with the given lr.
 *
 * Deliberate deviation: the original runs under CUDA autocast with a GradScaler and calls the clip
 * on the *scaled* gradients (no `scaler.unscale_`), so there the clip threshold is effectively
 * 1/scale in true units and nearly always fires. Here the clip acts on the true gradients.
 */
export function srmTrainStep(model: SemanticRefinementModule, optimizer: AdamW, lq: tf.Tensor2D, gt: tf.Tensor2D, settings: SrmStepSettings): SrmStepResult {
  const { value, grads } = valueAndGrads(model, () => hybridLoss(model.forward(lq), gt, settings.alpha));
  const loss = value.dataSync()[0]!;
  value.dispose();
  const clip = clipGradNorm(grads, settings.maxGradNorm);
  try {
    optimizer.update(clip.grads, settings.lr);
  } finally {
    disposeGradients(clip.grads);
  }
  return { loss, gradNorm: clip.totalNorm, clipScale: clip.scale };
}
