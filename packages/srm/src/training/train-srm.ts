import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Rng, manualSeed, warmupCosineSchedule, type OrtSessionOptions, type TensorDict } from '@srdiff/core';
import { RUN_DEFINING_SETTINGS, resolveSrmConfig, resolveTrainSrmSettings, type SrmConfig, type TrainSrmSettings } from '../config';
import { readEmbeddingPairs, splitEmbeddingPairs, type EmbeddingPairs } from '../data/embedding-pairs';
import { saveSrmWeights, SRM_WEIGHTS_FILE } from '../io/srm-weights';
import { SemanticRefinementModule } from '../models/semantic-refinement-module';
import { evaluateSrm, type SrmEvaluation } from './evaluate';
import {
  CHECKPOINT_BEST_FILE,
  CHECKPOINT_LAST_FILE,
  readSrmCheckpoint,
  SRM_CHECKPOINT_FORMAT,
  writeSrmCheckpoint,
  type SrmBest,
  type SrmCheckpointMeta,
  type SrmEpochRecord,
} from './srm-checkpoint';
import { createSrmStepEngine, type SrmEngineName, type SrmStepEngine } from './step-engine';
/** Two folders of `.npy` embeddings matched by basename (`LQCLS/`, `GTCLS/`). */
export interface EmbeddingFolders {
  lqDir: string;
  gtDir: string;
}

export type SrmTrainingEvent =
  | { type: 'start'; epochs: number; startEpoch: number; step: number; stepsPerEpoch: number; totalSteps: number; trainCount: number; valCount: number; resumedFrom?: string; engine: 'onnx' | 'tfjs' }
  | { type: 'step'; epoch: number; step: number; totalSteps: number; loss: number; lr: number; gradNorm: number }
  | { type: 'epoch'; record: SrmEpochRecord; improved: boolean; best: SrmBest }
  | { type: 'checkpoint'; kind: 'last' | 'best'; file: string; epoch: number };

export interface TrainSrmOptions extends Partial<TrainSrmSettings> {
  /** Training pairs, in memory or as folders. */
  data: EmbeddingPairs | EmbeddingFolders;
  /** Validation pairs; without them `valFraction` of `data` is held out (0: no validation, as the original). */
  valData?: EmbeddingPairs | EmbeddingFolders;
  /** Start from these weights (its config is used). Otherwise a new module is built, initialised from `seed`. */
  model?: SemanticRefinementModule;
  /** Shape of a new module; `inputDim` defaults to the data's width. */
  config?: Partial<SrmConfig>;
  /** Where checkpoints and `srm.safetensors` go; without it nothing is written. */
  outDir?: string;
  /**
   * Continue a run: `true` from `outDir/checkpoint-last.safetensors` (must exist), `'auto'` from it
   * when it exists, a path from that file. Weights, optimizer moments, schedule position, data order
   * (generator state), best metric and history are restored.
   */
  resume?: boolean | 'auto' | string;
  /** Allow starting a new run in an `outDir` that already holds a checkpoint. */
  overwrite?: boolean;
  /** Batch size of validation (default 1024). */
  evalBatchSize?: number;
  onProgress?: (event: SrmTrainingEvent) => void;
  signal?: AbortSignal;
  /**
   * What runs the steps: `'onnx'` (forward, loss and backward as one ONNX Runtime graph, AdamW
   * fused on the host), `'tfjs'` (the reference engine, on the current backend) or `'auto'`
   * (default: onnx when onnxruntime-node loads). Checkpoints are the same either way, so a run
   * resumes on the other engine.
   */
  engine?: SrmEngineName;
  /** ONNX Runtime session options of the onnx engine (threads, execution providers). */
  session?: OrtSessionOptions;
}

export interface TrainSrmResult {
  /** The module after the last epoch. */
  model: SemanticRefinementModule;
  /** PyTorch-layout weights of the best epoch (`model.loadStateDict(result.bestWeights)` to use them). */
  bestWeights: TensorDict;
  best: SrmBest;
  history: SrmEpochRecord[];
  /** Optimizer steps taken in total (including those of a resumed run). */
  steps: number;
  settings: TrainSrmSettings;
  /** Validation of the final weights (when there is a validation set). */
  finalValidation?: SrmEvaluation;
  files?: { last: string; best: string; weights: string };
}

/** Thrown when `signal` aborts training; the run continues from `checkpoint` with `resume`. */
export class SrmTrainingAbortedError extends Error {
  constructor(readonly epochsCompleted: number, readonly step: number, readonly checkpoint: string | undefined, reason?: unknown) {
    super(
      `SRM training aborted after ${epochsCompleted} complete epoch(s), step ${step}` +
        (checkpoint ? `; resume from ${checkpoint}` : '; no outDir, nothing to resume from') +
        (reason !== undefined ? ` (${reason instanceof Error ? reason.message : String(reason)})` : ''),
    );
    this.name = 'SrmTrainingAbortedError';
  }
}

