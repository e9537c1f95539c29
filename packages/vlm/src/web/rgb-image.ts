import type { RgbImage } from '../embedder';

/**
 * The 8-bit RGB image the VLMs' preprocessing takes, from a page's RGBA pixels (`ImageData`):
 * alpha dropped, as Node's decoder does (PIL's `convert('RGB')`).
 */
export function rgbFromImageData(image: { width: number; height: number; data: Uint8ClampedArray | Uint8Array }): RgbImage {
  const { width, height, data } = image;
  if (data.length !== width * height * 4) throw new Error(`rgbFromImageData: ${width}×${height} RGBA needs ${width * height * 4} bytes, got ${data.length}`);
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, i = 0, o = 0; p < width * height; p++, i += 4, o += 3) {
    rgb[o] = data[i]!;
    rgb[o + 1] = data[i + 1]!;
    rgb[o + 2] = data[i + 2]!;
  }
  return { width, height, channels: 3, data: rgb };
}
