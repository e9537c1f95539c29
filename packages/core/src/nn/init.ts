import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random/rng';

/**
 * Parameter initialisation with PyTorch's default distributions, drawn from a seeded generator so
 * that a freshly built network is reproducible (`manualSeed`, like `torch.manual_seed`). The
 * values differ from PyTorch's for the same seed; only the distributions match.
 */
let initRng = new Rng(0);

/** Reseeds the generator used to initialise new parameters. */
export function manualSeed(seed: number): void {
  initRng = new Rng(seed);
}

/** The generator new parameters are drawn from (use to draw custom initialisations reproducibly). */
export function initGenerator(): Rng {
  return initRng;
}

/** U(-bound, bound) of the given shape. */
export function uniformInit(shape: number[], bound: number, rng: Rng = initRng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rng.uniform() * 2 - 1) * bound;
  return tf.tensor(data, shape, 'float32');
}

/**
 * PyTorch's default for Linear/Conv weights: `kaiming_uniform_(a=sqrt(5))`, i.e. U(±1/sqrt(fan_in));
 * biases use the same bound.
 */
export function defaultBound(fanIn: number): number {
  return fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
}

/** `xavier_uniform_`: U(±sqrt(6 / (fan_in + fan_out))). */
export function xavierBound(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}
