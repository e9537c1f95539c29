import { shapeOf, sumToShape, wanted } from './helpers';
import { GradientRuleError, type GradContext, type GradRule } from './types';

/** d/dA and d/dB of a broadcasting binary op, each summed back to its operand's shape. */
function binary(c: GradContext, dA: () => string, dB: () => string): (string | undefined)[] {
  const [a, b] = c.node.inputs as [string, string];
  const y = shapeOf(c, c.node.outputs[0]!);
  return [
    wanted(c, 0) ? sumToShape(c.g, dA(), y, shapeOf(c, a)) : undefined,
    wanted(c, 1) ? sumToShape(c.g, dB(), y, shapeOf(c, b)) : undefined,
  ];
}

/** A unary op whose derivative is `dY ⊙ f'(x, y)`. */
const unary = (derivative: (c: GradContext, dY: string, x: string, y: string) => string): GradRule => (c) => {
  const dY = c.dY[0]!;
  return [wanted(c, 0) ? derivative(c, dY, c.node.inputs[0]!, c.node.outputs[0]!) : undefined];
};

export const ELEMENTWISE_RULES: Record<string, GradRule> = {
  Add: (c) => binary(c, () => c.dY[0]!, () => c.dY[0]!),
  Sub: (c) => binary(c, () => c.dY[0]!, () => c.g.op('Neg', [c.dY[0]!])),
  Mul: (c) => {
    const [a, b] = c.node.inputs as [string, string];
    return binary(c, () => c.g.mul(c.dY[0]!, b), () => c.g.mul(c.dY[0]!, a));
  },
  // y = a / b: dA = dY / b, dB = -dY · y / b.
  Div: (c) => {
    const b = c.node.inputs[1]!;
    const y = c.node.outputs[0]!;
    return binary(c, () => c.g.div(c.dY[0]!, b), () => c.g.op('Neg', [c.g.mul(c.dY[0]!, c.g.div(y, b))]));
  },
  // x^p with a constant exponent p (the only form the emitters use).
  Pow: (c) => {
    const [x, p] = c.node.inputs as [string, string];
    if (wanted(c, 1)) throw new GradientRuleError(c.node, 'the exponent must be a constant');
    const value = c.info(p).value;
    if (!value || value.length !== 1) throw new GradientRuleError(c.node, 'the exponent must be a known scalar');
    const e = value[0]!;
    const xs = shapeOf(c, x);
    const local = e === 2 ? c.g.mul(x, c.g.constFloat(2)) : c.g.mul(c.g.op('Pow', [x, c.g.constFloat(e - 1)]), c.g.constFloat(e));
    return [sumToShape(c.g, c.g.mul(c.dY[0]!, local), shapeOf(c, c.node.outputs[0]!), xs), undefined];
  },
  Neg: unary((c, dY) => c.g.op('Neg', [dY])),
  Identity: unary((_c, dY) => dY),
  Abs: unary((c, dY, x) => c.g.mul(dY, c.g.op('Sign', [x]))),
  Relu: unary((c, dY, x) => c.g.mul(dY, c.g.op('Cast', [c.g.op('Greater', [x, c.g.constFloat(0)])], { to: 1 }))),
  // σ' = σ(1 - σ), from the forward output.
  Sigmoid: unary((c, dY, _x, y) => c.g.mul(dY, c.g.mul(y, c.g.sub(c.g.constFloat(1), y)))),
  Tanh: unary((c, dY, _x, y) => c.g.mul(dY, c.g.sub(c.g.constFloat(1), c.g.mul(y, y)))),
  Exp: unary((c, dY, _x, y) => c.g.mul(dY, y)),
  Log: unary((c, dY, x) => c.g.div(dY, x)),
  // erf'(x) = 2/√π · exp(-x²).
  Erf: unary((c, dY, x) => c.g.mul(dY, c.g.mul(c.g.op('Exp', [c.g.op('Neg', [c.g.mul(x, x)])]), c.g.constFloat(2 / Math.sqrt(Math.PI))))),
  Sqrt: unary((c, dY, _x, y) => c.g.div(c.g.mul(dY, c.g.constFloat(0.5)), y)),
  Reciprocal: unary((c, dY, _x, y) => c.g.op('Neg', [c.g.mul(dY, c.g.mul(y, y))])),
  Sin: unary((c, dY, x) => c.g.mul(dY, c.g.op('Cos', [x]))),
  Cos: unary((c, dY, x) => c.g.op('Neg', [c.g.mul(dY, c.g.op('Sin', [x]))])),
  // A float-to-float cast passes the gradient; casts from integers have none (never wanted).
  Cast: unary((c, dY) => {
    if (c.info(c.node.outputs[0]!).dtype !== 'float') throw new GradientRuleError(c.node, 'cast to a non-float type');
    return dY;
  }),
};
