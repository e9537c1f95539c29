import { tf, type Rng } from '@srdiff/core';
import type { TablePrecision } from '../schedule/precision';
import { computeTables } from '../schedule/tables';
import type { Schedule } from '../schedule/theta-schedules';
import type { Denoiser } from '../sampling/denoiser';
import { drawNoise, toNoiseSource, type NoiseSource } from '../sampling/noise';
import { runSampler, type SampleOptions, type SampleResult } from '../sampling/sampler';
import { computeCoefficients, type StepCoefficients } from './coefficients';
import { resolveIRSDEOptions, type IRSDEOptions } from './options';
import { checkImage, checkSameShape } from './shapes';
import { coefficientTensor, resolveTimesteps, type Timesteps } from './timesteps';

/** Result of {@link IRSDE.randomStates}: the drawn timesteps and the noisy states x_t. */
export interface RandomStates {
  /** One integer timestep per batch element (1..T). */
  timesteps: number[];
  /** x_t ~ N(muBar(x0, mu, t), σ̄_t²), NHWC. */
  states: tf.Tensor4D;
}

/** The two sides of the original's matching loss. */
export interface MatchingPair {
  /** x_{t-1} predicted by the reverse-SDE mean with the network's score. */
  expectation: tf.Tensor4D;
  /** The optimal x_{t-1}: the posterior mean given the ground truth x0. */
  optimum: tf.Tensor4D;
}

/**
 * The mean-reverting SDE of IR-SDE, as SR-Diff uses it (original `ir/utils/sde_utils.py`, `IRSDE`):
 *
 *   dx = θ_t (mu - x) dt + σ_t dw,   σ_t² = 2·max_sigma²·θ_t,
 *
 * which carries a clean image x0 to a noisy version of the degraded image mu:
 * x_t | x0 ~ N(mu + (x0 - mu)·e^{-Θ_t dt}, max_sigma²·(1 - e^{-2Θ_t dt})). Timesteps run 1..T.
 *
 * Tensor arguments are NHWC images of one shape; the original's `self.mu` is passed explicitly,
 * just before `t` (`muBar(x0, mu, t)`, `reverseOptimumStep(xt, x0, mu, t)`, …). `t` is an integer
 * or one integer per batch element. Every method returns new tensors the caller owns.
 */
export class IRSDE {
  /** max_sigma as given (0–255 units when ≥ 1). */
  readonly maxSigmaArg: number;
  /** max_sigma in [0, 1] image units (the argument / 255 when it is ≥ 1). */
  readonly maxSigma: number;
  /** Training steps. */
  readonly T: number;
  /** Sampling steps; the tables have sampleT + 1 entries. */
  readonly sampleT: number;
  /** T / sampleT: the network receives t·sampleScale. */
  readonly sampleScale: number;
  readonly schedule: Schedule;
  readonly eps: number;
  readonly tablePrecision: TablePrecision;
  /** θ_t, t = 0..sampleT. */
  readonly thetas: Float64Array;
  /** σ_t = sqrt(2·max_sigma²·θ_t). */
  readonly sigmas: Float64Array;
  /** Θ_t = cumsum(θ)_t - θ_0. */
  readonly thetasCumsum: Float64Array;
  /** σ̄_t = max_sigma·sqrt(1 - e^{-2Θ_t dt}). */
  readonly sigmaBars: Float64Array;
  /** dt = -log(eps) / Θ_T. */
  readonly dt: number;
  /** Per-timestep scalars of the closed forms. */
  readonly coefficients: StepCoefficients;
  private readonly options: IRSDEOptions;

  constructor(options: IRSDEOptions) {
    const o = resolveIRSDEOptions(options);
    this.options = { ...options };
    this.maxSigmaArg = o.maxSigmaArg;
    this.maxSigma = o.maxSigma;
    this.T = o.T;
    this.sampleT = o.sampleT;
    this.sampleScale = o.sampleScale;
    this.schedule = o.schedule;
    this.eps = o.eps;
    this.tablePrecision = o.tablePrecision;
    // As in the original, the tables are built with the sampling steps (sample_T).
    const tables = computeTables(o.maxSigma, o.sampleT, o.schedule, o.eps, o.tablePrecision);
    this.thetas = tables.thetas;
    this.sigmas = tables.sigmas;
    this.thetasCumsum = tables.thetasCumsum;
    this.sigmaBars = tables.sigmaBars;
    this.dt = tables.dt;
    this.coefficients = computeCoefficients(tables, o.maxSigma, o.tablePrecision);
  }

  /** The same SDE sampled in `steps` steps (the original's `sample_T`). */
  withSampleSteps(steps: number): IRSDE {
    return new IRSDE({ ...this.options, sampleT: steps });
  }

