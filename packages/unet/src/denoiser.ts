import type { Denoiser } from '@srdiff/sde';
import type { ConditionalUNet } from './conditional-unet';

export interface UnetDenoiserOptions {
  /**
   * Which input the sampler's `context` feeds: `'image'` (the cross-attention, SR-Diff's semantic
   * embedding) or `'text'` (the prompt path). Default: image when the network has cross-attention,
   * else text when it has the prompt path.
   */
  contextAs?: 'image' | 'text';
}

/**
 * The network as `@srdiff/sde`'s {@link Denoiser}: `(xt, mu, t, context?) => noise`, NHWC, with
 * mu as the condition and t the float time the sampler passes (t·sample_scale).
 */
export function unetDenoiser(model: ConditionalUNet, options: UnetDenoiserOptions = {}): Denoiser {
  const contextAs = options.contextAs ?? (model.plan.imageContext || !model.plan.degraContext ? 'image' : 'text');
  if (contextAs !== 'image' && contextAs !== 'text') throw new RangeError(`unetDenoiser: contextAs must be 'image' or 'text', got ${String(contextAs)}`);
  return async (xt, mu, t, context) =>
    model.forward(xt, mu, t, context === undefined ? {} : contextAs === 'image' ? { imageContext: context } : { textContext: context });
}
