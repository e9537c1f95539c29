import fs from 'node:fs';
import path from 'node:path';
import {
  clipGradNormInPlace,
  disposeGradients,
  ParameterArena,
  ensureBackend,
  findTolerance,
  readSafetensors,
  tensorToTorchHost,
  tf,
  toleranceError,
  valueAndGrads,
  verifyRow,
  warmupCosineSchedule,
  type HostTensor,
  type NamedGradients,
  type TensorDict,
  type Tolerance,
  type VerifyRow,
} from '@srdiff/core';
import { hybridLoss } from './loss/hybrid-loss';
import { clipGradients } from './training/clip-gradients';
import { createSrmStepEngine, type SrmStepEngine } from './training/step-engine';
import { OnnxSrm, srmToOnnxBytes } from './onnx/export-srm-onnx';
import { SemanticRefinementModule, type SrmIntermediates } from './models/semantic-refinement-module';
import type { SREncoderLayer } from './models/sr-encoder-layer';

const CASE = 'srm';

/** The parts of a reference `srm/meta.json` this verifier reads (see shared/reference/README.md §2). */
interface SrmReferenceMeta {
  constructor: { input_dim: number; hidden_dim: number; num_layers: number; num_heads: number };
  param_count: number;
  params: Array<[string, number[]]>;
  hybrid_loss_alpha: number;
  loss: number;
  optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
  clip: { max_norm: number; total_norm_before_clip?: number };
  one_step?: { lr_used?: number };
  lr_schedule: { base_lr: number; num_warmup_steps: number; num_training_steps: number; min_lr: number; steps: number[]; lrs: number[] };
  scheduled_steps: {
    count: number;
    schedule: { num_warmup_steps: number; num_training_steps: number; min_lr: number };
    base_lr: number;
    weight_decay: number;
    eps: number;
    betas?: [number, number];
    max_grad_norm?: number;
    per_step?: Array<{ loss: number }>;
  };
  adamw_probe: { steps: number; lr: number; weight_decay: number; eps: number; betas: [number, number]; max_grad_norm: number; per_step?: Array<{ loss: number }> };
  sequence_test?: { module: string };
  tolerances: Record<string, Tolerance>;
}

type Runner = () => Promise<VerifyRow[]>;

export interface VerifySrmOptions {
  /**
   * The engine under test: `'tfjs'` (default; the current backend) or `'onnx'` (the ONNX Runtime
   * training graph and inference graph). On onnx the forward intermediates and the sequence test
   * are not rows (they are properties of the tfjs modules); every gradient and step row is.
   */
  engine?: 'tfjs' | 'onnx';
}

/**
 * Runs the SRM case of a reference folder laid out like `shared/reference/srm/`: state-dict
 * names/shapes/count, forward output and intermediates, hybrid loss, the encoder layer on a real
 * sequence, every raw and clipped gradient, the parameters after one AdamW step, after the
 * scheduled steps (lr 0 first, as `sr/train.py`) and after the AdamW probe, and the warm-up-cosine
 * learning-rate list. Every constructor argument, setting and tolerance comes from its
 * `meta.json`. A case that throws becomes a failing row carrying the message.
 */
