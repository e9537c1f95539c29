/**
 * The two training engines of `srdiff train` are interchangeable: from the same weights and the
 * same data stream, 50 steps on ONNX Runtime and on tfjs give the same loss curve within float
 * tolerance, and a run checkpointed on one engine resumes on the other.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensors, Rng, writeNpy } from '@srdiff/core';
import { buildDegradedDataset, bundledCleanImagesDir } from '@srdiff/data';
import { loadOptions } from '../src/options/load-options';
import { TRAIN_OPTIONS_SCHEMA, type TrainOptions } from '../src/options/train-options';
import { trainDiffusion, type TrainEvent } from '../src/training/train-diffusion';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-engines-'));
const data = path.join(tmp, 'data');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await buildDegradedDataset(bundledCleanImagesDir(), data, { tasks: ['low-light'], perImage: 1, patchSize: 32, valFraction: 0, seed: 3 });
  // A semantic context per image, so the cross-attention path trains too.
  const rng = new Rng(5);
  const lqDir = path.join(data, 'train', 'low-light', 'LQ');
  for (const f of fs.readdirSync(lqDir)) {
    await writeNpy(path.join(data, 'train', 'low-light', 'RestoreCLS', f.replace(/\.png$/, '.npy')), { shape: [16], data: rng.normalArray(16) });
  }
});

const STEPS = 50;
const options = (engine: 'onnx' | 'tfjs', run: string, extra: Record<string, unknown> = {}): TrainOptions =>
  loadOptions<TrainOptions>(TRAIN_OPTIONS_SCHEMA, undefined, {
    name: 'engines',
    backend: 'wasm',
    sde: { T: 20, max_sigma: 10, eps: 0.05 },
    datasets: { train: { dataroot: data, batch_size: 2, patch_size: 16, n_workers: 0 } },
    network_G: { setting: { nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 16, use_image_context: true } },
    path: { experiments_root: run },
    train: { niter: STEPS, lr_G: 1e-3, engine, threads: 1, ema_update_after_step: 5, ema_update_every: 2, grad_clip: 0.5 },
    logger: { print_freq: 10, save_checkpoint_freq: 10 },
    ...extra,
  }).options;

async function losses(opts: TrainOptions, run: Partial<Parameters<typeof trainDiffusion>[0]> = {}): Promise<{ losses: number[]; start?: Extract<TrainEvent, { type: 'start' }> }> {
  const out: number[] = [];
  let start: Extract<TrainEvent, { type: 'start' }> | undefined;
  await trainDiffusion({ options: opts, ...run, onEvent: (e) => (e.type === 'step' ? out.push(e.loss) : e.type === 'start' ? (start = e) : undefined) });
  return { losses: out, start };
}

const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
};

describe('training engines', () => {
  let onnxRun: { losses: number[] };
  const onnxDir = path.join(tmp, 'onnx');

  test(`${STEPS} steps on onnx and on tfjs give the same loss curve and weights within float tolerance`, async () => {
    const onnx = await losses(options('onnx', onnxDir));
    const tfjs = await losses(options('tfjs', path.join(tmp, 'tfjs')));
    onnxRun = onnx;
    expect(onnx.start).toMatchObject({ engine: 'onnx' });
    expect(tfjs.start).toMatchObject({ engine: 'tfjs' });
    expect(onnx.losses).toHaveLength(STEPS);
    expect(tfjs.losses).toHaveLength(STEPS);
    const worst = Math.max(...onnx.losses.map((l, k) => Math.abs(l - tfjs.losses[k]!) / tfjs.losses[k]!));
    expect(worst).toBeLessThan(2e-3);
    for (const kind of ['G', 'EMA']) {
      const a = (await readSafetensors(path.join(onnxDir, 'models', `last_${kind}.safetensors`))).tensors;
      const b = (await readSafetensors(path.join(tmp, 'tfjs', 'models', `last_${kind}.safetensors`))).tensors;
      expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
      for (const k of Object.keys(b)) expect(relDiff(a[k]!.data, b[k]!.data)).toBeLessThan(5e-3);
    }
  });

  test('a run checkpointed on onnx resumes on tfjs, and back, ending where the uninterrupted onnx run ends', async () => {
    const dir = path.join(tmp, 'mixed');
    const first = await losses(options('onnx', dir), { maxSteps: 20 });
    const second = await losses(options('tfjs', dir, { path: { experiments_root: dir, resume_state: 'auto' } }), { maxSteps: 10 });
    expect(second.start).toMatchObject({ engine: 'tfjs', step: 20 });
    const third = await losses(options('onnx', dir, { path: { experiments_root: dir, resume_state: 'auto' } }));
    expect(third.start).toMatchObject({ engine: 'onnx', step: 30 });
    const stitched = [...first.losses, ...second.losses, ...third.losses];
    expect(stitched).toHaveLength(STEPS);
    // The first 20 steps are the same engine, data and RNG: identical.
    expect(first.losses).toEqual(onnxRun.losses.slice(0, 20));
    stitched.forEach((l, k) => expect(Math.abs(l - onnxRun.losses[k]!) / onnxRun.losses[k]!).toBeLessThan(2e-3));
    const a = (await readSafetensors(path.join(dir, 'models', 'last_G.safetensors'))).tensors;
    const b = (await readSafetensors(path.join(onnxDir, 'models', 'last_G.safetensors'))).tensors;
    for (const k of Object.keys(b)) expect(relDiff(a[k]!.data, b[k]!.data)).toBeLessThan(5e-3);
  });
});
