import {
  AdamW, Ema, clipGradNorm, disposeGradients, explainWasmOutOfMemory, tf, type AdamWState, type BackendName, type Rng, type TensorDict,
} from '@srdiff/core';
import { batchToTensors, type TrainBatch } from '@srdiff/data';
import type { IRSDE, IRSDEOptions } from '@srdiff/sde';
import { ConditionalUNet, type UNetConfig } from '@srdiff/unet';
import type { TrainOptions } from '../../options/train-options';
import type { LoadedDiffusionCheckpoint } from '../diffusion-checkpoint';
import { DataParallelGradients, resolveGradientThreads } from '../parallel/data-parallel';
import type { DiffusionTrainingEngine } from './training-engine';

/**
 * The reference engine: the tfjs ConditionalUNet, tfjs AdamW and EMA, gradients split over
 * data-parallel threads on wasm/cpu (`train.threads`).
 */
export class TfjsTrainingEngine implements DiffusionTrainingEngine {
  readonly name = 'tfjs' as const;

  private constructor(
    private readonly model: ConditionalUNet,
    private readonly optimizer: AdamW,
    private readonly ema: Ema,
    private readonly parallel: DataParallelGradients,
    private readonly sde: IRSDE,
    private readonly options: TrainOptions,
    readonly description: string,
  ) {}

  /** `model` holds the initial weights (seeded initialisation or `pretrain_model_G`); the engine owns it from here. */
  static async start(model: ConditionalUNet, sde: IRSDE, sdeOptions: IRSDEOptions, options: TrainOptions, backend: { backend: BackendName; description: string }): Promise<TfjsTrainingEngine> {
    const tr = options.train;
    const optimizer = new AdamW(model.namedParameters(), { lr: tr.lr_G, betas: [tr.beta1, tr.beta2], weightDecay: tr.optimizer === 'AdamW' ? tr.weight_decay_G : 0 });
    const ema = new Ema(model, { beta: tr.ema_beta, updateEvery: tr.ema_update_every, updateAfterStep: tr.ema_update_after_step });
    const threads = resolveGradientThreads(tr.threads, backend.backend, options.datasets.train.batch_size);
    const parallel = await DataParallelGradients.start(model, sde, {
      threads, backend: backend.backend, unet: model.config as UNetConfig, sde: sdeOptions, loss: { type: tr.loss_type, weight: tr.weight },
    }).catch((err) => {
      ema.dispose();
      optimizer.dispose();
      throw err;
    });
    const description = `tfjs ${backend.description}, ${parallel.threads} gradient thread${parallel.threads === 1 ? '' : 's'}`;
    return new TfjsTrainingEngine(model, optimizer, ema, parallel, sde, options, description);
  }

  get threads(): number {
    return this.parallel.threads;
  }

  get parameterCount(): number {
    return this.model.parameterCount();
  }

  async step(batch: TrainBatch, rng: Rng, lr: number): Promise<number> {
    const { lq, gt, embedding } = batchToTensors(batch);
    const { timesteps, states } = this.sde.randomStates(gt, lq, rng);
    try {
      const { loss, grads } = await this.parallel.gradients({ lq, gt, states, timesteps, embedding });
      if (!Number.isFinite(loss)) {
        disposeGradients(grads);
        return loss;
      }
      const clip = this.options.train.grad_clip;
      const final = clip ? clipGradNorm(grads, clip).grads : grads;
      this.optimizer.update(final, lr);
      disposeGradients(final);
      return loss;
    } catch (err) {
      const ds = this.options.datasets.train;
      throw explainWasmOutOfMemory(
        err,
        `a training step (batch ${ds.batch_size} over ${this.parallel.threads} thread(s), patch ${ds.patch_size}, nf ${this.model.config.nf})`,
        // Measured: ~240 MiB per 64×64 sample at nf 16 (forward activations kept for backward, then gradients).
        'Lower datasets.train.batch_size or patch_size (memory grows with batch × patch² × nf), or set train.engine: onnx',
      );
    } finally {
      tf.dispose([lq, gt, states, ...(embedding ? [embedding] : [])]);
    }
  }

  updateEma(): void {
    this.ema.update();
  }

  weights(): TensorDict {
    return this.model.stateDict();
  }

  emaWeights(): TensorDict {
    return this.ema.stateDict();
  }

  optimizerState(): AdamWState {
    return this.optimizer.getState();
  }

  emaState(): { step: number; initialized: boolean } {
    return { step: this.ema.step, initialized: this.ema.getState().initialized };
  }

  restore(resume: LoadedDiffusionCheckpoint): void {
    this.model.loadStateDict(resume.groups.model!, { source: resume.file });
    this.optimizer.setState({ step: resume.meta.step, options: this.optimizer.options, expAvg: resume.groups['optimizer.exp_avg']!, expAvgSq: resume.groups['optimizer.exp_avg_sq']! }, resume.file);
    this.ema.setState({ ...resume.meta.ema, shadow: resume.groups.ema! }, resume.file);
  }

  async close(): Promise<void> {
    await this.parallel.close();
    this.ema.dispose();
    this.optimizer.dispose();
    this.model.dispose();
  }
}
