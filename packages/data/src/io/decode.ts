import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Metadata, type Sharp } from 'sharp';
import type { HostTensor } from '@srdiff/core';
import { decodeBmp, isBmp } from './bmp';
import { rawToFloat } from './pixels';

// 8/16-bit pixels to float (pixels.ts) are shared with the browser's ImageData helpers.
export { rawToFloat } from './pixels';

/**
 * Image decoding with sharp (libvips). Every image becomes 3-channel RGB:
 * - EXIF orientation is applied (the stored pixels are rotated/flipped upright);
 * - gray (and gray + alpha) images are replicated to 3 channels (R = G = B), because the networks
 *   take RGB and the original would otherwise feed a 1-channel array into a 3-channel model;
 * - alpha is dropped (`alpha: 'drop'`, the default — what the original's `cv2.imread` +
 *   `img[:, :, :3]` does; colour under transparent pixels is kept as stored) or composited over a
 *   background (`alpha: 'composite'`, default white — what an image viewer shows);
 * - 16-bit images keep 16 bits (values / 65535; the original divides them by 255, a bug);
 * - animated GIF / multi-page TIFF: the first frame / page;
 * - BMP through a small built-in decoder (uncompressed 8/24/32-bit).
 */
export interface DecodeOptions {
  alpha?: 'drop' | 'composite';
  /** Background for `alpha: 'composite'`, RGB in [0, 1]. Default white. */
  background?: [number, number, number];
}

/** Decoded pixels before conversion to float: HWC RGB, 8- or 16-bit. */
export interface RawImage {
  width: number;
  height: number;
  bitDepth: 8 | 16;
  /** `height * width * 3` values. */
  data: Uint8Array | Uint16Array;
}

/** What the file was, before normalisation to RGB. */
export interface ImageInfo {
  file: string;
  format: string;
  /** Size after EXIF orientation. */
  width: number;
  height: number;
  channels: number;
  bitDepth: 8 | 16;
  hasAlpha: boolean;
  /** EXIF orientation tag (1 = upright). */
  orientation: number;
  /** Frames / pages in the file (only the first is read). */
  pages: number;
}

/** A decoded image as an NHWC host tensor `[1, H, W, 3]` in [0, 1], with its provenance. */
export interface DecodedImage extends HostTensor {
  info: ImageInfo;
  alpha: 'none' | 'dropped' | 'composited';
}

const WIDE_DEPTHS = new Set(['ushort', 'short', 'uint', 'int', 'float', 'double']);

async function readBytes(file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (err) {
    throw new Error(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** BMP, which libvips cannot read, decoded here into a raw sharp input. */
async function openBmp(file: string): Promise<{ image: Sharp; format: string } | undefined> {
  const bytes = await readBytes(file);
  if (!isBmp(bytes)) return undefined;
  const bmp = decodeBmp(bytes, file);
  return { image: sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: bmp.channels } }), format: 'bmp' };
}

/**
 * Runs `use` on a sharp pipeline for the file. sharp reads the file itself (in its worker thread,
 * so a decode needs no extra round trip through the JS thread); `.bmp` files, and files libvips
 * does not recognise but that turn out to be BMP, go through the built-in decoder.
 */
async function withImage<T>(file: string, use: (image: Sharp, format?: string) => Promise<T>): Promise<T> {
  try {
    if (path.extname(file).toLowerCase() === '.bmp') {
      const bmp = await openBmp(file);
      if (bmp) return await use(bmp.image, bmp.format);
    }
    try {
      return await use(sharp(file, { pages: 1 }));
    } catch (err) {
      const message = (err as Error).message;
      if (/Input file is missing/.test(message)) throw new Error(`${file}: cannot read (ENOENT)`);
      const bmp = /unsupported image format/.test(message) ? await openBmp(file) : undefined;
      if (!bmp) throw err;
      return await use(bmp.image, bmp.format);
    }
  } catch (err) {
    const message = (err as Error).message;
    throw new Error(message.startsWith(file) ? message : `${file}: cannot decode image (${message})`);
  }
}

function describe(file: string, meta: Metadata, format: string | undefined): ImageInfo {
  const orientation = meta.orientation ?? 1;
  const swap = orientation >= 5 && orientation <= 8;
  return {
    file,
    format: format ?? meta.format ?? 'unknown',
    width: swap ? meta.height! : meta.width!,
    height: swap ? meta.width! : meta.height!,
    channels: meta.channels ?? 3,
    bitDepth: WIDE_DEPTHS.has(meta.depth ?? 'uchar') ? 16 : 8,
    hasAlpha: !!meta.hasAlpha,
    orientation,
    pages: meta.pages ?? 1,
  };
}

/** Header information only (fast: no pixel decoding). */
export async function readImageInfo(file: string): Promise<ImageInfo> {
  return withImage(file, async (image, format) => describe(file, await image.metadata(), format));
}

/**
 * Decodes to 8- or 16-bit RGB (see {@link DecodeOptions} for what is normalised and how).
 * `known` (the file's {@link ImageInfo}, e.g. from discovery) saves reading the header first.
 */
export async function readRawImage(file: string, options: DecodeOptions = {}, known?: ImageInfo): Promise<{ raw: RawImage; info: ImageInfo; alpha: DecodedImage['alpha'] }> {
  return withImage(file, async (image, format) => {
    const info = known ?? describe(file, await image.metadata(), format);
    let pipeline = image.rotate();
    let alpha: DecodedImage['alpha'] = 'none';
    if (info.hasAlpha) {
      if ((options.alpha ?? 'drop') === 'composite') {
        const [r, g, b] = (options.background ?? [1, 1, 1]).map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
        pipeline = pipeline.flatten({ background: { r: r!, g: g!, b: b! } });
        alpha = 'composited';
      } else {
        pipeline = pipeline.removeAlpha();
        alpha = 'dropped';
      }
    }
    const sixteen = info.bitDepth === 16;
    pipeline = sixteen ? pipeline.toColourspace('rgb16').raw({ depth: 'ushort' }) : pipeline.toColourspace('srgb').raw();
    const { data, info: out } = await pipeline.toBuffer({ resolveWithObject: true });
    if (out.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${out.channels}`);
    const pixels = sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { raw: { width: out.width, height: out.height, bitDepth: sixteen ? 16 : 8, data: pixels }, info, alpha };
  });
}

/** Reads an image as an NHWC `[1, H, W, 3]` float32 host tensor in [0, 1]. */
export async function readImage(file: string, options: DecodeOptions = {}): Promise<DecodedImage> {
  const { raw, info, alpha } = await readRawImage(file, options);
  return { shape: [1, raw.height, raw.width, 3], data: rawToFloat(raw), info, alpha };
}
