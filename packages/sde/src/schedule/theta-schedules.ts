import type { Round } from './precision';

/** The θ schedules of IR-SDE (original `ir/utils/sde_utils.py`, `IRSDE._initialize`). */
export type Schedule = 'cosine' | 'linear' | 'constant';
export const SCHEDULES: readonly Schedule[] = ['cosine', 'linear', 'constant'];

/**
 * θ_t for t = 0..T (length T + 1; index 0 exists but the process only uses 1..T), with every
 * operation rounded by `r` the way the original's float32 torch ops round.
 */
export function thetaSchedule(schedule: Schedule, T: number, r: Round): number[] {
  switch (schedule) {
    case 'cosine':
      return cosineThetas(T, r);
    case 'linear':
      return linearThetas(T, r);
    case 'constant':
      return new Array<number>(T + 1).fill(1);
  }
}

/**
 * Cosine schedule: n = T + 2, x = 0..n, ᾱ(x) = cos²(((x/n) + s)/(1 + s) · π/2) / ᾱ(0), θ = 1 - ᾱ[1..n-1].
 * Note θ is `1 - ᾱ` itself, not the usual β ratio (as in the original). s = 0.008.
 */
function cosineThetas(T: number, r: Round): number[] {
  const n = T + 2;
  const s = r(0.008);
  const onePlusS = r(1 + 0.008);
  const pi = r(Math.PI);
  const alphaBar: number[] = [];
  for (let x = 0; x <= n; x++) {
    const angle = r(r(r(r(r(x / n) + s) / onePlusS) * pi) * 0.5);
    const c = r(Math.cos(angle));
    alphaBar.push(r(c * c));
  }
  const thetas: number[] = [];
  for (let i = 1; i < n; i++) thetas.push(r(1 - r(alphaBar[i]! / alphaBar[0]!)));
  return thetas;
}

/**
 * Linear schedule: n = T + 1 points from (1000/n)·1e-4 to (1000/n)·0.02, evaluated like torch's
 * linspace (start + i·step for the first half, end - (n-1-i)·step for the second half).
 */
function linearThetas(T: number, r: Round): number[] {
  const n = T + 1;
  const scale = 1000 / n;
  const start = r(scale * 0.0001);
  const end = r(scale * 0.02);
  if (n === 1) return [start];
  const step = r(r(end - start) / (n - 1));
  const half = Math.floor(n / 2);
  const thetas: number[] = [];
  for (let i = 0; i < n; i++) {
    thetas.push(i < half ? r(start + r(step * i)) : r(end - r(step * (n - 1 - i))));
  }
  return thetas;
}
