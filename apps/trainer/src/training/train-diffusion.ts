import { join } from 'node:path';
import { Rng, manualSeed, selectBackend, writeSafetensors, type BackendSelection } from '@srdiff/core';
import { TrainBatchLoader } from '@srdiff/data';
import { IRSDE } from '@srdiff/sde';
import { CONFIG_METADATA_KEY, ConditionalUNet, resolveUnetConfig, readStateDict, type UNetConfig } from '@srdiff/unet';
import { irsdeOptions } from '../options/package-options';
import type { DatasetOptions, TrainOptions } from '../options/train-options';
import { datasetSource, openDataset, taskDirs } from '../pipeline/dataset';
import { embeddingVlm } from '../pipeline/vlm';
import { learningRateSchedule } from './lr-schedule';
import {
  DIFFUSION_CHECKPOINT_FORMAT, NoUsableCheckpointError, listCheckpoints, loadDiffusionCheckpoint, saveDiffusionCheckpoint,
  type DiffusionCheckpointMeta, type LoadedDiffusionCheckpoint,
} from './diffusion-checkpoint';
import { CheckpointLedger } from './checkpoint-ledger';
import { RunDir, RunFolderInUseError, resolveRunRoot } from './run-dir';
import { validate, type ValidationResult } from './validate';
import { startTrainingEngine, type DiffusionTrainingEngine } from './engines';

export type TrainEvent =
  | { type: 'start'; step: number; niter: number; backend: BackendSelection; engine: 'onnx' | 'tfjs'; engineDescription: string; threads: number; trainPairs: number; valPairs: number; resumedFrom?: string; parameters: number; runDir: string }
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
  /**
   * Replace a run already in the folder (`--overwrite`): its checkpoints, weights, metrics and
   * validation images are deleted once this run is ready to start. Without it (and without
   * `path.resume_state`) such a folder is refused.
   */
  overwrite?: boolean;
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
  /** Under `datasets.train.on_error: skip`: the LQ files of pairs left out, and the samples others stood in for. */
  skipped: { pairs: string[]; samples: number };
}

export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly loss: number, readonly lastCheckpoint: string | undefined) {
    super(`training stopped: the loss became ${loss} at step ${step}; the last good checkpoint is ${lastCheckpoint ?? '(none yet)'} — lower train.lr_G or set train.grad_clip, then resume`);
    this.name = 'NonFiniteLossError';
  }
}

/** Training failed inside its loop; the steps done were checkpointed first (when there were any). */
export class TrainingStoppedError extends Error {
  constructor(readonly step: number, override readonly cause: unknown, readonly checkpoint: string | undefined, wayOut: string) {
    const saved = checkpoint ? `; the steps done are saved in ${checkpoint}` : '';
    super(`training stopped at step ${step}: ${(cause as Error).message}${saved} — ${wayOut}`);
    this.name = 'TrainingStoppedError';
  }
}

/** A failure of the data (an image or embedding file), as opposed to the computation. */
class DataFailure extends Error {
  constructor(readonly error: Error, readonly key: 'datasets.train' | 'datasets.val') {
    super(error.message);
  }
}

/** Tags what a promise rejects with as a data failure of `key`. */
const asDataFailure = <T>(p: Promise<T>, key: DataFailure['key']) => p.catch((err: Error) => Promise.reject(new DataFailure(err, key)));

/**
 * Stage two of SR-Diff: the ConditionalUNet trained with IR-SDE's matching loss
 * (`DenoisingModel.optimize_parameters` of the original): per batch, random timesteps t, noisy
 * states x_t around muBar(GT, LQ, t); the network predicts the noise given x_t, the LQ image and the
 * refined semantic embedding; the loss is L1 between the reverse-SDE mean with that score and the
 * optimal reverse step. AdamW, cosine annealing, EMA; periodic validation with the EMA weights;
 * atomic checkpoints; resume restores weights, optimizer, EMA, schedule position, RNG and data order.
 *
 * What a user has is never lost: a folder holding a run is refused unless resumed or replaced
 * explicitly; a resume with no usable checkpoint fails (listing why) instead of starting over; a
 * failure inside the loop checkpoints the steps done before it stops; pruning keeps good
 * checkpoints, not merely the newest; temporaries of killed writes are cleaned at start.
 */
