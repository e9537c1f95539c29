import { PIL_FILTERS, pilResize, type PilFilter, type Uint8Image } from './pil-resample';

/**
 * Hugging Face's Python `CLIPImageProcessor` (the PIL path: 4.x "slow" processor, 5.x
 * `CLIPImageProcessorPil`), reproduced step by step on 8-bit RGB:
 *
 * 1. resize so the shortest edge is `size.shortest_edge`, the long edge `int(size · long / short)`
 *    (truncated), with Pillow's antialiased resampling on the uint8 image;
 * 2. centre crop to `crop_size`: offset `(in − crop) // 2`; a side smaller than the crop is padded
 *    with zeros, centred with the padding's odd pixel before the image (`ceil`);
 * 3. rescale `uint8 · rescale_factor` in float64, stored as float32;
 * 4. normalise `(x − mean) / std` in float32;
 * 5. HWC → CHW.
 */

export interface ClipPreprocessConfig {
  doResize: boolean;
  size: { shortestEdge: number } | { height: number; width: number };
  resample: PilFilter;
  doCenterCrop: boolean;
  cropSize: { height: number; width: number };
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

/** `CLIPImageProcessor`'s defaults (openai/clip-vit-base-patch32), used for keys a config omits. */
export const CLIP_PREPROCESS_DEFAULTS: ClipPreprocessConfig = {
  doResize: true,
  size: { shortestEdge: 224 },
  resample: 3,
  doCenterCrop: true,
  cropSize: { height: 224, width: 224 },
  doRescale: true,
  rescaleFactor: 1 / 255,
  doNormalize: true,
  imageMean: [0.48145466, 0.4578275, 0.40821073],
  imageStd: [0.26862954, 0.26130258, 0.27577711],
};

export function positiveInt(value: unknown, key: string, source: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`${source}: '${key}' must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function triple(value: unknown, key: string, source: string): [number, number, number] {
  const arr = typeof value === 'number' ? [value, value, value] : value;
  if (!Array.isArray(arr) || arr.length !== 3 || arr.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new Error(`${source}: '${key}' must be a number or 3 numbers (one per RGB channel), got ${JSON.stringify(value)}`);
  }
  return arr as [number, number, number];
}

export function flag(value: unknown, fallback: boolean, key: string, source: string): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new Error(`${source}: '${key}' must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** Reads a `preprocessor_config.json` object (old int sizes and new dict sizes both accepted). */
export function parseClipPreprocessConfig(raw: Record<string, unknown>, source = 'preprocessor_config.json'): ClipPreprocessConfig {
  const d = CLIP_PREPROCESS_DEFAULTS;
  let size = d.size;
  if (raw.size !== undefined && raw.size !== null) {
    // An int means the shortest edge for CLIP (HF's get_size_dict with default_to_square=False).
    const s = raw.size as Record<string, unknown> | number;
    if (typeof s === 'number') size = { shortestEdge: positiveInt(s, 'size', source) };
    else if (s.shortest_edge !== undefined) size = { shortestEdge: positiveInt(s.shortest_edge, 'size.shortest_edge', source) };
    else if (s.height !== undefined && s.width !== undefined) size = { height: positiveInt(s.height, 'size.height', source), width: positiveInt(s.width, 'size.width', source) };
    else throw new Error(`${source}: 'size' must be an int, {shortest_edge} or {height, width}, got ${JSON.stringify(s)}`);
  }
  let cropSize = d.cropSize;
  if (raw.crop_size !== undefined && raw.crop_size !== null) {
    const c = raw.crop_size as Record<string, unknown> | number;
    cropSize =
      typeof c === 'number'
        ? { height: positiveInt(c, 'crop_size', source), width: c }
        : { height: positiveInt(c.height, 'crop_size.height', source), width: positiveInt(c.width, 'crop_size.width', source) };
  }
  const resample = raw.resample ?? d.resample;
  if (typeof resample !== 'number' || !(resample in PIL_FILTERS)) {
    throw new Error(`${source}: 'resample' ${JSON.stringify(resample)} is not supported (use ${Object.entries(PIL_FILTERS).map(([k, f]) => `${k} = ${f.name}`).join(', ')})`);
  }
  const rescaleFactor = raw.rescale_factor ?? d.rescaleFactor;
  if (typeof rescaleFactor !== 'number' || !(rescaleFactor > 0)) throw new Error(`${source}: 'rescale_factor' must be a positive number, got ${JSON.stringify(rescaleFactor)}`);
  if (raw.do_convert_rgb === false) throw new Error(`${source}: do_convert_rgb false is not supported (CLIP takes RGB input)`);
  return {
    doResize: flag(raw.do_resize, d.doResize, 'do_resize', source),
    size,
    resample: resample as PilFilter,
    doCenterCrop: flag(raw.do_center_crop, d.doCenterCrop, 'do_center_crop', source),
    cropSize,
    doRescale: flag(raw.do_rescale, d.doRescale, 'do_rescale', source),
    rescaleFactor,
    doNormalize: flag(raw.do_normalize, d.doNormalize, 'do_normalize', source),
    imageMean: raw.image_mean === undefined ? d.imageMean : triple(raw.image_mean, 'image_mean', source),
    imageStd: raw.image_std === undefined ? d.imageStd : triple(raw.image_std, 'image_std', source),
  };
}

/** HF's get_resize_output_image_size with default_to_square=False: `[width, height]`. */
export function resizeTarget(width: number, height: number, size: ClipPreprocessConfig['size']): [number, number] {
  if (!('shortestEdge' in size)) return [size.width, size.height];
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newLong = Math.trunc((size.shortestEdge * long) / short);
  return width <= height ? [size.shortestEdge, newLong] : [newLong, size.shortestEdge];
}

/** HF's `center_crop` on a uint8 HWC image, zero-padding sides smaller than the crop. */
export function centerCrop(image: Uint8Image, cropWidth: number, cropHeight: number): Uint8Image {
  const { width, height, channels } = image;
  // Python's floor division; for an image smaller than the crop this is negative and becomes the pad.
  const top = Math.floor((height - cropHeight) / 2);
  const left = Math.floor((width - cropWidth) / 2);
  const padTop = height < cropHeight ? Math.ceil((cropHeight - height) / 2) : 0;
  const padLeft = width < cropWidth ? Math.ceil((cropWidth - width) / 2) : 0;
  const out = new Uint8Array(cropWidth * cropHeight * channels);
  for (let y = 0; y < cropHeight; y++) {
    const ySrc = height < cropHeight ? y - padTop : y + top;
    if (ySrc < 0 || ySrc >= height) continue;
    for (let x = 0; x < cropWidth; x++) {
      const xSrc = width < cropWidth ? x - padLeft : x + left;
      if (xSrc < 0 || xSrc >= width) continue;
      for (let c = 0; c < channels; c++) out[(y * cropWidth + x) * channels + c] = image.data[(ySrc * width + xSrc) * channels + c]!;
    }
  }
  return { data: out, width: cropWidth, height: cropHeight, channels };
}

/** Resize + crop on 8-bit RGB, as the processor does before any float maths. */
export function clipResizeAndCrop(image: Uint8Image, config: ClipPreprocessConfig): Uint8Image {
  let img = image;
  if (config.doResize) {
    const [w, h] = resizeTarget(img.width, img.height, config.size);
    img = pilResize(img, w, h, config.resample);
  }
  if (config.doCenterCrop) img = centerCrop(img, config.cropSize.width, config.cropSize.height);
  return img;
}

/** Rescale, normalise and transpose to CHW float32, writing into `out` at `offset`. */
export function clipNormalizeInto(
  image: Uint8Image,
  config: Pick<ClipPreprocessConfig, 'doRescale' | 'rescaleFactor' | 'doNormalize' | 'imageMean' | 'imageStd'>,
  out: Float32Array,
  offset = 0,
): void {
  const { width, height } = image;
  const plane = width * height;
  const mean = config.imageMean.map(Math.fround);
  const std = config.imageStd.map(Math.fround);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = image.data[p * 3 + c]!;
      if (config.doRescale) v = Math.fround(v * config.rescaleFactor);
      // numpy float32 arithmetic: each operation rounded to float32.
      if (config.doNormalize) v = Math.fround(Math.fround(v - mean[c]!) / std[c]!);
      out[offset + c * plane + p] = v;
    }
  }
}

/** The processor's `pixel_values` for a batch of 8-bit RGB images: NCHW float32. */
export function clipPixelValues(images: readonly Uint8Image[], config: ClipPreprocessConfig): { data: Float32Array; dims: [number, number, number, number] } {
  const prepared = images.map((img) => clipResizeAndCrop(img, config));
  const { width, height } = prepared[0] ?? { width: 0, height: 0 };
  for (const [i, img] of prepared.entries()) {
    if (img.width !== width || img.height !== height) {
      throw new Error(`image ${i} preprocesses to ${img.width}x${img.height}, image 0 to ${width}x${height}: enable do_center_crop or use a fixed size to batch them`);
    }
  }
  const data = new Float32Array(prepared.length * 3 * width * height);
  prepared.forEach((img, i) => clipNormalizeInto(img, config, data, i * 3 * width * height));
  return { data, dims: [prepared.length, 3, height, width] };
}
