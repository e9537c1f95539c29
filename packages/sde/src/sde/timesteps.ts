import { tf } from '@srdiff/core';

/**
 * A timestep argument: one integer t for the whole batch, or one per batch element (a `number[]`
 * or an integer tensor of shape [B] / [B,1,1,1], as training draws them).
 */
export type Timesteps = number | readonly number[] | tf.Tensor;

/** Validates `t` against 1..steps; returns a number or one number per batch element. */
export function resolveTimesteps(t: Timesteps, steps: number, batch: number | undefined, where: string): number | number[] {
  if (typeof t === 'number') {
    checkTimestep(t, steps, where);
    return t;
  }
  let values: number[];
  if (t instanceof tf.Tensor) {
    if (t.isDisposed) throw new Error(`${where}: the timestep tensor has been disposed`);
    if (t.shape.slice(1).some((d) => d !== 1)) {
      throw new Error(`${where}: a timestep tensor must have shape [B] or [B,1,1,1], got [${t.shape.join(', ')}]`);
    }
    values = Array.from(t.dataSync());
  } else if (Array.isArray(t)) {
    values = [...t];
  } else {
    throw new TypeError(`${where}: t must be a number, a number[] or a tensor of timesteps, got ${typeof t}`);
  }
  if (values.length === 0) throw new Error(`${where}: got an empty list of timesteps`);
  if (batch !== undefined && values.length !== batch) {
    throw new Error(`${where}: got ${values.length} timesteps for a batch of ${batch} (one per batch element, or a single number)`);
  }
  values.forEach((v, i) => checkTimestep(v, steps, `${where} (timestep ${i})`));
  return values;
}

function checkTimestep(t: number, steps: number, where: string): void {
  if (!Number.isInteger(t) || t < 1 || t > steps) {
    throw new RangeError(`${where}: t must be an integer in 1..${steps} (t = 0 is not a process step), got ${t}`);
  }
}

/** The coefficient `table[t]` as a float32 scalar, or as a [B,1,1,1] tensor that broadcasts over NHWC images. */
export function coefficientTensor(table: Float64Array, t: number | number[]): tf.Tensor {
  if (typeof t === 'number') return tf.scalar(table[t]!, 'float32');
  return tf.tensor4d(Float32Array.from(t, (ti) => table[ti]!), [t.length, 1, 1, 1]);
}
