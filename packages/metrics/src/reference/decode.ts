import { createRequire } from 'node:module';
import path from 'node:path';
import type { Uint8Image } from '../image';

/** Reads an image file into 8-bit HWC RGB. */
export type ImageReader = (file: string) => Promise<Uint8Image>;

type SharpFactory = (input: string) => {
  removeAlpha(): ReturnType<SharpFactory>;
  toColourspace(space: string): ReturnType<SharpFactory>;
  raw(): ReturnType<SharpFactory>;
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>;
};

/**
 * Loads `sharp` (an optional peer dependency of this package) only when a file has to be decoded,
 * so the metric functions themselves stay dependency-free. Resolved from this package (the ESM
 * build gets `__filename` from tsup's shims), then from the working directory.
 */
function loadSharp(): SharpFactory {
  const candidates: NodeJS.Require[] = [];
  if (typeof __filename === 'string' && __filename) candidates.push(createRequire(__filename));
  candidates.push(createRequire(path.join(process.cwd(), 'noop.js')));
  for (const req of candidates) {
    try {
      return req('sharp') as SharpFactory;
    } catch {
      /* try the next resolution base */
    }
  }
  throw new Error('@srdiff/metrics: reading PNG files needs the optional peer dependency "sharp" (npm install sharp), or pass { readImage } yourself');
}

/** Default {@link ImageReader}: sharp, alpha dropped, converted to 8-bit sRGB. */
export const readImageWithSharp: ImageReader = async (file) => {
  const sharp = loadSharp();
  try {
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    throw new Error(`${file}: cannot decode image (${(err as Error).message})`);
  }
};
