import fs from 'node:fs';
import path from 'node:path';
import {
  createOrtSession,
  findTolerance,
  readSafetensors,
  tensorToTorchHost,
  tf,
  valueAndGrads,
  verifyRow,
  type HostTensor,
  type TensorDict,
  type Tolerance,
  type VerifyRow,
} from '@srdiff/core';
import { IRSDE, matchingLossCoefficients } from '@srdiff/sde';
import { ConditionalUNet } from './conditional-unet';
import type { UNetOptions } from './config';
import { UNetInputError } from './inputs';
import { OnnxUNet, OnnxUnetInputError } from './onnx/onnx-unet';
import { OnnxUnetTrainer } from './onnx/training/onnx-unet-trainer';
import { unetToOnnxBytes } from './onnx/unet-onnx-bytes';
import { buildUnetGraph } from './onnx/unet-graph';

const CASE = 'unet';

/** The parts of a reference `unet/meta.json` the verifier reads. */
interface UnetReferenceMeta {
  constructor: UNetOptions;
  params: Array<[string, number[]]>;
  param_count: number;
  tolerances: Record<string, Tolerance>;
  forward?: { call?: string };
  forward_without_image_context?: { supported: boolean; message?: string };
  train_step?: {
    sde: { max_sigma: number; T: number; schedule: 'cosine' | 'linear' | 'constant'; eps: number };
    loss_type?: string;
    is_weighted?: boolean;
    weight?: number;
  };
}

/**
 * Runs the UNet parity case of a reference folder laid out like the PyTorch reference set's `unet/`
 * (config, shapes and tolerances from its meta.json): the state-dict keys and shapes and the
 * parameter count; the forward output and every `debug.*` activation of `io.safetensors`; the
 * IR-SDE training step of `train_step.safetensors` (state, predicted noise, score, both sides of
 * the matching loss, the loss) and the gradient of every parameter in `grads.safetensors`.
 * One row per compared key; a file or step that cannot run yields failing rows that say why.
 */
export interface VerifyUnetOptions {
  /** Also run the training step and compare every gradient (default true; the slow part on the cpu backend). */
  trainStep?: boolean;
  /**
   * The engine under test: `'tfjs'` (default: the tfjs ConditionalUNet on the current backend) or
   * `'onnx'` (the exported inference graph, with its `debug.*` outputs, and the ONNX Runtime
   * training-step graph for the loss and every gradient).
   */
  engine?: 'tfjs' | 'onnx';
}

export async function verifyUnetReference(dir: string, options: VerifyUnetOptions = {}): Promise<VerifyRow[]> {
  const meta = JSON.parse(await fs.promises.readFile(path.join(dir, 'meta.json'), 'utf8')) as UnetReferenceMeta;
  if (options.engine === 'onnx') return verifyOnnx(dir, meta, options);
  const rows: VerifyRow[] = [];
  let model: ConditionalUNet;
  try {
    model = new ConditionalUNet(meta.constructor);
  } catch (err) {
    return [failure('meta:constructor', `cannot build the network: ${(err as Error).message}`)];
  }
  try {
    rows.push(...structureRows(model, meta));
    try {
      const weights = (await readSafetensors(path.join(dir, 'weights.safetensors'))).tensors;
      model.loadStateDict(weights, { source: path.join(dir, 'weights.safetensors') });
    } catch (err) {
      rows.push(failure('weights.safetensors', (err as Error).message));
      return rows;
    }
    rows.push(...(await section('io.safetensors', () => forwardRows(model, dir, meta))));
    if (meta.forward_without_image_context && meta.forward_without_image_context.supported === false) {
      rows.push(missingContextRow(model));
    }
    if (options.trainStep !== false && fs.existsSync(path.join(dir, 'train_step.safetensors'))) {
      rows.push(...(await section('train_step.safetensors', () => trainStepRows(model, dir, meta))));
    }
  } finally {
    model.dispose();
  }
  return rows;
}

function failure(key: string, note: string): VerifyRow {
  return { case: CASE, key, error: Infinity, tolerance: 0, kind: 'abs', pass: false, note };
}

async function section(file: string, run: () => Promise<VerifyRow[]>): Promise<VerifyRow[]> {
  try {
    return await run();
  } catch (err) {
    return [failure(file, (err as Error).message)];
  }
}

