import type { HostTensor, Rng } from '@srdiff/core';
import { checkRange, clamp01, convolveSparse, draw, hwcView, rngOf, splat, type Degraded, type Range, type Tap } from './common';

export interface RainOptions {
  /** Streaks per 1000 pixels. Default [1.5, 4.0]. */
  density?: Range;
  /** Streak length as a fraction of the shorter image side. Default [0.04, 0.12]. */
  length?: Range;
  /** Fall angle from vertical, degrees (shared by all streaks, ±3° jitter each). Default [-25, 25]. */
  angle?: Range;
  /** Brightness of a streak before blending. Default [0.25, 0.6]. */
  intensity?: Range;
}

/**
 * Rain streaks as a separate layer, the additive / screen model of rain removal work (e.g. Yang et
 * al. 2017 `O = B + S`, here screened so highlights do not clip): streaks are straight segments of
 * random position and length falling at one shared angle, drawn into a layer `S`, blurred along the
 * fall direction (they move during the exposure: a line kernel of ~1/3 their length) and across it
 * (1 px soft width), then composited `I = 1 − (1 − J)(1 − S)`.
 */
export function addRain(image: HostTensor, seed: number | Rng, options: RainOptions = {}): Degraded {
  const density = options.density ?? [1.5, 4.0];
  const lengthFrac = options.length ?? [0.04, 0.12];
  const angleDeg = options.angle ?? [-25, 25];
  const intensity = options.intensity ?? [0.25, 0.6];
  checkRange('rain.density', density, 0);
  checkRange('rain.length', lengthFrac, 0, 1);
  checkRange('rain.angle', angleDeg, -90, 90);
  checkRange('rain.intensity', intensity, 0, 1);

  const { height, width, data } = hwcView(image, 'addRain');
  const rng = rngOf(seed);
  const d = draw(rng, density);
  const fall = (draw(rng, angleDeg) * Math.PI) / 180;
  const count = Math.round((d * height * width) / 1000);
  const minSide = Math.min(height, width);
  const layer = new Float64Array(height * width);
  let meanLength = 0;
  for (let s = 0; s < count; s++) {
    const a = fall + (draw(rng, [-3, 3]) * Math.PI) / 180;
    const len = draw(rng, lengthFrac) * minSide;
    const amp = draw(rng, intensity);
    const x0 = draw(rng, [-0.1 * width, 1.1 * width]);
    const y0 = draw(rng, [-0.1 * height, 1.1 * height]);
    const dx = Math.sin(a);
    const dy = Math.cos(a);
    meanLength += len / count;
    for (let t = 0; t <= len; t += 0.5) splat(layer, width, height, x0 + dx * t, y0 + dy * t, amp * 0.5);
  }
  // Blur along the fall direction (exposure) and a little across it (soft width).
  const taps: Tap[] = [];
  const along = Math.max(2, Math.round(meanLength / 3));
  for (let k = 0; k < along; k++) {
    const t = k - (along - 1) / 2;
    for (const [off, w] of [[-1, 0.25], [0, 0.5], [1, 0.25]] as const) {
      taps.push({ dx: Math.round(Math.sin(fall) * t + Math.cos(fall) * off), dy: Math.round(Math.cos(fall) * t - Math.sin(fall) * off), w: w / along });
    }
  }
  const streaks = convolveSparse(Float32Array.from(layer, (v) => Math.min(1, v)), height, width, 1, taps);
  const out = new Float32Array(data.length);
  for (let i = 0; i < streaks.length; i++) {
    const s = clamp01(streaks[i]! * 2.5);
    for (let c = 0; c < 3; c++) out[i * 3 + c] = 1 - (1 - data[i * 3 + c]!) * (1 - s);
  }
  return { image: { shape: [...image.shape], data: out }, params: { density: d, angleDegrees: (fall * 180) / Math.PI, streaks: count, meanLength } };
}
