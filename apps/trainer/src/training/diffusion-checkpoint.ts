import fs from 'node:fs';
import path from 'node:path';
import { readCheckpoint, writeCheckpoint, type AdamW, type Checkpoint, type Ema, type RngState, type TensorDict } from '@srdiff/core';
import type { LoaderState } from '@srdiff/data';
import type { ConditionalUNet, UNetConfig } from '@srdiff/unet';

export const DIFFUSION_CHECKPOINT_FORMAT = 'srdiff-diffusion/1';
/** Checkpoints kept in a run folder: the newest and its predecessors, so a damaged file has a fallback. */
export const CHECKPOINTS_KEPT = 3;

export interface DiffusionCheckpointMeta {
  format: typeof DIFFUSION_CHECKPOINT_FORMAT;
  /** Optimizer updates completed (the next update is step + 1). */
  step: number;
  unetConfig: UNetConfig;
  /** The resolved options of the run (for `srdiff test` / `restore` from a checkpoint alone). */
  options: unknown;
  ema: { step: number; initialized: boolean };
  rng: RngState;
  loader: LoaderState;
  best: { psnr: number | null; step: number };
}

export interface TrainingState {
  model: ConditionalUNet;
  optimizer: AdamW;
  ema: Ema;
  meta: DiffusionCheckpointMeta;
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}.ckpt`;
}

/** Writes the full training state atomically and prunes older checkpoints. */
export async function saveDiffusionCheckpoint(dir: string, state: TrainingState): Promise<string> {
  const opt = state.optimizer.getState();
  const file = path.join(dir, checkpointName(state.meta.step));
  const ckpt: Checkpoint<DiffusionCheckpointMeta> = {
    groups: {
      model: state.model.stateDict(),
      ema: state.ema.stateDict(),
      'optimizer.exp_avg': opt.expAvg,
      'optimizer.exp_avg_sq': opt.expAvgSq,
    },
    meta: { ...state.meta, ema: { step: state.ema.step, initialized: state.ema.getState().initialized } },
  };
  await writeCheckpoint(file, ckpt);
  const all = listCheckpoints(dir);
  for (const old of all.slice(CHECKPOINTS_KEPT)) await fs.promises.rm(old, { force: true });
  return file;
}

/** Checkpoint files of a folder, newest first. */
export function listCheckpoints(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^step-\d+\.ckpt$/.test(f))
    .sort()
    .reverse()
    .map((f) => path.join(dir, f));
}

export interface LoadedDiffusionCheckpoint {
  file: string;
  groups: Record<string, TensorDict>;
  meta: DiffusionCheckpointMeta;
  /** Newer checkpoints that could not be read, with the reason (reported to the user). */
  rejected: Array<{ file: string; reason: string }>;
}

/**
 * Loads a checkpoint: a file, or the newest readable one of a folder. A truncated or damaged file
 * is reported and the previous checkpoint is used instead.
 */
export async function loadDiffusionCheckpoint(fileOrDir: string): Promise<LoadedDiffusionCheckpoint> {
  const candidates = fs.existsSync(fileOrDir) && fs.statSync(fileOrDir).isDirectory() ? listCheckpoints(fileOrDir) : [fileOrDir];
  if (!candidates.length) throw new Error(`no checkpoints (step-*.ckpt) in ${fileOrDir}`);
  const rejected: Array<{ file: string; reason: string }> = [];
  for (const file of candidates) {
    try {
      const ckpt = await readCheckpoint<DiffusionCheckpointMeta>(file);
      if (ckpt.meta.format !== DIFFUSION_CHECKPOINT_FORMAT) throw new Error(`not a diffusion training checkpoint (format ${String(ckpt.meta.format)})`);
      for (const g of ['model', 'ema', 'optimizer.exp_avg', 'optimizer.exp_avg_sq']) {
        if (!ckpt.groups[g]) throw new Error(`checkpoint has no "${g}" tensors`);
      }
      return { file, groups: ckpt.groups, meta: ckpt.meta, rejected };
    } catch (err) {
      rejected.push({ file, reason: (err as Error).message });
    }
  }
  throw new Error(`no readable checkpoint:\n${rejected.map((r) => `  ${r.reason}`).join('\n')}`);
}
