import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { tempDir as coreTempDir } from '@srdiff/core/testing';

export function tempDir(prefix = 'srdiff-data-'): string {
  return coreTempDir(prefix);
}

/** 8-bit RGB pixels from a function of (x, y). */
export function rgbPixels(width: number, height: number, fn: (x: number, y: number) => [number, number, number]): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(fn(x, y), (y * width + x) * 3);
  return data;
}

/** Pixels that encode their own coordinates: R = x, G = y, B = tag. */
export function coordinatePixels(width: number, height: number, tag: number): Uint8Array {
  return rgbPixels(width, height, (x, y) => [x, y, tag]);
}

export async function writePng(file: string, width: number, height: number, data: Uint8Array, channels: 1 | 2 | 3 | 4 = 3): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const image = sharp(data, { raw: { width, height, channels } });
  await (channels <= 2 ? image.toColourspace('b-w') : image).png().toFile(file);
}

/** A small image with a given size (content irrelevant), any format by extension. */
export async function writeAny(file: string, width: number, height: number, seed = 1): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const data = rgbPixels(width, height, (x, y) => [(x * 7 + seed * 31) % 256, (y * 5 + seed) % 256, ((x + y) * 3) % 256]);
  await sharp(data, { raw: { width, height, channels: 3 } }).toFile(file);
}
