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
 * The {@link UnetDenoiserOptions.contextAs} in effect for a network with (or without) each
 * context input — one rule for the tfjs network and its ONNX export.
 */
export function resolveContextAs(contextAs: UnetDenoiserOptions['contextAs'], takes: { image: boolean; text: boolean }, who: string): 'image' | 'text' {
  const resolved = contextAs ?? (takes.image || !takes.text ? 'image' : 'text');
  if (resolved !== 'image' && resolved !== 'text') throw new RangeError(`${who}: contextAs must be 'image' or 'text', got ${String(resolved)}`);
  return resolved;
}

/**
 * The network as `@srdiff/sde`'s {@link Denoiser}: `(xt, mu, t, context?) => noise`, NHWC, with
 * mu as the condition and t the float time the sampler passes (t·sample_scale).
 */
export function unetDenoiser(model: ConditionalUNet, options: UnetDenoiserOptions = {}): Denoiser {
  const contextAs = resolveContextAs(options.contextAs, { image: model.plan.imageContext, text: model.plan.degraContext }, 'unetDenoiser');
  return async (xt, mu, t, context) =>
    model.forward(xt, mu, t, context === undefined ? {} : contextAs === 'image' ? { imageContext: context } : { textContext: context });
}