  /** Number of valid timesteps (1..steps) of this object's tables. */
  get steps(): number {
    return this.sampleT;
  }

  /** The float time a denoiser receives at step t: t·sampleScale. */
  networkTime(t: number): number {
    return t * this.sampleScale;
  }

  // ---- scalar quantities -------------------------------------------------------------------

  theta(t: number): number {
    return this.scalar(this.coefficients.theta, t, 'theta');
  }

  sigma(t: number): number {
    return this.scalar(this.coefficients.sigma, t, 'sigma');
  }

  /** σ̄_t: std of x_t given x0 (in [0, 1] units). */
  sigmaBar(t: number): number {
    return this.scalar(this.coefficients.sigmaBar, t, 'sigmaBar');
  }

  /** The original's `weights(t)` = e^{-Θ_t dt}: how much of x0 - mu the mean of x_t keeps. */
  weight(t: number): number {
    return this.scalar(this.coefficients.meanWeight, t, 'weight');
  }

  /** Std of the posterior x_{t-1} | x_t, x0 (clamped at sqrt(1e-20·dt)·max_sigma; ~0 at t = 1). */
  reverseOptimumStd(t: number): number {
    return this.scalar(this.coefficients.posteriorStd, t, 'reverseOptimumStd');
  }

  // ---- closed forms --------------------------------------------------------------------------

  /** E[x_t | x0] = mu + (x0 - mu)·e^{-Θ_t dt}. */
  muBar(x0: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    const [tt] = this.prepare('muBar', { x0, mu }, t);
    return tf.tidy(() => this.muBarOf(x0, mu, tt));
  }

  /** Forward drift θ_t·(mu - x)·dt. */
  drift(x: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    const [tt] = this.prepare('drift', { x, mu }, t);
    return tf.tidy(() => tf.mul(tf.mul(this.coef('theta', tt), tf.sub(mu, x)), this.dt) as tf.Tensor4D);
  }

  /** Diffusion term σ_t·(z·sqrt(dt)) for a standard-normal draw z. */
  dispersion(z: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    checkImage(z, 'z', 'dispersion');
    const tt = resolveTimesteps(t, this.steps, z.shape[0], 'dispersion');
    return tf.tidy(() => tf.mul(this.coef('sigma', tt), tf.mul(z, Math.sqrt(this.dt))) as tf.Tensor4D);
  }

  /** Reverse-SDE drift (θ_t·(mu - x) - σ_t²·score)·dt. */
  sdeReverseDrift(x: tf.Tensor4D, score: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    const [tt] = this.prepare('sdeReverseDrift', { x, score, mu }, t);
    return tf.tidy(() => this.reverseDriftOf(x, score, mu, tt, 'sigmaSq'));
  }

  /** Probability-flow ODE drift (θ_t·(mu - x) - ½σ_t²·score)·dt. */
  odeReverseDrift(x: tf.Tensor4D, score: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    const [tt] = this.prepare('odeReverseDrift', { x, score, mu }, t);
    return tf.tidy(() => this.reverseDriftOf(x, score, mu, tt, 'halfSigmaSq'));
  }

  /** Mean of one reverse-SDE step: x - sdeReverseDrift(x, score, t). */
  reverseSdeStepMean(x: tf.Tensor4D, score: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    const [tt] = this.prepare('reverseSdeStepMean', { x, score, mu }, t);
    return tf.tidy(() => tf.sub(x, this.reverseDriftOf(x, score, mu, tt, 'sigmaSq')) as tf.Tensor4D);
  }

  /**
   * One Euler–Maruyama step of the reverse SDE with the draw z:
   * x - sdeReverseDrift(x, score, t) - σ_t·(z·sqrt(dt)). The minus before the noise is the
   * original's (z is symmetric, so it only matters for injected-noise parity).
   */
  reverseSdeStep(x: tf.Tensor4D, score: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps, z: tf.Tensor4D): tf.Tensor4D {
    const [tt] = this.prepare('reverseSdeStep', { x, score, mu, z }, t);
    return tf.tidy(() => {
      const mean = tf.sub(x, this.reverseDriftOf(x, score, mu, tt, 'sigmaSq'));
      return tf.sub(mean, tf.mul(this.coef('sigma', tt), tf.mul(z, Math.sqrt(this.dt)))) as tf.Tensor4D;
    });
  }

  /** One Euler step of the probability-flow ODE: x - odeReverseDrift(x, score, t). */
  reverseOdeStep(x: tf.Tensor4D, score: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    const [tt] = this.prepare('reverseOdeStep', { x, score, mu }, t);
    return tf.tidy(() => tf.sub(x, this.reverseDriftOf(x, score, mu, tt, 'halfSigmaSq')) as tf.Tensor4D);
  }

