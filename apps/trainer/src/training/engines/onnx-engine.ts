import { HostAdamW, HostEma, clipGradNormInPlace, logicalCores, tf, type AdamWState, type Rng, type TensorDict } from '@srdiff/core';
import { batchToTensors, type TrainBatch } from '@srdiff/data';
import { matchingLossCoefficients, type IRSDE } from '@srdiff/sde';
import { OnnxUnetTrainer, type UNetConfig } from '@srdiff/unet';
import type { TrainOptions } from '../../options/train-options';
import type { LoadedDiffusionCheckpoint } from '../diffusion-checkpoint';
import type { DiffusionTrainingEngine } from './training-engine';

/**
 * The fast engine: forward, IR-SDE matching loss and backward as one ONNX Runtime graph
 * (`OnnxUnetTrainer`), AdamW and EMA fused over host arenas that stay bound to the session. The
 * batch's timesteps and states come from the same tfjs IR-SDE code and RNG stream as the tfjs
 * engine, so both see the same x_t for the same run.
 */
export class OnnxTrainingEngine implements DiffusionTrainingEngine {
  readonly name = 'onnx' as const;

  private constructor(
    private readonly trainer: OnnxUnetTrainer,
    private readonly optimizer: HostAdamW,
    private readonly ema: HostEma,
    private readonly sde: IRSDE,
    private readonly options: TrainOptions,
    readonly threads: number,
  ) {}

  /** Builds the step graph for the run's batch and patch size, starting from `weights`. */
  static async start(weights: TensorDict, config: UNetConfig, sde: IRSDE, options: TrainOptions): Promise<OnnxTrainingEngine> {
    const tr = options.train;
    const ds = options.datasets.train;
    const threads = tr.threads > 0 ? tr.threads : logicalCores();
    const trainer = await OnnxUnetTrainer.create(weights, config, {
      batch: ds.batch_size, height: ds.patch_size, width: ds.patch_size,
      loss: { type: tr.loss_type, weight: tr.weight },
      session: { threads, executionProviders: tr.providers as never },
    });
    const optimizer = new HostAdamW(trainer.params, { lr: tr.lr_G, betas: [tr.beta1, tr.beta2], weightDecay: tr.optimizer === 'AdamW' ? tr.weight_decay_G : 0 });
    const ema = new HostEma(trainer.params, { beta: tr.ema_beta, updateEvery: tr.ema_update_every, updateAfterStep: tr.ema_update_after_step });
    return new OnnxTrainingEngine(trainer, optimizer, ema, sde, options, threads);
  }

  get description(): string {
    return `onnx (${this.trainer.executionProviders.join(', ')}; ${this.threads} thread${this.threads === 1 ? '' : 's'})`;
  }

  get parameterCount(): number {
    return this.trainer.params.size;
  }

  async step(batch: TrainBatch, rng: Rng, lr: number): Promise<number> {
    const inputs = await this.stepInputs(batch, rng);
    const loss = await this.trainer.gradients(inputs);
    if (!Number.isFinite(loss)) return loss;
    const clip = this.options.train.grad_clip;
    if (clip) clipGradNormInPlace(this.trainer.grads, clip);
    this.optimizer.update(this.trainer.grads, lr);
    return loss;
  }

  /** x_t and the optimal x_{t−1} from the tfjs IR-SDE (the RNG stream of the tfjs engine), read back to the host. */
  private async stepInputs(batch: TrainBatch, rng: Rng) {
    const { lq, gt, embedding } = batchToTensors(batch);
    const { timesteps, states } = this.sde.randomStates(gt, lq, rng);
    const optimum = this.sde.reverseOptimumStep(states, gt, lq, timesteps);
    try {
      return {
        state: { shape: [...states.shape], data: (await states.data()) as Float32Array },
        lq: batch.lq,
        optimum: { shape: [...optimum.shape], data: (await optimum.data()) as Float32Array },
        time: Float32Array.from(timesteps, (t) => this.sde.networkTime(t)),
        imageContext: batch.embedding,
        coefficients: matchingLossCoefficients(this.sde, timesteps),
      };
    } finally {
      tf.dispose([lq, gt, states, optimum, ...(embedding ? [embedding] : [])]);
    }
  }

  updateEma(): void {
    this.ema.update();
  }

  weights(): TensorDict {
    return this.trainer.params.toTensorDict();
  }

  emaWeights(): TensorDict {
    return this.ema.stateDict();
  }

  optimizerState(): AdamWState {
    return this.optimizer.getState();
  }

  emaState(): { step: number; initialized: boolean } {
    const { step, initialized } = this.ema.getState();
    return { step, initialized };
  }

  restore(resume: LoadedDiffusionCheckpoint): void {
    this.trainer.params.load(resume.groups.model!, resume.file);
    this.optimizer.setState({ step: resume.meta.step, options: this.optimizer.options, expAvg: resume.groups['optimizer.exp_avg']!, expAvgSq: resume.groups['optimizer.exp_avg_sq']! }, resume.file);
    this.ema.setState({ ...resume.meta.ema, shadow: resume.groups.ema! }, resume.file);
  }

  async close(): Promise<void> {
    await this.trainer.dispose();
  }
}
