import { rounder, type TablePrecision } from './precision';
import { thetaSchedule, type Schedule } from './theta-schedules';

/** The precomputed IR-SDE tables, indexed by timestep 0..T (index 0 is never a process step). */
export interface SdeTables {
  /** θ_t, the mean-reversion rate. */
  thetas: Float64Array;
  /** σ_t = sqrt(2·max_sigma²·θ_t), the diffusion coefficient. */
  sigmas: Float64Array;
  /** Θ_t = Σ_{i≤t} θ_i - θ_0 (so Θ_0 = 0). */
  thetasCumsum: Float64Array;
  /** σ̄_t = max_sigma·sqrt(1 - exp(-2·Θ_t·dt)), the std of x_t given x_0. */
  sigmaBars: Float64Array;
  /** dt = -log(eps) / Θ_T, chosen so that exp(-Θ_T·dt) = eps. */
  dt: number;
}

/**
 * Builds the tables as `IRSDE._initialize` does. `maxSigma` is already in [0, 1] units.
 * Order matters: dt is computed from Θ before σ̄ uses it.
 */
export function computeTables(maxSigma: number, T: number, schedule: Schedule, eps: number, precision: TablePrecision): SdeTables {
  const r = rounder(precision);
  const thetas = thetaSchedule(schedule, T, r);
  const sigmaSqTimes2 = r(maxSigma ** 2 * 2);
  const sigmas = thetas.map((theta) => r(Math.sqrt(r(sigmaSqTimes2 * theta))));

  // torch.cumsum on CPU accumulates float32 input in double and rounds each output.
  let acc = 0;
  const thetasCumsum = thetas.map((theta) => {
    acc += theta;
    return r(r(acc) - thetas[0]!);
  });

  // `-1 / Θ_T * log(eps)`: torch evaluates `-1 / tensor` as reciprocal(tensor) · -1.
  const dt = r(r(-r(1 / thetasCumsum[T]!)) * r(Math.log(eps)));

  const sigmaSq = r(maxSigma ** 2);
  const sigmaBars = thetasCumsum.map((cum) => r(Math.sqrt(r(sigmaSq * r(1 - r(Math.exp(r(r(-2 * cum) * dt))))))));

  return {
    thetas: Float64Array.from(thetas),
    sigmas: Float64Array.from(sigmas),
    thetasCumsum: Float64Array.from(thetasCumsum),
    sigmaBars: Float64Array.from(sigmaBars),
    dt,
  };
}
