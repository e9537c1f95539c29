import { tf, valueAndGrads, type NamedGradients } from '@srdiff/core';
import type { IRSDE } from '@srdiff/sde';
import type { ConditionalUNet } from '@srdiff/unet';

/** How the matching loss is formed (`train.loss_type`, `train.weight`). */
export interface MatchingLossSettings {
  type: 'l1' | 'l2';
  weight: number;
}

/** Images of one batch (or one shard of it) with their drawn timesteps and noisy states x_t. */
export interface DiffusionBatch {
  lq: tf.Tensor4D;
  gt: tf.Tensor4D;
  states: tf.Tensor4D;
  timesteps: number[];
  /** The semantic embedding guiding the UNet (absent for networks without image context). */
  embedding?: tf.Tensor2D;
}

/**
 * The original's `optimize_parameters` before the optimizer step: the network predicts the noise
 * of x_t given the LQ image and the embedding; the loss compares the reverse-SDE mean with that
 * score to the optimal reverse step (L1, or L2 with `loss_type: l2`), times `weight`. The loss is a
 * mean over every element, so a batch split into shards gives the batch's loss and gradients as
 * the shards' results weighted by their sizes (the network has no cross-sample layer).
 */
export function matchingLossGradients(
  model: ConditionalUNet, sde: IRSDE, batch: DiffusionBatch, settings: MatchingLossSettings,
): { loss: number; grads: NamedGradients } {
  const { lq, gt, states, timesteps, embedding } = batch;
  const { value, grads } = valueAndGrads(model, () => {
    const noise = model.forward(states, lq, timesteps, { imageContext: embedding });
    const loss = settings.type === 'l1'
      ? sde.matchingLoss(noise, states, gt, lq, timesteps)
      : tf.tidy(() => {
        const { expectation, optimum } = sde.matchingPair(noise, states, gt, lq, timesteps);
        return tf.mean(tf.squaredDifference(expectation, optimum)) as tf.Scalar;
      });
    return tf.mul(loss, settings.weight) as tf.Scalar;
  });
  const loss = value.dataSync()[0]!;
  value.dispose();
  return { loss, grads };
}

/**
 * The settings of a shard holding `share` of a batch: its mean is weighted by the share, so the
 * shards' losses and gradients add up to the batch's.
 */
export function shareOf(settings: MatchingLossSettings, share: number): MatchingLossSettings {
  return { ...settings, weight: settings.weight * share };
}
