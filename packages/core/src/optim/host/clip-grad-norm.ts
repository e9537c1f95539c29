import type { ParameterArena } from './parameter-arena';

/**
 * `torch.nn.utils.clip_grad_norm_` in place on a gradient arena: total = ‖g‖₂ over every value
 * (accumulated in float64), every gradient multiplied by min(1, maxNorm / (total + 1e-6)).
 */
export function clipGradNormInPlace(grads: ParameterArena, maxNorm: number): { totalNorm: number; scale: number } {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const G = grads.data;
  let sq = 0;
  for (let i = 0; i < G.length; i++) sq += G[i]! * G[i]!;
  const totalNorm = Math.sqrt(sq);
  const scale = Math.min(1, maxNorm / (totalNorm + 1e-6));
  if (scale < 1) {
    const s = Math.fround(scale);
    for (let i = 0; i < G.length; i++) G[i] = G[i]! * s;
  }
  return { totalNorm, scale };
}