export async function trainDiffusion({ options, onEvent, signal, maxSteps, maxSeconds, overwrite = false }: TrainDiffusionOptions): Promise<TrainDiffusionResult> {
  const emit = (e: TrainEvent) => onEvent?.(e);
  const log = (message: string) => emit({ type: 'log', message });
  const tr = options.train;
  if (tr.optimizer === 'Adam' && tr.weight_decay_G > 0) {
    throw new Error('train.optimizer Adam with weight_decay_G > 0 (coupled L2) is not supported; use AdamW');
  }
  const run = new RunDir(resolveRunRoot(options.name, options.path.experiments_root));
  const replacing = await claimRunFolder(run, options, overwrite, log);
  const backend = await selectBackend(options.backend);

  const config: UNetConfig = resolveUnetConfig(options.network_G.setting);
  const tasks = options.distortion;
  const train = await openDataset(options.datasets.train, 'train', tasks, config as never, options.srm.path, log);
  const hasVal = Boolean(options.datasets.val.dataroot || options.datasets.val.dataroot_LQ);
  const val = hasVal ? await openDataset(options.datasets.val, 'val', tasks, config as never, options.srm.path, log) : undefined;
  if (config.use_image_context) {
    // The VLM the embeddings came from (LQCLS manifests; two VLMs are an error naming both) goes
    // into the run's options.yml as vlm.model, for restore and test.
    const phases: ['train' | 'val', DatasetOptions][] = [['train', options.datasets.train], ...(hasVal ? [['val', options.datasets.val] as ['val', DatasetOptions]] : [])];
    const lqCls = phases.flatMap(([phase, ds]) => taskDirs(datasetSource(ds, phase, tasks, `datasets.${phase}`)).map((d) => join(d, 'LQCLS')));
    options = { ...options, vlm: { ...options.vlm, model: await embeddingVlm(lqCls, options.vlm.model, 'vlm.model') } };
  }

  manualSeed(tr.manual_seed);
  const model = new ConditionalUNet(config);
  const ledger = new CheckpointLedger(run.checkpoints, log);
  const resume = options.path.resume_state ? await openResume(options.path.resume_state, run, ledger, log) : undefined;
  if (!resume && options.path.pretrain_model_G) {
    const { tensors } = await readStateDict(options.path.pretrain_model_G);
    model.loadStateDict(tensors, { strict: options.path.strict_load, source: options.path.pretrain_model_G });
    log(`loaded ${options.path.pretrain_model_G}`);
  }
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
    onError: ds.on_error,
    onSkip: (pair, err) => log(`warning: skipping the pair ${pair.lq} (${err.message}); datasets.train.on_error: skip — other pairs stand in for it`),
  });
  const sdeOptions = irsdeOptions(options.sde);
  const sde = new IRSDE(sdeOptions);
  const engine = await startTrainingEngine(model, sde, sdeOptions, options, backend);
  let step = 0;
  let best: DiffusionCheckpointMeta['best'] = { psnr: null, step: 0 };
  try {
    if (resume) {
      restoreTrainingState(resume, { engine, rng, loader });
      step = resume.meta.step;
      best = resume.meta.best;
      for (const r of resume.rejected) log(`skipped damaged checkpoint: ${r.reason}`);
    }
    await startRunFolder(run, options, { replacing, resumedStep: resume?.meta.step, ledger, log });
  } catch (err) {
    await engine.close();
    throw err;
  }
  const lrAt = learningRateSchedule(tr);
  const weightsMeta = () => ({ [CONFIG_METADATA_KEY]: JSON.stringify(config), step: String(step) });
  let lastCheckpoint: string | undefined = resume?.file;
  let checkpointedStep = resume?.meta.step ?? -1;
  const checkpoint = async (): Promise<string> => {
    const meta: DiffusionCheckpointMeta = {
      format: DIFFUSION_CHECKPOINT_FORMAT, step, unetConfig: config, options,
      ema: engine.emaState(), rng: rng.getState(), loader: loader.getState(), best,
    };
    const file = await saveDiffusionCheckpoint(run.checkpoints, { weights: engine.weights(), emaWeights: engine.emaWeights(), optimizer: engine.optimizerState(), meta });
    ledger.vouch(file);
    lastCheckpoint = file;
    checkpointedStep = step;
    await writeSafetensors(run.model('last', 'G'), engine.weights(), weightsMeta());
    await writeSafetensors(run.model('last', 'EMA'), engine.emaWeights(), weightsMeta());
    await ledger.prune(step);
    emit({ type: 'checkpoint', step, file });
    return file;
  };

  const started = Date.now();
  const stepsAtStart = step;
  let reason: TrainDiffusionResult['reason'] = 'done';
  let windowLoss = 0;
  let windowCount = 0;
  let lastLoss: number | undefined;
  try {
    emit({
      type: 'start', step, niter: tr.niter, backend, engine: engine.name, engineDescription: engine.description, threads: engine.threads,
      trainPairs: train.length, valPairs: val?.length ?? 0, resumedFrom: resume?.file, parameters: engine.parameterCount, runDir: run.root,
    });
    while (step < tr.niter) {
      if (signal?.aborted) { reason = 'interrupted'; break; }
      if (maxSteps !== undefined && step - stepsAtStart >= maxSteps) { reason = 'budget'; break; }
      if (maxSeconds !== undefined && (Date.now() - started) / 1000 >= maxSeconds) { reason = 'budget'; break; }
      const t0 = Date.now();
      const batch = await asDataFailure(loader.next(), 'datasets.train');
      const lr = lrAt(step);
      // A step that throws must leave the state as it was after the last one (for the checkpoint
      // written on the way out): the RNG is the only state the step touches before its update.
      const rngBefore = rng.getState();
      let loss: number;
      try {
        loss = await engine.step(batch, rng, lr);
      } catch (err) {
        rng.setState(rngBefore);
        throw err;
      }
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(step + 1, loss, lastCheckpoint);
      engine.updateEma();
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
        const result = await asDataFailure(validate(val, engine.emaWeights(), config, sde, options, { step, outDir: run.valImages(step), signal, log }), 'datasets.val');
        const improved = best.psnr === null || result.mean.psnr > best.psnr;
        if (improved) {
          best = { psnr: result.mean.psnr, step };
          await writeSafetensors(run.model('best', 'EMA'), engine.emaWeights(), weightsMeta());
          await writeSafetensors(run.model('best', 'G'), engine.weights(), weightsMeta());
        }
        await run.log({ type: 'val', step, ...result.mean, lq: result.lqMean, engine: result.engine, best: improved });
        emit({ type: 'validation', step, result, best: improved });
      }
      if (step % options.logger.save_checkpoint_freq === 0) await checkpoint();
    }
    if (step > stepsAtStart || !lastCheckpoint) await checkpoint();
  } catch (err) {
    throw await checkpointOnFailure(err, { step, checkpointedStep, checkpoint, log });
  } finally {
    await engine.close();
  }
  const skipped = loader.skipped;
  return { step, reason, runDir: run.root, lastCheckpoint, best, lastLoss, skipped: { pairs: skipped.pairs.map((p) => p.lq), samples: skipped.samples } };
}

