import type { Uint8Image } from './image';

/**
 * Float64 planes in the value scale `test.py` measures on ([0, 255]), built with the original's
 * exact arithmetic: `img = uint8 / 255.0`, crop, then `* 255` (so values are not always exact
 * integers, as in the original).
 */
export interface Planes {
  width: number;
  height: number;
  /** One Float64Array (height × width, row-major) per channel. */
  planes: Float64Array[];
}

function checkCrop(img: Uint8Image, cropBorder: number): void {
  if (!Number.isInteger(cropBorder) || cropBorder < 0) throw new Error(`cropBorder must be a non-negative integer, got ${cropBorder}`);
  if (img.width <= 2 * cropBorder || img.height <= 2 * cropBorder) {
    throw new Error(`cropBorder ${cropBorder} leaves nothing of a ${img.height}×${img.width} image`);
  }
}

/** Per-channel planes of the cropped image (channel order as stored: RGB). */
export function channelPlanes(img: Uint8Image, cropBorder: number): Planes {
  checkCrop(img, cropBorder);
  const { width, channels, data } = img;
  const w = width - 2 * cropBorder;
  const h = img.height - 2 * cropBorder;
  const planes = Array.from({ length: channels }, () => new Float64Array(w * h));
  for (let y = 0; y < h; y++) {
    let src = ((y + cropBorder) * width + cropBorder) * channels;
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < channels; c++) planes[c]![y * w + x] = (data[src + c]! / 255) * 255;
      src += channels;
    }
  }
  return { width: w, height: h, planes };
}

/**
 * The luma plane of `bgr2ycbcr(img, only_y=True)` (ITU-R BT.601, the IR-SDE / DA-CLIP formula the
 * original imports) on `img = uint8 / 255.0`, cropped, times 255:
 * `Y = ((B·255)·24.966 + (G·255)·128.553 + (R·255)·65.481) / 255 + 16`, then `/ 255`, then `· 255`.
 */
export function lumaPlane(img: Uint8Image, cropBorder: number): Planes {
  if (img.channels !== 3) throw new Error(`lumaPlane: needs 3 channels, got ${img.channels}`);
  checkCrop(img, cropBorder);
  const { width, data } = img;
  const w = width - 2 * cropBorder;
  const h = img.height - 2 * cropBorder;
  const plane = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    let src = ((y + cropBorder) * width + cropBorder) * 3;
    for (let x = 0; x < w; x++) {
      const r = (data[src]! / 255) * 255;
      const g = (data[src + 1]! / 255) * 255;
      const b = (data[src + 2]! / 255) * 255;
      const luma = (b * 24.966 + g * 128.553 + r * 65.481) / 255 + 16;
      plane[y * w + x] = (luma / 255) * 255;
      src += 3;
    }
  }
  return { width: w, height: h, planes: [plane] };
}

const abs = Math.abs;

/** Compensated (Neumaier) sum: keeps means of large images at float64 accuracy. */
export class Accumulator {
  private sum = 0;
  private compensation = 0;

  add(v: number): void {
    const t = this.sum + v;
    if (abs(this.sum) >= abs(v)) this.compensation += this.sum - t + v;
    else this.compensation += v - t + this.sum;
    this.sum = t;
  }

  value(): number {
    return this.sum + this.compensation;
  }
}
