import sharp, { type Sharp } from 'sharp';
import type { Uint8Image } from '../preprocess/pil-resample';
import { isRawPixels, isSharp, type ImageSource, type NhwcTensor } from './image-source';

/**
 * Decoding any supported input to 8-bit RGB, with the conversions Python's CLIP pipeline applies
 * (`PIL.Image.open(...).convert('RGB')`), made explicit:
 *
 * - grayscale → the gray value in all three channels (what PIL's L → RGB does);
 * - alpha → dropped, not composited: PIL's `convert('RGB')` discards the alpha band of RGBA and LA
 *   images, so transparent pixels keep their stored colour. Matching it keeps embeddings
 *   interchangeable with the Python tooling;
 * - 16-bit → the high byte (`v >> 8`). That is how Pillow reads 16-bit RGB(A) PNGs. For 16-bit
 *   *grayscale*, Pillow's `I;16 → RGB` conversion clips every value above 255 to white, which
 *   destroys the image; srdiff takes the high byte there too, so 16-bit gray images differ from
 *   what Pillow would produce (deliberately);
 * - EXIF orientation is not applied (neither `Image.open` nor the CLIP processor applies it), and
 *   embedded ICC profiles are not applied to 8-bit sRGB inputs.
 */

export class ImageDecodeError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = 'ImageDecodeError';
  }
}

/** Interleaved 8/16-bit samples with 1–4 channels → 8-bit RGB. */
export function toRgb8(data: ArrayLike<number>, width: number, height: number, channels: number, bitDepth: 8 | 16): Uint8Image {
  const pixels = width * height;
  if (data.length !== pixels * channels) {
    throw new Error(`expected ${width}x${height}x${channels} = ${pixels * channels} samples, got ${data.length}`);
  }
  if (channels < 1 || channels > 4) throw new Error(`unsupported channel count ${channels} (expected 1–4)`);
  const shift = bitDepth === 16 ? 8 : 0;
  const colour = channels >= 3;
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const base = p * channels;
    const r = data[base]! >> shift;
    out[p * 3] = r;
    out[p * 3 + 1] = colour ? data[base + 1]! >> shift : r;
    out[p * 3 + 2] = colour ? data[base + 2]! >> shift : r;
  }
  return { data: out, width, height, channels: 3 };
}

async function decodeWithSharp(image: Sharp): Promise<Uint8Image> {
  const meta = await image.metadata();
  const sixteenBit = meta.depth === 'ushort';
  const gray = meta.space === 'b-w' || meta.space === 'grey16';
  // Ask for the native depth and band layout, so the conversions above are ours, not implicit.
  const colourspace = gray ? (sixteenBit ? 'grey16' : 'b-w') : sixteenBit ? 'rgb16' : 'srgb';
  const { data, info } = await image
    .toColourspace(colourspace)
    .raw({ depth: sixteenBit ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  // A Uint16Array view needs an even byte offset; copy in the rare case sharp's buffer has none.
  const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
  const samples = sixteenBit ? new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2) : data;
  return toRgb8(samples, info.width, info.height, info.channels, sixteenBit ? 16 : 8);
}

export async function decodeImage(source: ImageSource, label: string): Promise<Uint8Image> {
  try {
    if (typeof source === 'string') return await decodeWithSharp(sharp(source));
    if (source instanceof Uint8Array) return await decodeWithSharp(sharp(source));
    if (isSharp(source)) return await decodeWithSharp(source.clone());
    if (isRawPixels(source)) {
      const bitDepth = source.data instanceof Uint16Array ? 16 : 8;
      return toRgb8(source.data, source.width, source.height, source.channels, bitDepth);
    }
  } catch (err) {
    const reason = (err as Error).message.replace(/\s+/g, ' ').trim();
    throw new ImageDecodeError(label, `cannot decode image (${reason})`);
  }
  throw new ImageDecodeError(label, 'unsupported input: expected a file path, an encoded image Buffer, a sharp instance or {data, width, height, channels}');
}

/**
 * NHWC float images in [0, 1] → 8-bit RGB, by round(v · 255) after clamping: the inverse of the
 * usual `/ 255`, so a tensor made from a decoded 8-bit image gives back exactly its pixels.
 */
export function tensorToImages(tensor: NhwcTensor, label = 'tensor'): Uint8Image[] {
  const shape = [...tensor.shape];
  if (shape.length === 3) shape.unshift(1);
  if (shape.length !== 4) throw new ImageDecodeError(label, `expected an NHWC tensor [N, H, W, C] or [H, W, C], got shape [${tensor.shape.join(', ')}]`);
  const [n, h, w, c] = shape as [number, number, number, number];
  if (![1, 2, 3, 4].includes(c)) throw new ImageDecodeError(label, `expected 1–4 channels (NHWC), got shape [${tensor.shape.join(', ')}]`);
  const values = 'dataSync' in tensor ? tensor.dataSync() : tensor.data;
  if (values.length !== n * h * w * c) throw new ImageDecodeError(label, `shape [${tensor.shape.join(', ')}] needs ${n * h * w * c} values, got ${values.length}`);
  const per = h * w * c;
  const images: Uint8Image[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = new Uint8Array(per);
    for (let j = 0; j < per; j++) {
      const v = values[i * per + j]!;
      if (Number.isNaN(v)) throw new ImageDecodeError(label, `image ${i} has a NaN value (flat index ${j})`);
      bytes[j] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    images.push(toRgb8(bytes, w, h, c, 8));
  }
  return images;
}
