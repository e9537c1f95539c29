import type { HostTensor } from '@srdiff/core';
import { restoreImage as restoreWithDenoiser, type IRSDE, type RestoreImageOptions } from '@srdiff/sde';
import type { RestoreEngine } from './engine';

export type { RestoreImageOptions };

/**
 * Restores one degraded image (`[1, H, W, 3]`, float [0, 1]) on a restore engine: `@srdiff/sde`'s
 * `restoreImage` (x_T = mu + noise, the sampler's steps, large images tile by tile with a seed
 * per tile, clamped to [0, 1]), the same function the web app runs in a page.
 */
export function restoreImage(lq: HostTensor, context: Float32Array | undefined, sde: IRSDE, engine: RestoreEngine, options: RestoreImageOptions): Promise<HostTensor> {
  return restoreWithDenoiser(lq, context, sde, engine.denoiser, options);
}
