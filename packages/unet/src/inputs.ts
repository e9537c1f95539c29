import { tf } from '@srdiff/core';
import type { UNetConfig, UNetPlan } from './config';
import { HEAD_CHANNELS } from './config';

/** The network time: one number for the whole batch, one per element, or a tensor `[B]` (floats allowed). */
export type TimeInput = number | readonly number[] | tf.Tensor;

export class UNetInputError extends Error {
  constructor(message: string) {
    super(`ConditionalUNet.forward: ${message}`);
    this.name = 'UNetInputError';
  }
}

const shape = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

function checkTensor(name: string, t: unknown): asserts t is tf.Tensor {
  if (!(t instanceof tf.Tensor)) throw new UNetInputError(`${name} must be a tf.Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.isDisposed) throw new UNetInputError(`${name} has been disposed`);
  if (t.dtype !== 'float32') throw new UNetInputError(`${name} must be float32, got ${t.dtype}`);
}

/** Validates x_t and the condition: NHWC `[B, H, W, in_nc]`, same shape, large enough to reflect-pad. */
export function checkImages(config: UNetConfig, plan: UNetPlan, xt: unknown, cond: unknown): void {
  checkTensor('xt', xt);
  checkTensor('cond', cond);
  if (xt.rank !== 4 || xt.shape[3] !== config.in_nc) {
    throw new UNetInputError(`xt must be NHWC [batch, height, width, ${config.in_nc}], got ${shape(xt)}`);
  }
  if (cond.shape.length !== 4 || cond.shape.some((d, i) => d !== xt.shape[i])) {
    throw new UNetInputError(`cond must have the shape of xt ${shape(xt)}, got ${shape(cond)}`);
  }
  const [, h, w] = xt.shape;
  for (const [axis, size] of [['height', h], ['width', w]] as const) {
    const pad = padTo(size!, plan.padMultiple);
    if (pad >= size!) {
      throw new UNetInputError(
        `${axis} ${size} is too small: the input is reflect-padded to a multiple of ${plan.padMultiple} (2^depth) and reflection ` +
          `needs the padding (${pad}) to be smaller than the size; use ≥ ${plan.padMultiple / 2 + 1} or a multiple of ${plan.padMultiple}`,
      );
    }
  }
}

/** Rows/columns of reflect padding that bring `size` to a multiple of `multiple` (the original's check_image_size). */
export function padTo(size: number, multiple: number): number {
  return (multiple - (size % multiple)) % multiple;
}

/** The time as a float32 `[B]` or `[1]` tensor (a single value broadcasts over the batch, as in the original). */
export function timeTensor(time: TimeInput, batch: number): tf.Tensor1D {
  if (typeof time === 'number') {
    if (!Number.isFinite(time)) throw new UNetInputError(`time must be a finite number, got ${time}`);
    return tf.tensor1d([time], 'float32');
  }
  if (Array.isArray(time)) {
    if (time.length !== 1 && time.length !== batch) {
      throw new UNetInputError(`got ${time.length} time values for a batch of ${batch} (give one, or one per element)`);
    }
    if (!time.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new UNetInputError(`time values must be finite numbers, got ${JSON.stringify(time)}`);
    return tf.tensor1d(time as number[], 'float32');
  }
  if (!(time instanceof tf.Tensor)) throw new UNetInputError(`time must be a number, number[] or tensor [B], got ${typeof time}`);
  if (time.isDisposed) throw new UNetInputError('time has been disposed');
  if (time.shape.slice(1).some((d) => d !== 1) || (time.size !== 1 && time.size !== batch)) {
    throw new UNetInputError(`time must be a tensor of shape [${batch}] (or [1], or [${batch},1,1,1]), got ${shape(time)}`);
  }
  return tf.tidy(() => tf.cast(tf.reshape(time, [time.size]), 'float32') as tf.Tensor1D);
}

/**
 * Validates the contexts before any computation. The image context is `[B, context_dim]` (one
 * token, the original's `unsqueeze(1)`) or `[B, M, context_dim]` (M tokens).
 */
export function checkContexts(config: UNetConfig, plan: UNetPlan, batch: number, imageContext: unknown, textContext: unknown): void {
  if (imageContext !== undefined) {
    if (!plan.imageContext) {
      throw new UNetInputError(
        'an imageContext was given but this network has no cross-attention ' +
          `(use_image_context ${config.use_image_context}, context_dim ${config.context_dim}); the original would silently ignore it`,
      );
    }
    checkTensor('imageContext', imageContext);
    const width = imageContext.shape[imageContext.rank - 1];
    if ((imageContext.rank !== 2 && imageContext.rank !== 3) || imageContext.shape[0] !== batch || width !== config.context_dim) {
      throw new UNetInputError(
        `imageContext must be [${batch}, ${config.context_dim}] (batch, context_dim; or [${batch}, tokens, ${config.context_dim}]), got ${shape(imageContext)}` +
          (width !== config.context_dim ? `: its width ${width} is not the network's context_dim ${config.context_dim}` : ''),
      );
    }
  } else if (plan.imageContext && !selfAttentionFallbackWorks(config, plan)) {
    throw new UNetInputError(
      `this network has cross-attention (use_image_context) and needs an imageContext [${batch}, ${config.context_dim}]. ` +
        `Without one the original falls back to self-attention, which only works when context_dim equals the width of every ` +
        `SpatialTransformer (here ${transformerWidths(plan).join(', ')} vs context_dim ${config.context_dim}); it crashes in a matmul instead`,
    );
  }
  if (textContext !== undefined) {
    if (!plan.degraContext) {
      throw new UNetInputError(
        `a textContext was given but this network has no prompt path (use_degra_context ${config.use_degra_context}, context_dim ${config.context_dim})`,
      );
    }
    checkTensor('textContext', textContext);
    if (textContext.rank !== 2 || (textContext.shape[0] !== batch && textContext.shape[0] !== 1) || textContext.shape[1] !== config.context_dim) {
      throw new UNetInputError(`textContext must be [${batch}, ${config.context_dim}] (batch, context_dim), got ${shape(textContext)}`);
    }
  }
}

/** Widths d = (C // 32)·32 of every SpatialTransformer's tokens. */
function transformerWidths(plan: UNetPlan): number[] {
  const inner = (c: number) => Math.floor(c / HEAD_CHANNELS) * HEAD_CHANNELS;
  const widths = new Set<number>([inner(plan.midDim)]);
  for (const l of plan.levels) if (l.transformer) [l.dimIn, l.dimOut].forEach((c) => widths.add(inner(c)));
  return [...widths].sort((a, b) => a - b);
}

/** The original runs without an image context only when attn2's to_k/to_v accept the tokens themselves. */
export function selfAttentionFallbackWorks(config: UNetConfig, plan: UNetPlan): boolean {
  return transformerWidths(plan).every((d) => d === config.context_dim);
}
