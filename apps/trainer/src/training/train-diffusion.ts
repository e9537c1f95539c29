import path from 'node:path';
import {
  AdamW, Ema, Rng, clipGradNorm, disposeGradients, explainWasmOutOfMemory, manualSeed, selectBackend, writeSafetensors,
  type BackendSelection,
} from '@srdiff/core';
import { TrainBatchLoader, batchToTensors, type PairedDataset } from '@srdiff/data';
import { IRSDE } from '@srdiff/sde';
import { CONFIG_METADATA_KEY, ConditionalUNet, resolveUnetConfig, readStateDict, type UNetConfig } from '@srdiff/unet';
import type { TrainOptions } from '../options/train-options';
import { openDataset } from '../pipeline/dataset';
import { learningRateSchedule } from './lr-schedule';
import {
  DIFFUSION_CHECKPOINT_FORMAT, loadDiffusionCheckpoint, saveDiffusionCheckpoint, type DiffusionCheckpointMeta,
} from './diffusion-checkpoint';
import { RunDir } from './run-dir';
import { validate, type ValidationResult } from './validate';
import { DataParallelGradients, resolveGradientThreads } from './parallel/data-parallel';

export type TrainEvent =
  | { type: 'start'; step: number; niter: number; backend: BackendSelection; threads: number; trainPairs: number; valPairs: number; resumedFrom?: string; parameters: number }
  | { type: 'step'; step: number; niter: number; loss: number; lr: number; seconds: number }
  | { type: 'validation'; step: number; result: ValidationResult; best: boolean }
  | { type: 'checkpoint'; step: number; file: string }
  | { type: 'log'; message: string };

export interface TrainDiffusionOptions {
  options: TrainOptions;
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
  /** Stop after this many updates in this call (tests, time budgets), checkpointing first. */
  maxSteps?: number;
  /** Stop once this many seconds have passed (checked between steps), checkpointing first. */
  maxSeconds?: number;
}

export interface TrainDiffusionResult {
  step: number;
  /** Why the run stopped. */
  reason: 'done' | 'interrupted' | 'budget';
  runDir: string;
  lastCheckpoint?: string;
  best: { psnr: number | null; step: number };
  /** Mean training loss over the last logged window. */
  lastLoss?: number;
}

export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly loss: number, readonly lastCheckpoint: string | undefined) {
    super(`training stopped: the loss became ${loss} at step ${step}; the last good checkpoint is ${lastCheckpoint ?? '(none yet)'} — lower train.lr_G or set train.grad_clip, then resume`);
    this.name = 'NonFiniteLossError';
  }
}

/**
 * Stage two of SR-Diff: the ConditionalUNet trained with IR-SDE's matching loss
 * (`DenoisingModel.optimize_parameters` of the original): per batch, random timesteps t, noisy
 * states x_t around muBar(GT, LQ, t); the network predicts the noise given x_t, the LQ image and the
 * refined semantic embedding; the loss is L1 between the reverse-SDE mean with that score and the
 * optimal reverse step. AdamW, cosine annealing, EMA; periodic validation with the EMA weights;
 * atomic checkpoints; resume restores weights, optimizer, EMA, schedule position, RNG and data order.
 */
