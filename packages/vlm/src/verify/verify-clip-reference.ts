import fs from 'node:fs';
import path from 'node:path';
import type { VerifyRow } from '@srdiff/core';
import { createClipExtractor, type ClipExtractor } from '../clip/clip-extractor';
import { decodeImage } from '../image/decode-image';
import type { PreprocessingMode } from '../options';
import { resizeTarget, type ClipPreprocessConfig } from '../preprocess/clip-image-processor';

/**
 * The parity check behind `srdiff verify` for a folder laid out like the reference `tiny-clip/`:
 * `expected.json` (Hugging Face Python outputs), `model/` (transformers.js layout) and the images
 * it names. Every image gives rows for the preprocessing, the model on our pixels, and the model
 * on the reference pixels (which isolates the model maths). Errors are max |ours − Python| (`abs`).
 */
export type { VerifyRow };

export interface VerifyClipOptions {
  /** Defaults to `'python'`, the mode whose parity is claimed. */
  preprocessing?: PreprocessingMode;
}

/** Tolerances of the reference README: float32 rounding for no-resize images, 1e-3 for resized ones (python mode). */
export const CLIP_TOLERANCES = {
  exact: 1e-5,
  resizedPython: 1e-3,
  // transformers.js resizes without antialiasing: the README measured 0.47 on pixels, 0.038 on hidden states.
  resizedTransformersJs: { pixel_values: 0.5, default: 0.05 },
} as const;

interface ReferenceTensor {
  shape: number[];
  data: number[];
}

interface ReferenceImage {
  name: string;
  file: string;
  width: number;
  height: number;
  pixel_values: ReferenceTensor;
  image_embeds: ReferenceTensor;
  last_hidden_state_cls: ReferenceTensor;
}

function readExpected(dir: string): ReferenceImage[] {
  const file = path.join(dir, 'expected.json');
  let json: { images?: unknown };
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as { images?: unknown };
  } catch (err) {
    throw new Error(`${file}: cannot read reference values (${(err as Error).message})`);
  }
  if (!Array.isArray(json.images) || json.images.length === 0) throw new Error(`${file}: expected a non-empty 'images' list`);
  for (const [i, img] of (json.images as Record<string, unknown>[]).entries()) {
    for (const key of ['name', 'file', 'width', 'height', 'pixel_values', 'image_embeds', 'last_hidden_state_cls']) {
      if (img[key] === undefined) throw new Error(`${file}: images[${i}] has no '${key}'`);
    }
  }
  return json.images as ReferenceImage[];
}

/** max |actual − expected|, the expected values read as float32 (they are stored as float32 decimals). */
export function maxAbsError(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): number {
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, reference has ${expected.length}`);
  let max = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = Math.abs(actual[i]! - Math.fround(expected[i]!));
    if (!(e <= max)) max = Number.isNaN(e) ? Infinity : e;
  }
  return max;
}

function needsResize(img: ReferenceImage, config: ClipPreprocessConfig): boolean {
  const [w, h] = config.doResize ? resizeTarget(img.width, img.height, config.size) : [img.width, img.height];
  const cropped = config.doCenterCrop ? [config.cropSize.width, config.cropSize.height] : [w, h];
  return w !== img.width || h !== img.height || cropped[0] !== img.width || cropped[1] !== img.height;
}

function tolerance(resized: boolean, mode: PreprocessingMode, key: string): number {
  if (!resized || key.includes('reference pixel_values')) return CLIP_TOLERANCES.exact;
  if (mode === 'python') return CLIP_TOLERANCES.resizedPython;
  return key === 'pixel_values' ? CLIP_TOLERANCES.resizedTransformersJs.pixel_values : CLIP_TOLERANCES.resizedTransformersJs.default;
}

function clsOf(lastHiddenState: { shape: number[]; data: Float32Array }, index: number): Float32Array {
  const [, tokens, hidden] = lastHiddenState.shape as [number, number, number];
  const start = index * tokens * hidden;
  return lastHiddenState.data.subarray(start, start + hidden);
}

async function verifyWith(extractor: ClipExtractor, dir: string, images: ReferenceImage[], mode: PreprocessingMode): Promise<VerifyRow[]> {
  const rows: VerifyRow[] = [];
  const caseName = (img: ReferenceImage) => `${path.basename(path.resolve(dir))}/${img.name}`;
  const add = (img: ReferenceImage, key: string, error: number) => {
    const tol = tolerance(needsResize(img, extractor.preprocessConfig), mode, key);
    rows.push({ case: caseName(img), key, error, tolerance: tol, kind: 'abs', pass: error <= tol });
  };
  const decoded = await Promise.all(images.map((img) => decodeImage(path.join(dir, img.file), path.join(dir, img.file))));
  for (const [i, img] of images.entries()) {
    const pixels = await extractor.preprocess([decoded[i]!]);
    add(img, 'pixel_values', maxAbsError(pixels.data, img.pixel_values.data, `${caseName(img)} pixel_values`));
    const out = await extractor.run(pixels);
    add(img, 'image_embeds', maxAbsError(out.image_embeds.data, img.image_embeds.data, `${caseName(img)} image_embeds`));
    add(img, 'last_hidden_state_cls', maxAbsError(clsOf(out.last_hidden_state, 0), img.last_hidden_state_cls.data, `${caseName(img)} last_hidden_state_cls`));
    const ref = await extractor.run({ shape: img.pixel_values.shape, data: Float32Array.from(img.pixel_values.data) });
    add(img, 'image_embeds (reference pixel_values)', maxAbsError(ref.image_embeds.data, img.image_embeds.data, `${caseName(img)} image_embeds`));
  }
  // One batch of all images must give what each gives alone.
  const batch = await extractor.run(await extractor.preprocess(decoded));
  const width = batch.image_embeds.shape[1]!;
  for (const [i, img] of images.entries()) {
    add(img, `image_embeds (batch of ${images.length})`, maxAbsError(batch.image_embeds.data.subarray(i * width, (i + 1) * width), img.image_embeds.data, `${caseName(img)} batched image_embeds`));
  }
  return rows;
}

/** Runs the CLIP parity case of a reference folder; see {@link VerifyRow}. Never downloads. */
export async function verifyClipReference(dir: string, options: VerifyClipOptions = {}): Promise<VerifyRow[]> {
  const mode = options.preprocessing ?? 'python';
  const images = readExpected(dir);
  const extractor = await createClipExtractor({ model: path.join(path.resolve(dir), 'model'), allowRemote: false, quantized: false, preprocessing: mode });
  try {
    return await verifyWith(extractor, dir, images, mode);
  } finally {
    await extractor.dispose();
  }
}
