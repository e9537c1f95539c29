import type { TablePrecision } from '../schedule/precision';
import { SCHEDULES, type Schedule } from '../schedule/theta-schedules';

/** Constructor options of {@link IRSDE}; names follow the original's `IRSDE(max_sigma, T, sample_T, schedule, eps)`. */
export interface IRSDEOptions {
  /**
   * Stationary noise level: x_T ≈ mu + max_sigma·N(0, I). Given in 0–255 pixel units when ≥ 1
   * (divided by 255, as the original does: SR-Diff trains with 10, tests with 50), used as is when < 1.
   */
  maxSigma: number;
  /** Number of diffusion steps the network is trained on (timesteps run 1..T). */
  T: number;
  /** θ schedule. Default `'cosine'`. */
  schedule?: Schedule;
  /**
   * How close the mean gets to mu at t = T: dt is chosen so that exp(-Θ_T·dt) = eps, i.e. x_T's
   * mean keeps an eps fraction of (x_0 - mu). Default 0.01 (the original's default; SR-Diff's
   * option files use 0.005).
   */
  eps?: number;
  /**
   * Steps used when sampling (default T). The tables are then built with sampleT steps and the
   * network receives t·(T / sampleT), so a network trained on T steps can sample in fewer.
   */
  sampleT?: number;
  /** Arithmetic of the tables: `'float32'` (default) reproduces the original's float32 torch ops. */
  tablePrecision?: TablePrecision;
}

export interface ResolvedIRSDEOptions {
  maxSigmaArg: number;
  maxSigma: number;
  T: number;
  schedule: Schedule;
  eps: number;
  sampleT: number;
  sampleScale: number;
  tablePrecision: TablePrecision;
}

/** The defaults, in one place (those of the original constructor). */
export const IRSDE_DEFAULTS = {
  schedule: 'cosine' as Schedule,
  eps: 0.01,
  tablePrecision: 'float32' as TablePrecision,
} as const;

/** Validates the options and applies defaults; errors name the offending option. */
export function resolveIRSDEOptions(options: IRSDEOptions): ResolvedIRSDEOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('IRSDE: expected an options object { maxSigma, T, schedule?, eps?, sampleT? }');
  }
  const { maxSigma, T } = options;
  const schedule = options.schedule ?? IRSDE_DEFAULTS.schedule;
  const eps = options.eps ?? IRSDE_DEFAULTS.eps;
  const tablePrecision = options.tablePrecision ?? IRSDE_DEFAULTS.tablePrecision;

  if (typeof maxSigma !== 'number' || !Number.isFinite(maxSigma) || maxSigma <= 0) {
    throw new RangeError(`IRSDE: maxSigma must be a positive number (0–255 pixel units, or < 1 as a fraction), got ${String(maxSigma)}`);
  }
  if (!Number.isInteger(T) || T < 1) {
    throw new RangeError(`IRSDE: T must be an integer ≥ 1 (the number of diffusion steps), got ${String(T)}`);
  }
  if (!(SCHEDULES as readonly string[]).includes(schedule)) {
    throw new RangeError(`IRSDE: unknown schedule "${String(schedule)}"; expected one of ${SCHEDULES.map((s) => `'${s}'`).join(', ')}`);
  }
  if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) {
    throw new RangeError(`IRSDE: eps must be in (0, 1) (the fraction of x0 - mu left in the mean at t = T), got ${String(eps)}`);
  }
  const sampleT = options.sampleT ?? T;
  if (!Number.isInteger(sampleT) || sampleT < 1) {
    throw new RangeError(`IRSDE: sampleT must be an integer ≥ 1 (steps used when sampling), got ${String(options.sampleT)}`);
  }
  if (tablePrecision !== 'float32' && tablePrecision !== 'float64') {
    throw new RangeError(`IRSDE: tablePrecision must be 'float32' or 'float64', got ${String(tablePrecision)}`);
  }
  return {
    maxSigmaArg: maxSigma,
    maxSigma: maxSigma >= 1 ? maxSigma / 255 : maxSigma,
    T,
    schedule,
    eps,
    sampleT,
    sampleScale: T / sampleT,
    tablePrecision,
  };
}
