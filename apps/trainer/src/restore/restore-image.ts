import { tf, tiledProcess, type HostTensor, type TileInfo } from '@srdiff/core';
import type { IRSDE, SamplerMethod } from '@srdiff/sde';
import type { RestoreEngine } from './engine';

export interface RestoreImageOptions {
  method: SamplerMethod;
  /** Seed of the sampler's noise (x_T and the stochastic steps). */
  seed: number;
  /** Images larger than this (either side) are restored in overlapping tiles. */
  tile?: number;
  overlap?: number;
  signal?: AbortSignal;
  /** Sampler progress within the image (all tiles together). */
  onStep?: (done: number, total: number) => void;
}

/**
 * Lets the event loop run between sampling steps. The tfjs engine computes synchronously and
 * `await`s only settled promises, which never leave the microtask queue: without this a Ctrl-C
 * (SIGINT) is not even seen until the whole image is done.
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Restores one degraded image (`[1, H, W, 3]`, float [0, 1]) with the reverse process of `sde`:
 * x_T = mu + noise, then `sampleT` denoiser-guided steps; large images tile-by-tile (each tile a
 * full reverse process with its own seed, blended over the overlap). The result is clamped to
 * [0, 1] like the original's `tensor2img`.
 */
export async function restoreImage(
  lq: HostTensor,
  context: Float32Array | undefined,
  sde: IRSDE,
  engine: RestoreEngine,
  options: RestoreImageOptions,
): Promise<HostTensor> {
  const [, h, w] = lq.shape as [number, number, number, number];
  const tile = options.tile ?? Math.max(h, w);
  const overlap = options.overlap ?? 32;
  const steps = sde.steps;
  const ctx = context ? tf.tensor2d(context, [1, context.length]) : undefined;
  try {
    const runTile = async (part: HostTensor, info: Pick<TileInfo, 'index' | 'count'>): Promise<HostTensor> => {
      const k = info.index;
      const mu = tf.tensor4d(part.data, part.shape as [number, number, number, number]);
      try {
        const { x0 } = await sde.sample(engine.denoiser, mu, {
          method: options.method,
          noise: options.seed + k * 7919,
          context: ctx,
          signal: options.signal,
          onStep: async (s) => {
            options.onStep?.(k * steps + s, info.count * steps);
            await yieldToEventLoop();
          },
        });
        const clamped = tf.tidy(() => tf.clipByValue(x0, 0, 1));
        x0.dispose();
        const out = { shape: clamped.shape.slice(), data: (await clamped.data()) as Float32Array };
        clamped.dispose();
        return out;
      } finally {
        mu.dispose();
      }
    };
    if (h <= tile && w <= tile) return await runTile(lq, { index: 0, count: 1 });
    return await tiledProcess(lq, runTile, { tileSize: tile, overlap, signal: options.signal });
  } finally {
    ctx?.dispose();
  }
}
