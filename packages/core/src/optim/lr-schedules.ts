/**
 * Learning-rate schedules as pure functions of the optimizer step index k (0-based: the lr used by
 * the k-th update), so a resumed run recomputes the same value from its step counter.
 */
export type LrSchedule = (step: number) => number;

export interface WarmupCosineOptions {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  minLr?: number;
}

/**
 * The SRM's schedule (`get_custom_cosine_schedule_with_warmup` of the original `sr/train.py`):
 * linear warm-up from 0, then a half cosine from `baseLr` to `minLr` over `totalSteps - warmupSteps`.
 * Like the original it is **not clamped** after `totalSteps`: the cosine continues and the rate
 * rises again. Keep `totalSteps` ≥ the number of updates (the trainer does).
 */
export function warmupCosineSchedule({ baseLr, warmupSteps, totalSteps, minLr = 0 }: WarmupCosineOptions): LrSchedule {
  if (!(baseLr > 0)) throw new Error(`warmupCosineSchedule: baseLr must be > 0, got ${baseLr}`);
  return (k) => {
    if (k < warmupSteps) return baseLr * (k / Math.max(1, warmupSteps));
    const progress = (k - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    // The original multiplies base by a lambda ((base - min)·½(1 + cos πp) + min) / base; same order here.
    const lambda = ((baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress)) + minLr) / baseLr;
    return baseLr * lambda;
  };
}

export interface CosineAnnealingOptions {
  baseLr: number;
  tMax: number;
  etaMin?: number;
}

/** `torch.optim.lr_scheduler.CosineAnnealingLR` (closed form): eta_min + (base - eta_min)(1 + cos(π k / T_max))/2. */
export function cosineAnnealingSchedule({ baseLr, tMax, etaMin = 0 }: CosineAnnealingOptions): LrSchedule {
  if (!(tMax > 0)) throw new Error(`cosineAnnealingSchedule: tMax must be > 0, got ${tMax}`);
  return (k) => etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * k) / tMax))) / 2;
}

export interface MultiStepOptions {
  baseLr: number;
  milestones: number[];
  gamma?: number;
}

/** `MultiStepLR`: the rate is multiplied by `gamma` at each milestone step. */
export function multiStepSchedule({ baseLr, milestones, gamma = 0.1 }: MultiStepOptions): LrSchedule {
  const sorted = [...milestones].sort((a, b) => a - b);
  return (k) => baseLr * gamma ** sorted.filter((m) => m <= k).length;
}

/** A constant rate. */
export function constantSchedule(lr: number): LrSchedule {
  return () => lr;
}
