/**
 * Failure behaviour of diffusion training: a non-finite loss stops with the step and keeps the last
 * good checkpoint; a damaged newest checkpoint is reported and the previous one resumes; an
 * embedding width that does not match context_dim fails before training.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensors, writeNpy, writeSafetensors } from '@srdiff/core';
import { buildDegradedDataset, bundledCleanImagesDir } from '@srdiff/data';
import { loadOptions } from '../src/options/load-options';
import { TRAIN_OPTIONS_SCHEMA, type TrainOptions } from '../src/options/train-options';
import { listCheckpoints } from '../src/training/diffusion-checkpoint';
import { NonFiniteLossError, trainDiffusion, type TrainEvent } from '../src/training/train-diffusion';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-rel-'));
const data = path.join(tmp, 'data');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await buildDegradedDataset(bundledCleanImagesDir(), data, { tasks: ['rainy'], perImage: 1, patchSize: 32, valFraction: 0, seed: 2 });
});

const options = (run: string, extra: Record<string, unknown> = {}): TrainOptions =>
  loadOptions<TrainOptions>(TRAIN_OPTIONS_SCHEMA, undefined, {
    name: 'rel',
    backend: 'wasm',
    sde: { T: 10 },
    datasets: { train: { dataroot: data, batch_size: 2, patch_size: 32, n_workers: 0 } },
    network_G: { setting: { nf: 8, ch_mult: [1, 2], context_dim: 16, use_image_context: false } },
    path: { experiments_root: run },
    train: { niter: 4, lr_G: 1e-3 },
    logger: { print_freq: 1, save_checkpoint_freq: 2 },
    ...extra,
  }).options;

test('a NaN loss stops training with its step number, and writes no checkpoint of the diverged weights', async () => {
  const run = path.join(tmp, 'nan');
  await trainDiffusion({ options: options(run, { train: { niter: 2, lr_G: 1e-3 } }) });
  // Poison one weight: the next forward pass yields NaN.
  const weights = await readSafetensors(path.join(run, 'models', 'last_G.safetensors'));
  weights.tensors['final_conv.bias']!.data[0] = NaN;
  const poisoned = path.join(tmp, 'poisoned.safetensors');
  await writeSafetensors(poisoned, weights.tensors);
  const fresh = path.join(tmp, 'nan-fresh');
  const err = await trainDiffusion({ options: options(fresh, { path: { experiments_root: fresh, pretrain_model_G: poisoned } }) }).catch((e) => e);
  expect(err).toBeInstanceOf(NonFiniteLossError);
  expect((err as NonFiniteLossError).step).toBe(1);
  expect((err as Error).message).toMatch(/the loss became NaN at step 1; the last good checkpoint is \(none yet\)/);
  // Unlike other failures (checkpointed on the way out), the weights that produced NaN are not saved.
  expect(listCheckpoints(path.join(fresh, 'checkpoints'))).toEqual([]);
  expect(listCheckpoints(path.join(run, 'checkpoints')).map((f) => path.basename(f))).toEqual(['step-00000002.ckpt']);
});

test('a truncated newest checkpoint is reported and the previous one is resumed', async () => {
  const run = path.join(tmp, 'trunc');
  await trainDiffusion({ options: options(run) });
  const ckpts = listCheckpoints(path.join(run, 'checkpoints'));
  expect(ckpts.map((f) => path.basename(f))).toEqual(['step-00000004.ckpt', 'step-00000002.ckpt']);
  const bytes = fs.readFileSync(ckpts[0]!);
  fs.writeFileSync(ckpts[0]!, bytes.subarray(0, bytes.length >> 1));
  const events: TrainEvent[] = [];
  const res = await trainDiffusion({ options: options(run, { path: { experiments_root: run, resume_state: 'auto' }, train: { niter: 5, lr_G: 1e-3 } }), onEvent: (e) => events.push(e) });
  const start = events.find((e) => e.type === 'start') as Extract<TrainEvent, { type: 'start' }>;
  expect(start.resumedFrom).toBe(ckpts[1]);
  expect(start.step).toBe(2);
  expect(events.some((e) => e.type === 'log' && /skipped damaged checkpoint: .*step-00000004.ckpt/.test(e.message))).toBe(true);
  expect(res.step).toBe(5);
});

test('embeddings of the wrong width are caught before training starts, naming the file', async () => {
  const dir = path.join(data, 'train', 'rainy', 'RestoreCLS');
  for (const f of fs.readdirSync(path.join(data, 'train', 'rainy', 'LQ'))) {
    await writeNpy(path.join(dir, f.replace(/\.png$/, '.npy')), { shape: [12], data: new Float32Array(12) });
  }
  const opts = options(path.join(tmp, 'width'), { network_G: { setting: { nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 16, use_image_context: true } } });
  await expect(trainDiffusion({ options: opts })).rejects.toThrow(/datasets.train: RestoreCLS embeddings are 12 wide \(.*\.npy\) but network_G.setting.context_dim is 16/);
  fs.rmSync(dir, { recursive: true });
});
