import type { OnnxGraphBuilder } from '../../graph-builder';
import { normAxis, shapeOf, sumToShape, wanted } from './helpers';
import type { GradRule } from './types';

/**
 * Shared backward of a normalisation over `axes`: recomputes x̂ = (x − μ)·rstd from the input
 * (cheaper than keeping it) and, for dx̂ = the gradient w.r.t. x̂,
 * dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂)).
 */
function normalizeBackward(g: OnnxGraphBuilder, x: string, axes: number[], eps: number): { xhat: string; backward: (dxhat: string) => string } {
  const mean = g.reduceMean(x, axes);
  const centered = g.sub(x, mean);
  const variance = g.reduceMean(g.mul(centered, centered), axes);
  const rstd = g.op('Reciprocal', [g.op('Sqrt', [g.add(variance, g.constFloat(eps))])]);
  const xhat = g.mul(centered, rstd);
  return {
    xhat,
    backward: (dxhat) => {
      const meanGrad = g.reduceMean(dxhat, axes);
      const meanProj = g.reduceMean(g.mul(dxhat, xhat), axes);
      return g.mul(rstd, g.sub(g.sub(dxhat, meanGrad), g.mul(xhat, meanProj)));
    },
  };
}

export const NORMALIZATION_RULES: Record<string, GradRule> = {
  /** y = x̂·γ + β over the axes from `axis` on (ONNX LayerNormalization). */
  LayerNormalization: (c) => {
    const [x, scale, bias] = c.node.inputs as [string, string, string | undefined];
    const { g } = c;
    const dY = c.dY[0]!;
    const xs = shapeOf(c, x);
    const axis = normAxis(c.node.int('axis', -1), xs.length);
    const axes = Array.from({ length: xs.length - axis }, (_, i) => axis + i);
    const { xhat, backward } = normalizeBackward(g, x, axes, c.node.float('epsilon', 1e-5));
    return [
      wanted(c, 0) ? backward(g.mul(dY, scale)) : undefined,
      wanted(c, 1) ? sumToShape(g, g.mul(dY, xhat), xs, shapeOf(c, scale)) : undefined,
      bias && wanted(c, 2) ? sumToShape(g, dY, xs, shapeOf(c, bias)) : undefined,
    ];
  },

  /** y = x̂·scale[c] + bias[c], statistics per (sample, channel) over the spatial axes. */
  InstanceNormalization: (c) => {
    const [x, scale, bias] = c.node.inputs as [string, string, string];
    const { g } = c;
    const dY = c.dY[0]!;
    const xs = shapeOf(c, x);
    const axes = Array.from({ length: xs.length - 2 }, (_, i) => i + 2);
    const channel = [xs[1]!, ...axes.map(() => 1)];
    const { xhat, backward } = normalizeBackward(g, x, axes, c.node.float('epsilon', 1e-5));
    const others = [0, ...axes];
    return [
      wanted(c, 0) ? backward(g.mul(dY, g.reshape(scale, channel))) : undefined,
      wanted(c, 1) ? g.reduceSum(g.mul(dY, xhat), others, false) : undefined,
      wanted(c, 2) ? g.reduceSum(dY, others, false) : undefined,
    ];
  },
};