/**
 * Checks that the run folder is free for this run before anything is loaded: a run already there
 * is refused unless resumed (`path.resume_state`) or replaced (`overwrite`, returned true: it is
 * deleted later, once this run is ready to start). Temporaries of killed writes are removed.
 */
async function claimRunFolder(run: RunDir, options: TrainOptions, overwrite: boolean, log: (m: string) => void): Promise<boolean> {
  const resuming = Boolean(options.path.resume_state);
  if (overwrite && resuming) throw new Error('--overwrite and --resume (path.resume_state) exclude each other: replace the run, or continue it');
  const stale = await run.removeStaleTemporaries();
  if (stale.length) log(`removed ${stale.length} temporary file(s) left by an interrupted write: ${stale.join(', ')}`);
  const previous = run.previousRun();
  if (!previous || resuming) return false;
  if (!overwrite) throw new RunFolderInUseError(run.root, previous);
  return true;
}

/** After the state is loaded: replaces (`--overwrite`) or trims what an earlier run left, and writes options.yml. */
async function startRunFolder(
  run: RunDir,
  options: TrainOptions,
  how: { replacing: boolean; resumedStep?: number; ledger: CheckpointLedger; log: (m: string) => void },
): Promise<void> {
  const { log } = how;
  if (how.replacing) {
    const removed = await run.removePreviousRun();
    log(`--overwrite: removed the previous run in ${run.root} (${removed.length} file(s) and folders)`);
  }
  await run.init(options);
  if (how.resumedStep !== undefined) {
    const moved = await how.ledger.supersedeAfter(how.resumedStep);
    if (moved.length) log(`moved ${moved.length} checkpoint(s) newer than step ${how.resumedStep} aside (a later --resume would jump onto them): ${moved.join(', ')}`);
  }
  const dropped = await run.truncateLog(how.resumedStep ?? 0);
  if (dropped) log(`metrics.jsonl: dropped ${dropped} record(s) of steps after ${how.resumedStep ?? 0}, which this run trains again`);
}

