import type { TensorDict } from '../../io/host-tensor';
import { ADAMW_DEFAULTS, type AdamWOptions, type AdamWState } from '../adamw';
import { ArenaSpace } from './arena-space';
import type { ParameterArena } from './parameter-arena';

const f = Math.fround;

/**
 * `torch.optim.AdamW` over a {@link ParameterArena}: one fused pass over every parameter (a wasm
 * SIMD kernel when the weights, gradients and moments share an {@link ArenaSpace}), with the
 * same float32 operation sequence as core's tfjs {@link AdamW} (decoupled decay, `lerp` of the
 * first moment, bias corrections, eps after the scaled square root), so both engines step alike
 * and checkpoints move between them.
 */
export class HostAdamW {
  readonly options: Required<AdamWOptions>;
  readonly expAvg: ParameterArena;
  readonly expAvgSq: ParameterArena;
  private stepCount = 0;

  constructor(readonly params: ParameterArena, options: AdamWOptions = {}) {
    this.options = { ...ADAMW_DEFAULTS, ...options };
    const { lr, betas, eps, weightDecay } = this.options;
    if (!(lr >= 0) || !(eps >= 0) || !(weightDecay >= 0) || betas.some((b) => !(b >= 0 && b < 1))) {
      throw new Error(`AdamW: invalid options ${JSON.stringify(this.options)} (need lr, eps, weightDecay >= 0 and betas in [0, 1))`);
    }
    this.expAvg = params.zerosLike();
    this.expAvgSq = params.zerosLike();
  }

  get step(): number {
    return this.stepCount;
  }

  /** One update of every parameter with `grads` (an arena of the same layout). */
  update(grads: ParameterArena, lr = this.options.lr): void {
    if (grads.size !== this.params.size) throw new Error(`AdamW: ${grads.size} gradient values for ${this.params.size} parameters`);
    const [b1, b2] = this.options.betas;
    const { eps, weightDecay } = this.options;
    this.stepCount += 1;
    const k = this.stepCount;
    const decay = f(1 - lr * weightDecay);
    const take1 = f(1 - b1);
    const keep2 = f(b2);
    const take2 = f(1 - b2);
    const bc2Sqrt = f(Math.sqrt(1 - b2 ** k));
    const epsilon = f(eps);
    const stepSize = f(lr / (1 - b1 ** k));
    const constants = { decay, take1, keep2, take2, bc2Sqrt, eps: epsilon, stepSize };
    const space = this.params.space;
    if (space instanceof ArenaSpace && space.adamwUpdate({ p: this.params, g: grads, m: this.expAvg, v: this.expAvgSq }, constants)) return;
    // The same float32 sequence in JavaScript (arenas outside an accelerated ArenaSpace).
    const P = this.params.data;
    const G = grads.data;
    const M = this.expAvg.data;
    const V = this.expAvgSq.data;
    for (let i = 0; i < P.length; i++) {
      const g = G[i]!;
      // p · 1 is exact, so no decay needs no branch (the kernel multiplies too).
      const p = f(P[i]! * decay);
      const m = f(M[i]! + f(f(g - M[i]!) * take1));
      const v = f(f(V[i]! * keep2) + f(f(g * g) * take2));
      const denom = f(f(f(Math.sqrt(v)) / bc2Sqrt) + epsilon);
      M[i] = m;
      V[i] = v;
      P[i] = p - f(f(m / denom) * stepSize);
    }
  }

  /** The state in the layout core's tfjs AdamW uses (moments as PyTorch-layout state dicts, copies). */
  getState(): AdamWState {
    return { step: this.stepCount, options: { ...this.options, betas: [...this.options.betas] }, expAvg: copyDict(this.expAvg.toTensorDict()), expAvgSq: copyDict(this.expAvgSq.toTensorDict()) };
  }

  setState(state: AdamWState, source = 'optimizer state'): void {
    this.expAvg.load(state.expAvg, `${source} (AdamW exp_avg)`);
    this.expAvgSq.load(state.expAvgSq, `${source} (AdamW exp_avg_sq)`);
    this.stepCount = state.step;
  }
}

function copyDict(dict: TensorDict): TensorDict {
  const out: TensorDict = {};
  for (const [k, t] of Object.entries(dict)) out[k] = { shape: [...t.shape], data: Float32Array.from(t.data) };
  return out;
}
