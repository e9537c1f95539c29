import { Rng, type HostTensor } from '@srdiff/core';

/** A range `[min, max]` a parameter is drawn from uniformly (equal ends fix it). */
export type Range = readonly [number, number];

/** What a degradation returns: the degraded image (same shape as the input) and the drawn parameters. */
export interface Degraded {
  image: HostTensor;
  params: Record<string, number | number[]>;
}

export interface HwcView {
  height: number;
  width: number;
  data: Float32Array;
}

/** Accepts `[H, W, 3]` or `[1, H, W, 3]` float32 in [0, 1]. */
export function hwcView(image: HostTensor, what: string): HwcView {
  const s = image.shape;
  const dims = s.length === 4 && s[0] === 1 ? s.slice(1) : s;
  if (dims.length !== 3 || dims[2] !== 3) throw new Error(`${what}: expected an RGB image [H, W, 3] or [1, H, W, 3], got [${s.join(', ')}]`);
  if (image.data.length !== dims[0]! * dims[1]! * 3) throw new Error(`${what}: shape [${s.join(', ')}] needs ${dims[0]! * dims[1]! * 3} values, got ${image.data.length}`);
  return { height: dims[0]!, width: dims[1]!, data: image.data };
}

export function rngOf(seedOrRng: number | Rng): Rng {
  return typeof seedOrRng === 'number' ? new Rng(seedOrRng) : seedOrRng;
}

export function draw(rng: Rng, [lo, hi]: Range): number {
  return lo + (hi - lo) * rng.uniform();
}

export function checkRange(name: string, range: Range, min = -Infinity, max = Infinity): void {
  if (!Array.isArray(range) || range.length !== 2 || !(range[0] <= range[1]) || range[0] < min || range[1] > max) {
    throw new Error(`${name}: expected [min, max] with ${min} <= min <= max <= ${max}, got ${JSON.stringify(range)}`);
  }
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Mirror index into [0, n) (no edge repeat), for borders of convolutions. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** A sparse kernel: taps at integer offsets with weights. */
export interface Tap {
  dy: number;
  dx: number;
  w: number;
}

/**
 * `out(y, x) = Σ w · in(y + dy, x + dx)` per channel, mirrored borders. Kernels here are sparse
 * (a trajectory, a line), so this costs taps × pixels — no FFT needed at these sizes.
 */
export function convolveSparse(src: Float32Array, height: number, width: number, channels: number, taps: readonly Tap[]): Float32Array {
  const out = new Float32Array(src.length);
  const acc = new Float64Array(width * channels);
  // Source offsets of every column for each tap, mirrored at the borders (computed once).
  const columns = taps.map(({ dx }) => Int32Array.from({ length: width }, (_, x) => reflectIndex(x + dx, width) * channels));
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let t = 0; t < taps.length; t++) {
      const { dy, w } = taps[t]!;
      const row = reflectIndex(y + dy, height) * width * channels;
      const cols = columns[t]!;
      if (channels === 3) {
        for (let x = 0, o = 0; x < width; x++, o += 3) {
          const s = row + cols[x]!;
          acc[o]! += w * src[s]!;
          acc[o + 1]! += w * src[s + 1]!;
          acc[o + 2]! += w * src[s + 2]!;
        }
      } else {
        for (let x = 0; x < width; x++) {
          const s = row + cols[x]!;
          for (let c = 0; c < channels; c++) acc[x * channels + c]! += w * src[s + c]!;
        }
      }
    }
    out.set(acc, y * width * channels);
  }
  return out;
}

/** Adds `weight` at a sub-pixel point of a dense grid, split bilinearly over the 4 neighbours. */
const { floor: floorOf } = Math;

export function splat(grid: Float64Array, gw: number, gh: number, x: number, y: number, weight: number): void {
  const x0 = floorOf(x);
  const y0 = floorOf(y);
  const fx = x - x0;
  const fy = y - y0;
  const put = (xx: number, yy: number, w: number) => {
    if (xx >= 0 && yy >= 0 && xx < gw && yy < gh && w > 0) grid[yy * gw + xx]! += w;
  };
  put(x0, y0, weight * (1 - fx) * (1 - fy));
  put(x0 + 1, y0, weight * fx * (1 - fy));
  put(x0, y0 + 1, weight * (1 - fx) * fy);
  put(x0 + 1, y0 + 1, weight * fx * fy);
}

/**
 * A smooth random field in [0, 1]: uniform values on a coarse grid (`cells` across the longer
 * side), interpolated with a smoothstep-weighted bilinear blend (C¹, no grid artefacts at these
 * scales), then rescaled to span [0, 1].
 */
export function smoothField(rng: Rng, height: number, width: number, cells: number): Float32Array {
  const floor = Math.floor;
  const step = Math.max(height, width) / Math.max(1, cells);
  const gh = Math.ceil(height / step) + 2;
  const gw = Math.ceil(width / step) + 2;
  const grid = rng.uniformArray(gh * gw);
  const out = new Float32Array(height * width);
  const smooth = (t: number) => t * t * (3 - 2 * t);
  let lo = Infinity;
  let hi = -Infinity;
  for (let y = 0; y < height; y++) {
    const gy = y / step;
    const y0 = floor(gy);
    const ty = smooth(gy - y0);
    for (let x = 0; x < width; x++) {
      const gx = x / step;
      const x0 = floor(gx);
      const tx = smooth(gx - x0);
      const a = grid[y0 * gw + x0]! * (1 - tx) + grid[y0 * gw + x0 + 1]! * tx;
      const b = grid[(y0 + 1) * gw + x0]! * (1 - tx) + grid[(y0 + 1) * gw + x0 + 1]! * tx;
      const v = a * (1 - ty) + b * ty;
      out[y * width + x] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const span = hi - lo || 1;
  for (let i = 0; i < out.length; i++) out[i] = (out[i]! - lo) / span;
  return out;
}
