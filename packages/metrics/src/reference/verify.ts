import fs from 'node:fs';
import path from 'node:path';
import { evaluatePair } from '../evaluate';
import { tensor2img, type Uint8Image } from '../image';
import { readImageWithSharp, type ImageReader } from './decode';
import { loadCoreIo } from './core-io';

/** One checked quantity of a reference case (the row format every `srdiff verify` case returns). */
export interface VerifyRow {
  case: string;
  /** The tolerance key: `meta:<json path>` or `<file>:<tensor key>`. */
  key: string;
  /** The measured discrepancy, in the tolerance's `kind` (`abs`: |got - ref|; `rel`: scaled by |ref|). */
  error: number;
  tolerance: number;
  kind: 'abs' | 'rel';
  pass: boolean;
  got?: number;
  expected?: number;
  note?: string;
}

interface Tolerance {
  kind: 'abs' | 'rel';
  value: number;
}

interface MetricsMeta {
  crop_borders?: number[];
  results: Record<string, Record<string, number>>;
  tolerances: Record<string, Tolerance>;
  images?: Record<string, { shape_hwc?: number[] }>;
}

const METRIC_KEYS = { psnr: 'psnr', ssim: 'ssim', psnr_y: 'psnrY', ssim_y: 'ssimY' } as const;

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: invalid JSON (${(err as Error).message})`);
  }
}

function toleranceFor(meta: MetricsMeta, key: string, metaFile: string): Tolerance {
  const t = meta.tolerances?.[key];
  if (!t || (t.kind !== 'abs' && t.kind !== 'rel') || typeof t.value !== 'number') {
    throw new Error(`${metaFile}: no usable tolerance for "${key}" (expected tolerances["${key}"] = { kind: "abs" | "rel", value })`);
  }
  return t;
}

function scalarRow(key: string, got: number, expected: number, tol: Tolerance): VerifyRow {
  const diff = Math.abs(got - expected);
  const error = tol.kind === 'abs' ? diff : diff / Math.abs(expected);
  // Two infinite PSNRs (identical images) agree.
  const agree = got === expected || error <= tol.value;
  return { case: 'metrics', key, error: got === expected ? 0 : error, tolerance: tol.value, kind: tol.kind, pass: agree, got, expected };
}

/** test.py's input path for a stored PNG: uint8 → float32 /255 (the CHW tensor) → `tensor2img`. */
function throughTensor2img(img: Uint8Image): Uint8Image {
  const asFloat = Float32Array.from(img.data, (v) => v / 255);
  return { ...img, data: tensor2img(asFloat) };
}

async function readChecked(readImage: ImageReader, file: string, expectedHwc: number[] | undefined): Promise<Uint8Image> {
  if (!fs.existsSync(file)) throw new Error(`${file}: missing (a metrics reference folder needs meta.json, gt.png, restored.png, tensor2img.safetensors)`);
  const img = await readImage(file);
  if (img.channels !== 3) throw new Error(`${file}: expected an RGB image, got ${img.channels} channels`);
  if (expectedHwc && (expectedHwc[0] !== img.height || expectedHwc[1] !== img.width)) {
    throw new Error(`${file}: meta.json says ${expectedHwc[0]}×${expectedHwc[1]}, the file is ${img.height}×${img.width}`);
  }
  return img;
}

/**
 * Runs the `metrics/` parity case of a reference folder (layout of the PyTorch reference set's `metrics/`):
 * PSNR / SSIM / PSNR-Y / SSIM-Y of `restored.png` against `gt.png` at every crop in `meta.json`,
 * and `tensor2img` on the tie-heavy tensor of `tensor2img.safetensors`; tolerances come from
 * `meta.json` → `tolerances`. Returns one row per checked key.
 */
export async function verifyMetricsReference(dir: string, options: { readImage?: ImageReader } = {}): Promise<VerifyRow[]> {
  const readImage = options.readImage ?? readImageWithSharp;
  const metaFile = path.join(dir, 'meta.json');
  const meta = (await readJson(metaFile)) as MetricsMeta;
  if (!meta || typeof meta.results !== 'object' || typeof meta.tolerances !== 'object') {
    throw new Error(`${metaFile}: expected "results" and "tolerances" objects`);
  }
  const gt = throughTensor2img(await readChecked(readImage, path.join(dir, 'gt.png'), meta.images?.['gt.png']?.shape_hwc));
  const restored = throughTensor2img(await readChecked(readImage, path.join(dir, 'restored.png'), meta.images?.['restored.png']?.shape_hwc));

  const rows: VerifyRow[] = [];
  const crops = meta.crop_borders ?? Object.keys(meta.results).map(Number);
  for (const crop of crops) {
    const expected = meta.results[String(crop)];
    if (!expected) throw new Error(`${metaFile}: crop_borders lists ${crop} but results["${crop}"] is missing`);
    const got = evaluatePair(restored, gt, { cropBorder: crop });
    for (const [name, value] of Object.entries(expected)) {
      const key = `meta:results.${crop}.${name}`;
      const tol = toleranceFor(meta, key, metaFile);
      const ours = METRIC_KEYS[name as keyof typeof METRIC_KEYS];
      if (!ours) {
        rows.push({ case: 'metrics', key, error: NaN, tolerance: tol.value, kind: tol.kind, pass: false, expected: value, note: `unknown metric "${name}"` });
        continue;
      }
      rows.push(scalarRow(key, got[ours], value, tol));
    }
  }
  rows.push(await tensor2imgRow(dir, meta, metaFile));
  return rows;
}

async function tensor2imgRow(dir: string, meta: MetricsMeta, metaFile: string): Promise<VerifyRow> {
  const file = path.join(dir, 'tensor2img.safetensors');
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    throw new Error(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const { tensors } = (await loadCoreIo()).parseSafetensors(bytes, file);
  const input = tensors['input_chw_rgb'];
  const expected = tensors['expected_hwc_bgr'];
  if (!input || !expected) throw new Error(`${file}: expected tensors "input_chw_rgb" and "expected_hwc_bgr"`);
  const [c, h, w] = input.shape as [number, number, number];
  if (input.shape.length !== 3 || c !== 3 || expected.shape.join() !== [h, w, 3].join()) {
    throw new Error(`${file}: expected input [3, H, W] and output [H, W, 3], got [${input.shape}] and [${expected.shape}]`);
  }
  // Our tensor2img works on HWC RGB: lay the CHW input out that way, then compare in BGR order.
  const hwcRgb = new Float32Array(h * w * 3);
  for (let ch = 0; ch < 3; ch++) for (let i = 0; i < h * w; i++) hwcRgb[i * 3 + ch] = input.data[ch * h * w + i]!;
  const ours = tensor2img(hwcRgb);
  let maxErr = 0;
  for (let i = 0; i < h * w; i++) {
    for (let ch = 0; ch < 3; ch++) maxErr = Math.max(maxErr, Math.abs(ours[i * 3 + (2 - ch)]! - expected.data[i * 3 + ch]!));
  }
  const key = 'tensor2img.safetensors:expected_hwc_bgr';
  const tol = toleranceFor(meta, key, metaFile);
  return { case: 'metrics', key, error: maxErr, tolerance: tol.value, kind: tol.kind, pass: maxErr <= tol.value };
}
