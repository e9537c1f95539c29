import type { HostTensor, Rng } from '@srdiff/core';
import { checkRange, convolveSparse, draw, hwcView, rngOf, splat, type Degraded, type Range, type Tap } from './common';

export interface MotionBlurOptions {
  /** Length of the camera path in pixels. Default [9, 25]. */
  length?: Range;
  /** Random-walk jitter of the velocity per step (Boracchi & Foi's "anxiety"). Default [0.05, 0.25]. */
  anxiety?: Range;
  /** Probability per step of an abrupt shake. Default 0.05. */
  shakeProbability?: number;
  /** Pull of the path back towards its start (keeps it compact). Default 0.2. */
  centripetal?: number;
}

/** A normalised blur kernel as sparse taps plus its dense form (for inspection). */
export interface BlurKernel {
  size: number;
  /** `size × size`, sums to 1. */
  weights: Float32Array;
  taps: Tap[];
}

const STEPS = 96;

/**
 * Camera-shake kernel in the manner of Boracchi & Foi (2012), "Modeling the performance of image
 * restoration from motion blur": a 2-D random walk with inertia — each step the velocity is
 * perturbed by Gaussian jitter, pulled back towards the origin and, rarely, kicked in a random
 * direction, then renormalised to a constant speed — so the path has total length `length`.
 * The path is sampled densely and splatted bilinearly into a square grid; the kernel is the
 * normalised exposure time spent at each point.
 */
export function cameraShakeKernel(rng: Rng, options: MotionBlurOptions = {}): BlurKernel & { length: number } {
  const lengthRange = options.length ?? [9, 25];
  const anxietyRange = options.anxiety ?? [0.05, 0.25];
  checkRange('motionBlur.length', lengthRange, 1);
  checkRange('motionBlur.anxiety', anxietyRange, 0);
  const length = draw(rng, lengthRange);
  const anxiety = draw(rng, anxietyRange);
  const shakeP = options.shakeProbability ?? 0.05;
  const centripetal = options.centripetal ?? 0.2;
  const speed = length / STEPS;

  const heading = 2 * Math.PI * rng.uniform();
  let vx = Math.cos(heading) * speed;
  let vy = Math.sin(heading) * speed;
  let x = 0;
  let y = 0;
  const path: [number, number][] = [[0, 0]];
  for (let s = 0; s < STEPS; s++) {
    let dvx = anxiety * speed * rng.normal() - (centripetal * x) / STEPS;
    let dvy = anxiety * speed * rng.normal() - (centripetal * y) / STEPS;
    if (rng.uniform() < shakeP) {
      const kick = 2 * Math.PI * rng.uniform();
      dvx += 2 * speed * Math.cos(kick);
      dvy += 2 * speed * Math.sin(kick);
    }
    vx += dvx;
    vy += dvy;
    const norm = Math.hypot(vx, vy) || 1;
    vx = (vx / norm) * speed;
    vy = (vy / norm) * speed;
    x += vx;
    y += vy;
    path.push([x, y]);
  }
  // Centre the path on its centroid so the blur does not shift the image.
  const cx = path.reduce((s, p) => s + p[0], 0) / path.length;
  const cy = path.reduce((s, p) => s + p[1], 0) / path.length;
  const radius = Math.ceil(Math.max(...path.map(([px, py]) => Math.max(Math.abs(px - cx), Math.abs(py - cy))))) + 1;
  const size = 2 * radius + 1;
  const grid = new Float64Array(size * size);
  const SUB = 4;
  for (let i = 0; i < STEPS; i++) {
    const [x0, y0] = path[i]!;
    const [x1, y1] = path[i + 1]!;
    for (let k = 0; k < SUB; k++) {
      const t = (k + 0.5) / SUB;
      splat(grid, size, size, x0 + (x1 - x0) * t - cx + radius, y0 + (y1 - y0) * t - cy + radius, 1);
    }
  }
  const total = grid.reduce((s, v) => s + v, 0);
  const weights = new Float32Array(size * size);
  const taps: Tap[] = [];
  for (let i = 0; i < grid.length; i++) {
    if (grid[i]! <= 0) continue;
    const w = grid[i]! / total;
    weights[i] = w;
    // Convolution: out(p) = Σ k(q) in(p − q).
    taps.push({ dy: -(Math.floor(i / size) - radius), dx: -((i % size) - radius), w });
  }
  return { size, weights, taps, length };
}

/**
 * Motion blur from camera shake: `I = k ∗ J` with a random trajectory kernel
 * ({@link cameraShakeKernel}), mirrored borders. (Spatially invariant; no noise added.)
 */
export function addMotionBlur(image: HostTensor, seed: number | Rng, options: MotionBlurOptions = {}): Degraded & { kernel: BlurKernel } {
  const { height, width, data } = hwcView(image, 'addMotionBlur');
  const rng = rngOf(seed);
  const kernel = cameraShakeKernel(rng, options);
  const out = convolveSparse(data, height, width, 3, kernel.taps);
  return { image: { shape: [...image.shape], data: out }, params: { length: kernel.length, kernelSize: kernel.size, taps: kernel.taps.length }, kernel };
}
