import type { TensorDict } from '../../io/host-tensor';
import { EMA_DEFAULTS, emaDecay, emaStep, type EmaOptions, type EmaState } from '../ema';
import type { ParameterArena } from './parameter-arena';

/**
 * core's {@link Ema} (ema_pytorch semantics) over a {@link ParameterArena}: the same step counting,
 * copy phase and decay warm-up, and the same float32 update `shadow += (param − shadow)·(1 − decay)`.
 */
export class HostEma {
  readonly options: Required<EmaOptions>;
  readonly shadow: ParameterArena;
  private stepCount = 0;
  private initialized = false;

  constructor(readonly params: ParameterArena, options: EmaOptions = {}) {
    this.options = { ...EMA_DEFAULTS, ...options };
    this.shadow = params.clone();
  }

  get step(): number {
    return this.stepCount;
  }

  currentDecay(): number {
    return emaDecay(this.stepCount, this.options);
  }

  /** Call once after every optimizer step. */
  update(): void {
    const action = emaStep(this.stepCount, this.initialized, this.options);
    this.stepCount += 1;
    if (action === 'skip') return;
    if (action !== 'average') {
      this.shadow.data.set(this.params.data);
      if (action === 'copy-and-start') this.initialized = true;
      return;
    }
    const w = Math.fround(1 - this.currentDecay());
    const S = this.shadow.data;
    const P = this.params.data;
    for (let i = 0; i < S.length; i++) S[i] = S[i]! + Math.fround(Math.fround(P[i]! - S[i]!) * w);
  }

  /** The averaged weights (a PyTorch-layout state dict; views of the shadow arena). */
  stateDict(): TensorDict {
    return this.shadow.toTensorDict();
  }

  getState(): EmaState {
    return { step: this.stepCount, initialized: this.initialized, shadow: this.stateDict() };
  }

  setState(state: EmaState, source = 'EMA state'): void {
    this.shadow.load(state.shadow, `${source} (EMA)`);
    this.stepCount = state.step;
    this.initialized = state.initialized;
  }
}