  /** Score from predicted noise: -noise / σ̄_t. */
  scoreFromNoise(noise: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    checkImage(noise, 'noise', 'scoreFromNoise');
    const tt = resolveTimesteps(t, this.steps, noise.shape[0], 'scoreFromNoise');
    return tf.tidy(() => this.scoreOf(noise, tt));
  }

  /** x0 estimated from x_t and its predicted noise: (x_t - mu - σ̄_t·noise)·e^{Θ_t dt} + mu. */
  initStateFromNoise(xt: tf.Tensor4D, noise: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    const [tt] = this.prepare('initStateFromNoise', { xt, noise, mu }, t);
    return tf.tidy(() => this.initStateOf(xt, noise, mu, tt));
  }

  /** The noise that produced x_t from x0: (x_t - muBar(x0, t)) / σ̄_t. */
  realNoise(xt: tf.Tensor4D, x0: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    const [tt] = this.prepare('realNoise', { xt, x0, mu }, t);
    return tf.tidy(() => tf.div(tf.sub(xt, this.muBarOf(x0, mu, tt)), this.coef('sigmaBar', tt)) as tf.Tensor4D);
  }

  /** The true score of x_t | x0: -(x_t - muBar(x0, t)) / σ̄_t². */
  realScore(xt: tf.Tensor4D, x0: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    const [tt] = this.prepare('realScore', { xt, x0, mu }, t);
    return tf.tidy(() => tf.div(tf.neg(tf.sub(xt, this.muBarOf(x0, mu, tt))), this.coef('sigmaBarSq', tt)) as tf.Tensor4D);
  }

  /**
   * Posterior mean E[x_{t-1} | x_t, x0] (the "optimum" reverse step): with A = e^{-θ_t dt},
   * B = e^{-Θ_t dt}, C = e^{-Θ_{t-1} dt}:
   * A(1-C²)/(1-B²)·(x_t - mu) + C(1-A²)/(1-B²)·(x0 - mu) + mu.
   */
  reverseOptimumStep(xt: tf.Tensor4D, x0: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
    const [tt] = this.prepare('reverseOptimumStep', { xt, x0, mu }, t);
    return tf.tidy(() => this.optimumOf(xt, x0, mu, tt));
  }

  /**
   * One step of the posterior sampler (the original's default): estimate x0 from the predicted
   * noise, then draw x_{t-1} = posterior mean + reverseOptimumStd(t)·z.
   */
  reversePosteriorStep(xt: tf.Tensor4D, noise: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps, z: tf.Tensor4D): tf.Tensor4D {
    const [tt] = this.prepare('reversePosteriorStep', { xt, noise, mu, z }, t);
    return tf.tidy(() => {
      const x0 = this.initStateOf(xt, noise, mu, tt);
      return tf.add(this.optimumOf(xt, x0, mu, tt), tf.mul(this.coef('posteriorStd', tt), z)) as tf.Tensor4D;
    });
  }

  // ---- states ------------------------------------------------------------------------------

  /** The start of sampling: x_T = mu + max_sigma·z, z drawn from `noise` (a source or a seed). */
  noiseState(mu: tf.Tensor4D, noise: NoiseSource | number): tf.Tensor4D {
    checkImage(mu, 'mu', 'noiseState');
    const z = drawNoise(toNoiseSource(noise), mu.shape, 'the x_T draw');
    return tf.tidy(() => {
      const x = tf.add(mu, tf.mul(z, this.maxSigma)) as tf.Tensor4D;
      z.dispose();
      return x;
    });
  }

  /** x_t from x0 and a standard-normal draw: noise·σ̄_t + muBar(x0, mu, t). */
  forwardState(x0: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps, noise: tf.Tensor4D): tf.Tensor4D {
    const [tt] = this.prepare('forwardState', { x0, mu, noise }, t);
    return tf.tidy(() => tf.add(tf.mul(noise, this.coef('sigmaBar', tt)), this.muBarOf(x0, mu, tt)) as tf.Tensor4D);
  }

  /**
   * Training states (the original's `generate_random_states`): one timestep per batch element,
   * drawn uniformly from 1..T with `rng` unless given, then x_t = forwardState(x0, mu, t, z).
   */
  randomStates(x0: tf.Tensor4D, mu: tf.Tensor4D, rng: Rng, timesteps?: Timesteps): RandomStates {
    checkSameShape('randomStates', { x0, mu });
    const batch = x0.shape[0];
    const drawn = timesteps === undefined ? Array.from({ length: batch }, () => rng.int(1, this.steps)) : timesteps;
    const resolved = resolveTimesteps(drawn, this.steps, batch, 'randomStates');
    const perElement = typeof resolved === 'number' ? new Array<number>(batch).fill(resolved) : resolved;
    const z = tf.tensor(rng.normalArray(x0.size), x0.shape) as tf.Tensor4D;
    const states = this.forwardState(x0, mu, perElement, z);
    z.dispose();
    return { timesteps: perElement, states };
  }

