import type { OnnxGraphBuilder } from '@srdiff/core';
import type { IRSDE } from '../sde/ir-sde';
import { resolveTimesteps } from '../sde/timesteps';

/** Names of the per-sample coefficient inputs of {@link emitMatchingLoss}. */
export const MATCHING_LOSS_IO = {
  theta: 'sde.theta',
  sigmaSq: 'sde.sigma_sq',
  sigmaBar: 'sde.sigma_bar',
  dt: 'sde.dt',
} as const;

export interface MatchingLossGraphOptions {
  /** `train.loss_type`: L1 (the original) or L2. */
  type: 'l1' | 'l2';
  /** `train.weight`, multiplying the mean. */
  weight: number;
  batch: number | string;
}

/**
 * The original's training loss (`DenoisingModel.optimize_parameters`) as ONNX ops on NCHW tensors,
 * in the order {@link IRSDE.matchingPair} evaluates it: score = −noise / σ̄_t;
 * expectation = x_t − (θ_t·(mu − x_t) − σ_t²·score)·dt; loss = weight · mean|expectation − optimum|
 * (or the squared difference). The optimum x_{t−1} depends on the data only and comes in as an
 * input; θ_t, σ_t², σ̄_t are per-sample inputs `[B]` (see {@link matchingLossCoefficients}) and dt
 * a `[1]` input, so one graph serves every SDE configuration. Returns the scalar loss tensor.
 */
export function emitMatchingLoss(g: OnnxGraphBuilder, noise: string, state: string, mu: string, optimum: string, options: MatchingLossGraphOptions): string {
  return g.scope('matching_loss', () => {
    const perSample = (name: string) => g.reshape(g.input(name, [options.batch]), [-1, 1, 1, 1]);
    const theta = perSample(MATCHING_LOSS_IO.theta);
    const sigmaSq = perSample(MATCHING_LOSS_IO.sigmaSq);
    const sigmaBar = perSample(MATCHING_LOSS_IO.sigmaBar);
    const dt = g.input(MATCHING_LOSS_IO.dt, [1]);
    const score = g.div(g.op('Neg', [noise]), sigmaBar);
    const pull = g.mul(theta, g.sub(mu, state));
    const expectation = g.sub(state, g.mul(g.sub(pull, g.mul(sigmaSq, score)), dt));
    const diff = g.sub(expectation, optimum);
    const perElement = options.type === 'l1' ? g.op('Abs', [diff]) : g.mul(diff, diff);
    const mean = g.reduceMean(perElement, [0, 1, 2, 3], false);
    return options.weight === 1 ? mean : g.mul(mean, g.constFloat(options.weight));
  });
}

/** The per-sample inputs of {@link emitMatchingLoss} for timesteps `t` (one per batch element). */
export function matchingLossCoefficients(sde: IRSDE, timesteps: readonly number[]): Record<string, Float32Array> {
  const steps = resolveTimesteps([...timesteps], sde.steps, timesteps.length, 'matchingLossCoefficients') as number[];
  const pick = (table: Float64Array) => Float32Array.from(steps, (t) => table[t]!);
  const c = sde.coefficients;
  return {
    [MATCHING_LOSS_IO.theta]: pick(c.theta),
    [MATCHING_LOSS_IO.sigmaSq]: pick(c.sigmaSq),
    [MATCHING_LOSS_IO.sigmaBar]: pick(c.sigmaBar),
    [MATCHING_LOSS_IO.dt]: Float32Array.of(sde.dt),
  };
}
