import type { BackendName } from '@srdiff/core';
import type { IRSDEOptions } from '@srdiff/sde';
import type { UNetConfig } from '@srdiff/unet';
import type { MatchingLossSettings } from '../diffusion-loss';
import type { HostBatch } from './shared-tensors';

/** `workerData` of a gradient worker: what to build, and the two buffers it shares with the main thread. */
export interface GradientWorkerInit {
  /** 1-based, for messages. */
  index: number;
  backend: BackendName;
  unet: UNetConfig;
  sde: IRSDEOptions;
  loss: MatchingLossSettings;
  /** Trainable variable names in flat-buffer order (the worker checks its network has the same). */
  names: string[];
  /** Weights published by the main thread before each step (read-only for workers). */
  parameters: SharedArrayBuffer;
  /** This worker's gradients, written before it replies. */
  gradients: SharedArrayBuffer;
}

export interface StepRequest {
  type: 'step';
  id: number;
  batch: HostBatch;
  /** The shard's fraction of the batch (its loss weight factor). */
  share: number;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'gradients'; id: number; loss: number; present: number[] }
  | { type: 'error'; id?: number; message: string; stack?: string };
