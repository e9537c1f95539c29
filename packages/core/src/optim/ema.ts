import * as tf from '@tensorflow/tfjs-core';
import type { TensorDict } from '../io/host-tensor';
import type { Module } from '../nn/module';
import { fromTorchHost, tensorToTorchHost, type Parameter } from '../nn/parameter';

export interface EmaOptions {
  /** Upper bound of the decay (the original: 0.995). */
  beta?: number;
  /** Update every N calls to `update()` (the original: 10). */
  updateEvery?: number;
  /** Until this many calls, the EMA copies the weights instead of averaging. */
  updateAfterStep?: number;
  /** Warm-up of the decay: 1 - (1 + epoch/invGamma)^-power, clamped to [minValue, beta]. */
  invGamma?: number;
  power?: number;
  minValue?: number;
}

export const EMA_DEFAULTS: Required<EmaOptions> = { beta: 0.995, updateEvery: 10, updateAfterStep: 100, invGamma: 1, power: 2 / 3, minValue: 0 };

export interface EmaState {
  step: number;
  initialized: boolean;
  shadow: TensorDict;
}

/** ema_pytorch's decay after `step` calls: 1 - (1 + epoch/invGamma)^-power, clamped to [minValue, beta]. */
export function emaDecay(step: number, options: Required<EmaOptions>): number {
  const { updateAfterStep, invGamma, power, minValue, beta } = options;
  const epoch = Math.max(0, step - updateAfterStep - 1);
  if (epoch <= 0) return 0;
  const value = 1 - (1 + epoch / invGamma) ** -power;
  return Math.min(beta, Math.max(minValue, value));
}

/**
 * What the `step`-th call to `update()` does (0-based, before counting it): nothing between
 * `updateEvery` calls, a plain copy until `updateAfterStep` (the first copy after it also starts
 * the averaging), then an average.
 */
export function emaStep(step: number, initialized: boolean, options: Required<EmaOptions>): 'skip' | 'copy' | 'copy-and-start' | 'average' {
  if (step % options.updateEvery !== 0) return 'skip';
  if (step <= options.updateAfterStep || !initialized) return step > options.updateAfterStep ? 'copy-and-start' : 'copy';
  return 'average';
}

/**
 * Exponential moving average of a module's parameters with `ema_pytorch.EMA`'s semantics, as the
 * original trains with `EMA(model, beta=0.995, update_every=10)`: a step counter; every
 * `updateEvery` calls, either a plain copy (up to `updateAfterStep`) or
 * `shadow = lerp(shadow, param, 1 - decay)` with a warm-up decay.
 */
export class Ema {
  readonly options: Required<EmaOptions>;
  private stepCount = 0;
  private initialized = false;
  private readonly shadow = new Map<string, { param: Parameter; value: tf.Variable }>();

  constructor(readonly module: Module, options: EmaOptions = {}) {
    this.options = { ...EMA_DEFAULTS, ...options };
    for (const [name, p] of module.namedParameters()) {
      const copy = p.variable.clone();
      this.shadow.set(name, { param: p, value: tf.variable(copy, false) });
      copy.dispose();
    }
  }

  get step(): number {
    return this.stepCount;
  }

  /** The decay the next averaging update uses (0 during the copy phase). */
  currentDecay(): number {
    return emaDecay(this.stepCount, this.options);
  }

  /** Call once after every optimizer step. */
  update(): void {
    const action = emaStep(this.stepCount, this.initialized, this.options);
    this.stepCount += 1;
    if (action === 'skip') return;
    if (action !== 'average') {
      this.copyFromModel();
      if (action === 'copy-and-start') this.initialized = true;
      return;
    }
    const w = 1 - this.currentDecay();
    for (const s of this.shadow.values()) {
      tf.tidy(() => s.value.assign(tf.add(s.value, tf.mul(tf.sub(s.param.variable, s.value), w))));
    }
  }

  private copyFromModel(): void {
    for (const s of this.shadow.values()) s.value.assign(s.param.variable);
  }

  /** The averaged weights as a PyTorch-layout state dict (what the original saves as `*_EMA.pth`). */
  stateDict(): TensorDict {
    const out: TensorDict = {};
    for (const [name, s] of this.shadow) out[name] = tensorToTorchHost(s.value, s.param.layout);
    return out;
  }

  /** Loads the averaged weights into a module of the same architecture (e.g. for validation). */
  copyTo(target: Module): void {
    target.loadStateDict(this.stateDict(), { source: 'EMA weights' });
  }

  getState(): EmaState {
    return { step: this.stepCount, initialized: this.initialized, shadow: this.stateDict() };
  }

  setState(state: EmaState, source = 'EMA state'): void {
    for (const [name, s] of this.shadow) {
      const t = state.shadow[name];
      if (!t) throw new Error(`${source}: no EMA value for parameter "${name}"`);
      if (t.shape.join(',') !== s.param.torchShape.join(',')) {
        throw new Error(`${source}: EMA value of "${name}" has shape [${t.shape}], expected [${s.param.torchShape}]`);
      }
    }
    for (const [name, s] of this.shadow) {
      tf.tidy(() => s.value.assign(fromTorchHost(state.shadow[name]!, s.param.layout)));
    }
    this.stepCount = state.step;
    this.initialized = state.initialized;
  }

  dispose(): void {
    for (const s of this.shadow.values()) s.value.dispose();
    this.shadow.clear();
  }
}