function structureRows(model: ConditionalUNet, meta: UnetReferenceMeta): VerifyRow[] {
  const ours = new Map(model.namedParameters().map(([k, p]) => [k, p.torchShape.join(',')]));
  const problems: string[] = [];
  meta.params.forEach(([key, shape], i) => {
    const mine = ours.get(key);
    if (mine === undefined) problems.push(`missing ${key}`);
    else if (mine !== shape.join(',')) problems.push(`${key}: ours [${mine}], reference [${shape}]`);
    else if (model.namedParameters()[i]?.[0] !== key) problems.push(`${key} at another position in the state-dict order`);
  });
  const known = new Set(meta.params.map(([k]) => k));
  for (const key of ours.keys()) if (!known.has(key)) problems.push(`unexpected ${key}`);
  const count = model.parameterCount();
  return [
    { case: CASE, key: 'weights.safetensors:keys', error: problems.length, tolerance: 0, kind: 'abs', pass: problems.length === 0, note: problems.length ? problems.slice(0, 5).join('; ') : `${ours.size} keys, shapes and order identical` },
    { case: CASE, key: 'meta:param_count', error: Math.abs(count - meta.param_count), tolerance: 0, kind: 'abs', pass: count === meta.param_count, note: `${count} parameters` },
  ];
}

