import type { EmitContext } from '../emit-context';
import { linearRight } from './cross-attention';

/**
 * attention.py `FeedForward(dim, glu=True)`: GEGLU (`a, gate = Linear(dim → 8·dim).chunk(2)`;
 * `a · gelu(gate)`, exact GELU) → Linear(4·dim → dim). The GEGLU projection is emitted as two
 * MatMuls (the halves of its weight) so no split of the wide activation is needed.
 */
export function emitGegluFeedForward(ctx: EmitContext, path: string, x: string, dim: number): string {
  const { g } = ctx;
  const inner = 4 * dim;
  return g.scope(path, () => {
    const projW = ctx.w.take(`${path}.net.0.proj.weight`, [2 * inner, dim]);
    const projB = ctx.w.take(`${path}.net.0.proj.bias`, [2 * inner]);
    const half = (i: number, name: string) => {
      const rows = { shape: [inner, dim], data: projW.data.subarray(i * inner * dim, (i + 1) * inner * dim) };
      const wT = new Float32Array(inner * dim);
      for (let r = 0; r < inner; r++) for (let c = 0; c < dim; c++) wT[c * inner + r] = rows.data[r * dim + c]!;
      const w = g.initializer(`${path}.net.0.proj.weight[${name}]^T`, wT, [dim, inner]);
      const b = g.initializer(`${path}.net.0.proj.bias[${name}]`, projB.data.subarray(i * inner, (i + 1) * inner), [inner]);
      return g.add(g.matMul(x, w), b);
    };
    const gated = g.mul(half(0, 'a'), g.gelu(half(1, 'gate')));
    const outB = ctx.g.initializer(`${path}.net.2.bias`, ctx.w.take(`${path}.net.2.bias`, [dim]).data, [dim]);
    return g.add(g.matMul(gated, linearRight(ctx, `${path}.net.2.weight`, dim, inner)), outB);
  });
}