export async function verifySrmReference(dir: string, options: VerifySrmOptions = {}): Promise<VerifyRow[]> {
  const onnx = options.engine === 'onnx';
  await ensureBackend();
  const meta = readMeta(dir);
  const file = (name: string) => path.join(dir, name);
  const weights = (await readSafetensors(file('weights.safetensors'))).tensors;
  const io = (await readSafetensors(file('io.safetensors'))).tensors;
  const tensor2d = (key: string) => {
    const t = io[key];
    if (!t || t.shape.length !== 2) throw new Error(`io.safetensors: "${key}" must be a 2-D tensor`);
    return tf.tensor2d(t.data, t.shape as [number, number]);
  };
  const x = tensor2d('x');
  const target = tensor2d('target');
  const alpha = meta.hybrid_loss_alpha;
  const c = meta.constructor;
  const fresh = () => {
    const model = new SemanticRefinementModule({ inputDim: c.input_dim, hiddenDim: c.hidden_dim, numLayers: c.num_layers, numHeads: c.num_heads });
    model.loadStateDict(weights, { source: file('weights.safetensors') });
    return model;
  };
  const lossOf = (model: SemanticRefinementModule) => () => hybridLoss(model.forward(x), target, alpha);
  const tol = (key: string) => findTolerance(meta.tolerances, key);
  const withModel = async (run: (model: SemanticRefinementModule) => Promise<VerifyRow[]> | VerifyRow[]) => {
    const model = fresh();
    try {
      return await run(model);
    } finally {
      model.dispose();
    }
  };

  const rowsOf = (t: tf.Tensor2D) => t.dataSync() as Float32Array;
  /** The engine under test, from the reference weights, with this optimizer; disposed after `run`. */
  const withEngine = async (o: { lr: number; betas: [number, number]; eps: number; weight_decay: number }, run: (e: SrmStepEngine) => Promise<VerifyRow[]>) => withModel(async (m) => {
    const engine = createSrmStepEngine(options.engine ?? 'tfjs', m, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay }, { alpha });
    try {
      return await run(engine);
    } finally {
      await engine.dispose();
    }
  });
  const steps = (engine: SrmStepEngine, count: number, lrAt: (k: number) => number, maxNorm: number) =>
    runSteps(engine, rowsOf(x), rowsOf(target), x.shape[0], alpha, count, lrAt, maxNorm);

  const onnxRunners: Array<[string, Runner]> = [
    ['io.safetensors:out', () => onnxForwardRows(weights, c, x, io, meta)],
    ['grads.safetensors:*', () => withEngine(meta.optimizer, async (e) => {
      const { loss, grads } = await e.gradients(rowsOf(x), rowsOf(target), x.shape[0], alpha);
      const rows = [
        compare('io.safetensors:loss', [loss], io.loss ?? { shape: [1], data: Float32Array.of(meta.loss) }, meta, 'ONNX training graph'),
        perTensorRow('grads.safetensors', grads, await readTensors(file('grads.safetensors')), meta, tol),
      ];
      const arena = ParameterArena.fromTensorDict(grads);
      const clip = clipGradNormInPlace(arena, meta.clip.max_norm);
      const norm = meta.clip.total_norm_before_clip;
      const normNote = norm ? `total norm ${clip.totalNorm.toPrecision(8)} vs ${norm.toPrecision(8)}` : undefined;
      rows.push(perTensorRow('grads_clipped.safetensors', arena.toTensorDict(), await readTensors(file('grads_clipped.safetensors')), meta, tol, normNote));
      return rows;
    })],
  ];
  const tfjsRunners: Array<[string, Runner]> = [
    ['io.safetensors:out', () => withModel((m) => forwardRows(m, x, target, io, meta))],
    ['io.safetensors:seq_out', () => withModel((m) => [sequenceRow(m, io, meta)])],
    ['grads.safetensors:*', () => withModel(async (m) => {
      const refRaw = await readTensors(file('grads.safetensors'));
      const refClipped = await readTensors(file('grads_clipped.safetensors'));
      const { value, grads } = valueAndGrads(m, lossOf(m));
      value.dispose();
      const rows = [perTensorRow('grads.safetensors', hostGrads(grads), refRaw, meta, tol)];
      const clip = clipGradients(grads, meta.clip.max_norm);
      const norm = meta.clip.total_norm_before_clip;
      const normNote = norm ? `total norm ${clip.totalNorm.toPrecision(8)} vs ${norm.toPrecision(8)}` : undefined;
      rows.push(perTensorRow('grads_clipped.safetensors', hostGrads(clip.grads), refClipped, meta, tol, normNote));
      disposeGradients(clip.grads);
      return rows;
    })],
  ];
  const runners: Array<[string, Runner]> = [
    ['meta:params', () => withModel((m) => [stateDictRow(m, meta)])],
    ...(onnx ? onnxRunners : tfjsRunners),
    ['params_after_step.safetensors:*', () => withEngine(meta.optimizer, async (e) => {
      await steps(e, 1, () => meta.one_step?.lr_used ?? meta.optimizer.lr, meta.clip.max_norm);
      return [perTensorRow('params_after_step.safetensors', e.stateDict(), await readTensors(file('params_after_step.safetensors')), meta, tol)];
    })],
    ['params_after_scheduled_steps.safetensors:*', () => {
      const s = meta.scheduled_steps;
      const schedule = warmupCosineSchedule({ baseLr: s.base_lr, warmupSteps: s.schedule.num_warmup_steps, totalSteps: s.schedule.num_training_steps, minLr: s.schedule.min_lr });
      return withEngine({ lr: s.base_lr, betas: s.betas ?? meta.optimizer.betas, eps: s.eps, weight_decay: s.weight_decay }, async (e) => {
        const losses = await steps(e, s.count, schedule, s.max_grad_norm ?? meta.clip.max_norm);
        const ref = await readTensors(file('params_after_scheduled_steps.safetensors'));
        return [perTensorRow('params_after_scheduled_steps.safetensors', e.stateDict(), ref, meta, tol), ...lossRows('scheduled_steps', losses, s.per_step, meta)];
      });
    }],
    ['params_after_adamw_probe.safetensors:*', () => {
      const p = meta.adamw_probe;
      return withEngine(p, async (e) => {
        const losses = await steps(e, p.steps, () => p.lr, p.max_grad_norm);
        const ref = await readTensors(file('params_after_adamw_probe.safetensors'));
        return [perTensorRow('params_after_adamw_probe.safetensors', e.stateDict(), ref, meta, tol), ...lossRows('adamw_probe', losses, p.per_step, meta)];
      });
    }],
    ['meta:lr_schedule.lrs', async () => {
      const l = meta.lr_schedule;
      const schedule = warmupCosineSchedule({ baseLr: l.base_lr, warmupSteps: l.num_warmup_steps, totalSteps: l.num_training_steps, minLr: l.min_lr });
      const note = 'not clamped after num_training_steps, as the original';
      return [verifyRow(CASE, 'meta:lr_schedule.lrs', l.steps.map(schedule), l.lrs, tol('meta:lr_schedule.lrs'), note)];
    }],
  ];

  const rows: VerifyRow[] = [];
  try {
    for (const [key, run] of runners) {
      try {
        rows.push(...(await run()));
      } catch (err) {
        rows.push(failure(key, meta, (err as Error).message));
      }
    }
  } finally {
    tf.dispose([x, target]);
  }
  return rows;
}