  // ---- training target -----------------------------------------------------------------------

  /**
   * Both sides of the original's loss (`DenoisingModel.optimize_parameters`): the reverse-SDE
   * mean with the score from the predicted noise, and the optimal x_{t-1} given the ground truth.
   * Differentiable in `noisePred`.
   */
  matchingPair(noisePred: tf.Tensor4D, state: tf.Tensor4D, x0: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): MatchingPair {
    const [tt] = this.prepare('matchingPair', { noisePred, state, x0, mu }, t);
    return tf.tidy(() => ({
      expectation: tf.sub(state, this.reverseDriftOf(state, this.scoreOf(noisePred, tt), mu, tt, 'sigmaSq')) as tf.Tensor4D,
      optimum: this.optimumOf(state, x0, mu, tt),
    }));
  }

  /** The original's matching loss: mean |expectation - optimum| (L1, unweighted). Differentiable. */
  matchingLoss(noisePred: tf.Tensor4D, state: tf.Tensor4D, x0: tf.Tensor4D, mu: tf.Tensor4D, t: Timesteps): tf.Scalar {
    return tf.tidy(() => {
      const { expectation, optimum } = this.matchingPair(noisePred, state, x0, mu, t);
      return tf.mean(tf.abs(tf.sub(expectation, optimum))) as tf.Scalar;
    });
  }

  // ---- sampling ------------------------------------------------------------------------------

  /**
   * Restores `mu` (the degraded image, NHWC) by running the reverse process from
   * x_T = noiseState(mu) over t = sampleT..1 with `denoiser` predicting the noise.
   */
  sample(denoiser: Denoiser, mu: tf.Tensor4D, options: SampleOptions = {}): Promise<SampleResult> {
    return runSampler(this, denoiser, mu, options);
  }

  // ---- internals -----------------------------------------------------------------------------

  private scalar(table: Float64Array, t: number, where: string): number {
    if (typeof t !== 'number') throw new TypeError(`${where}: t must be a number (one timestep), got ${typeof t}`);
    return table[resolveTimesteps(t, this.steps, undefined, where) as number]!;
  }

  private prepare(where: string, images: Record<string, unknown>, t: Timesteps): [number | number[]] {
    const [first] = checkSameShape(where, images);
    return [resolveTimesteps(t, this.steps, first!.shape[0], where)];
  }

  private coef(name: keyof StepCoefficients, t: number | number[]): tf.Tensor {
    return coefficientTensor(this.coefficients[name], t);
  }

  private muBarOf(x0: tf.Tensor, mu: tf.Tensor, t: number | number[]): tf.Tensor4D {
    return tf.add(mu, tf.mul(tf.sub(x0, mu), this.coef('meanWeight', t))) as tf.Tensor4D;
  }

  private scoreOf(noise: tf.Tensor, t: number | number[]): tf.Tensor4D {
    return tf.div(tf.neg(noise), this.coef('sigmaBar', t)) as tf.Tensor4D;
  }

  private reverseDriftOf(x: tf.Tensor, score: tf.Tensor, mu: tf.Tensor, t: number | number[], sigmaTerm: 'sigmaSq' | 'halfSigmaSq'): tf.Tensor4D {
    const pull = tf.mul(this.coef('theta', t), tf.sub(mu, x));
    return tf.mul(tf.sub(pull, tf.mul(this.coef(sigmaTerm, t), score)), this.dt) as tf.Tensor4D;
  }

  private initStateOf(xt: tf.Tensor, noise: tf.Tensor, mu: tf.Tensor, t: number | number[]): tf.Tensor4D {
    const residual = tf.sub(tf.sub(xt, mu), tf.mul(this.coef('sigmaBar', t), noise));
    return tf.add(tf.mul(residual, this.coef('inverseMeanWeight', t)), mu) as tf.Tensor4D;
  }

  private optimumOf(xt: tf.Tensor, x0: tf.Tensor, mu: tf.Tensor, t: number | number[]): tf.Tensor4D {
    const fromXt = tf.mul(this.coef('posteriorXtCoef', t), tf.sub(xt, mu));
    const fromX0 = tf.mul(this.coef('posteriorX0Coef', t), tf.sub(x0, mu));
    return tf.add(tf.add(fromXt, fromX0), mu) as tf.Tensor4D;
  }
}
