/**
 * Every default of @srdiff/srm, in one place, with the validation that turns a bad value into a
 * readable error. Model defaults are `CLSEnhancer`'s (`sr/CLSEnhancer.py`); training defaults are
 * the argparse defaults and hard-coded values of the original `sr/train.py`.
 */

/** Shape of a Semantic Refinement Module (the constructor arguments of the original `CLSEnhancer`). */
export interface SrmConfig {
  /** Width of the VLM embedding (768 in the original; CLIP ViT-B/32 image embeddings are 512). */
  inputDim: number;
  /** Width of both paths' hidden layers. */
  hiddenDim: number;
  /** Number of `SREncoderLayer`s in the lower path. */
  numLayers: number;
  /** Attention heads of each encoder layer's `nn.MultiheadAttention` (must divide `hiddenDim`). */
  numHeads: number;
}

/** `CLSEnhancer(input_dim=768, hidden_dim=1024, num_layers=4, num_heads=8)`. */
export const SRM_DEFAULTS: Readonly<SrmConfig> = Object.freeze({ inputDim: 768, hiddenDim: 1024, numLayers: 4, numHeads: 8 });

/** Fills defaults and checks a model config; errors name the field and the value. */
export function resolveSrmConfig(config: Partial<SrmConfig> = {}): SrmConfig {
  const c: SrmConfig = { ...SRM_DEFAULTS, ...definedOnly(config) };
  for (const key of ['inputDim', 'hiddenDim', 'numHeads'] as const) positiveInteger('SrmConfig', key, c[key]);
  nonNegativeInteger('SrmConfig', 'numLayers', c.numLayers);
  if (c.hiddenDim % c.numHeads !== 0) {
    throw new Error(`SrmConfig: hiddenDim ${c.hiddenDim} must be divisible by numHeads ${c.numHeads} (nn.MultiheadAttention splits it into equal heads)`);
  }
  return c;
}

/** Settings of SRM training. Every field has a default in {@link TRAIN_SRM_DEFAULTS}. */
export interface TrainSrmSettings {
  /** Passes over the training pairs (original `--num_epochs` 10000). */
  epochs: number;
  /** Pairs per optimizer step (original `--batch_size` 8192); the last batch of an epoch may be smaller. */
  batchSize: number;
  /**
   * Rows per forward/backward pass; larger batches accumulate gradients over slices of this size
   * before their single update (same step, less memory: wasm's 4 GiB cannot hold 8192 rows at the
   * original size). Does not change the result beyond float rounding.
   */
  microBatchSize: number;
  /** Peak learning rate of AdamW (original `--lr` 3e-4). */
  lr: number;
  /** Linear warm-up steps from lr 0 (original `--warmup_steps` 500). */
  warmupSteps: number;
  /** Final learning rate of the cosine decay (original `--min_lr` 5e-7). */
  minLr: number;
  /** AdamW decoupled weight decay (original: 1e-4). */
  weightDecay: number;
  /** AdamW betas (PyTorch defaults, as the original). */
  betas: [number, number];
  /** AdamW eps (PyTorch default, as the original). */
  eps: number;
  /** Global L2 gradient-norm clip (original: 1.0, applied here to the true, unscaled gradients). */
  maxGradNorm: number;
  /** Weight of L1 in the hybrid loss; cosine gets 1 - alpha (original `HybridLoss(alpha=0.7)`). */
  alpha: number;
  /**
   * Fraction of the pairs held out for validation when no separate validation set is given. The
   * original validates nothing (it keeps the model with the best training loss); 0 does the same.
   */
  valFraction: number;
  /** Validate every N epochs (and after the last one). */
  valEvery: number;
  /** Write the `last` checkpoint every N epochs (and after the last epoch). The original: every 1000. */
  checkpointEvery: number;
  /** Seed of the parameter initialisation, the data order and the validation split. */
  seed: number;
}

