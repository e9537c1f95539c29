import { resolveSlice } from '../shape-inference';
import { normAxis, shapeOf, sumToShape, wanted, zeros } from './helpers';
import { GradientRuleError, type GradRule } from './types';

/** Ops that only rearrange values: the gradient is dY put back into the input's shape. */
const reshapeBack: GradRule = (c) => [wanted(c, 0) ? c.g.reshape(c.dY[0]!, shapeOf(c, c.node.inputs[0]!)) : undefined];

export const SHAPE_RULES: Record<string, GradRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,

  Transpose: (c) => {
    const rank = shapeOf(c, c.node.inputs[0]!).length;
    const perm = c.node.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => (inverse[p] = i));
    return [wanted(c, 0) ? c.g.transpose(c.dY[0]!, inverse) : undefined];
  },

  // The gradient of each input is its slab of dY.
  Concat: (c) => {
    const rank = shapeOf(c, c.node.inputs[0]!).length;
    const axis = normAxis(c.node.int('axis', 0), rank);
    const sizes = c.node.inputs.map((i) => shapeOf(c, i)[axis]!);
    const parts = c.node.inputs.length === 1 ? [c.dY[0]!] : c.g.split(c.dY[0]!, sizes, axis);
    return parts.map((p, i) => (wanted(c, i) ? p : undefined));
  },

  // The outputs' gradients side by side, zeros for outputs no gradient reaches.
  Split: (c) => {
    if (!wanted(c, 0)) return [undefined];
    const rank = shapeOf(c, c.node.inputs[0]!).length;
    const axis = normAxis(c.node.int('axis', 0), rank);
    const parts = c.node.outputs.map((o, i) => c.dY[i] ?? zeros(c.g, shapeOf(c, o)));
    return [parts.length === 1 ? parts[0]! : c.g.concat(parts, axis)];
  },

  // dY zero-padded back to the input's extent (unit steps only).
  Slice: (c) => {
    if (!wanted(c, 0)) return [undefined];
    const x = c.node.inputs[0]!;
    const shape = shapeOf(c, x);
    const ranges = resolveSlice(c.node, shape, c.node.inputs.map((i) => (i === '' ? undefined : c.info(i))));
    if (ranges.some((r) => r[2] !== 1)) throw new GradientRuleError(c.node, 'only unit steps are differentiable');
    const begin = ranges.map((r) => r[0]);
    const end = ranges.map((r, i) => shape[i]! - r[0] - r[1]);
    if (begin.every((v) => v === 0) && end.every((v) => v === 0)) return [c.dY[0]!];
    return [c.g.op('Pad', [c.dY[0]!, c.g.constInt64([...begin, ...end])])];
  },

  // Constant padding: the gradient is the unpadded window of dY.
  Pad: (c) => {
    if (!wanted(c, 0)) return [undefined];
    if (c.node.inputs.length > 3 && c.node.inputs[3]) throw new GradientRuleError(c.node, 'padding along chosen axes is not supported');
    const x = c.node.inputs[0]!;
    const shape = shapeOf(c, x);
    const pads = c.info(c.node.inputs[1]!).value;
    if (!pads) throw new GradientRuleError(c.node, 'pads must be known while building');
    const mode = c.node.str('mode', 'constant');
    if (mode !== 'constant') throw new GradientRuleError(c.node, `${mode} padding is not differentiable (use it only where no gradient is needed, e.g. on the network's inputs)`);
    if (pads.some((p) => p < 0)) throw new GradientRuleError(c.node, 'negative pads are not supported');
    const starts = shape.map((_, i) => pads[i]!);
    return [c.g.slice(c.dY[0]!, starts, starts.map((s, i) => s + shape[i]!), shape.map((_, i) => i))];
  },

  Expand: (c) => [wanted(c, 0) ? sumToShape(c.g, c.dY[0]!, shapeOf(c, c.node.outputs[0]!), shapeOf(c, c.node.inputs[0]!)) : undefined],
};