/**
 * Trains the Semantic Refinement Module on `(LQ, GT)` embedding pairs as the original `sr/train.py`:
 * shuffled batches, hybrid loss (α·L1 + (1-α)·cosine), AdamW (lr 3e-4, wd 1e-4), linear warm-up then
 * cosine decay to `minLr` (stepped per batch, **lr 0 on the very first step** as the original's
 * LambdaLR gives), global grad-norm clip 1.0 on the true gradients (the original clips the AMP-scaled
 * ones; we run float32 without AMP). Per epoch: mean training loss, validation (cosine similarity of
 * refined vs GT next to raw LQ vs GT), `best` on the best validation cosine (training loss without a
 * validation set, as the original), `last` every `checkpointEvery` epochs; both atomic. Runs on the
 * current tfjs backend (call `selectBackend` first).
 */
export async function trainSrm(options: TrainSrmOptions): Promise<TrainSrmResult> {
  const explicit = definedSettings(options);
  const lastFile = options.outDir ? path.join(options.outDir, CHECKPOINT_LAST_FILE) : undefined;
  const resumeFile = await resolveResumeFile(options, lastFile);
  const checkpoint = resumeFile ? await readSrmCheckpoint(resumeFile) : undefined;
  if (checkpoint) assertSameRun(checkpoint.meta, explicit, resumeFile!);
  const settings = resolveTrainSrmSettings(checkpoint ? { ...checkpoint.meta.settings, ...explicit } : explicit);

  const all = await loadPairs(options.data, 'data');
  const given = options.valData ? await loadPairs(options.valData, 'valData') : undefined;
  if (given && given.dim !== all.dim) throw new Error(`trainSrm: validation embeddings are ${given.dim} wide, training embeddings ${all.dim}`);
  // A seed distinct from the data order's, so the split and the first shuffle are unrelated draws.
  const { train, val } = given ? { train: all, val: given } : splitEmbeddingPairs(all, settings.valFraction, settings.seed + 0x5eed);

  const model = createModel(options, checkpoint?.meta.config, train.dim, settings.seed);
  const stepsPerEpoch = Math.ceil(train.count / settings.batchSize);
  const schedule = { baseLr: settings.lr, warmupSteps: settings.warmupSteps, totalSteps: stepsPerEpoch * settings.epochs, minLr: settings.minLr };
  const lrAt = warmupCosineSchedule(schedule);
  const fingerprint = dataFingerprint(train, val);
  const rng = new Rng(settings.seed);
  let best: SrmBest = { metric: val ? 'val_cosine' : 'train_loss', value: null, epoch: 0 };
  let history: SrmEpochRecord[] = [];
  let epoch = 0;
  let step = 0;
  if (checkpoint) {
    const m = checkpoint.meta;
    if (m.trainCount !== train.count || m.valCount !== (val?.count ?? 0) || m.dataFingerprint !== fingerprint) {
      throw new Error(
        `${resumeFile}: the checkpoint was trained on ${m.trainCount} training / ${m.valCount} validation pairs, ` +
          `the data given now has ${train.count} / ${val?.count ?? 0}${m.trainCount === train.count ? ' with different names or width' : ''}; resume needs the same data`,
      );
    }
    model.loadStateDict(checkpoint.weights, { source: resumeFile });
    rng.setState(m.rng);
    ({ best, history, epoch, step } = { best: m.best, history: m.history, epoch: m.epoch, step: m.step });
  }
  const engine = createEngine(options, model, settings);
  if (checkpoint) engine.setOptimizerState(checkpoint.optimizer, resumeFile);
  const bestWeights0 = checkpoint ? await bestWeightsBeside(resumeFile!, checkpoint.meta) : undefined;
  let bestWeights = bestWeights0 ?? model.stateDict();

  const emit = options.onProgress ?? (() => undefined);
  emit({ type: 'start', epochs: settings.epochs, startEpoch: epoch, step, stepsPerEpoch, totalSteps: schedule.totalSteps, trainCount: train.count, valCount: val?.count ?? 0, resumedFrom: resumeFile, engine: engine.name });

  const metaAt = (): SrmCheckpointMeta => ({
    format: SRM_CHECKPOINT_FORMAT,
    epoch,
    step,
    config: { ...model.config },
    settings,
    schedule,
    stepsPerEpoch,
    trainCount: train.count,
    valCount: val?.count ?? 0,
    dataFingerprint: fingerprint,
    rng: rng.getState(),
    best,
    history,
    // Overwritten by writeSrmCheckpoint with the saved optimizer state.
    optimizer: { step, options: { lr: settings.lr, betas: settings.betas, eps: settings.eps, weightDecay: settings.weightDecay } },
  });
  const files = options.outDir
    ? { last: lastFile!, best: path.join(options.outDir, CHECKPOINT_BEST_FILE), weights: path.join(options.outDir, SRM_WEIGHTS_FILE) }
    : undefined;
  let lastSaved: string | undefined = checkpoint ? resumeFile : undefined;

  try {
    while (epoch < settings.epochs) {
      const started = Date.now();
      const order = rng.permutation(train.count);
      let lossSum = 0;
      let lr = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        if (options.signal?.aborted) throw new SrmTrainingAbortedError(epoch, step, lastSaved, options.signal.reason);
        const batch = order.slice(b * settings.batchSize, (b + 1) * settings.batchSize);
        const [lq, gt] = batchRows(train, batch);
        lr = lrAt(step);
        const result = await engine.step(lq, gt, batch.length, { lr, alpha: settings.alpha, maxGradNorm: settings.maxGradNorm, microBatchSize: settings.microBatchSize });
        if (!Number.isFinite(result.loss)) throw new Error(`trainSrm: the loss became ${result.loss} at step ${step} (epoch ${epoch + 1}); lower lr or check the embeddings`);
        step++;
        lossSum += result.loss;
        emit({ type: 'step', epoch: epoch + 1, step, totalSteps: schedule.totalSteps, loss: result.loss, lr, gradNorm: result.gradNorm });
        await yieldToEventLoop(); // lets an AbortSignal fired by a timer or a signal handler arrive
      }
      epoch++;
      engine.syncTo(model);
      const last = epoch === settings.epochs;
      const record: SrmEpochRecord = { epoch, step, trainLoss: lossSum / stepsPerEpoch, lr, seconds: 0 };
      if (val && (epoch % settings.valEvery === 0 || last)) record.val = evaluateSrm(model, val, { batchSize: options.evalBatchSize, alpha: settings.alpha });
      const value = best.metric === 'val_cosine' ? record.val?.cosineRefined : record.trainLoss;
      const improved = value !== undefined && (best.value === null || (best.metric === 'val_cosine' ? value > best.value : value < best.value));
      if (improved) {
        best = { metric: best.metric, value: value!, epoch };
        bestWeights = model.stateDict();
      }
      record.seconds = (Date.now() - started) / 1000;
      history = [...history, record];
      if (files) {
        if (improved) {
          await writeSrmCheckpoint(files.best, model, engine.getOptimizerState(), metaAt());
          await saveSrmWeights(files.weights, model);
          emit({ type: 'checkpoint', kind: 'best', file: files.best, epoch });
        }
        if (epoch % settings.checkpointEvery === 0 || last) {
          await writeSrmCheckpoint(files.last, model, engine.getOptimizerState(), metaAt());
          lastSaved = files.last;
          emit({ type: 'checkpoint', kind: 'last', file: files.last, epoch });
        }
      }
      emit({ type: 'epoch', record, improved, best });
    }
  } catch (err) {
    await engine.dispose();
    if (!options.model) model.dispose();
    throw err;
  }
  await engine.dispose();
  const finalValidation = history[history.length - 1]?.val ?? (val ? evaluateSrm(model, val, { batchSize: options.evalBatchSize, alpha: settings.alpha }) : undefined);
  return { model, bestWeights, best, history, steps: step, settings, finalValidation, files };
}

