import { rows, weight, type EmitContext } from '../emit-context';
import { linearRight, transposedWeight } from './cross-attention';

/**
 * attention.py `FeedForward(dim, glu=True)`: GEGLU (`a, gate = Linear(dim → 8·dim).chunk(2)`;
 * `a · gelu(gate)`, exact GELU) → Linear(4·dim → dim). The GEGLU projection is emitted as two
 * MatMuls (row halves of its weight) so no split of the wide activation is needed.
 */
export function emitGegluFeedForward(ctx: EmitContext, path: string, x: string, dim: number): string {
  const { g } = ctx;
  const inner = 4 * dim;
  return g.scope(path, () => {
    const projW = weight(ctx, `${path}.net.0.proj.weight`, [2 * inner, dim]);
    const projB = weight(ctx, `${path}.net.0.proj.bias`, [2 * inner]);
    const half = (i: number) => g.add(g.matMul(x, transposedWeight(ctx, rows(ctx, projW, i * inner, (i + 1) * inner))), rows(ctx, projB, i * inner, (i + 1) * inner));
    const gated = g.mul(half(0), g.gelu(half(1)));
    return g.add(g.matMul(gated, linearRight(ctx, `${path}.net.2.weight`, dim, inner)), weight(ctx, `${path}.net.2.bias`, [dim]));
  });
}
