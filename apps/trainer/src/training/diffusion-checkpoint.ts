import fs from 'node:fs';
import path from 'node:path';
import { CheckpointError, readCheckpoint, writeCheckpoint, type AdamWState, type Checkpoint, type RngState, type TensorDict } from '@srdiff/core';
import type { LoaderState } from '@srdiff/data';
import type { UNetConfig } from '@srdiff/unet';

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

/** What a checkpoint holds, from either training engine (PyTorch layouts). */
export interface TrainingState {
  weights: TensorDict;
  emaWeights: TensorDict;
  optimizer: AdamWState;
  meta: DiffusionCheckpointMeta;
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}.ckpt`;
}

/** The step a checkpoint file name stands for (`step-00000042.ckpt` → 42), or undefined. */
export function checkpointStep(file: string): number | undefined {
  const m = /^step-(\d+)\.ckpt$/.exec(path.basename(file));
  return m ? Number(m[1]) : undefined;
}

/**
 * Writes the full training state atomically (temporary file, fsync, rename). Pruning is separate
 * ({@link CheckpointLedger.prune}): it needs to know which of the older files are any good.
 */
export async function saveDiffusionCheckpoint(dir: string, state: TrainingState): Promise<string> {
  const opt = state.optimizer;
  const file = path.join(dir, checkpointName(state.meta.step));
  const ckpt: Checkpoint<DiffusionCheckpointMeta> = {
    groups: {
      model: state.weights,
      ema: state.emaWeights,
      'optimizer.exp_avg': opt.expAvg,
      'optimizer.exp_avg_sq': opt.expAvgSq,
    },
    meta: state.meta,
  };
  await writeCheckpoint(file, ckpt);
  return file;
}

/** Checkpoint files of a folder, newest (highest step) first. */
export function listCheckpoints(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => checkpointStep(f) !== undefined)
    .sort((a, b) => checkpointStep(b)! - checkpointStep(a)!)
    .map((f) => path.join(dir, f));
}

export interface LoadedDiffusionCheckpoint {
  file: string;
  groups: Record<string, TensorDict>;
  meta: DiffusionCheckpointMeta;
  /** Newer checkpoints that could not be read, with the reason (reported to the user). */
  rejected: RejectedCheckpoint[];
}

/** Why a checkpoint was not used: its file, the reason (naming the file) and whether its content is damaged. */
export interface RejectedCheckpoint {
  file: string;
  reason: string;
  /** The file is cut short or fails its checksum (as opposed to unreadable for now, or not a checkpoint). */
  damaged: boolean;
}

/** No checkpoint of a list could be used; `rejected` says why for each. */
export class NoUsableCheckpointError extends Error {
  constructor(readonly where: string, readonly rejected: RejectedCheckpoint[]) {
    super(`no usable checkpoint in ${where}:\n${rejected.map((r) => `  ${r.reason}`).join('\n')}`);
    this.name = 'NoUsableCheckpointError';
  }
}

/** Reads one diffusion training checkpoint, checking its checksum, format and tensor groups. */
export async function readDiffusionCheckpoint(file: string): Promise<Omit<LoadedDiffusionCheckpoint, 'rejected'>> {
  const ckpt = await readCheckpoint<DiffusionCheckpointMeta>(file);
  if (ckpt.meta.format !== DIFFUSION_CHECKPOINT_FORMAT) {
    throw new CheckpointError(file, `not a diffusion training checkpoint (format ${String(ckpt.meta.format)})`, 'not-checkpoint');
  }
  for (const g of ['model', 'ema', 'optimizer.exp_avg', 'optimizer.exp_avg_sq']) {
    if (!ckpt.groups[g]) throw new CheckpointError(file, `checkpoint has no "${g}" tensors`, 'not-checkpoint');
  }
  return { file, groups: ckpt.groups, meta: ckpt.meta };
}

/** The rejection record of a failed read. */
export function rejection(file: string, err: unknown): RejectedCheckpoint {
  const message = (err as Error).message;
  const problem = err instanceof CheckpointError ? err.problem : 'unreadable';
  return { file, reason: message.includes(file) ? message : `${file}: ${message}`, damaged: problem === 'unreadable' || problem === 'damaged' };
}

/**
 * Loads a checkpoint: a file, or the newest readable one of a folder. A truncated or damaged file
 * is reported (in `rejected`) and the previous checkpoint is used instead; when none is usable the
 * {@link NoUsableCheckpointError} lists every file and why.
 */
export async function loadDiffusionCheckpoint(fileOrDir: string): Promise<LoadedDiffusionCheckpoint> {
  const candidates = fs.existsSync(fileOrDir) && fs.statSync(fileOrDir).isDirectory() ? listCheckpoints(fileOrDir) : [fileOrDir];
  if (!candidates.length) throw new Error(`no checkpoints (step-*.ckpt) in ${fileOrDir}`);
  const rejected: RejectedCheckpoint[] = [];
  for (const file of candidates) {
    try {
      return { ...(await readDiffusionCheckpoint(file)), rejected };
    } catch (err) {
      rejected.push(rejection(file, err));
    }
  }
  if (candidates.length === 1 && candidates[0] === fileOrDir) throw new Error(rejected[0]!.reason);
  throw new NoUsableCheckpointError(fileOrDir, rejected);
}