/**
 * The best epoch's weights of a resumed run: from `checkpoint-best.safetensors` beside the resumed
 * checkpoint when it belongs to the same run and epoch. Otherwise (best file missing or from another
 * run) undefined, and the resumed weights stand in until the next improvement.
 */
async function bestWeightsBeside(resumeFile: string, meta: SrmCheckpointMeta): Promise<TensorDict | undefined> {
  const file = path.join(path.dirname(resumeFile), CHECKPOINT_BEST_FILE);
  if (meta.best.epoch === 0 || !fs.existsSync(file)) return undefined;
  const best = await readSrmCheckpoint(file);
  return best.meta.epoch === meta.best.epoch && best.meta.dataFingerprint === meta.dataFingerprint ? best.weights : undefined;
}

const SETTING_KEYS = ['epochs', 'batchSize', 'microBatchSize', 'lr', 'warmupSteps', 'minLr', 'weightDecay', 'betas', 'eps', 'maxGradNorm', 'alpha', 'valFraction', 'valEvery', 'checkpointEvery', 'seed'] as const;

function definedSettings(options: TrainSrmOptions): Partial<TrainSrmSettings> {
  const out: Record<string, unknown> = {};
  for (const k of SETTING_KEYS) if (options[k] !== undefined) out[k] = options[k];
  return out as Partial<TrainSrmSettings>;
}

