import { shapeOf, sumToShape, wanted } from './helpers';
import type { GradRule } from './types';

const swapLast = (rank: number): number[] => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];

export const LINEAR_ALGEBRA_RULES: Record<string, GradRule> = {
  /**
   * Y = A·B (batched, broadcasting): dA = dY·Bᵀ, dB = Aᵀ·dY, each summed over broadcast batch axes.
   * A batched A against a 2-D B (a weight) folds the batch into the rows: dB = A₂ᵀ·dY₂ in one Gemm.
   */
  MatMul: (c) => {
    const [a, b] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    const dY = c.dY[0]!;
    const [as, bs, ys] = [shapeOf(c, a), shapeOf(c, b), shapeOf(c, y)];
    const { g } = c;
    let dA: string | undefined;
    let dB: string | undefined;
    if (wanted(c, 0)) {
      const bT = bs.length === 2 ? g.transpose(b, [1, 0]) : g.transpose(b, swapLast(bs.length));
      const full = g.matMul(dY, bT);
      dA = sumToShape(g, full, [...ys.slice(0, -2), as[as.length - 2]!, as[as.length - 1]!], as);
    }
    if (wanted(c, 1)) {
      if (bs.length === 2) {
        const k = as[as.length - 1]!;
        const n = ys[ys.length - 1]!;
        dB = g.op('Gemm', [g.reshape(a, [-1, k]), g.reshape(dY, [-1, n])], { transA: 1 });
      } else {
        const full = g.matMul(g.transpose(a, swapLast(as.length)), dY);
        dB = sumToShape(g, full, [...ys.slice(0, -2), bs[bs.length - 2]!, bs[bs.length - 1]!], bs);
      }
    }
    return [dA, dB];
  },

  /** Y = α·op(A)·op(B) + β·C (op = optional transpose). */
  Gemm: (c) => {
    const { node, g } = c;
    const [a, b, cIn] = node.inputs as [string, string, string | undefined];
    const alpha = node.float('alpha', 1);
    const beta = node.float('beta', 1);
    const transA = node.int('transA', 0);
    const transB = node.int('transB', 0);
    const dY = c.dY[0]!;
    const scaled = (t: string, s: number) => (s === 1 ? t : g.mul(t, g.constFloat(s)));
    const attrs = (ta: number, tb: number) => ({ transA: ta || undefined, transB: tb || undefined, alpha: alpha === 1 ? undefined : { kind: 'float' as const, value: alpha } });
    let dA: string | undefined;
    let dB: string | undefined;
    if (wanted(c, 0)) {
      dA = transA ? g.op('Gemm', [b, dY], attrs(transB, 1)) : g.op('Gemm', [dY, b], attrs(0, transB ? 0 : 1));
    }
    if (wanted(c, 1)) {
      dB = transB ? g.op('Gemm', [dY, a], attrs(1, transA)) : g.op('Gemm', [a, dY], attrs(transA ? 0 : 1, 0));
    }
    let dC: string | undefined;
    if (cIn && wanted(c, 2)) dC = scaled(sumToShape(g, dY, shapeOf(c, node.outputs[0]!), shapeOf(c, cIn)), beta);
    return [dA, dB, dC];
  },
};