function nhwc(t: HostTensor, name: string): tf.Tensor4D {
  if (t.shape.length !== 4) throw new Error(`${name}: expected an NCHW tensor, got shape [${t.shape.join(', ')}]`);
  return tf.tidy(() => tf.transpose(tf.tensor4d(t.data, t.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** Values in the reference's (PyTorch) order: NHWC activations back to NCHW. */
function torchOrder(t: tf.Tensor): Float32Array {
  if (t.rank !== 4) return t.dataSync() as Float32Array;
  // Read outside tidy: tidy walks whatever it returns, a typed array value by value.
  const nchw = tf.transpose(t, [0, 3, 1, 2]);
  const values = nchw.dataSync() as Float32Array;
  nchw.dispose();
  return values;
}

function need(dict: TensorDict, key: string, file: string): HostTensor {
  const t = dict[key];
  if (!t) throw new Error(`${file}: no tensor "${key}"`);
  return t;
}

function compare(file: string, key: string, got: ArrayLike<number>, ref: HostTensor, meta: UnetReferenceMeta): VerifyRow {
  return verifyRow(CASE, `${file}:${key}`, got, ref.data, findTolerance(meta.tolerances, `${file}:${key}`));
}

async function forwardRows(model: ConditionalUNet, dir: string, meta: UnetReferenceMeta): Promise<VerifyRow[]> {
  const file = 'io.safetensors';
  const io = (await readSafetensors(path.join(dir, file))).tensors;
  const debugKeys = Object.keys(io).filter((k) => k.startsWith('debug.')).sort();
  const captured = new Map<string, Float32Array>();
  const wanted = new Set(debugKeys.map((k) => k.slice('debug.'.length)));
  const out = tf.tidy(() => {
    const context = io.image_context && (meta.forward?.call ?? 'image_context').includes('image_context') ? tf.tensor(io.image_context.data, io.image_context.shape) : undefined;
    return model.forward(nhwc(need(io, 'xt', file), 'xt'), nhwc(need(io, 'cond', file), 'cond'), Array.from(need(io, 'time', file).data), {
      imageContext: context,
      trace: (name, value) => {
        if (wanted.has(name)) captured.set(name, torchOrder(value));
      },
    });
  });
  const rows = [compare(file, 'out', torchOrder(out), need(io, 'out', file), meta)];
  out.dispose();
  for (const key of debugKeys) {
    const got = captured.get(key.slice('debug.'.length));
    rows.push(got ? compare(file, key, got, io[key]!, meta) : failure(`${file}:${key}`, 'no activation of that name is produced by the network'));
  }
  return rows;
}

/** The original cannot run without the image context in this config; ours must refuse up front. */
function missingContextRow(model: ConditionalUNet): VerifyRow {
  const key = 'meta:forward_without_image_context';
  try {
    tf.tidy(() => {
      const x = tf.zeros([1, 16, 16, model.config.in_nc]) as tf.Tensor4D;
      model.forward(x, x, 1);
    });
  } catch (err) {
    const ok = err instanceof UNetInputError;
    return { case: CASE, key, error: ok ? 0 : 1, tolerance: 0, kind: 'abs', pass: ok, note: ok ? 'rejected before computing, as required' : `failed with an unexpected error: ${(err as Error).message}` };
  }
  return { case: CASE, key, error: 1, tolerance: 0, kind: 'abs', pass: false, note: 'ran without an image context although the reference says this config cannot' };
}

/** What both engines' train-step cases read: the step's settings and tensors, the reference gradients, the SDE. */
async function trainStepCase(dir: string, meta: UnetReferenceMeta) {
  const file = 'train_step.safetensors';
  const step = meta.train_step;
  if (!step) throw new Error('meta.json has no train_step section');
  if ((step.loss_type ?? 'l1') !== 'l1' || step.is_weighted) {
    throw new Error(`unsupported matching loss (${step.loss_type}, weighted ${step.is_weighted}); the original trains with unweighted l1`);
  }
  const ts = (await readSafetensors(path.join(dir, file))).tensors;
  const gradsRef = (await readSafetensors(path.join(dir, 'grads.safetensors'))).tensors;
  const sde = new IRSDE({ maxSigma: step.sde.max_sigma, T: step.sde.T, schedule: step.sde.schedule, eps: step.sde.eps });
  const timesteps = Array.from(need(ts, 'timesteps', file).data, Math.round);
  return { file, step, ts, gradsRef, sde, timesteps };
}

async function trainStepRows(model: ConditionalUNet, dir: string, meta: UnetReferenceMeta): Promise<VerifyRow[]> {
  const { file, step, ts, gradsRef, sde, timesteps } = await trainStepCase(dir, meta);
  const networkTime = Array.from(need(ts, 't_network', file).data);
  const weight = step.weight ?? 1;
  const rows: VerifyRow[] = [];
  const inputs = tf.tidy(() => {
    const gt = nhwc(need(ts, 'GT', file), 'GT');
    const lq = nhwc(need(ts, 'LQ', file), 'LQ');
    const noise = nhwc(need(ts, 'noise', file), 'noise');
    const context = ts.image_context ? tf.tensor(ts.image_context.data, ts.image_context.shape) : undefined;
    return { gt, lq, context, state: sde.forwardState(gt, lq, timesteps, noise) };
  });
  try {
    const { gt, lq, context, state } = inputs;
    const forward = () => model.forward(state, lq, networkTime, context ? { imageContext: context } : {});
    tf.tidy(() => {
      const noisePred = forward();
      const score = sde.scoreFromNoise(noisePred, timesteps);
      const { expectation, optimum } = sde.matchingPair(noisePred, state, gt, lq, timesteps);
      const loss = tf.mul(tf.mean(tf.abs(tf.sub(expectation, optimum))), weight);
      const pairs: Array<[string, tf.Tensor]> = [
        ['state', state], ['noise_pred', noisePred], ['score', score],
        ['xt_1_expectation', expectation], ['xt_1_optimum', optimum], ['loss', loss],
      ];
      for (const [key, value] of pairs) rows.push(compare(file, key, torchOrder(value), need(ts, key, file), meta));
    });
    const { value, grads } = valueAndGrads(model, () => tf.mul(sde.matchingLoss(forward(), state, gt, lq, timesteps), weight) as tf.Scalar);
    value.dispose();
    const layouts = new Map(model.namedParameters().map(([k, p]) => [k, p.layout]));
    for (const [key] of model.namedParameters()) {
      const ref = gradsRef[key];
      const g = grads[key];
      if (!ref) rows.push(failure(`grads.safetensors:${key}`, 'no reference gradient for this parameter'));
      else if (!g) rows.push(failure(`grads.safetensors:${key}`, 'the loss does not depend on this parameter here'));
      else rows.push(compare('grads.safetensors', key, tensorToTorchHost(g, layouts.get(key)!).data, ref, meta));
    }
    for (const g of Object.values(grads)) g.dispose();
  } finally {
    for (const t of Object.values(inputs)) t?.dispose();
  }
  return rows;
}

/** The same cases on ONNX Runtime: the inference graph (with `debug.*` outputs) and the training-step graph. */
async function verifyOnnx(dir: string, meta: UnetReferenceMeta, options: VerifyUnetOptions): Promise<VerifyRow[]> {
  let model: ConditionalUNet;
  try {
    model = new ConditionalUNet(meta.constructor);
  } catch (err) {
    return [failure('meta:constructor', `cannot build the network: ${(err as Error).message}`)];
  }
  const rows = structureRows(model, meta);
  const config = model.config;
  model.dispose();
  let weights: TensorDict;
  try {
    weights = (await readSafetensors(path.join(dir, 'weights.safetensors'))).tensors;
  } catch (err) {
    return [...rows, failure('weights.safetensors', (err as Error).message)];
  }
  rows.push(...(await section('io.safetensors', () => onnxForwardRows(weights, config, dir, meta))));
  if (meta.forward_without_image_context && meta.forward_without_image_context.supported === false) {
    rows.push(await onnxMissingContextRow(weights, config));
  }
  if (options.trainStep !== false && fs.existsSync(path.join(dir, 'train_step.safetensors'))) {
    rows.push(...(await section('train_step.safetensors', () => onnxTrainStepRows(weights, config, dir, meta))));
  }
  return rows;
}

async function onnxForwardRows(weights: TensorDict, config: ConditionalUNet['config'], dir: string, meta: UnetReferenceMeta): Promise<VerifyRow[]> {
  const file = 'io.safetensors';
  const io = (await readSafetensors(path.join(dir, file))).tensors;
  const debugKeys = Object.keys(io).filter((k) => k.startsWith('debug.')).sort();
  const withContext = Boolean(io.image_context) && (meta.forward?.call ?? 'image_context').includes('image_context');
  const bytes = buildUnetGraph(weights, config, { debugOutputs: debugKeys.map((k) => k.slice('debug.'.length)), source: path.join(dir, 'weights.safetensors') }).serialize();
  const { ort, session } = await createOrtSession(bytes);
  try {
    const xt = need(io, 'xt', file);
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      xt: new ort.Tensor('float32', xt.data, xt.shape),
      cond: new ort.Tensor('float32', need(io, 'cond', file).data, xt.shape),
      time: new ort.Tensor('float32', need(io, 'time', file).data, [xt.shape[0]!]),
    };
    if (withContext) feeds.image_context = new ort.Tensor('float32', io.image_context!.data, io.image_context!.shape);
    const out = await session.run(feeds);
    const rows = [compare(file, 'out', out.noise!.data as Float32Array, need(io, 'out', file), meta)];
    for (const key of debugKeys) rows.push(compare(file, key, out[key]!.data as Float32Array, io[key]!, meta));
    return rows.map((r) => ({ ...r, note: r.note ?? 'ONNX inference graph' }));
  } finally {
    await session.release();
  }
}

async function onnxMissingContextRow(weights: TensorDict, config: ConditionalUNet['config']): Promise<VerifyRow> {
  const key = 'meta:forward_without_image_context';
  const net = await OnnxUNet.create(unetToOnnxBytes(weights, config));
  try {
    const x = { shape: [1, config.in_nc, 16, 16], data: new Float32Array(config.in_nc * 256) };
    await net.run({ xt: x, cond: x, time: 1 });
    return { case: CASE, key, error: 1, tolerance: 0, kind: 'abs', pass: false, note: 'ran without an image context although the reference says this config cannot' };
  } catch (err) {
    const ok = err instanceof OnnxUnetInputError;
    return { case: CASE, key, error: ok ? 0 : 1, tolerance: 0, kind: 'abs', pass: ok, note: ok ? 'rejected before computing, as required' : `failed with an unexpected error: ${(err as Error).message}` };
  } finally {
    await net.dispose();
  }
}

async function onnxTrainStepRows(weights: TensorDict, config: ConditionalUNet['config'], dir: string, meta: UnetReferenceMeta): Promise<VerifyRow[]> {
  const { file, step, ts, gradsRef, sde, timesteps } = await trainStepCase(dir, meta);
  const [b, , h, w] = need(ts, 'GT', file).shape as [number, number, number, number];
  // x_t and the optimum as the trainer makes them (tfjs IR-SDE on the host), NHWC for the graph.
  const host = tf.tidy(() => {
    const gt = nhwc(need(ts, 'GT', file), 'GT');
    const lq = nhwc(need(ts, 'LQ', file), 'LQ');
    const state = sde.forwardState(gt, lq, timesteps, nhwc(need(ts, 'noise', file), 'noise'));
    return { lq: lq.dataSync().slice(), state: state.dataSync().slice(), optimum: sde.reverseOptimumStep(state, gt, lq, timesteps).dataSync().slice() };
  });
  const trainer = await OnnxUnetTrainer.create(weights, config, { batch: b, height: h, width: w, loss: { type: 'l1', weight: step.weight ?? 1 } });
  try {
    const image = (data: Float32Array) => ({ shape: [b, h, w, config.in_nc], data: data as Float32Array });
    const loss = await trainer.gradients({
      state: image(host.state as Float32Array), lq: image(host.lq as Float32Array), optimum: image(host.optimum as Float32Array),
      time: Float32Array.from(need(ts, 't_network', file).data),
      imageContext: ts.image_context ? { shape: [...ts.image_context.shape], data: ts.image_context.data } : undefined,
      coefficients: matchingLossCoefficients(sde, timesteps),
    });
    const rows: VerifyRow[] = [{ ...compare(file, 'loss', [loss], need(ts, 'loss', file), meta), note: 'ONNX training-step graph' }];
    for (const key of trainer.params.names) {
      const ref = gradsRef[key];
      rows.push(ref ? compare('grads.safetensors', key, trainer.grads.view(key), ref, meta) : failure(`grads.safetensors:${key}`, 'no reference gradient for this parameter'));
    }
    return rows;
  } finally {
    await trainer.dispose();
  }
}
