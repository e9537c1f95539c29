import { rounder, type TablePrecision } from '../schedule/precision';
import type { SdeTables } from '../schedule/tables';

/**
 * Every per-timestep scalar the closed forms multiply tensors by, precomputed for t = 1..T (index
 * 0 is NaN: t = 0 is not a process step). Each is evaluated in the original's operation order and
 * rounded like its float32 0-d tensor ops, so the tensor formulas only do the final arithmetic.
 */
export interface StepCoefficients {
  theta: Float64Array;
  sigma: Float64Array;
  sigmaSq: Float64Array;
  /** 0.5·σ_t² (probability-flow ODE). */
  halfSigmaSq: Float64Array;
  sigmaBar: Float64Array;
  sigmaBarSq: Float64Array;
  /** exp(-Θ_t·dt): weight of (x0 - mu) in E[x_t | x_0]; the original's `weights(t)`. */
  meanWeight: Float64Array;
  /** exp(Θ_t·dt): undoes meanWeight when estimating x0 from predicted noise. */
  inverseMeanWeight: Float64Array;
  /** Posterior mean E[x_{t-1} | x_t, x_0] = xtCoef·(x_t - mu) + x0Coef·(x_0 - mu) + mu. */
  posteriorXtCoef: Float64Array;
  posteriorX0Coef: Float64Array;
  /** Posterior std, clamped at sqrt(1e-20·dt)·max_sigma (it is 0 at t = 1). */
  posteriorStd: Float64Array;
}

export function computeCoefficients(tables: SdeTables, maxSigma: number, precision: TablePrecision): StepCoefficients {
  const r = rounder(precision);
  const { thetas, sigmas, thetasCumsum, sigmaBars, dt } = tables;
  const T = thetas.length - 1;
  const table = () => new Float64Array(T + 1).fill(NaN);
  const c: StepCoefficients = {
    theta: table(), sigma: table(), sigmaSq: table(), halfSigmaSq: table(), sigmaBar: table(), sigmaBarSq: table(),
    meanWeight: table(), inverseMeanWeight: table(), posteriorXtCoef: table(), posteriorX0Coef: table(), posteriorStd: table(),
  };
  const expOf = (x: number) => r(Math.exp(x));
  const minVariance = r(r(1e-20) * dt);
  const sigmaMax = r(maxSigma);

  for (let t = 1; t <= T; t++) {
    const theta = thetas[t]!;
    const cum = thetasCumsum[t]!;
    const cumPrev = thetasCumsum[t - 1]!;
    c.theta[t] = theta;
    c.sigma[t] = sigmas[t]!;
    c.sigmaSq[t] = r(sigmas[t]! * sigmas[t]!);
    c.halfSigmaSq[t] = r(0.5 * c.sigmaSq[t]!);
    c.sigmaBar[t] = sigmaBars[t]!;
    c.sigmaBarSq[t] = r(sigmaBars[t]! * sigmaBars[t]!);
    c.meanWeight[t] = expOf(r(-cum * dt));
    c.inverseMeanWeight[t] = expOf(r(cum * dt));

    // reverse_optimum_step: A = e^{-θ_t dt}, B = e^{-Θ_t dt}, C = e^{-Θ_{t-1} dt}.
    const A = expOf(r(-theta * dt));
    const B = expOf(r(-cum * dt));
    const C = expOf(r(-cumPrev * dt));
    const denominator = r(1 - r(B * B));
    c.posteriorXtCoef[t] = r(r(A * r(1 - r(C * C))) / denominator);
    c.posteriorX0Coef[t] = r(r(C * r(1 - r(A * A))) / denominator);

    // reverse_optimum_std: the same with doubled exponents; the variance is clamped before the log.
    const A2 = expOf(r(r(-2 * theta) * dt));
    const B2 = expOf(r(r(-2 * cum) * dt));
    const C2 = expOf(r(r(-2 * cumPrev) * dt));
    const variance = r(r(r(1 - A2) * r(1 - C2)) / r(1 - B2));
    const logVariance = r(Math.log(Math.max(variance, minVariance)));
    c.posteriorStd[t] = r(expOf(r(0.5 * logVariance)) * sigmaMax);
  }
  return c;
}