export async function trainDiffusion({ options, onEvent, signal, maxSteps, maxSeconds }: TrainDiffusionOptions): Promise<TrainDiffusionResult> {
  const emit = (e: TrainEvent) => onEvent?.(e);
  const log = (message: string) => emit({ type: 'log', message });
  const backend = await selectBackend(options.backend);
  const run = new RunDir(options.path.experiments_root ?? path.join('runs', options.name));
  const tr = options.train;
  if (tr.optimizer === 'Adam' && tr.weight_decay_G > 0) {
    throw new Error('train.optimizer Adam with weight_decay_G > 0 (coupled L2) is not supported; use AdamW');
  }

  const config: UNetConfig = resolveUnetConfig(options.network_G.setting);
  const tasks = options.distortion;
  const train = await openDataset(options.datasets.train, 'train', tasks, config as never, options.srm.path, log);
  const hasVal = Boolean(options.datasets.val.dataroot || options.datasets.val.dataroot_LQ);
  const val = hasVal ? await openDataset(options.datasets.val, 'val', tasks, config as never, options.srm.path, log) : undefined;

  manualSeed(tr.manual_seed);
  const model = new ConditionalUNet(config);
  const resume = options.path.resume_state ? await loadResume(options.path.resume_state, run) : undefined;
  if (!resume && options.path.pretrain_model_G) {
    const { tensors } = await readStateDict(options.path.pretrain_model_G);
    model.loadStateDict(tensors, { strict: options.path.strict_load, source: options.path.pretrain_model_G });
    log(`loaded ${options.path.pretrain_model_G}`);
  }
  const optimizer = new AdamW(model.namedParameters(), {
    lr: tr.lr_G,
    betas: [tr.beta1, tr.beta2],
    weightDecay: tr.optimizer === 'AdamW' ? tr.weight_decay_G : 0,
  });
  const ema = new Ema(model, { beta: tr.ema_beta, updateEvery: tr.ema_update_every, updateAfterStep: tr.ema_update_after_step });
  const rng = new Rng(tr.manual_seed);
  const ds = options.datasets.train;
  const loader = new TrainBatchLoader(train, {
    batchSize: ds.batch_size,
    patchSize: ds.patch_size,
    useFlip: ds.use_flip,
    useRot: ds.use_rot,
    shuffle: ds.use_shuffle,
    smallImages: ds.small_images,
    seed: tr.manual_seed,
    prefetch: ds.n_workers,
  });
  let step = 0;
  let best: DiffusionCheckpointMeta['best'] = { psnr: null, step: 0 };
  if (resume) {
    model.loadStateDict(resume.groups.model!, { source: resume.file });
    optimizer.setState({ step: resume.meta.step, options: optimizer.options, expAvg: resume.groups['optimizer.exp_avg']!, expAvgSq: resume.groups['optimizer.exp_avg_sq']! }, resume.file);
    ema.setState({ ...resume.meta.ema, shadow: resume.groups.ema! }, resume.file);
    rng.setState(resume.meta.rng);
    loader.setState(resume.meta.loader);
    step = resume.meta.step;
    best = resume.meta.best;
    for (const r of resume.rejected) log(`skipped damaged checkpoint: ${r.reason}`);
  }
  await run.init(options);
  const sdeOptions = { maxSigma: options.sde.max_sigma, T: options.sde.T, schedule: options.sde.schedule, eps: options.sde.eps };
  const sde = new IRSDE(sdeOptions);
  const lrAt = learningRateSchedule(tr);
  const state = () => ({
    model, optimizer, ema,
    meta: {
      format: DIFFUSION_CHECKPOINT_FORMAT, step, unetConfig: config, options,
      ema: { step: ema.step, initialized: ema.getState().initialized }, rng: rng.getState(), loader: loader.getState(), best,
    } as DiffusionCheckpointMeta,
  });
  const weightsMeta = () => ({ [CONFIG_METADATA_KEY]: JSON.stringify(config), step: String(step) });
  let lastCheckpoint: string | undefined = resume?.file;
  const checkpoint = async () => {
    lastCheckpoint = await saveDiffusionCheckpoint(run.checkpoints, state());
    await writeSafetensors(run.model('last', 'G'), model.stateDict(), weightsMeta());
    await writeSafetensors(run.model('last', 'EMA'), ema.stateDict(), weightsMeta());
    emit({ type: 'checkpoint', step, file: lastCheckpoint });
  };

  const started = Date.now();
  const stepsAtStart = step;
  let reason: TrainDiffusionResult['reason'] = 'done';
  let windowLoss = 0;
  let windowCount = 0;
  let lastLoss: number | undefined;
  const threads = resolveGradientThreads(tr.threads, backend.backend, ds.batch_size);
  const parallel = await DataParallelGradients.start(model, sde, {
    threads, backend: backend.backend, unet: config, sde: sdeOptions, loss: { type: tr.loss_type, weight: tr.weight },
  });
  try {
    emit({ type: 'start', step, niter: tr.niter, backend, threads: parallel.threads, trainPairs: train.length, valPairs: val?.length ?? 0, resumedFrom: resume?.file, parameters: model.parameterCount() });
    while (step < tr.niter) {
      if (signal?.aborted) { reason = 'interrupted'; break; }
      if (maxSteps !== undefined && step - stepsAtStart >= maxSteps) { reason = 'budget'; break; }
      if (maxSeconds !== undefined && (Date.now() - started) / 1000 >= maxSeconds) { reason = 'budget'; break; }
      const t0 = Date.now();
      const batch = await loader.next();
      const lr = lrAt(step);
      let loss: number;
      try {
        loss = await trainStep(parallel, optimizer, sde, batch, rng, lr, options);
      } catch (err) {
        throw explainWasmOutOfMemory(
          err,
          `a training step (batch ${ds.batch_size} over ${parallel.threads} thread(s), patch ${ds.patch_size}, nf ${config.nf})`,
          // Measured: ~240 MiB per 64×64 sample at nf 16 (forward activations kept for backward, then gradients).
          'Lower datasets.train.batch_size or patch_size (memory grows with batch × patch² × nf)',
        );
      }
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(step + 1, loss, lastCheckpoint);
      ema.update();
      step += 1;
      windowLoss += loss;
      windowCount += 1;
      emit({ type: 'step', step, niter: tr.niter, loss, lr, seconds: (Date.now() - t0) / 1000 });
      if (step % options.logger.print_freq === 0 || step === tr.niter) {
        lastLoss = windowLoss / windowCount;
        await run.log({ type: 'train', step, loss: lastLoss, lr, seconds: (Date.now() - started) / 1000 });
        windowLoss = 0;
        windowCount = 0;
      }
      if (val && (step % tr.val_freq === 0 || step === tr.niter)) {
        const result = await validate(val, ema, config, sde, options, { step, outDir: run.valImages(step), signal });
        const improved = best.psnr === null || result.mean.psnr > best.psnr;
        if (improved) {
          best = { psnr: result.mean.psnr, step };
          await writeSafetensors(run.model('best', 'EMA'), ema.stateDict(), weightsMeta());
          await writeSafetensors(run.model('best', 'G'), model.stateDict(), weightsMeta());
        }
        await run.log({ type: 'val', step, ...result.mean, lq: result.lqMean, engine: result.engine, best: improved });
        emit({ type: 'validation', step, result, best: improved });
      }
      if (step % options.logger.save_checkpoint_freq === 0) await checkpoint();
    }
    if (step > stepsAtStart || !lastCheckpoint) await checkpoint();
  } finally {
    await parallel.close();
    ema.dispose();
    optimizer.dispose();
    model.dispose();
  }
  return { step, reason, runDir: run.root, lastCheckpoint, best, lastLoss };
}

