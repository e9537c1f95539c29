import { onnxRuntimeAvailable, type AdamWState, type Rng, type TensorDict } from '@srdiff/core';
import type { TrainBatch } from '@srdiff/data';
import type { LoadedDiffusionCheckpoint } from '../diffusion-checkpoint';

/** `train.engine`: what runs the UNet's training steps. */
export type TrainingEngineChoice = 'auto' | 'onnx' | 'tfjs';

/**
 * The part of `srdiff train` that differs between engines: the weights, their optimizer and EMA,
 * and the step that updates them. Everything else (data order, RNG stream, LR schedule,
 * validation, checkpoints, resume, SIGINT) is the training loop's and the same for both, and the
 * state they expose is in PyTorch layouts: a run checkpointed on one engine resumes on the other.
 */
export interface DiffusionTrainingEngine {
  readonly name: 'onnx' | 'tfjs';
  /** For the start line, e.g. "onnx (cpu, 2 threads)" or "tfjs wasm, 2 gradient threads". */
  readonly description: string;
  /** Threads computing gradients (ORT intra-op threads, or tfjs data-parallel threads). */
  readonly threads: number;
  readonly parameterCount: number;
  /**
   * One optimizer update on `batch`: random timesteps and states from `rng` (the same stream on
   * every engine), the matching loss and its gradients, the optional clip, AdamW with `lr`.
   * Returns the loss before the update; a non-finite loss leaves the weights untouched.
   */
  step(batch: TrainBatch, rng: Rng, lr: number): Promise<number>;
  /** The EMA's update after a step. */
  updateEma(): void;
  /** Current weights (PyTorch layout; views valid until the next step). */
  weights(): TensorDict;
  /** The EMA weights (same). */
  emaWeights(): TensorDict;
  /** What a checkpoint stores beside the weights. */
  optimizerState(): AdamWState;
  emaState(): { step: number; initialized: boolean };
  /** Restores weights, optimizer moments and EMA from a checkpoint (either engine's). */
  restore(resume: LoadedDiffusionCheckpoint): void;
  close(): Promise<void>;
}

export function resolveTrainingEngine(choice: TrainingEngineChoice): 'onnx' | 'tfjs' {
  if (choice === 'tfjs') return 'tfjs';
  if (onnxRuntimeAvailable()) return 'onnx';
  if (choice === 'onnx') throw new Error('train.engine onnx: onnxruntime-node is not installed (npm i onnxruntime-node), or set train.engine: tfjs');
  return 'tfjs';
}
