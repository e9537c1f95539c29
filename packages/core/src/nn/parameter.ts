import * as tf from '@tensorflow/tfjs-core';
import { shapeSize, type HostTensor } from '../io/host-tensor';

/**
 * How a parameter is laid out in tfjs compared with PyTorch.
 * - `torch`: identical (Linear `[out, in]`, norms, biases, ...).
 * - `conv`: PyTorch Conv2d `[out, in, kh, kw]` is held as tfjs's `[kh, kw, in, out]` filter.
 */
export type ParameterLayout = 'torch' | 'conv';

/** A trainable tensor with its PyTorch layout; the tfjs variable is what computations use. */
export class Parameter {
  readonly variable: tf.Variable;
  readonly layout: ParameterLayout;
  trainable: boolean;

  constructor(value: tf.Tensor, layout: ParameterLayout = 'torch', trainable = true) {
    this.variable = tf.variable(value, trainable);
    this.layout = layout;
    this.trainable = trainable;
  }

  /** Shape as PyTorch reports it (state-dict shape). */
  get torchShape(): number[] {
    return toTorchShape(this.variable.shape, this.layout);
  }

  get size(): number {
    return this.variable.size;
  }

  /** The value in PyTorch layout, copied to host memory. */
  toHost(): HostTensor {
    return tensorToTorchHost(this.variable, this.layout);
  }

  /** Replaces the value from a PyTorch-layout host tensor (shape already validated by the caller). */
  assignHost(t: HostTensor): void {
    const value = tf.tidy(() => fromTorchHost(t, this.layout));
    this.variable.assign(value);
    value.dispose();
  }

  setTrainable(flag: boolean): void {
    this.trainable = flag;
    this.variable.trainable = flag;
  }

  dispose(): void {
    this.variable.dispose();
  }
}

export function toTorchShape(shape: readonly number[], layout: ParameterLayout): number[] {
  if (layout === 'conv') {
    const [kh, kw, ci, co] = shape as [number, number, number, number];
    return [co, ci, kh, kw];
  }
  return [...shape];
}

/** Converts a tfjs tensor held in `layout` to a PyTorch-layout host tensor (e.g. a gradient). */
export function tensorToTorchHost(t: tf.Tensor, layout: ParameterLayout): HostTensor {
  if (layout === 'conv') {
    const torch = tf.transpose(t, [3, 2, 0, 1]);
    const data = torch.dataSync() as Float32Array;
    const out = { shape: torch.shape.slice(), data: Float32Array.from(data) };
    torch.dispose();
    return out;
  }
  return { shape: t.shape.slice(), data: Float32Array.from(t.dataSync() as Float32Array) };
}

/** Builds a tfjs tensor in `layout` from a PyTorch-layout host tensor. */
export function fromTorchHost(t: HostTensor, layout: ParameterLayout): tf.Tensor {
  if (shapeSize(t.shape) !== t.data.length) {
    throw new Error(`tensor of shape [${t.shape.join(', ')}] has ${t.data.length} values`);
  }
  const x = tf.tensor(t.data, t.shape, 'float32');
  return layout === 'conv' ? tf.tidy(() => tf.transpose(x, [2, 3, 1, 0])) : x;
}