/** Resolves `path.resume_state`: "auto" = this run's newest readable checkpoint (none → fresh start). */
async function loadResume(resumeState: string, run: RunDir) {
  if (resumeState === 'auto') {
    try {
      return await loadDiffusionCheckpoint(run.checkpoints);
    } catch {
      return undefined;
    }
  }
  return loadDiffusionCheckpoint(resumeState);
}

/** One optimizer update; returns the loss (before the update). */
async function trainStep(
  parallel: DataParallelGradients, optimizer: AdamW, sde: IRSDE, batch: Awaited<ReturnType<TrainBatchLoader['next']>>, rng: Rng, lr: number, options: TrainOptions,
): Promise<number> {
  const { lq, gt, embedding } = batchToTensors(batch);
  const { timesteps, states } = sde.randomStates(gt, lq, rng);
  try {
    const { loss, grads } = await parallel.gradients({ lq, gt, states, timesteps, embedding });
    if (!Number.isFinite(loss)) {
      disposeGradients(grads);
      return loss;
    }
    const clip = options.train.grad_clip;
    const final = clip ? clipGradNorm(grads, clip).grads : grads;
    optimizer.update(final, lr);
    disposeGradients(final);
    return loss;
  } finally {
    lq.dispose();
    gt.dispose();
    embedding?.dispose();
    states.dispose();
  }
}
