/**
 * Core layers and optimisation against the original PyTorch SRM (`sr/CLSEnhancer.py`, one training
 * step of `sr/train.py`), vectors from shared/reference/srm (copied to fixtures/srm). The network is
 * assembled here from core layers only — it exercises Linear, MultiheadAttention, GELU, AdamW,
 * clipGradNorm and the warm-up cosine schedule; @srdiff/srm has the real module.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  AdamW, Linear, Module, MultiheadAttention, clipGradNorm, disposeGradients, gelu, selectBackend, tf, valueAndGrads,
  warmupCosineSchedule, tensorToTorchHost, type TensorDict,
} from '../src';
import { FIXTURES, absError, fixture, relError } from './helpers';

const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'srm/meta.json'), 'utf8'));
const tol = (key: string) => meta.tolerances[key].value as number;

class Mlp extends Module {
  a: Linear;
  b: Linear;
  constructor(i: number, h: number, o: number) {
    super();
    this.a = this.addModule('0', new Linear(i, h));
    this.b = this.addModule('2', new Linear(h, o));
  }
  forward(x: tf.Tensor) {
    return this.b.forward(gelu(this.a.forward(x)));
  }
}

class EncoderLayer extends Module {
  pre: Linear;
  mha: MultiheadAttention;
  post: Mlp;
  constructor(h: number, heads: number) {
    super();
    this.pre = this.addModule('pre_linear', new Linear(h, h));
    this.mha = this.addModule('mha', new MultiheadAttention(h, heads));
    this.post = this.addModule('post_net', new Mlp(2 * h, h, h));
  }
  forward(x: tf.Tensor3D): tf.Tensor3D {
    const a = this.pre.forward(x) as tf.Tensor3D;
    return this.post.forward(tf.concat([x, this.mha.forward(a)], -1)) as tf.Tensor3D;
  }
}

class Srm extends Module {
  upper: Mlp;
  inProj: Linear;
  layers: EncoderLayer[] = [];
  outProj: Linear;
  debug: Record<string, tf.Tensor> = {};
  constructor(d: number, h: number, n: number, heads: number) {
    super();
    this.upper = this.addModule('upper_path', new Mlp(d, h, d));
    this.inProj = this.addModule('lower_input_proj', new Linear(d, h));
    const encoders = this.addModule('sr_encoders', new (class extends Module {})());
    for (let i = 0; i < n; i++) this.layers.push((encoders as any).addModule(String(i), new EncoderLayer(h, heads)));
    this.outProj = this.addModule('lower_output_proj', new Linear(h, d));
  }
  forward(x: tf.Tensor2D): tf.Tensor2D {
    const seq = tf.expandDims(x, 1) as tf.Tensor3D;
    const up = this.upper.forward(seq);
    let low = this.inProj.forward(seq) as tf.Tensor3D;
    this.debug['lower_input_proj.out'] = low;
    for (const l of this.layers) low = l.forward(low);
    this.debug['sr_encoders.out'] = low;
    const lo = this.outProj.forward(low);
    this.debug['upper_path.out'] = up;
    this.debug['lower_output_proj.out'] = lo;
    return tf.squeeze(tf.add(up, lo), [1]) as tf.Tensor2D;
  }
}

/** HybridLoss(α) = α·L1 + (1-α)·mean(1 - cos), cos with PyTorch's 1e-12 guard on the squared norms. */
function hybridLoss(pred: tf.Tensor2D, target: tf.Tensor2D, alpha: number): tf.Scalar {
  const l1 = tf.mean(tf.abs(tf.sub(pred, target)));
  const dot = tf.sum(tf.mul(pred, target), -1);
  const denom = tf.sqrt(tf.mul(tf.add(tf.sum(tf.square(pred), -1), 1e-12), tf.add(tf.sum(tf.square(target), -1), 1e-12)));
  const cos = tf.mean(tf.sub(1, tf.div(dot, denom)));
  return tf.add(tf.mul(l1, alpha), tf.mul(cos, 1 - alpha)) as tf.Scalar;
}

const toHost = (grads: Record<string, tf.Tensor>): TensorDict =>
  Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tensorToTorchHost(g, 'torch')]));