/**
 * Settings that define a run: a resumed run must use the same values (the schedule, the data order
 * and the validation split depend on them). `epochs` may change on resume; like the original's
 * resume that re-stretches the cosine over the new total.
 */
export const RUN_DEFINING_SETTINGS = ['batchSize', 'lr', 'warmupSteps', 'minLr', 'weightDecay', 'betas', 'eps', 'maxGradNorm', 'alpha', 'valFraction', 'seed'] as const;

export const TRAIN_SRM_DEFAULTS: Readonly<TrainSrmSettings> = Object.freeze({
  epochs: 10000,
  batchSize: 8192,
  microBatchSize: 2048,
  lr: 3e-4,
  warmupSteps: 500,
  minLr: 5e-7,
  weightDecay: 1e-4,
  betas: [0.9, 0.999] as [number, number],
  eps: 1e-8,
  maxGradNorm: 1.0,
  alpha: 0.7,
  valFraction: 0.1,
  valEvery: 1,
  checkpointEvery: 1,
  seed: 0,
});

/** Fills defaults and checks training settings; errors name the option and the value. */
export function resolveTrainSrmSettings(options: Partial<TrainSrmSettings> = {}): TrainSrmSettings {
  const o: TrainSrmSettings = { ...TRAIN_SRM_DEFAULTS, betas: [...TRAIN_SRM_DEFAULTS.betas], ...definedOnly(options) };
  const where = 'trainSrm';
  positiveInteger(where, 'epochs', o.epochs);
  positiveInteger(where, 'batchSize', o.batchSize);
  positiveInteger(where, 'microBatchSize', o.microBatchSize);
  positiveInteger(where, 'valEvery', o.valEvery);
  positiveInteger(where, 'checkpointEvery', o.checkpointEvery);
  nonNegativeInteger(where, 'warmupSteps', o.warmupSteps);
  positive(where, 'lr', o.lr);
  positive(where, 'maxGradNorm', o.maxGradNorm);
  nonNegative(where, 'minLr', o.minLr);
  nonNegative(where, 'weightDecay', o.weightDecay);
  nonNegative(where, 'eps', o.eps);
  if (!Number.isFinite(o.seed)) throw new Error(`${where}: seed must be a finite number, got ${o.seed}`);
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw new Error(`${where}: alpha must be in [0, 1], got ${o.alpha}`);
  if (!(o.valFraction >= 0 && o.valFraction < 1)) throw new Error(`${where}: valFraction must be in [0, 1), got ${o.valFraction}`);
  if (!Array.isArray(o.betas) || o.betas.length !== 2 || o.betas.some((b) => !(b >= 0 && b < 1))) {
    throw new Error(`${where}: betas must be two numbers in [0, 1), got ${JSON.stringify(o.betas)}`);
  }
  if (o.minLr > o.lr) throw new Error(`${where}: minLr ${o.minLr} is above lr ${o.lr}`);
  return o;
}

/** Batch size of inference (`refine`, `refineFolder`, validation). */
export const REFINE_DEFAULTS = Object.freeze({ batchSize: 1024 });

export function resolveBatchSize(where: string, batchSize: number | undefined, fallback: number): number {
  const b = batchSize ?? fallback;
  positiveInteger(where, 'batchSize', b);
  return b;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function positiveInteger(where: string, key: string, v: unknown): void {
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${where}: ${key} must be a positive integer, got ${String(v)}`);
}

function nonNegativeInteger(where: string, key: string, v: unknown): void {
  if (!Number.isInteger(v) || (v as number) < 0) throw new Error(`${where}: ${key} must be a non-negative integer, got ${String(v)}`);
}

function positive(where: string, key: string, v: number): void {
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new Error(`${where}: ${key} must be > 0, got ${v}`);
}

function nonNegative(where: string, key: string, v: number): void {
  if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) throw new Error(`${where}: ${key} must be >= 0, got ${v}`);
}