function assertSameRun(meta: SrmCheckpointMeta, explicit: Partial<TrainSrmSettings>, file: string): void {
  const diffs = RUN_DEFINING_SETTINGS.filter((k) => explicit[k] !== undefined && JSON.stringify(explicit[k]) !== JSON.stringify(meta.settings[k])).map(
    (k) => `${k}: checkpoint ${JSON.stringify(meta.settings[k])}, given ${JSON.stringify(explicit[k])}`,
  );
  if (diffs.length) throw new Error(`${file}: cannot resume with different settings (${diffs.join('; ')}); omit them to use the checkpoint's, or start a new run`);
}

async function resolveResumeFile(options: TrainSrmOptions, lastFile: string | undefined): Promise<string | undefined> {
  const { resume } = options;
  if (typeof resume === 'string' && resume !== 'auto') return resume;
  if (resume === true || resume === 'auto') {
    if (!lastFile) throw new Error('trainSrm: resume needs outDir (or a checkpoint path)');
    if (fs.existsSync(lastFile)) return lastFile;
    if (resume === true) throw new Error(`trainSrm: nothing to resume, ${lastFile} does not exist`);
    return undefined;
  }
  if (lastFile && !options.overwrite && fs.existsSync(lastFile)) {
    throw new Error(`trainSrm: ${lastFile} exists; pass resume: true to continue that run, overwrite: true to start over, or another outDir`);
  }
  return undefined;
}

async function loadPairs(source: EmbeddingPairs | EmbeddingFolders, what: string): Promise<EmbeddingPairs> {
  if ('lqDir' in source && 'gtDir' in source) return readEmbeddingPairs(source.lqDir, source.gtDir);
  if (!('lq' in source) || !(source.lq instanceof Float32Array) || source.lq.length !== source.count * source.dim) {
    throw new Error(`trainSrm: ${what} must be EmbeddingPairs (createEmbeddingPairs / readEmbeddingPairs) or { lqDir, gtDir }`);
  }
  return source;
}

function createModel(options: TrainSrmOptions, stored: SrmConfig | undefined, dataDim: number, seed: number): SemanticRefinementModule {
  const wanted = stored ?? (options.model ? { ...options.model.config } : resolveSrmConfig({ inputDim: dataDim, ...options.config }));
  if (options.config && stored) {
    const requested = resolveSrmConfig({ ...stored, ...options.config });
    if (JSON.stringify(requested) !== JSON.stringify(stored)) {
      throw new Error(`trainSrm: the checkpoint's model is ${JSON.stringify(stored)}, config asks for ${JSON.stringify(requested)}`);
    }
  }
  if (options.model && JSON.stringify({ ...options.model.config }) !== JSON.stringify(wanted)) {
    throw new Error(`trainSrm: the given model is ${JSON.stringify(options.model.config)}, expected ${JSON.stringify(wanted)}`);
  }
  if (wanted.inputDim !== dataDim) {
    throw new Error(`trainSrm: the embeddings are ${dataDim} wide but the SRM's inputDim is ${wanted.inputDim}; set config.inputDim to the VLM's width`);
  }
  if (options.model) return options.model;
  manualSeed(seed);
  return new SemanticRefinementModule(wanted);
}

function createEngine(options: TrainSrmOptions, model: SemanticRefinementModule, s: TrainSrmSettings): SrmStepEngine {
  return createSrmStepEngine(options.engine ?? 'auto', model, { lr: s.lr, betas: s.betas, eps: s.eps, weightDecay: s.weightDecay }, { alpha: s.alpha, session: options.session });
}

/** The rows of a batch, LQ and GT, back to back. */
function batchRows(pairs: EmbeddingPairs, indices: readonly number[]): [Float32Array, Float32Array] {
  const { dim } = pairs;
  const lq = new Float32Array(indices.length * dim);
  const gt = new Float32Array(indices.length * dim);
  indices.forEach((src, i) => {
    lq.set(pairs.lq.subarray(src * dim, (src + 1) * dim), i * dim);
    gt.set(pairs.gt.subarray(src * dim, (src + 1) * dim), i * dim);
  });
  return [lq, gt];
}

function dataFingerprint(train: EmbeddingPairs, val: EmbeddingPairs | undefined): string {
  const h = createHash('sha256');
  h.update(`dim ${train.dim};train ${train.names.join('\n')};val ${val?.names.join('\n') ?? ''}`);
  return h.digest('hex');
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