/**
 * Resolves `path.resume_state`: a checkpoint file, or "auto" — the run folder's newest usable
 * checkpoint. A folder without checkpoints starts at step 0 (unless it holds weights: refused);
 * checkpoints that are all unusable are an error listing each and why, never a silent restart.
 */
async function openResume(resumeState: string, run: RunDir, ledger: CheckpointLedger, log: (m: string) => void): Promise<LoadedDiffusionCheckpoint | undefined> {
  if (resumeState !== 'auto') {
    try {
      const loaded = await loadDiffusionCheckpoint(resumeState);
      ledger.vouch(loaded.file);
      return loaded;
    } catch (err) {
      const plain = /plain weights are not a checkpoint|not a diffusion training checkpoint/.test((err as Error).message);
      throw plain ? new Error(`${(err as Error).message}; to start from weights, set path.pretrain_model_G (and no path.resume_state)`) : err;
    }
  }
  if (!listCheckpoints(run.checkpoints).length) {
    const previous = run.previousRun();
    if (previous?.weights.length) {
      throw new Error(`--resume: ${run.root} holds weights (${previous.weights.map((w) => `models/${w}`).join(', ')}) but no checkpoint to resume from in ${run.checkpoints}; start a new run under another name, or replace this one with --overwrite`);
    }
    log(`--resume: no checkpoint in ${run.checkpoints} yet; starting at step 0`);
    return undefined;
  }
  try {
    const loaded = await loadDiffusionCheckpoint(run.checkpoints);
    loaded.rejected.forEach((r) => ledger.reject(r));
    ledger.vouch(loaded.file);
    return loaded;
  } catch (err) {
    if (!(err instanceof NoUsableCheckpointError)) throw err;
    throw new Error(
      `--resume: no checkpoint to resume in ${run.checkpoints}; every one was rejected:\n${err.rejected.map((r) => `  ${r.reason}`).join('\n')}\n` +
        'Nothing was changed. Put back a good copy of one of them, or start afresh with --overwrite (deletes them).',
    );
  }
}

/** Loads a checkpoint's state (written by either engine) into the engine, RNG and data loader. */
function restoreTrainingState(resume: LoadedDiffusionCheckpoint, into: { engine: DiffusionTrainingEngine; rng: Rng; loader: TrainBatchLoader }): void {
  into.engine.restore(resume);
  into.rng.setState(resume.meta.rng);
  into.loader.setState(resume.meta.loader);
}

/**
 * A failure inside the training loop: the steps done since the last checkpoint are saved first (as
 * Ctrl-C does) — except after a non-finite loss, whose weights are the ones that diverged (the last
 * periodic checkpoint is the good copy), or when writing a checkpoint is what failed. Returns the
 * error to throw, saying what was saved and the way out.
 */
async function checkpointOnFailure(
  err: unknown,
  at: { step: number; checkpointedStep: number; checkpoint: () => Promise<string>; log: (m: string) => void },
): Promise<unknown> {
  if (err instanceof NonFiniteLossError) return err;
  const cause = err instanceof DataFailure ? err.error : err;
  let saved: string | undefined;
  if (at.step > at.checkpointedStep && at.step > 0) {
    try {
      saved = await at.checkpoint();
    } catch (saveErr) {
      at.log(`could not checkpoint step ${at.step} after the failure: ${(saveErr as Error).message}`);
    }
  }
  const wayOut = err instanceof DataFailure
    ? `fix or remove that file (or set ${err.key}.on_error: skip to leave such pairs out), then continue with --resume`
    : 'continue with --resume once the cause is fixed';
  return new TrainingStoppedError(at.step, cause, saved, wayOut);
}

export { RunFolderInUseError };
