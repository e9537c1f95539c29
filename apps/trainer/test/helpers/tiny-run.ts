/**
 * Tiny training runs for the trainer's fault tests: a 76 k-parameter UNet (nf 8, two levels) on
 * 32×32 crops of the bundled photos, T 10, one gradient thread — a step takes tens of ms, so a
 * test can train, break something and resume in a second or two.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildDegradedDataset, bundledCleanImagesDir } from '@srdiff/data';
import { loadOptions } from '../../src/options/load-options';
import { TRAIN_OPTIONS_SCHEMA, type TrainOptions } from '../../src/options/train-options';
import { runCli } from '../../src/cli/main';

/** The built CLI (the trainer's test target builds first). */
export const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');

/** A one-task dataset (`<dir>/train/rainy/{LQ,GT}`, 7 pairs of 32×32 crops). */
export async function tinyDataset(dir: string, seed = 2): Promise<string> {
  await buildDegradedDataset(bundledCleanImagesDir(), dir, { tasks: ['rainy'], perImage: 1, patchSize: 32, valFraction: 0, seed });
  return dir;
}

/** Raw (YAML-shaped) options of a tiny run; `extra` is deep-merged by loadOptions' caller. */
export function tinyRawOptions(data: string, run: string): Record<string, unknown> {
  return {
    name: 'tiny',
    backend: 'wasm',
    engine: 'tfjs',
    sde: { T: 10 },
    datasets: { train: { dataroot: data, batch_size: 2, patch_size: 32, n_workers: 0 } },
    network_G: { setting: { nf: 8, ch_mult: [1, 2], context_dim: 16, use_image_context: false } },
    path: { experiments_root: run },
    train: { niter: 4, lr_G: 1e-3, threads: 1 },
    logger: { print_freq: 1, save_checkpoint_freq: 2 },
  };
}

/** Resolved options of a tiny run, with `--set`-style overrides (`train.niter=8`). */
export function tinyOptions(data: string, run: string, sets: string[] = [], extra: Record<string, unknown> = {}): TrainOptions {
  return loadOptions<TrainOptions>(TRAIN_OPTIONS_SCHEMA, undefined, { ...tinyRawOptions(data, run), ...extra }, sets).options;
}

/** Runs the CLI in this process, collecting everything it prints. */
export async function cli(args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runCli(args, { out: (s) => lines.push(s), log: (s) => lines.push(s) });
  return { code, output: lines.join('\n') };
}

/** Runs the built CLI as a child process. */
export function spawnCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}) {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
}

/** Waits for a child to exit; resolves with its code, signal and output. */
export function exited(child: ReturnType<typeof spawnCli>): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, output })));
}

/** SHA-256 of a file's bytes. */
export function hashFile(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Every file under `dir` (relative path → SHA-256), to show that nothing changed. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const e of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, e.name);
      if (e.isDirectory()) walk(rel);
      else out[rel] = hashFile(path.join(dir, rel));
    }
  };
  if (fs.existsSync(dir)) walk('');
  return out;
}

/** Names of `step-*.ckpt` files in a run's checkpoints folder, oldest first. */
export function checkpointNames(run: string): string[] {
  const dir = path.join(run, 'checkpoints');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^step-\d+\.ckpt$/.test(f)).sort() : [];
}

/** Hidden temporary files (`.<name>.<pid>.….tmp`) anywhere under `dir`. */
export function temporaries(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (/\.tmp$/.test(e.name)) out.push(path.join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

/** Damages a file in place: truncation to half, or one flipped byte in its second half (checksum mismatch). */
export function damage(file: string, how: 'truncate' | 'flip'): void {
  const bytes = fs.readFileSync(file);
  if (how === 'truncate') fs.writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
  else {
    const at = Math.floor(bytes.length * 0.75);
    bytes[at] = bytes[at]! ^ 0xff;
    fs.writeFileSync(file, bytes);
  }
}
