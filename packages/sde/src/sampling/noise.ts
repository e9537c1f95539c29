import { Rng, tf } from '@srdiff/core';

/**
 * Where the samplers' standard-normal draws come from. `next(shape)` returns a new tensor the
 * caller owns and disposes.
 */
export interface NoiseSource {
  next(shape: readonly number[]): tf.Tensor;
}

/** Reproducible N(0, 1) draws from a seeded {@link Rng} (xoshiro128** + Box–Muller, in `@srdiff/core`). */
export class SeededNoise implements NoiseSource {
  readonly rng: Rng;

  constructor(seed: number | Rng) {
    this.rng = typeof seed === 'number' ? new Rng(seed) : seed;
  }

  next(shape: readonly number[]): tf.Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(this.rng.normalArray(size), [...shape], 'float32');
  }
}

/**
 * Pre-drawn noise handed out in order (tests, parity with a recorded run). The draws stay owned
 * by the caller; `next` returns a clone. Running out, or a draw of the wrong shape, is an error.
 */
export class InjectedNoise implements NoiseSource {
  private readonly draws: readonly tf.Tensor[];
  private index = 0;

  constructor(draws: readonly tf.Tensor[]) {
    if (!Array.isArray(draws)) throw new TypeError('InjectedNoise: expected an array of tensors');
    this.draws = draws;
  }

  /** Draws not yet handed out. */
  get remaining(): number {
    return this.draws.length - this.index;
  }

  next(shape: readonly number[]): tf.Tensor {
    if (this.index >= this.draws.length) {
      throw new Error(`InjectedNoise: all ${this.draws.length} pre-drawn tensors are used up (draw ${this.index + 1} requested with shape [${shape.join(', ')}])`);
    }
    const draw = this.draws[this.index]!;
    if (draw.isDisposed) throw new Error(`InjectedNoise: draw ${this.index} has been disposed`);
    if (draw.shape.length !== shape.length || draw.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`InjectedNoise: draw ${this.index} has shape [${draw.shape.join(', ')}] but [${shape.join(', ')}] was requested`);
    }
    this.index++;
    return tf.clone(draw);
  }
}

/** A noise source from a seed, an existing source, or a fresh random seed when omitted. */
export function toNoiseSource(noise: NoiseSource | number | undefined): NoiseSource {
  if (noise === undefined) return new SeededNoise(Math.floor(Math.random() * 2 ** 32));
  if (typeof noise === 'number') return new SeededNoise(noise);
  if (typeof noise?.next !== 'function') throw new TypeError('noise must be a NoiseSource (with next(shape)) or a seed number');
  return noise;
}

/** Draws from `source` and checks the shape (a custom source may get it wrong); `what` names the draw. */
export function drawNoise(source: NoiseSource, shape: readonly number[], what: string): tf.Tensor4D {
  const z = source.next(shape);
  if (!(z instanceof tf.Tensor) || z.shape.length !== shape.length || z.shape.some((d, i) => d !== shape[i])) {
    const got = z instanceof tf.Tensor ? `shape [${z.shape.join(', ')}]` : typeof z;
    if (z instanceof tf.Tensor) z.dispose();
    throw new Error(`noise source returned ${got} for ${what}; expected [${shape.join(', ')}]`);
  }
  return z as tf.Tensor4D;
}
