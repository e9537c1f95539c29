/**
 * The whole pipeline at a tiny size: extract → train-srm → refine → train (killed with SIGKILL
 * after its first checkpoint) → resume → test → restore. Asserts the files each stage promises
 * and that the metrics are finite. Needs the built CLI (`npm run build -w @srdiff/trainer`).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { readNpy } from '@srdiff/core';
import { buildDegradedDataset, bundledCleanImagesDir, readImageInfo } from '@srdiff/data';
import { runCli } from '../src/cli/main';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-e2e-'));
const data = path.join(tmp, 'datasets');
const srmDir = path.join(tmp, 'srm');
const runDir = path.join(tmp, 'run');
const optionsFile = path.join(tmp, 'train.yml');
const lines: string[] = [];
const cli = (args: string[]) => runCli(args, { out: (s) => lines.push(s), log: (s) => lines.push(s) });

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const trainOptions = {
  name: 'e2e',
  distortion: ['low-light', 'hazy'],
  sde: { max_sigma: 10, T: 20, schedule: 'cosine', eps: 0.005, sample_T: 3 },
  datasets: {
    train: { dataroot: data, batch_size: 2, patch_size: 32, n_workers: 1 },
    val: { dataroot: data, max_images: 1 },
  },
  network_G: { setting: { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 16, use_degra_context: false, use_image_context: true } },
  srm: { path: srmDir },
  vlm: { model: 'tiny' },
  path: { experiments_root: runDir },
  train: { niter: 6, lr_G: 1e-3, val_freq: 3, manual_seed: 1 },
  logger: { print_freq: 1, save_checkpoint_freq: 2 },
};

test('extract → train-srm → refine', async () => {
  await buildDegradedDataset(bundledCleanImagesDir(), data, { tasks: ['low-light', 'hazy'], perImage: 2, patchSize: 32, valFraction: 0.3, seed: 1 });
  expect(await cli(['extract', '--data', data, '--model', 'tiny'])).toBe(0);
  const lqCls = path.join(data, 'train', 'hazy', 'LQCLS');
  const npys = fs.readdirSync(lqCls).filter((f) => f.endsWith('.npy'));
  expect(npys.length).toBe(fs.readdirSync(path.join(data, 'train', 'hazy', 'LQ')).length);
  expect((await readNpy(path.join(lqCls, npys[0]!))).shape).toEqual([16]);

  expect(await cli(['train-srm', '--data', data, '--out', srmDir, '--epochs', '3', '--batch-size', '8', '--hidden-dim', '32', '--num-layers', '1', '--num-heads', '4', '--warmup-steps', '2'])).toBe(0);
  expect(fs.existsSync(path.join(srmDir, 'srm.safetensors'))).toBe(true);
  expect(await cli(['refine', '--data', data, '--srm', srmDir])).toBe(0);
  for (const phase of ['train', 'val']) {
    const dir = path.join(data, phase, 'low-light', 'RestoreCLS');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.npy')).length).toBe(fs.readdirSync(path.join(data, phase, 'low-light', 'LQ')).length);
  }
});

test('train is killed after a checkpoint, resumes, and finishes with the same schedule', async () => {
  fs.writeFileSync(optionsFile, yaml.dump(trainOptions));
  const child = spawn(process.execPath, [CLI, 'train', '-opt', optionsFile, '--quiet', '--engine', 'tfjs'], { stdio: 'ignore' });
  const ckptDir = path.join(runDir, 'checkpoints');
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (fs.existsSync(ckptDir) && fs.readdirSync(ckptDir).some((f) => f.endsWith('.ckpt'))) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve();
      }
    }, 100);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') {
        clearInterval(timer);
        reject(new Error(`train exited on its own (${code}) before it could be killed`));
      }
    });
  });
  const first = fs.readdirSync(ckptDir).filter((f) => f.endsWith('.ckpt')).sort();
  expect(first[0]).toMatch(/^step-0000000[24]\.ckpt$/);
  expect(fs.readdirSync(ckptDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

  lines.length = 0;
  expect(await cli(['train', '-opt', optionsFile, '--resume', '--quiet', '--engine', 'tfjs'])).toBe(0);
  expect(lines.join('\n')).toMatch(/resumed from .*step-0000000[24]\.ckpt at step [24]/);
  expect(fs.readdirSync(ckptDir)).toContain('step-00000006.ckpt');
  for (const f of ['last_G', 'last_EMA', 'best_EMA']) expect(fs.existsSync(path.join(runDir, 'models', `${f}.safetensors`))).toBe(true);
  const records = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const steps = records.filter((r) => r.type === 'train').map((r) => r.step);
  expect(steps[steps.length - 1]).toBe(6);
  const vals = records.filter((r) => r.type === 'val');
  expect(vals.length).toBeGreaterThan(0);
  for (const v of vals) expect(Number.isFinite(v.psnr) && Number.isFinite(v.ssim)).toBe(true);
  for (const r of records.filter((r) => r.type === 'train')) expect(Number.isFinite(r.loss)).toBe(true);
});

test('test writes per-image metrics (finite) and restored images; restore handles an image without GT', async () => {
  const results = path.join(tmp, 'results');
  lines.length = 0;
  expect(await cli(['test', '--model', runDir, '--data', data, '--steps', '3', '--max-images', '2', '--out', results, '--engine', 'tfjs'])).toBe(0);
  const metrics = JSON.parse(fs.readFileSync(path.join(results, 'test', 'metrics.json'), 'utf8'));
  expect(metrics.rows.length).toBe(2);
  for (const r of metrics.rows) for (const k of ['psnr', 'ssim', 'psnrY', 'ssimY']) expect(Number.isFinite(r[k]) && Number.isFinite(r.lq[k])).toBe(true);
  expect(fs.readFileSync(path.join(results, 'test', 'metrics.csv'), 'utf8').split('\n')[0]).toBe('task,name,psnr,ssim,psnr_y,ssim_y,lq_psnr,lq_ssim,lq_psnr_y,lq_ssim_y');
  expect(lines.join('\n')).toMatch(/single sample per image/);

  // --data replaces the sets of an options file: a run's options.yml lists train and val.
  const fromRun = path.join(tmp, 'results-from-run-options');
  expect(await cli(['test', '-opt', path.join(runDir, 'options.yml'), '--model', runDir, '--data', data, '--steps', '2', '--max-images', '1', '--out', fromRun, '--engine', 'tfjs'])).toBe(0);
  expect(fs.readdirSync(fromRun).sort()).toEqual(['test']);

  const lq = path.join(data, 'val', 'hazy', 'LQ', fs.readdirSync(path.join(data, 'val', 'hazy', 'LQ'))[0]!);
  const outDir = path.join(tmp, 'restored');
  expect(await cli(['restore', lq, '--model', runDir, '--steps', '2', '--out', outDir, '--engine', 'tfjs', '--tile', '24', '--overlap', '8'])).toBe(0);
  const restored = path.join(outDir, `${path.basename(lq, path.extname(lq))}.png`);
  const [a, b] = await Promise.all([readImageInfo(restored), readImageInfo(lq)]);
  expect([a.width, a.height]).toEqual([b.width, b.height]);
});
