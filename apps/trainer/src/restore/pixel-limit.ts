import { tileStarts } from '@srdiff/core';
import type { OptionSpec } from '../cli/args';

/**
 * Image buffers a restoration holds per pixel besides the model's working memory, measured with
 * `srdiff restore` (peak RSS of 1000², 2000² and 4000² PNGs, one step, tiny UNet): ~24 bytes — the
 * float32 input (12), the float32 output (12) and the 8-bit copies decoding and encoding make
 * transiently. A 16000×16000 photo therefore needs ~6 GB before the first tile runs.
 */
export const BYTES_PER_PIXEL = 24;

/** Default `--max-megapixels`: 64 MP (8000×8000, ~1.5 GB of image buffers). */
export const DEFAULT_MAX_PIXELS = 64e6;

export const MAX_PIXELS_FLAG: OptionSpec = {
  type: 'number',
  greaterThan: 0,
  valueName: 'MP',
  description: `refuse images larger than this many megapixels, saying what they would cost (default ${DEFAULT_MAX_PIXELS / 1e6}; ~${BYTES_PER_PIXEL} bytes of memory per pixel)`,
};

/** Converts the `--max-megapixels` value to pixels (default when absent). */
export function maxPixelsFrom(flag: unknown): number {
  return flag === undefined ? DEFAULT_MAX_PIXELS : Number(flag) * 1e6;
}

const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GB`;

/**
 * Refuses, before anything is decoded, images over the pixel limit — listing each with what it would
 * cost (memory for its buffers, tiles × sampling steps) and the flag that raises the limit.
 */
export function checkPixelLimit(
  images: readonly { file: string; width: number; height: number }[],
  maxPixels: number,
  sampling: { tile?: number; overlap?: number; steps: number },
): void {
  const over = images.filter((i) => i.width * i.height > maxPixels);
  if (!over.length) return;
  const lines = over.slice(0, 10).map((i) => {
    const pixels = i.width * i.height;
    const tile = sampling.tile ?? Math.max(i.width, i.height);
    const overlap = sampling.overlap ?? 32;
    const tiles = tileStarts(i.height, tile, overlap).length * tileStarts(i.width, tile, overlap).length;
    return `  ${i.file}: ${i.width}×${i.height} (${(pixels / 1e6).toFixed(1)} megapixels) would hold ~${gb(pixels * BYTES_PER_PIXEL)} of image buffers besides the model, and take ${tiles} tile(s) × ${sampling.steps} sampling steps`;
  });
  if (over.length > 10) lines.push(`  … and ${over.length - 10} more`);
  const largest = Math.max(...over.map((i) => i.width * i.height));
  throw new Error(
    `${over.length} image(s) over the limit of ${maxPixels / 1e6} megapixels:\n${lines.join('\n')}\n` +
      `raise the limit with --max-megapixels ${Math.ceil(largest / 1e6)} if this machine has the memory, or downscale the image(s)`,
  );
}
