import { constantSchedule, cosineAnnealingSchedule, multiStepSchedule, type LrSchedule } from '@srdiff/core';
import type { TrainOptions } from '../options/train-options';

/**
 * The learning rate of update k (0-based) from `train.*`, as the original's schedulers:
 * `TrueCosineAnnealingLR` = torch CosineAnnealingLR(T_max = niter, eta_min), `MultiStepLR` (the
 * original's restart-free case), `Constant`; `warmup_iter` > 0 ramps linearly first.
 */
export function learningRateSchedule(train: TrainOptions['train']): LrSchedule {
  const base =
    train.lr_scheme === 'TrueCosineAnnealingLR'
      ? cosineAnnealingSchedule({ baseLr: train.lr_G, tMax: train.niter, etaMin: train.eta_min })
      : train.lr_scheme === 'MultiStepLR'
        ? multiStepSchedule({ baseLr: train.lr_G, milestones: train.lr_steps, gamma: train.lr_gamma })
        : constantSchedule(train.lr_G);
  const warmup = train.warmup_iter;
  return warmup > 0 ? (k) => (k < warmup ? base(k) * ((k + 1) / warmup) : base(k)) : base;
}
