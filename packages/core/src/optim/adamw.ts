import * as tf from '@tensorflow/tfjs-core';
import type { TensorDict } from '../io/host-tensor';
import { fromTorchHost, tensorToTorchHost, type Parameter } from '../nn/parameter';
import type { NamedGradients } from './gradients';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Serialisable optimizer state: step count, hyper-parameters and both moments (PyTorch layout). */
export interface AdamWState {
  step: number;
  options: Required<AdamWOptions>;
  expAvg: TensorDict;
  expAvgSq: TensorDict;
}

export const ADAMW_DEFAULTS: Required<AdamWOptions> = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 };

interface Slot {
  param: Parameter;
  m: tf.Variable;
  v: tf.Variable;
}

/**
 * `torch.optim.AdamW` (single-tensor implementation): decoupled weight decay `p ·= 1 - lr·wd`, then
 * `m = lerp(m, g, 1-β1)`, `v = β2·v + (1-β2)·g²`, `p -= lr/(1-β1^k) · m / (sqrt(v)/sqrt(1-β2^k) + eps)`.
 * Parameters are addressed by state-dict name so checkpoints survive reordering.
 */
export class AdamW {
  readonly options: Required<AdamWOptions>;
  private slots = new Map<string, Slot>();
  private stepCount = 0;

  constructor(params: Array<[string, Parameter]>, options: AdamWOptions = {}) {
    this.options = { ...ADAMW_DEFAULTS, ...options };
    const { lr, betas, eps, weightDecay } = this.options;
    if (!(lr >= 0) || !(eps >= 0) || !(weightDecay >= 0) || betas.some((b) => !(b >= 0 && b < 1))) {
      throw new Error(`AdamW: invalid options ${JSON.stringify(this.options)} (need lr, eps, weightDecay >= 0 and betas in [0, 1))`);
    }
    for (const [name, param] of params) {
      if (!param.trainable) continue;
      this.slots.set(name, { param, m: zeroVariable(param.variable), v: zeroVariable(param.variable) });
    }
  }

  /** Optimizer steps taken so far. */
  get step(): number {
    return this.stepCount;
  }

  /** Applies one update with `grads` (keyed by parameter name); `lr` overrides the base rate (schedules). */
  update(grads: NamedGradients, lr = this.options.lr): void {
    const [b1, b2] = this.options.betas;
    const { eps, weightDecay } = this.options;
    for (const name of Object.keys(grads)) {
      if (!this.slots.has(name)) throw new Error(`AdamW: gradient for unknown or frozen parameter "${name}"`);
    }
    this.stepCount += 1;
    const k = this.stepCount;
    // The step's constants as tensors once, not as fresh scalars in every one of ~14 ops per parameter.
    const c = tf.tidy(() => ({
      decay: tf.scalar(1 - lr * weightDecay),
      take1: tf.scalar(1 - b1),
      keep2: tf.scalar(b2),
      take2: tf.scalar(1 - b2),
      bc2Sqrt: tf.scalar(Math.sqrt(1 - b2 ** k)),
      eps: tf.scalar(eps),
      stepSize: tf.scalar(lr / (1 - b1 ** k)),
    }));
    try {
      for (const [name, slot] of this.slots) {
        const g = grads[name];
        if (!g) continue; // PyTorch skips parameters whose grad is None
        tf.tidy(() => {
          const p = weightDecay ? tf.mul(slot.param.variable, c.decay) : slot.param.variable;
          const m = tf.add(slot.m, tf.mul(tf.sub(g, slot.m), c.take1));
          const v = tf.add(tf.mul(slot.v, c.keep2), tf.mul(tf.square(g), c.take2));
          const denom = tf.add(tf.div(tf.sqrt(v), c.bc2Sqrt), c.eps);
          slot.m.assign(m);
          slot.v.assign(v);
          slot.param.variable.assign(tf.sub(p, tf.mul(tf.div(m, denom), c.stepSize)));
        });
      }
    } finally {
      tf.dispose(Object.values(c));
    }
  }

  getState(): AdamWState {
    const expAvg: TensorDict = {};
    const expAvgSq: TensorDict = {};
    for (const [name, s] of this.slots) {
      expAvg[name] = tensorToTorchHost(s.m, s.param.layout);
      expAvgSq[name] = tensorToTorchHost(s.v, s.param.layout);
    }
    return { step: this.stepCount, options: { ...this.options, betas: [...this.options.betas] }, expAvg, expAvgSq };
  }

  /** Restores moments and step count (hyper-parameters stay those given to the constructor). */
  setState(state: AdamWState, source = 'optimizer state'): void {
    for (const [name, s] of this.slots) {
      const m = state.expAvg[name];
      const v = state.expAvgSq[name];
      if (!m || !v) throw new Error(`${source}: no AdamW moments for parameter "${name}"`);
      const expected = s.param.torchShape.join(',');
      if (m.shape.join(',') !== expected || v.shape.join(',') !== expected) {
        throw new Error(`${source}: AdamW moments of "${name}" have shape [${m.shape}], expected [${expected}]`);
      }
    }
    for (const [name, s] of this.slots) {
      tf.tidy(() => {
        s.m.assign(fromTorchHost(state.expAvg[name]!, s.param.layout));
        s.v.assign(fromTorchHost(state.expAvgSq[name]!, s.param.layout));
      });
    }
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
  }
}

/** A non-trainable variable of zeros shaped like `like` (the initial value tensor is released). */
function zeroVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}