describe.each(['wasm', 'cpu'] as const)('SRM reference on %s', (backend) => {
  let weights: TensorDict;
  let io: TensorDict;
  let model: Srm;
  let x: tf.Tensor2D;
  let target: tf.Tensor2D;
  const c = meta.constructor;

  beforeAll(async () => {
    await selectBackend(backend);
    weights = await fixture('srm/weights.safetensors');
    io = await fixture('srm/io.safetensors');
    x = tf.tensor2d(io.x!.data, io.x!.shape as [number, number]);
    target = tf.tensor2d(io.target!.data, io.target!.shape as [number, number]);
  });
  beforeEach(() => {
    model = new Srm(c.input_dim, c.hidden_dim, c.num_layers, c.num_heads);
    model.loadStateDict(weights);
  });
  afterEach(() => model.dispose());

  test('state-dict keys, order and parameter count match PyTorch', () => {
    expect(model.namedParameters().map(([k, p]) => [k, p.torchShape])).toEqual(meta.params);
    expect(model.parameterCount()).toBe(meta.param_count);
  });

  test('forward output, intermediates and loss', () => {
    tf.tidy(() => {
      const out = model.forward(x);
      expect(relError(out.dataSync(), io.out!.data)).toBeLessThan(tol('io.safetensors:out'));
      for (const k of ['upper_path.out', 'lower_output_proj.out', 'lower_input_proj.out', 'sr_encoders.out']) {
        expect(relError(model.debug[k]!.dataSync(), io[`debug.${k}`]!.data)).toBeLessThan(tol(`io.safetensors:debug.${k}`));
      }
      const loss = hybridLoss(out, target, meta.hybrid_loss_alpha).dataSync()[0]!;
      expect(Math.abs(loss - meta.loss) / meta.loss).toBeLessThan(tol('io.safetensors:loss'));
    });
  });

  test('multi-head attention on a real sequence (q and k matter)', () => {
    tf.tidy(() => {
      const seq = tf.tensor3d(io.seq_x!.data, io.seq_x!.shape as [number, number, number]);
      const out = model.layers[0]!.forward(seq);
      expect(relError(out.dataSync(), io.seq_out!.data)).toBeLessThan(tol('io.safetensors:seq_out'));
    });
  });

  test('every gradient, raw and clipped, and one AdamW step', async () => {
    const refGrads = await fixture('srm/grads.safetensors');
    const refClipped = await fixture('srm/grads_clipped.safetensors');
    const after = await fixture('srm/params_after_step.safetensors');
    const { value, grads } = valueAndGrads(model, () => hybridLoss(model.forward(x), target, meta.hybrid_loss_alpha));
    value.dispose();
    const raw = toHost(grads);
    for (const [k] of meta.params) expect(relError(raw[k]!.data, refGrads[k]!.data)).toBeLessThan(tol('grads.safetensors:*'));
    const clip = clipGradNorm(grads, meta.clip.max_norm);
    expect(Math.abs(clip.totalNorm - meta.clip.total_norm_before_clip) / meta.clip.total_norm_before_clip).toBeLessThan(1e-5);
    expect(Math.abs(clip.scale - meta.clip.clip_coef)).toBeLessThan(1e-6);
    const clipped = toHost(clip.grads);
    for (const [k] of meta.params) expect(relError(clipped[k]!.data, refClipped[k]!.data)).toBeLessThan(tol('grads_clipped.safetensors:*'));
    const opt = new AdamW(model.namedParameters(), { lr: meta.optimizer.lr, betas: meta.optimizer.betas, eps: meta.optimizer.eps, weightDecay: meta.optimizer.weight_decay });
    opt.update(clip.grads);
    disposeGradients(clip.grads);
    const sd = model.stateDict();
    for (const [k] of meta.params) expect(absError(sd[k]!.data, after[k]!.data)).toBeLessThan(tol('params_after_step.safetensors:*'));
    opt.dispose();
  });

  const runSteps = (opt: AdamW, steps: number, lrAt: (k: number) => number, maxNorm: number) => {
    const losses: number[] = [];
    for (let k = 0; k < steps; k++) {
      const { value, grads } = valueAndGrads(model, () => hybridLoss(model.forward(x), target, meta.hybrid_loss_alpha));
      losses.push(value.dataSync()[0]!);
      value.dispose();
      const clip = clipGradNorm(grads, maxNorm);
      opt.update(clip.grads, lrAt(k));
      disposeGradients(clip.grads);
    }
    return losses;
  };

  test('three scheduled steps (lr 0 on the first, as sr/train.py)', async () => {
    const ref = await fixture('srm/params_after_scheduled_steps.safetensors');
    const s = meta.scheduled_steps;
    const schedule = warmupCosineSchedule({ baseLr: s.base_lr, warmupSteps: s.schedule.num_warmup_steps, totalSteps: s.schedule.num_training_steps, minLr: s.schedule.min_lr });
    const opt = new AdamW(model.namedParameters(), { lr: s.base_lr, weightDecay: s.weight_decay, eps: s.eps });
    const losses = runSteps(opt, s.count, schedule, 1.0);
    s.per_step.forEach((st: { loss: number }, i: number) => expect(Math.abs(losses[i]! - st.loss) / st.loss).toBeLessThan(1e-5));
    const sd = model.stateDict();
    for (const [k] of meta.params) expect(absError(sd[k]!.data, ref[k]!.data)).toBeLessThan(tol('params_after_scheduled_steps.safetensors:*'));
    opt.dispose();
  });

  test('AdamW probe: decoupled weight decay, bias correction and eps placement show', async () => {
    const ref = await fixture('srm/params_after_adamw_probe.safetensors');
    const p = meta.adamw_probe;
    const opt = new AdamW(model.namedParameters(), { lr: p.lr, betas: p.betas, eps: p.eps, weightDecay: p.weight_decay });
    runSteps(opt, p.steps, () => p.lr, p.max_grad_norm);
    const sd = model.stateDict();
    for (const [k] of meta.params) expect(absError(sd[k]!.data, ref[k]!.data)).toBeLessThan(tol('params_after_adamw_probe.safetensors:*'));
    opt.dispose();
  });
});

test('warm-up cosine learning rates equal the original list (not clamped after num_training_steps)', () => {
  const l = meta.lr_schedule;
  const schedule = warmupCosineSchedule({ baseLr: l.base_lr, warmupSteps: l.num_warmup_steps, totalSteps: l.num_training_steps, minLr: l.min_lr });
  const got = l.steps.map((k: number) => schedule(k));
  expect(absError(got, l.lrs)).toBeLessThanOrEqual(tol('meta:lr_schedule.lrs'));
  expect(got[0]).toBe(0);
  expect(got[l.num_training_steps + 3]).toBeGreaterThan(got[l.num_training_steps]); // rises again past the end
});
