import { flag, positiveInt, triple, clipNormalizeInto } from './clip-image-processor';
import { PIL_FILTERS, pilResize, type PilFilter, type Uint8Image } from './pil-resample';
import { torchAntialiasedResize, type TorchAntialiasFilter } from './torch-resample';

/**
 * Hugging Face's `BlipImageProcessor` on 8-bit RGB (the image is already `convert('RGB')`-ed):
 * resize straight to `size.height × size.width` (aspect ratio not kept, no crop), rescale,
 * normalise, HWC → CHW.
 *
 * Two ways to resize, because the original's `BlipProcessor.from_pretrained(..., use_fast=True)`
 * means different code on different transformers versions:
 * - `'slow'` (default): `BlipImageProcessor`, the only processor of transformers ≤ 4.49 (the
 *   original's requirements pin 4.30): Pillow's bicubic on the uint8 image, rounded after each
 *   pass (reproduced bit for bit by {@link pilResize}), then `float32(u8 · rescale_factor)` and
 *   `(x − mean) / std` in float32.
 * - `'fast'`: `BlipImageProcessorFast`, which `use_fast=True` selects from transformers 4.50,
 *   with torchvision < 0.16: torchvision's antialiased bicubic on float32 without rounding between
 *   passes, clamp, round half to even ({@link torchAntialiasedResize}), then rescale and normalise
 *   fused as `(x − mean/rescale_factor) / (std/rescale_factor)` in float32. Newer torchvision
 *   resizes uint8 with a native kernel that tracks Pillow within about one level, i.e. close to
 *   `'slow'`.
 */
export type BlipPreprocessing = 'slow' | 'fast';

export interface BlipPreprocessConfig {
  doResize: boolean;
  size: { height: number; width: number };
  resample: PilFilter;
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

/** `BlipImageProcessor.__init__` defaults (transformers `image_processing_blip.py`), for keys a config omits. */
export const BLIP_PREPROCESS_DEFAULTS: BlipPreprocessConfig = {
  doResize: true,
  size: { height: 384, width: 384 },
  resample: 3,
  doRescale: true,
  rescaleFactor: 1 / 255,
  doNormalize: true,
  // OPENAI_CLIP_MEAN / OPENAI_CLIP_STD
  imageMean: [0.48145466, 0.4578275, 0.40821073],
  imageStd: [0.26862954, 0.26130258, 0.27577711],
};

/** Reads a BLIP `preprocessor_config.json` object (an int `size` means a square, as `get_size_dict` does for BLIP). */
export function parseBlipPreprocessConfig(raw: Record<string, unknown>, source = 'preprocessor_config.json'): BlipPreprocessConfig {
  const d = BLIP_PREPROCESS_DEFAULTS;
  let size = d.size;
  if (raw.size !== undefined && raw.size !== null) {
    const s = raw.size as Record<string, unknown> | number;
    if (typeof s === 'number') size = { height: positiveInt(s, 'size', source), width: s };
    else if (s.height !== undefined && s.width !== undefined) size = { height: positiveInt(s.height, 'size.height', source), width: positiveInt(s.width, 'size.width', source) };
    else throw new Error(`${source}: 'size' must be an int or {height, width} for BLIP, got ${JSON.stringify(s)}`);
  }
  const resample = raw.resample ?? d.resample;
  if (typeof resample !== 'number' || !(resample in PIL_FILTERS)) {
    throw new Error(`${source}: 'resample' ${JSON.stringify(resample)} is not supported (use ${Object.entries(PIL_FILTERS).map(([k, f]) => `${k} = ${f.name}`).join(', ')})`);
  }
  const rescaleFactor = raw.rescale_factor ?? d.rescaleFactor;
  if (typeof rescaleFactor !== 'number' || !(rescaleFactor > 0)) throw new Error(`${source}: 'rescale_factor' must be a positive number, got ${JSON.stringify(rescaleFactor)}`);
  if (raw.do_convert_rgb === false) throw new Error(`${source}: do_convert_rgb false is not supported (BLIP takes RGB input)`);
  return {
    doResize: flag(raw.do_resize, d.doResize, 'do_resize', source),
    size,
    resample: resample as PilFilter,
    doRescale: flag(raw.do_rescale, d.doRescale, 'do_rescale', source),
    rescaleFactor,
    doNormalize: flag(raw.do_normalize, d.doNormalize, 'do_normalize', source),
    imageMean: raw.image_mean === undefined ? d.imageMean : triple(raw.image_mean, 'image_mean', source),
    imageStd: raw.image_std === undefined ? d.imageStd : triple(raw.image_std, 'image_std', source),
  };
}

/** The resize step alone: the uint8 image the model's pixels come from. */
export function blipResize(image: Uint8Image, config: BlipPreprocessConfig, mode: BlipPreprocessing = 'slow'): Uint8Image {
  if (!config.doResize) return image;
  const { width, height } = config.size;
  if (mode === 'slow') return pilResize(image, width, height, config.resample);
  if (config.resample !== 2 && config.resample !== 3) throw new Error(`BLIP fast preprocessing: resample ${config.resample} has no torchvision antialiased kernel (2 = bilinear, 3 = bicubic)`);
  return torchAntialiasedResize(image, width, height, config.resample as TorchAntialiasFilter);
}

/** The fast processor's fused rescale + normalise: `(x − mean/r) / (std/r)`, with mean and std as float32 tensors scaled in float32. */
function fastNormalizeInto(image: Uint8Image, config: BlipPreprocessConfig, out: Float32Array, offset: number): void {
  const plane = image.width * image.height;
  const scale = config.doRescale ? 1 / config.rescaleFactor : 1;
  const mean = config.imageMean.map((m) => (config.doNormalize ? Math.fround(Math.fround(m) * scale) : 0));
  const std = config.imageStd.map((s) => (config.doNormalize ? Math.fround(Math.fround(s) * scale) : 1));
  const rescaleOnly = config.doRescale && !config.doNormalize ? Math.fround(config.rescaleFactor) : 1;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = image.data[p * 3 + c]!;
      out[offset + c * plane + p] = config.doNormalize ? Math.fround(Math.fround(v - mean[c]!) / std[c]!) : Math.fround(v * rescaleOnly);
    }
  }
}

/** `pixel_values` `[N, 3, height, width]` (float32, NCHW) for a batch of 8-bit RGB images. */
export function blipPixelValues(images: readonly Uint8Image[], config: BlipPreprocessConfig, mode: BlipPreprocessing = 'slow'): { data: Float32Array; dims: [number, number, number, number] } {
  const resized = images.map((img) => blipResize(img, config, mode));
  const { width, height } = resized[0] ?? config.size;
  for (const [i, img] of resized.entries()) {
    if (img.channels !== 3) throw new Error(`BLIP preprocessing: image ${i} has ${img.channels} channels; decode it to RGB first`);
    if (img.width !== width || img.height !== height) throw new Error(`BLIP preprocessing: image ${i} is ${img.width}x${img.height}, image 0 ${width}x${height}; with do_resize false every image must have the same size`);
  }
  const per = 3 * width * height;
  const data = new Float32Array(resized.length * per);
  resized.forEach((img, i) => (mode === 'slow' ? clipNormalizeInto(img, config, data, i * per) : fastNormalizeInto(img, config, data, i * per)));
  return { data, dims: [resized.length, 3, height, width] };
}
