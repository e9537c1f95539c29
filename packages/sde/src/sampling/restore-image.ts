import { tf, tiledProcess, type HostTensor, type TileInfo } from '@srdiff/core';
import type { IRSDE } from '../sde/ir-sde';
import type { Denoiser } from './denoiser';
import type { SamplerMethod } from './sampler';

/** Where a restoration is: sampling step `step` of `steps` in tile `tile` (0-based) of `tiles`. */
export interface RestoreProgress {
  step: number;
  steps: number;
  tile: number;
  tiles: number;
}

export interface RestoreImageOptions {
  method: SamplerMethod;
  /** Seed of the sampler's noise (x_T and the stochastic steps); tile k uses seed + 7919·k. */
  seed: number;
  /** Images larger than this (either side) are restored in overlapping tiles. */
  tile?: number;
  overlap?: number;
  signal?: AbortSignal;
  /** Sampler progress within the image (all tiles together), then where it is. Awaited. */
  onStep?: (done: number, total: number, where: RestoreProgress) => void | Promise<void>;
}

/** The seed of tile `index`: distinct noise per tile, reproducible from the image's seed. */
export const TILE_SEED_STRIDE = 7919;

/**
 * Restores one degraded image (`[1, H, W, 3]` host tensor, float [0, 1]) with the reverse process
 * of `sde` on `denoiser`: x_T = mu + noise, then the sampler's steps; large images tile by tile
 * (each tile a full reverse process with its own seed, blended over the overlap by `tiledProcess`).
 * The result is clamped to [0, 1] like the original's `tensor2img`. What `srdiff restore` runs in
 * Node and the web app runs in a page, so both give the same image for the same seed.
 */
export async function restoreImage(lq: HostTensor, context: Float32Array | undefined, sde: IRSDE, denoiser: Denoiser, options: RestoreImageOptions): Promise<HostTensor> {
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
        const { x0 } = await sde.sample(denoiser, mu, {
          method: options.method,
          noise: options.seed + k * TILE_SEED_STRIDE,
          context: ctx,
          signal: options.signal,
          onStep: (s) => options.onStep?.(k * steps + s, info.count * steps, { step: s, steps, tile: k, tiles: info.count }),
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
