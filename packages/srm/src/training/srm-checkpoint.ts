import { readCheckpoint, writeCheckpoint, type AdamW, type AdamWState, type RngState, type TensorDict } from '@srdiff/core';
import type { SrmConfig, TrainSrmSettings } from '../config';
import type { SemanticRefinementModule } from '../models/semantic-refinement-module';
import type { SrmEvaluation } from './evaluate';

/** `meta.format` of an SRM training checkpoint. */
export const SRM_CHECKPOINT_FORMAT = 'srdiff-srm-training/1';
export const CHECKPOINT_LAST_FILE = 'checkpoint-last.safetensors';
export const CHECKPOINT_BEST_FILE = 'checkpoint-best.safetensors';

/** What one epoch did. */
export interface SrmEpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Optimizer steps taken after this epoch (the schedule position). */
  step: number;
  /** Mean training loss over the epoch's batches (as the original's `avg_loss`). */
  trainLoss: number;
  /** Learning rate of the epoch's last step. */
  lr: number;
  /** Validation, when it ran this epoch. */
  val?: SrmEvaluation;
  seconds: number;
}

/** Which number picks the `best` checkpoint. */
export type SrmBestMetric = 'val_cosine' | 'train_loss';

export interface SrmBest {
  metric: SrmBestMetric;
  /** null before the first evaluation. */
  value: number | null;
  epoch: number;
}

/** Everything besides tensors that a resumed run needs. */
export interface SrmCheckpointMeta {
  format: typeof SRM_CHECKPOINT_FORMAT;
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps completed = index of the next step's learning rate in the schedule. */
  step: number;
  config: SrmConfig;
  settings: TrainSrmSettings;
  schedule: { baseLr: number; warmupSteps: number; totalSteps: number; minLr: number };
  stepsPerEpoch: number;
  trainCount: number;
  valCount: number;
  /** SHA-256 of the pair names and width, to refuse resuming on different data. */
  dataFingerprint: string;
  /** Data-order generator after `epoch` epochs. */
  rng: RngState;
  best: SrmBest;
  history: SrmEpochRecord[];
  optimizer: { step: number; options: AdamWState['options'] };
}

export async function writeSrmCheckpoint(file: string, model: SemanticRefinementModule, optimizer: AdamW | AdamWState, meta: SrmCheckpointMeta): Promise<void> {
  const state = 'getState' in optimizer ? optimizer.getState() : optimizer;
  await writeCheckpoint(file, {
    groups: { model: model.stateDict(), 'optimizer.exp_avg': state.expAvg, 'optimizer.exp_avg_sq': state.expAvgSq },
    meta: { ...meta, optimizer: { step: state.step, options: state.options } },
  });
}

export interface LoadedSrmCheckpoint {
  weights: TensorDict;
  optimizer: AdamWState;
  meta: SrmCheckpointMeta;
}

/** Reads a checkpoint written by {@link writeSrmCheckpoint}; a damaged or foreign file is a clear error. */
export async function readSrmCheckpoint(file: string): Promise<LoadedSrmCheckpoint> {
  const { groups, meta } = await readCheckpoint<SrmCheckpointMeta>(file);
  if (meta.format !== SRM_CHECKPOINT_FORMAT) {
    throw new Error(`${file}: not an SRM training checkpoint (meta.format "${String(meta.format)}", expected "${SRM_CHECKPOINT_FORMAT}")`);
  }
  const weights = groups.model;
  const expAvg = groups['optimizer.exp_avg'];
  const expAvgSq = groups['optimizer.exp_avg_sq'];
  if (!weights || !expAvg || !expAvgSq) throw new Error(`${file}: checkpoint lacks the model or optimizer tensors`);
  return { weights, optimizer: { step: meta.optimizer.step, options: meta.optimizer.options, expAvg, expAvgSq }, meta };
}
