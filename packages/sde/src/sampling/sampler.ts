import { tf } from '@srdiff/core';
import type { IRSDE } from '../sde/ir-sde';
import { checkImage } from '../sde/shapes';
import { SamplingAbortedError } from './abort';
import type { Denoiser } from './denoiser';
import { drawNoise, toNoiseSource, type NoiseSource } from './noise';

/**
 * Reverse-time solvers of the original:
 * - `posterior`: x_{t-1} drawn from the exact Gaussian posterior around the x0 estimated from the
 *   predicted noise (`reverse_posterior`, SR-Diff's default);
 * - `sde`: Euler–Maruyama on the reverse SDE (`reverse_sde`);
 * - `ode`: Euler on the probability-flow ODE, deterministic after x_T (`reverse_ode`).
 */
export type SamplerMethod = 'posterior' | 'sde' | 'ode';
export const SAMPLER_METHODS: readonly SamplerMethod[] = ['posterior', 'sde', 'ode'];

export interface SampleOptions {
  /** Solver; default `'posterior'`. */
  method?: SamplerMethod;
  /**
   * Standard-normal draws for x_T and the stochastic steps, in the original's order (x_T first,
   * then one per step, drawn after the denoiser call). A number is a seed for {@link SeededNoise};
   * default: a fresh random seed.
   */
  noise?: NoiseSource | number;
  /** Start state instead of noiseState(mu) (not disposed by the sampler). */
  xT?: tf.Tensor4D;
  /** Passed through to the denoiser (e.g. the refined semantic embedding). */
  context?: tf.Tensor;
  /**
   * Called after every step with the 1-based step, the number of steps and the new state (valid
   * during the call only; clone it to keep it). Awaited if it returns a promise.
   */
  onStep?: (step: number, total: number, x: tf.Tensor4D) => void | Promise<void>;
  /** Aborts between steps with a {@link SamplingAbortedError} (name 'AbortError'). */
  signal?: AbortSignal;
  /** Also return every state: [x_T, after step 1, …, x_0] stacked as [steps + 1, B, H, W, C]. */
  returnTrajectory?: boolean;
}

export interface SampleResult {
  /** The restored image x_0 (NHWC). */
  x0: tf.Tensor4D;
  /** With `returnTrajectory`: all states, index 0 = x_T, index k = after the step at t = sampleT - k + 1. */
  trajectory?: tf.Tensor5D;
}

const DEFAULT_METHOD: SamplerMethod = 'posterior';

export async function runSampler(sde: IRSDE, denoiser: Denoiser, mu: tf.Tensor4D, options: SampleOptions): Promise<SampleResult> {
  const method = options.method ?? DEFAULT_METHOD;
  if (!SAMPLER_METHODS.includes(method)) {
    throw new RangeError(`sample: unknown method "${String(method)}"; expected one of ${SAMPLER_METHODS.map((m) => `'${m}'`).join(', ')}`);
  }
  if (typeof denoiser !== 'function') throw new TypeError('sample: denoiser must be a function (xt, mu, t, context?) => Promise<noise>');
  checkImage(mu, 'mu', 'sample');
  if (options.xT !== undefined) {
    checkImage(options.xT, 'xT', 'sample');
    if (options.xT.shape.some((d, i) => d !== mu.shape[i])) {
      throw new Error(`sample: shape mismatch: mu is [${mu.shape.join(', ')}] but xT is [${options.xT.shape.join(', ')}]`);
    }
  }
  const noise = toNoiseSource(options.noise);
  const total = sde.steps;
  const userStart = options.xT;
  let x: tf.Tensor4D = userStart ?? sde.noiseState(mu, noise);
  const states: tf.Tensor4D[] = options.returnTrajectory ? [x] : [];
  const owned = (s: tf.Tensor4D) => s !== userStart;

  try {
    for (let step = 1; step <= total; step++) {
      const t = total - step + 1;
      if (options.signal?.aborted) throw new SamplingAbortedError(step, total, t, options.signal.reason);
      const predicted = await denoiser(x, mu, sde.networkTime(t), options.context);
      checkPrediction(predicted, x, step, total, t);
      let next: tf.Tensor4D;
      try {
        next = stepOnce(sde, method, x, predicted, mu, t, noise);
      } finally {
        if (predicted !== x && predicted !== mu) predicted.dispose();
      }
      if (options.returnTrajectory) states.push(next);
      else if (owned(x)) x.dispose();
      x = next;
      await options.onStep?.(step, total, x);
    }
  } catch (err) {
    for (const s of new Set([...states, x])) if (owned(s)) s.dispose();
    throw err;
  }

  if (!options.returnTrajectory) return { x0: x === userStart ? tf.clone(x) : x };
  const trajectory = tf.stack(states) as tf.Tensor5D;
  for (const s of states) if (owned(s) && s !== x) s.dispose();
  return { x0: x === userStart ? tf.clone(x) : x, trajectory };
}

function stepOnce(sde: IRSDE, method: SamplerMethod, x: tf.Tensor4D, predicted: tf.Tensor4D, mu: tf.Tensor4D, t: number, noise: NoiseSource): tf.Tensor4D {
  if (method === 'ode') {
    return tf.tidy(() => sde.reverseOdeStep(x, sde.scoreFromNoise(predicted, t), mu, t));
  }
  const z = drawNoise(noise, x.shape, `the step at t = ${t}`);
  try {
    if (method === 'posterior') return sde.reversePosteriorStep(x, predicted, mu, t, z);
    return tf.tidy(() => sde.reverseSdeStep(x, sde.scoreFromNoise(predicted, t), mu, t, z));
  } finally {
    z.dispose();
  }
}

function checkPrediction(predicted: unknown, x: tf.Tensor4D, step: number, total: number, t: number): asserts predicted is tf.Tensor4D {
  const where = `sample: the denoiser's output at step ${step} of ${total} (t = ${t})`;
  if (!(predicted instanceof tf.Tensor)) throw new TypeError(`${where} is not a tf.Tensor (got ${typeof predicted})`);
  const shape: number[] = predicted.shape;
  if (shape.length !== 4 || shape.some((d, i) => d !== x.shape[i])) {
    if (predicted !== x) predicted.dispose();
    throw new Error(`${where} has shape [${shape.join(', ')}]; expected the state's shape [${x.shape.join(', ')}]`);
  }
}