function readMeta(dir: string): SrmReferenceMeta {
  const file = path.join(dir, 'meta.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`verifySrmReference: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const meta = JSON.parse(text) as SrmReferenceMeta;
  for (const key of ['constructor', 'params', 'tolerances', 'optimizer', 'clip', 'lr_schedule', 'scheduled_steps', 'adamw_probe'] as const) {
    if (!Object.hasOwn(meta, key)) throw new Error(`verifySrmReference: ${file} has no "${key}"`);
  }
  return meta;
}

async function readTensors(file: string): Promise<TensorDict> {
  return (await readSafetensors(file)).tensors;
}

function hostGrads(grads: NamedGradients): TensorDict {
  return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tensorToTorchHost(g, 'torch')]));
}

/**
 * Repeats the shipped training step (zero_grad / loss / backward / clip / AdamW step) on the same
 * batch with the lr of each step; returns the losses.
 */
async function runSteps(engine: SrmStepEngine, x: Float32Array, target: Float32Array, rows: number, alpha: number, steps: number, lrAt: (k: number) => number, maxNorm: number): Promise<number[]> {
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) losses.push((await engine.step(x, target, rows, { lr: lrAt(k), alpha, maxGradNorm: maxNorm })).loss);
  return losses;
}

/** The ONNX inference graph's output for the reference input. */
async function onnxForwardRows(weights: TensorDict, c: SrmReferenceMeta['constructor'], x: tf.Tensor2D, io: TensorDict, meta: SrmReferenceMeta): Promise<VerifyRow[]> {
  const srm = await OnnxSrm.create(srmToOnnxBytes(weights, { inputDim: c.input_dim, hiddenDim: c.hidden_dim, numLayers: c.num_layers, numHeads: c.num_heads }));
  try {
    const out = await srm.refine({ shape: [...x.shape], data: x.dataSync() as Float32Array });
    return [compare('io.safetensors:out', out.data, io.out, meta, 'ONNX inference graph')];
  } finally {
    await srm.dispose();
  }
}

function stateDictRow(model: SemanticRefinementModule, meta: SrmReferenceMeta): VerifyRow {
  const ours = model.namedParameters().map(([k, p]) => `${k}:${p.torchShape.join('x')}`);
  const theirs = meta.params.map(([k, s]) => `${k}:${s.join('x')}`);
  const wrong = Math.max(ours.length, theirs.length) - ours.filter((k, i) => theirs[i] === k).length;
  const countOk = model.parameterCount() === meta.param_count;
  const firstDiff = ours.findIndex((k, i) => theirs[i] !== k);
  const note = wrong
    ? `${wrong} state-dict entries differ in name, shape or order (first: ours ${ours[firstDiff] ?? '—'} vs ${theirs[firstDiff] ?? '—'})`
    : `${ours.length} tensors, ${model.parameterCount()} parameters (reference ${meta.param_count})`;
  return { case: CASE, key: 'meta:params', error: wrong + (countOk ? 0 : 1), tolerance: 0, kind: 'abs', pass: !wrong && countOk, note };
}

