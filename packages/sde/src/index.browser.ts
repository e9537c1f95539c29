/**
 * @srdiff/sde in a browser (the `browser` condition of its `exports`): the Node entry without the
 * reference-folder check (`verifySdeReference`, which reads files).
 *
 * @srdiff/sde — the mean-reverting SDE of IR-SDE as SR-Diff uses it: schedules, closed forms,
 * training targets, and the posterior / SDE / ODE samplers over an engine-agnostic denoiser.
 */
export { IRSDE, type RandomStates, type MatchingPair } from './sde/ir-sde';
export { IRSDE_DEFAULTS, type IRSDEOptions } from './sde/options';
export type { StepCoefficients } from './sde/coefficients';
export type { Timesteps } from './sde/timesteps';
export { SCHEDULES, type Schedule } from './schedule/theta-schedules';
export type { TablePrecision } from './schedule/precision';
export { computeTables, type SdeTables } from './schedule/tables';
export { toyDenoiser, type Denoiser, type ToyDenoiserCoefficients } from './sampling/denoiser';
export { SeededNoise, InjectedNoise, type NoiseSource } from './sampling/noise';
export { SAMPLER_METHODS, type SamplerMethod, type SampleOptions, type SampleResult } from './sampling/sampler';
export { SamplingAbortedError } from './sampling/abort';
export { restoreImage, TILE_SEED_STRIDE, type RestoreImageOptions, type RestoreProgress } from './sampling/restore-image';
export { emitMatchingLoss, matchingLossCoefficients, MATCHING_LOSS_IO, type MatchingLossGraphOptions } from './onnx/matching-loss';
