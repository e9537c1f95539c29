import { AdamW, clipGradNormInPlace, HostAdamW, onnxRuntimeAvailable, tensorToTorchHost, tf, valueAndGrads, disposeGradients, type AdamWOptions, type AdamWState, type OrtSessionOptions, type TensorDict } from '@srdiff/core';
import { OnnxSrmTrainer } from '../onnx/srm-training';
import { hybridLoss } from '../loss/hybrid-loss';
import type { SemanticRefinementModule } from '../models/semantic-refinement-module';
import { srmTrainStep, type SrmStepResult, type SrmStepSettings } from './train-step';

/** Which engine runs the SRM's training steps. `auto`: ONNX Runtime when onnxruntime-node loads, else tfjs. */
export type SrmEngineName = 'auto' | 'onnx' | 'tfjs';

/**
 * What the training loop needs of an engine: one optimisation step (hybrid loss, gradients, clip,
 * AdamW) on a batch of rows, raw gradients (for verification), and the weights and optimizer
 * state in PyTorch layouts, so checkpoints are the same whichever engine wrote them.
 */
export interface SrmStepEngine {
  readonly name: 'onnx' | 'tfjs';
  step(lq: Float32Array, gt: Float32Array, rows: number, settings: SrmStepSettings): Promise<SrmStepResult>;
  /** The loss and its gradients (no update), PyTorch layouts. */
  gradients(lq: Float32Array, gt: Float32Array, rows: number, alpha: number): Promise<{ loss: number; grads: TensorDict }>;
  /** The current weights (copies). */
  stateDict(): TensorDict;
  getOptimizerState(): AdamWState;
  setOptimizerState(state: AdamWState, source?: string): void;
  /** Writes the current weights into `model` (before evaluating or saving with the tfjs module). */
  syncTo(model: SemanticRefinementModule): void;
  dispose(): Promise<void>;
}

export function resolveSrmEngine(name: SrmEngineName = 'auto'): 'onnx' | 'tfjs' {
  if (name !== 'auto' && name !== 'onnx' && name !== 'tfjs') throw new Error(`SRM engine must be auto, onnx or tfjs, got ${JSON.stringify(name)}`);
  return name === 'auto' ? (onnxRuntimeAvailable() ? 'onnx' : 'tfjs') : name;
}

/** An engine starting from `model`'s current weights with a fresh optimizer. */
export function createSrmStepEngine(
  name: SrmEngineName, model: SemanticRefinementModule, optimizer: AdamWOptions, options: { alpha: number; session?: OrtSessionOptions },
): SrmStepEngine {
  return resolveSrmEngine(name) === 'onnx' ? new OnnxSrmStepEngine(model, optimizer, options.alpha, options.session) : new TfjsSrmStepEngine(model, optimizer);
}

/** The reference engine: the tfjs module itself, trained in place. */
class TfjsSrmStepEngine implements SrmStepEngine {
  readonly name = 'tfjs' as const;
  private readonly optimizer: AdamW;

  constructor(private readonly model: SemanticRefinementModule, options: AdamWOptions) {
    this.optimizer = new AdamW(model.namedParameters(), options);
  }

  async step(lq: Float32Array, gt: Float32Array, rows: number, settings: SrmStepSettings): Promise<SrmStepResult> {
    const [x, y] = this.tensors(lq, gt, rows);
    try {
      return srmTrainStep(this.model, this.optimizer, x, y, settings);
    } finally {
      tf.dispose([x, y]);
    }
  }

  async gradients(lq: Float32Array, gt: Float32Array, rows: number, alpha: number): Promise<{ loss: number; grads: TensorDict }> {
    const [x, y] = this.tensors(lq, gt, rows);
    const { value, grads } = valueAndGrads(this.model, () => hybridLoss(this.model.forward(x), y, alpha));
    const out = { loss: value.dataSync()[0]!, grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tensorToTorchHost(g, 'torch')])) };
    tf.dispose([x, y, value]);
    disposeGradients(grads);
    return out;
  }

  stateDict(): TensorDict {
    return this.model.stateDict();
  }

  getOptimizerState(): AdamWState {
    return this.optimizer.getState();
  }

  setOptimizerState(state: AdamWState, source?: string): void {
    this.optimizer.setState(state, source);
  }

  syncTo(model: SemanticRefinementModule): void {
    if (model !== this.model) model.loadStateDict(this.model.stateDict(), { source: 'SRM weights' });
  }

  private tensors(lq: Float32Array, gt: Float32Array, rows: number): [tf.Tensor2D, tf.Tensor2D] {
    const dim = lq.length / rows;
    return [tf.tensor2d(lq, [rows, dim]), tf.tensor2d(gt, [rows, dim])];
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
  }
}

/**
 * The ONNX Runtime engine: forward, loss and backward in one graph ({@link OnnxSrmTrainer}),
 * clip and AdamW fused over the host arenas. The weights live in the arena during training; the
 * tfjs module is only written at {@link syncTo}.
 */
class OnnxSrmStepEngine implements SrmStepEngine {
  readonly name = 'onnx' as const;
  private readonly trainer: OnnxSrmTrainer;
  private readonly optimizer: HostAdamW;

  constructor(model: SemanticRefinementModule, options: AdamWOptions, alpha: number, session?: OrtSessionOptions) {
    this.trainer = new OnnxSrmTrainer(model.stateDict(), { ...model.config }, alpha, session);
    this.optimizer = new HostAdamW(this.trainer.params, options);
  }

  async step(lq: Float32Array, gt: Float32Array, rows: number, settings: SrmStepSettings): Promise<SrmStepResult> {
    const loss = await this.trainer.gradients(lq, gt, rows);
    const clip = clipGradNormInPlace(this.trainer.grads, settings.maxGradNorm);
    this.optimizer.update(this.trainer.grads, settings.lr);
    return { loss, gradNorm: clip.totalNorm, clipScale: clip.scale };
  }

  async gradients(lq: Float32Array, gt: Float32Array, rows: number): Promise<{ loss: number; grads: TensorDict }> {
    const loss = await this.trainer.gradients(lq, gt, rows);
    return { loss, grads: this.trainer.grads.clone().toTensorDict() };
  }

  stateDict(): TensorDict {
    return this.trainer.params.clone().toTensorDict();
  }

  getOptimizerState(): AdamWState {
    return this.optimizer.getState();
  }

  setOptimizerState(state: AdamWState, source?: string): void {
    this.optimizer.setState(state, source);
  }

  syncTo(model: SemanticRefinementModule): void {
    model.loadStateDict(this.trainer.params.toTensorDict(), { source: 'SRM weights (ONNX engine)' });
  }

  async dispose(): Promise<void> {
    await this.trainer.dispose();
  }
}
