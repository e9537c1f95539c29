import fs from 'node:fs';
import path from 'node:path';
import { Rng, writeFileAtomic, type HostTensor } from '@srdiff/core';
import { psnr } from '@srdiff/metrics';
import { mixSeed } from '../dataset/loader';
import { isImageFile } from '../io/formats';
import { readImage } from '../io/decode';
import { writeImage } from '../io/write';
import { degrade, DEGRADATION_TASKS, type DegradationOptions, type DegradationTask } from './index';

export interface BuildDatasetOptions {
  /** Tasks to synthesise (default all four). */
  tasks?: DegradationTask[];
  /** Degraded versions per clean image and task (default 1). */
  perImage?: number;
  /** Crop a random `patchSize` square (smaller where the image is) from each clean image before degrading; default: whole images. */
  patchSize?: number;
  seed?: number;
  /** Fraction of the clean images held out for `val/` (default 0.2; at least one each way when there are ≥ 2 images). */
  valFraction?: number;
  /** Per-task parameter ranges (see each degradation's options). */
  degradations?: DegradationOptions;
  /** Replace existing `train/<task>` / `val/<task>` folders of the generated tasks (default false: refuse). */
  overwrite?: boolean;
  onProgress?: (progress: { done: number; total: number; file: string }) => void;
  signal?: AbortSignal;
}

export interface PsnrStats {
  mean: number;
  min: number;
  max: number;
  count: number;
}

export interface BuiltDataset {
  outDir: string;
  pairs: number;
  counts: Record<'train' | 'val', Record<string, number>>;
  /** PSNR (dB, 8-bit, no crop) of each LQ against its GT, per task. */
  psnr: Record<string, PsnrStats>;
  manifest: string;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function cropImage(img: HostTensor, top: number, left: number, h: number, w: number): HostTensor {
  const width = img.shape[2]!;
  const data = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((top + y) * width + left) * 3, ((top + y) * width + left + w) * 3), y * w * 3);
  return { shape: [1, h, w, 3], data };
}

const SPLIT_STREAM = 0x73706c74; // 'splt'

/**
 * Builds a paired dataset in the standard layout from clean images:
 * `outDir/{train,val}/<task>/{LQ,GT}/<name>.png` (+ `outDir/manifest.json` with every drawn
 * parameter). Clean images are split into train / val once (the same split for every task, so no
 * clean image leaks across). Every output depends only on `(seed, task, image name, k)`, so the
 * result is the same whatever the order, the task list or the machine.
 */
export async function buildDegradedDataset(cleanDir: string, outDir: string, options: BuildDatasetOptions = {}): Promise<BuiltDataset> {
  const tasks = options.tasks ?? [...DEGRADATION_TASKS];
  const perImage = options.perImage ?? 1;
  const seed = options.seed ?? 0;
  const valFraction = options.valFraction ?? 0.2;
  for (const t of tasks) if (!DEGRADATION_TASKS.includes(t)) throw new Error(`buildDegradedDataset: unknown task "${t}"; expected ${DEGRADATION_TASKS.join(', ')}`);
  if (!Number.isInteger(perImage) || perImage < 1) throw new Error(`buildDegradedDataset: perImage must be a positive integer, got ${perImage}`);
  if (options.patchSize !== undefined && (!Number.isInteger(options.patchSize) || options.patchSize < 1)) {
    throw new Error(`buildDegradedDataset: patchSize must be a positive integer, got ${options.patchSize}`);
  }
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`buildDegradedDataset: valFraction must be in [0, 1), got ${valFraction}`);

  let files: string[];
  try {
    files = fs.readdirSync(cleanDir).filter((f) => !f.startsWith('.') && isImageFile(f)).sort();
  } catch (err) {
    throw new Error(`buildDegradedDataset: cannot read clean folder ${cleanDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (files.length === 0) throw new Error(`buildDegradedDataset: no images in ${cleanDir}`);
  const stems = files.map((f) => path.basename(f, path.extname(f)));
  const dup = stems.find((s, i) => stems.indexOf(s) !== i);
  if (dup) throw new Error(`buildDegradedDataset: two clean images named "${dup}" in ${cleanDir}`);

  const nVal = valFraction > 0 && files.length >= 2 ? Math.min(files.length - 1, Math.max(1, Math.round(files.length * valFraction))) : 0;
  const valSet = new Set(new Rng(mixSeed(seed, SPLIT_STREAM)).permutation(files.length).slice(0, nVal));

  for (const split of ['train', 'val']) {
    for (const task of tasks) {
      const dir = path.join(outDir, split, task);
      if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
        if (!options.overwrite) throw new Error(`buildDegradedDataset: ${dir} already exists; pass overwrite: true (--overwrite) to replace it`);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  const counts: BuiltDataset['counts'] = { train: {}, val: {} };
  const psnrs: Record<string, number[]> = {};
  const items: unknown[] = [];
  const total = files.length * tasks.length * perImage;
  let done = 0;
  for (let f = 0; f < files.length; f++) {
    const file = path.join(cleanDir, files[f]!);
    const split = valSet.has(f) ? 'val' : 'train';
    const clean = await readImage(file);
    const [height, width] = [clean.shape[1]!, clean.shape[2]!];
    for (const task of tasks) {
      for (let k = 0; k < perImage; k++) {
        options.signal?.throwIfAborted();
        const rng = new Rng(mixSeed(seed, hashString(task), hashString(stems[f]!), k));
        let gt: HostTensor = clean;
        let crop: number[] | undefined;
        if (options.patchSize) {
          const ph = Math.min(options.patchSize, height);
          const pw = Math.min(options.patchSize, width);
          const top = rng.int(0, height - ph);
          const left = rng.int(0, width - pw);
          gt = cropImage(clean, top, left, ph, pw);
          crop = [top, left, ph, pw];
        }
        const { image: lq, params } = degrade(task, gt, rng, options.degradations);
        const name = perImage === 1 ? stems[f]! : `${stems[f]}_${String(k).padStart(2, '0')}`;
        const taskDir = path.join(outDir, split, task);
        await Promise.all([writeImage(path.join(taskDir, 'GT', `${name}.png`), gt), writeImage(path.join(taskDir, 'LQ', `${name}.png`), lq)]);
        const shape = gt.shape.slice(1) as [number, number, number];
        const value = psnr({ height: shape[0], width: shape[1], channels: 3, data: lq.data }, { height: shape[0], width: shape[1], channels: 3, data: gt.data });
        (psnrs[task] ??= []).push(value);
        counts[split][task] = (counts[split][task] ?? 0) + 1;
        items.push({ split, task, name, source: files[f], crop, params, psnr: value });
        done += 1; // outside the optional call: `?.` would skip evaluating its arguments
        options.onProgress?.({ done, total, file: path.join(taskDir, 'LQ', `${name}.png`) });
      }
    }
  }

  const psnrStats: BuiltDataset['psnr'] = {};
  for (const [task, values] of Object.entries(psnrs)) {
    psnrStats[task] = { mean: values.reduce((a, b) => a + b, 0) / values.length, min: Math.min(...values), max: Math.max(...values), count: values.length };
  }
  const manifest = path.join(outDir, 'manifest.json');
  const record = { generator: '@srdiff/data buildDegradedDataset', seed, tasks, perImage, patchSize: options.patchSize ?? null, valFraction, degradations: options.degradations ?? {}, cleanDir: path.resolve(cleanDir), psnr: psnrStats, items };
  await writeFileAtomic(manifest, `${JSON.stringify(record, null, 1)}\n`);
  return { outDir, pairs: done, counts, psnr: psnrStats, manifest };
}
