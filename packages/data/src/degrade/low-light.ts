import type { HostTensor, Rng } from '@srdiff/core';
import { checkRange, clamp01, draw, hwcView, rngOf, type Degraded, type Range } from './common';

export interface LowLightOptions {
  /** Exposure scale α (fraction of the light the sensor gets). Default [0.15, 0.35]. */
  exposure?: Range;
  /** Gamma γ applied to the clean image before scaling (darkens mid-tones more than highlights). Default [1.2, 1.8]. */
  gamma?: Range;
  /** Photo-electrons at full scale (shot-noise level: fewer = noisier). Default [150, 600]. */
  photonsAtFullScale?: Range;
  /** Read-noise standard deviation. Default [0.002, 0.01]. */
  readNoise?: Range;
}

const { exp, sqrt, round, max, pow } = Math;

/**
 * Draws from Poisson(λ): inversion (one uniform, walking the CDF) for λ < 30, otherwise the
 * normal approximation `round(λ + √λ·z)` (≥ 0), whose error at λ ≥ 30 is far below the read
 * noise here.
 */
export function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda < 30) {
    const u = rng.uniform();
    let k = 0;
    let p = exp(-lambda);
    let cdf = p;
    while (u > cdf && k < 1000) {
      k++;
      p *= lambda / k;
      cdf += p;
    }
    return k;
  }
  return max(0, round(lambda + sqrt(lambda) * rng.normal()));
}

/**
 * Low light: less exposure, then a sensor's noise. The signal is `S = α·J^γ` (exposure scale α,
 * gamma γ > 1 darkening mid-tones as in LLNet-style synthesis), and the recorded value is
 * Poisson–Gaussian: `I = Poisson(S·k)/k + N(0, σ_r²)`, clipped to [0, 1], with `k` photo-electrons
 * at full scale (shot noise) and read noise σ_r, independently per pixel and channel.
 */
export function makeLowLight(image: HostTensor, seed: number | Rng, options: LowLightOptions = {}): Degraded {
  const exposure = options.exposure ?? [0.15, 0.35];
  const gamma = options.gamma ?? [1.2, 1.8];
  const photons = options.photonsAtFullScale ?? [150, 600];
  const readNoise = options.readNoise ?? [0.002, 0.01];
  checkRange('lowLight.exposure', exposure, 0, 1);
  checkRange('lowLight.gamma', gamma, 0);
  checkRange('lowLight.photonsAtFullScale', photons, 1);
  checkRange('lowLight.readNoise', readNoise, 0);

  const { data } = hwcView(image, 'makeLowLight');
  const rng = rngOf(seed);
  const alpha = draw(rng, exposure);
  const g = draw(rng, gamma);
  const k = draw(rng, photons);
  const sigma = draw(rng, readNoise);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const signal = alpha * pow(clamp01(data[i]!), g);
    out[i] = clamp01(poisson(rng, signal * k) / k + sigma * rng.normal());
  }
  return { image: { shape: [...image.shape], data: out }, params: { exposure: alpha, gamma: g, photonsAtFullScale: k, readNoise: sigma } };
}
