import type { HostTensor, Rng } from '@srdiff/core';
import { checkRange, clamp01, draw, hwcView, rngOf, smoothField, type Degraded, type Range } from './common';

export interface HazeOptions {
  /** Scattering coefficient β (per unit of the [0, 1] depth proxy). Default [1.2, 2.8]. */
  beta?: Range;
  /** Atmospheric light A (grey level). Default [0.75, 0.95]. */
  airlight?: Range;
  /** Per-channel deviation of A (a slight colour cast). Default 0.03. */
  airlightTint?: number;
  /** Weight of the smooth random part of the depth proxy against the vertical gradient. Default 0.4. */
  depthNoise?: number;
}

/**
 * Haze by the atmospheric scattering model (Koschmieder; McCartney; as in RESIDE):
 * `I = J·t + A·(1 − t)`, transmission `t = exp(−β·d)`.
 *
 * No depth map exists for an arbitrary photo, so `d` is a smooth proxy in [0, 1]: a gradient that
 * grows towards the top of the frame (the horizon is usually far), tilted by a small random angle,
 * blended with a smooth random field (scene layout), rescaled to [0, 1]. So the bottom of the frame
 * stays clear-ish (t ≈ 1) and the far region is washed out towards A (t down to e^−β).
 */
export function addHaze(image: HostTensor, seed: number | Rng, options: HazeOptions = {}): Degraded {
  const beta = options.beta ?? [1.2, 2.8];
  const airlight = options.airlight ?? [0.75, 0.95];
  const tint = options.airlightTint ?? 0.03;
  const noiseWeight = options.depthNoise ?? 0.4;
  checkRange('haze.beta', beta, 0);
  checkRange('haze.airlight', airlight, 0, 1);
  if (!(noiseWeight >= 0 && noiseWeight <= 1)) throw new Error(`haze.depthNoise: expected a number in [0, 1], got ${noiseWeight}`);

  const { height, width, data } = hwcView(image, 'addHaze');
  const rng = rngOf(seed);
  const b = draw(rng, beta);
  const a0 = draw(rng, airlight);
  const a = [0, 1, 2].map(() => clamp01(a0 + draw(rng, [-tint, tint])));
  const tilt = draw(rng, [-0.35, 0.35]);
  const field = smoothField(rng, height, width, 4);

  const cosTilt = Math.cos(tilt);
  const sinTilt = Math.sin(tilt);
  const exp = Math.exp;
  const rowSpan = Math.max(1, height - 1);
  const colSpan = Math.max(1, width - 1);
  const depth = new Float32Array(height * width);
  let lo = Infinity;
  let hi = -Infinity;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const up = (height - 1 - y) / rowSpan;
      const across = x / colSpan - 0.5;
      const g = up * cosTilt + across * sinTilt;
      const d = (1 - noiseWeight) * g + noiseWeight * field[y * width + x]!;
      depth[y * width + x] = d;
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
  }
  const span = hi - lo || 1;
  const out = new Float32Array(data.length);
  for (let i = 0; i < depth.length; i++) {
    const t = exp(-b * ((depth[i]! - lo) / span));
    for (let c = 0; c < 3; c++) out[i * 3 + c] = clamp01(data[i * 3 + c]! * t + a[c]! * (1 - t));
  }
  return { image: { shape: [...image.shape], data: out }, params: { beta: b, airlight: a, tilt } };
}
