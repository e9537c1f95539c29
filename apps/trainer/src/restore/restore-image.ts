import type { HostTensor } from '@srdiff/core';
import { restoreImage as restoreWithDenoiser, type IRSDE, type RestoreImageOptions } from '@srdiff/sde';
import type { RestoreEngine } from './engine';

export type { RestoreImageOptions };

/**
 * Lets Node's event loop run between sampling steps. The tfjs engine computes synchronously and
 * `await`s only settled promises, which never leave the microtask queue: without this a Ctrl-C
 * (SIGINT) is not even seen until the whole image is done (tested: an interrupted restore exits 130).
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Restores one degraded image (`[1, H, W, 3]`, float [0, 1]) on a restore engine: `@srdiff/sde`'s
 * `restoreImage` (x_T = mu + noise, the sampler's steps, large images tile by tile with a seed
 * per tile, clamped to [0, 1]), the same function the web app runs in a page.
 */
export function restoreImage(lq: HostTensor, context: Float32Array | undefined, sde: IRSDE, engine: RestoreEngine, options: RestoreImageOptions): Promise<HostTensor> {
  return restoreWithDenoiser(lq, context, sde, engine.denoiser, {
    ...options,
    onStep: async (done, total, where) => {
      await options.onStep?.(done, total, where);
      await yieldToEventLoop();
    },
  });
}
