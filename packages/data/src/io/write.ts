import path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '@srdiff/core';
import { tensor2img } from '@srdiff/metrics';

/** An image to write: a tfjs tensor, a host tensor (`[H, W, C]` or `[1, H, W, C]`), values in [0, 1]. */
export type WritableImage =
  | { shape: readonly number[]; data: ArrayLike<number> }
  | { shape: readonly number[]; data(): Promise<ArrayLike<number>> };

async function pixelsOf(image: WritableImage): Promise<{ height: number; width: number; channels: number; values: ArrayLike<number> }> {
  const shape = image.shape;
  const dims = shape.length === 4 && shape[0] === 1 ? shape.slice(1) : shape;
  if (dims.length !== 3 || ![1, 3, 4].includes(dims[2]!)) {
    throw new Error(`writeImage: expected [H, W, C] or [1, H, W, C] with C in 1, 3, 4; got [${shape.join(', ')}]`);
  }
  const values = typeof image.data === 'function' ? await image.data() : image.data;
  return { height: dims[0]!, width: dims[1]!, channels: dims[2]!, values };
}

/**
 * Encodes [0, 1] pixels to 8 bits exactly as the original's `tensor2img` (clamp, ×255 in float32,
 * round half to even) and then to PNG (lossless; the default) — or JPEG / WebP / TIFF when the
 * extension says so (JPEG and WebP at quality 95, lossy).
 */
export async function encodeImage(image: WritableImage, format: 'png' | 'jpeg' | 'webp' | 'tiff' = 'png'): Promise<Buffer> {
  const { height, width, channels, values } = await pixelsOf(image);
  const bytes = tensor2img(values);
  const pipeline = sharp(bytes, { raw: { width, height, channels: channels as 1 | 3 | 4 } });
  switch (format) {
    case 'png':
      return pipeline.png({ compressionLevel: 6 }).toBuffer();
    case 'jpeg':
      return pipeline.jpeg({ quality: 95 }).toBuffer();
    case 'webp':
      return pipeline.webp({ quality: 95 }).toBuffer();
    case 'tiff':
      return pipeline.tiff().toBuffer();
  }
}

const FORMAT_BY_EXTENSION: Record<string, 'png' | 'jpeg' | 'webp' | 'tiff'> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
};

/** Writes an image atomically (a reader never sees a half-written file); format from the extension. */
export async function writeImage(file: string, image: WritableImage): Promise<void> {
  const format = FORMAT_BY_EXTENSION[path.extname(file).toLowerCase()];
  if (!format) throw new Error(`writeImage: ${file}: unsupported extension; use .png (or .jpg, .webp, .tif)`);
  await writeFileAtomic(file, await encodeImage(image, format));
}
