import { reductionAxes } from '../shape-inference';
import { expandTo, normAxis, shapeOf, wanted } from './helpers';
import type { GradContext, GradRule } from './types';

/** dY of a reduction with its reduced axes restored as size 1 (keepdims), broadcast back to the input. */
function spread(c: GradContext): { grad: string; axes: number[]; shape: number[] } {
  const x = c.node.inputs[0]!;
  const shape = shapeOf(c, x);
  const axes = reductionAxes(c.node, c.node.inputs.map((i) => (i === '' ? undefined : c.info(i))), shape.length);
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const dY = c.node.int('keepdims', 1) ? c.dY[0]! : c.g.reshape(c.dY[0]!, kept);
  return { grad: expandTo(c.g, dY, kept, shape), axes, shape };
}

export const REDUCTION_RULES: Record<string, GradRule> = {
  ReduceSum: (c) => [wanted(c, 0) ? spread(c).grad : undefined, undefined],
  ReduceMean: (c) => {
    if (!wanted(c, 0)) return [undefined];
    const { grad, axes, shape } = spread(c);
    const count = axes.reduce((n, a) => n * shape[a]!, 1);
    return [c.g.mul(grad, c.g.constFloat(1 / count))];
  },
  // To every position holding the maximum (ties share the full gradient, as the mask selects all).
  ReduceMax: (c) => {
    if (!wanted(c, 0)) return [undefined];
    const x = c.node.inputs[0]!;
    const shape = shapeOf(c, x);
    const { grad } = spread(c);
    const y = c.node.int('keepdims', 1) ? c.node.outputs[0]! : c.g.reshape(c.node.outputs[0]!, shape.map((d, i) => (spread(c).axes.includes(i) ? 1 : d)));
    const mask = c.g.op('Cast', [c.g.op('Equal', [x, y])], { to: 1 });
    return [c.g.mul(mask, grad)];
  },
  // y = softmax(x): dx = y ⊙ (dY - Σ_axis dY ⊙ y).
  Softmax: (c) => {
    if (!wanted(c, 0)) return [undefined];
    const y = c.node.outputs[0]!;
    const axis = normAxis(c.node.int('axis', -1), shapeOf(c, y).length);
    const dY = c.dY[0]!;
    return [c.g.mul(y, c.g.sub(dY, c.g.reduceSum(c.g.mul(dY, y), [axis], true)))];
  },
};