function forwardRows(model: SemanticRefinementModule, x: tf.Tensor2D, target: tf.Tensor2D, io: TensorDict, meta: SrmReferenceMeta): VerifyRow[] {
  const { out, intermediates } = model.forwardWithIntermediates(x);
  try {
    const rows = [compare('io.safetensors:out', out.dataSync(), io.out, meta)];
    for (const key of Object.keys(io).filter((k) => k.startsWith('debug.')).sort()) {
      const ours = intermediates[key.slice('debug.'.length) as keyof SrmIntermediates];
      rows.push(ours ? compare(`io.safetensors:${key}`, ours.dataSync(), io[key], meta) : failure(`io.safetensors:${key}`, meta, 'no such intermediate in this implementation'));
    }
    const loss = hybridLoss(out, target, meta.hybrid_loss_alpha);
    rows.push(compare('io.safetensors:loss', loss.dataSync(), io.loss ?? { shape: [1], data: Float32Array.of(meta.loss) }, meta));
    loss.dispose();
    return rows;
  } finally {
    tf.dispose([out, ...Object.values(intermediates)]);
  }
}

function sequenceRow(model: SemanticRefinementModule, io: TensorDict, meta: SrmReferenceMeta): VerifyRow {
  const key = 'io.safetensors:seq_out';
  const seqX = io.seq_x;
  if (!seqX || !io.seq_out) return failure(key, meta, 'io.safetensors has no seq_x / seq_out');
  const modulePath = (meta.sequence_test?.module ?? 'sr_encoders.0').split(' ')[0]!;
  const layer = model.getModule(modulePath) as SREncoderLayer;
  const y = tf.tidy(() => layer.forward(tf.tensor(seqX.data, seqX.shape)));
  const row = compare(key, y.dataSync(), io.seq_out, meta, `${modulePath} on a [${seqX.shape.join(', ')}] sequence (full attention)`);
  y.dispose();
  return row;
}

/** One row for a whole file whose tolerance applies to each tensor: the worst tensor's error. */
function perTensorRow(fileName: string, got: TensorDict, ref: TensorDict, meta: SrmReferenceMeta, tol: (k: string) => Tolerance, extraNote?: string): VerifyRow {
  const key = `${fileName}:*`;
  const t = tol(key);
  const names = meta.params.map(([k]) => k);
  const missing = names.filter((k) => !ref[k] || !got[k]);
  if (missing.length) return failure(key, meta, `missing tensors: ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''}`);
  let worst = { name: '', error: -1 };
  for (const name of names) {
    const error = shapesEqual(got[name]!, ref[name]!) ? toleranceError(got[name]!.data, ref[name]!.data, t.kind) : Infinity;
    if (!(error <= worst.error)) worst = { name, error };
  }
  const note = [`worst of ${names.length}: ${worst.name}`, extraNote].filter(Boolean).join('; ');
  return { case: CASE, key, error: worst.error, tolerance: t.value, kind: t.kind, pass: worst.error <= t.value, note };
}

/** Per-step losses recorded in meta.json, judged with the loss tolerance. */
function lossRows(section: string, losses: number[], perStep: Array<{ loss: number }> | undefined, meta: SrmReferenceMeta): VerifyRow[] {
  if (!perStep?.length) return [];
  const t = findTolerance(meta.tolerances, 'io.safetensors:loss');
  return [verifyRow(CASE, `meta:${section}.per_step.loss`, losses, perStep.map((s) => s.loss), t, `${perStep.length} step losses, judged with io.safetensors:loss's tolerance`)];
}

function compare(key: string, got: ArrayLike<number>, ref: HostTensor | undefined, meta: SrmReferenceMeta, note?: string): VerifyRow {
  if (!ref) return failure(key, meta, 'not in the reference file');
  if (got.length !== ref.data.length) return failure(key, meta, `computed ${got.length} values, reference shape [${ref.shape.join(', ')}]`);
  return verifyRow(CASE, key, got, ref.data, findTolerance(meta.tolerances, key), note);
}

function failure(key: string, meta: SrmReferenceMeta, note: string): VerifyRow {
  let t: Tolerance | undefined;
  try {
    t = findTolerance(meta.tolerances, key);
  } catch {
    t = undefined;
  }
  return { case: CASE, key, error: NaN, tolerance: t?.value ?? NaN, kind: t?.kind ?? 'rel', pass: false, note };
}

function shapesEqual(a: HostTensor, b: HostTensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((n, i) => n === b.shape[i]);
}
