import { attr, buildGradients, createOrtSession, GradientRuleError, inferShapes, OnnxGraphBuilder, Rng } from '../src';

/**
 * Every gradient rule against central finite differences, all run on ONNX Runtime itself: for each
 * case a graph Y = f(inputs) gets loss = Σ R ⊙ Y (R random, so every output element matters) and
 * its backward nodes; for random directions v of each input, ⟨∇loss, v⟩ from the backward graph is
 * compared with (L(x + hv) − L(x − hv)) / 2h, L summed in float64 on the host from ORT's Y.
 */

interface Case {
  name: string;
  /** Graph inputs and their shapes; every one is differentiated unless listed in `fixed`. */
  inputs: Record<string, number[]>;
  fixed?: string[];
  /** How to draw each input (default: standard normal). */
  draw?: Record<string, 'positive' | 'away-from-zero' | 'distinct'>;
  build(g: OnnxGraphBuilder, x: Record<string, string>): string;
}

const H = 1e-3;
/** |fd − analytic| ≤ TOL · Σ|∇ᵢ vᵢ| (the directional derivative's own scale). */
const TOL = 2e-3;

function sample(rng: Rng, n: number, kind: 'normal' | 'positive' | 'away-from-zero' | 'distinct'): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    out[i] = kind === 'positive' ? 0.5 + Math.abs(z) : kind === 'away-from-zero' ? Math.sign(z || 1) * (0.2 + Math.abs(z)) : kind === 'distinct' ? i * 0.37 - Math.floor(i * 0.37) + 0.01 * z : z;
  }
  return out;
}

async function checkCase(c: Case, seed = 1): Promise<void> {
  const rng = new Rng(seed);
  const g = new OnnxGraphBuilder(`grad_${c.name.replace(/\W+/g, '_')}`);
  const names: Record<string, string> = {};
  for (const [name, shape] of Object.entries(c.inputs)) names[name] = g.input(name, shape);
  const y = c.build(g, names);
  const yShape = inferShapes(g).get(y)!.shape;
  const ySize = yShape.reduce((a, b) => a * b, 1);
  const r = sample(rng, ySize, 'normal');
  const loss = g.reduceSum(g.mul(y, g.initializer('R', r, yShape)), [], false);
  const wrt = Object.keys(c.inputs).filter((k) => !(c.fixed ?? []).includes(k));
  const { grads } = buildGradients(g, { loss, wrt });
  g.output(y, { as: 'Y' });
  for (const w of wrt) g.output(grads[w]!, { as: `grad_${w}` });
  const h = await createOrtSession(g.serialize(), { threads: 1 });
  try {
    const x: Record<string, Float32Array> = {};
    for (const [name, shape] of Object.entries(c.inputs)) x[name] = sample(rng, shape.reduce((a, b) => a * b, 1), c.draw?.[name] ?? 'normal');
    const run = async (feeds: Record<string, Float32Array>) => {
      const ort = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new h.ort.Tensor('float32', v, c.inputs[k]!)]));
      const out = await h.session.run(ort);
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Float32Array.from(v.data as Float32Array)]));
    };
    const lossAt = async (feeds: Record<string, Float32Array>) => {
      const Y = (await run(feeds)).Y!;
      let s = 0;
      for (let i = 0; i < ySize; i++) s += r[i]! * Y[i]!;
      return s;
    };
    const base = await run(x);
    for (const w of wrt) {
      const grad = base[`grad_${w}`]!;
      expect(grad.length).toBe(x[w]!.length);
      for (let k = 0; k < 3; k++) {
        const v = sample(rng, grad.length, 'normal');
        let analytic = 0;
        let scale = 0;
        for (let i = 0; i < v.length; i++) {
          analytic += grad[i]! * v[i]!;
          scale += Math.abs(grad[i]! * v[i]!);
        }
        const shifted = (sign: number) => ({ ...x, [w]: x[w]!.map((val, i) => val + sign * H * v[i]!) });
        const fd = ((await lossAt(shifted(1))) - (await lossAt(shifted(-1)))) / (2 * H);
        const err = Math.abs(fd - analytic);
        if (!(err <= TOL * Math.max(scale, 1e-3))) {
          throw new Error(`${c.name}: d/d${w} along direction ${k}: analytic ${analytic}, finite differences ${fd} (error ${err}, scale ${scale})`);
        }
      }
    }
  } finally {
    await h.session.release();
  }
}

const unary = (op: string, draw?: 'positive' | 'away-from-zero'): Case => ({
  name: op,
  inputs: { x: [2, 3, 5] },
  draw: draw ? { x: draw } : undefined,
  build: (g, { x }) => g.op(op, [x!]),
});

const CASES: Case[] = [
  // ---- broadcasting binary ops ----
  { name: 'Add [2,3,4,5]+[3,1,1]', inputs: { a: [2, 3, 4, 5], b: [3, 1, 1] }, build: (g, { a, b }) => g.add(a!, b!) },
  { name: 'Add [1,3,1,5]+[2,1,4,1]', inputs: { a: [1, 3, 1, 5], b: [2, 1, 4, 1] }, build: (g, { a, b }) => g.add(a!, b!) },
  { name: 'Sub [2,3,4]-[4]', inputs: { a: [2, 3, 4], b: [4] }, build: (g, { a, b }) => g.sub(a!, b!) },
  { name: 'Mul [2,3,4,5]*[1,3,1,1]', inputs: { a: [2, 3, 4, 5], b: [1, 3, 1, 1] }, build: (g, { a, b }) => g.mul(a!, b!) },
  { name: 'Mul by itself', inputs: { a: [3, 4] }, build: (g, { a }) => g.mul(a!, a!) },
  { name: 'Div [2,3,4]/[2,1,1]', inputs: { a: [2, 3, 4], b: [2, 1, 1] }, draw: { b: 'positive' }, build: (g, { a, b }) => g.div(a!, b!) },
  { name: 'Pow x^2', inputs: { x: [3, 4] }, build: (g, { x }) => g.op('Pow', [x!, g.constFloat(2)]) },
  { name: 'Pow x^1.5', inputs: { x: [3, 4] }, draw: { x: 'positive' }, build: (g, { x }) => g.op('Pow', [x!, g.constFloat(1.5)]) },
  // ---- unary ----
  unary('Neg'), unary('Abs', 'away-from-zero'), unary('Sigmoid'), unary('Tanh'), unary('Exp'), unary('Log', 'positive'),
  unary('Erf'), unary('Sqrt', 'positive'), unary('Reciprocal', 'positive'), unary('Sin'), unary('Cos'), unary('Relu', 'away-from-zero'),
  { name: 'SiLU x·σ(x)', inputs: { x: [2, 8] }, build: (g, { x }) => g.silu(x!) },
  { name: 'exact GELU', inputs: { x: [2, 8] }, build: (g, { x }) => g.gelu(x!) },
  { name: 'Identity and Cast', inputs: { x: [2, 3] }, build: (g, { x }) => g.op('Cast', [g.op('Identity', [x!])], { to: 1 }) },
  { name: 'x·x + x (summed contributions)', inputs: { x: [4, 3] }, build: (g, { x }) => g.add(g.mul(x!, x!), x!) },
  // ---- linear algebra ----
  { name: 'MatMul [2,3,4,5]·[5,6] (weight)', inputs: { a: [2, 3, 4, 5], b: [5, 6] }, build: (g, { a, b }) => g.matMul(a!, b!) },
  { name: 'MatMul batched [2,3,4,5]·[2,3,5,6]', inputs: { a: [2, 3, 4, 5], b: [2, 3, 5, 6] }, build: (g, { a, b }) => g.matMul(a!, b!) },
  { name: 'MatMul broadcast batch [3,4,5]·[1,5,2]', inputs: { a: [3, 4, 5], b: [1, 5, 2] }, build: (g, { a, b }) => g.matMul(a!, b!) },
  { name: 'MatMul 2-D', inputs: { a: [4, 5], b: [5, 3] }, build: (g, { a, b }) => g.matMul(a!, b!) },
  { name: 'Gemm A·Bᵀ + c[N]', inputs: { a: [4, 5], b: [3, 5], c: [3] }, build: (g, { a, b, c }) => g.op('Gemm', [a!, b!, c!], { transB: 1 }) },
  { name: 'Gemm Aᵀ·B + C[M,N], α, β', inputs: { a: [5, 4], b: [5, 3], c: [4, 3] }, build: (g, { a, b, c }) => g.op('Gemm', [a!, b!, c!], { transA: 1, alpha: attr.float(0.7), beta: attr.float(1.3) }) },
  { name: 'Gemm Aᵀ·Bᵀ + c[1,N]', inputs: { a: [5, 4], b: [3, 5], c: [1, 3] }, build: (g, { a, b, c }) => g.op('Gemm', [a!, b!, c!], { transA: 1, transB: 1 }) },
  { name: 'Gemm A·B (no bias)', inputs: { a: [4, 5], b: [5, 3] }, build: (g, { a, b }) => g.op('Gemm', [a!, b!]) },
  // ---- convolutions ----
  { name: 'Conv 3×3 pad 1 + bias', inputs: { x: [2, 3, 7, 6], w: [4, 3, 3, 3], b: [4] }, build: (g, { x, w, b }) => g.conv(x!, w!, b!, { pads: [1, 1, 1, 1] }) },
  { name: 'Conv 4×4 stride 2 pad 1, odd sizes', inputs: { x: [2, 3, 9, 7], w: [5, 3, 4, 4], b: [5] }, build: (g, { x, w, b }) => g.conv(x!, w!, b!, { pads: [1, 1, 1, 1], strides: [2, 2] }) },
  { name: 'Conv 3×3 stride 2 asymmetric pads', inputs: { x: [1, 2, 8, 9], w: [3, 2, 3, 3] }, build: (g, { x, w }) => g.conv(x!, w!, undefined, { pads: [1, 0, 2, 1], strides: [2, 2] }) },
  { name: 'Conv 1×1', inputs: { x: [2, 6, 5, 4], w: [3, 6, 1, 1] }, build: (g, { x, w }) => g.conv(x!, w!, undefined) },
  { name: 'Conv 7×7 pad 3', inputs: { x: [1, 2, 9, 8], w: [3, 2, 7, 7] }, build: (g, { x, w }) => g.conv(x!, w!, undefined, { pads: [3, 3, 3, 3] }) },
  { name: 'Conv 3×3 dilation 2', inputs: { x: [1, 2, 9, 8], w: [2, 2, 3, 3] }, build: (g, { x, w }) => g.op('Conv', [x!, w!], { pads: [2, 2, 2, 2], dilations: [2, 2] }) },
  // ≥ BATCHED_TAP_POSITIONS output positions: the filter gradient's batched form.
  { name: 'Conv 3×3 pad 1, 48×48 (batched taps)', inputs: { x: [2, 2, 48, 48], w: [3, 2, 3, 3] }, build: (g, { x, w }) => g.conv(x!, w!, undefined, { pads: [1, 1, 1, 1] }) },
  { name: 'Conv 4×4 stride 2 pad 1, 100×96 (batched taps)', inputs: { x: [1, 2, 100, 96], w: [2, 2, 4, 4], b: [2] }, build: (g, { x, w, b }) => g.conv(x!, w!, b!, { pads: [1, 1, 1, 1], strides: [2, 2] }) },
  { name: 'ConvTranspose 4×4 stride 2 pad 1, 48×48 input (batched taps)', inputs: { x: [1, 2, 48, 48], w: [2, 2, 4, 4] }, build: (g, { x, w }) => g.op('ConvTranspose', [x!, w!], { strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { name: 'ConvTranspose 4×4 stride 2 pad 1 + bias', inputs: { x: [2, 3, 5, 4], w: [3, 4, 4, 4], b: [4] }, build: (g, { x, w, b }) => g.op('ConvTranspose', [x!, w!, b!], { strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { name: 'ConvTranspose 3×3 stride 1 pad 1', inputs: { x: [1, 2, 6, 5], w: [2, 3, 3, 3] }, build: (g, { x, w }) => g.op('ConvTranspose', [x!, w!], { pads: [1, 1, 1, 1] }) },
  // ---- reductions, softmax ----
  { name: 'Softmax axis 1', inputs: { x: [2, 5, 3] }, build: (g, { x }) => g.softmax(x!, 1) },
  { name: 'Softmax axis -1', inputs: { x: [2, 3, 6] }, build: (g, { x }) => g.softmax(x!, -1) },
  { name: 'ReduceMean axis 1 keepdims', inputs: { x: [2, 4, 3] }, build: (g, { x }) => g.reduceMean(x!, [1]) },
  { name: 'ReduceMean all, no keepdims', inputs: { x: [2, 4, 3] }, build: (g, { x }) => g.reduceMean(x!, [0, 1, 2], false) },
  { name: 'ReduceSum axes [0,2], no keepdims', inputs: { x: [2, 4, 3] }, build: (g, { x }) => g.reduceSum(x!, [0, 2], false) },
  { name: 'ReduceMax axis 2', inputs: { x: [2, 3, 5] }, draw: { x: 'distinct' }, build: (g, { x }) => g.op('ReduceMax', [x!], { axes: [2], keepdims: 1 }) },
  // ---- normalisations ----
  { name: 'LayerNormalization last axis', inputs: { x: [2, 5, 6], s: [6], b: [6] }, build: (g, { x, s, b }) => g.layerNorm(x!, s!, b!, 1e-5) },
  { name: 'LayerNormalization axis 1, no bias', inputs: { x: [2, 3, 4], s: [3, 4] }, build: (g, { x, s }) => g.layerNorm(x!, s!, undefined, 1e-5, 1) },
  { name: 'InstanceNormalization', inputs: { x: [2, 3, 10], s: [3], b: [3] }, build: (g, { x, s, b }) => g.op('InstanceNormalization', [x!, s!, b!], { epsilon: attr.float(1e-6) }) },
  // ---- shape ops ----
  { name: 'Reshape', inputs: { x: [2, 3, 4] }, build: (g, { x }) => g.mul(g.reshape(x!, [0, 12]), g.reshape(x!, [2, -1])) },
  { name: 'Reshape from shape arithmetic', inputs: { x: [2, 3, 4], y: [2, 12] }, fixed: ['y'], build: (g, { x, y }) => g.add(g.reshape(x!, g.concat([g.shape(x!, 0, 1), g.constInt64([-1])], 0)), y!) },
  { name: 'Transpose', inputs: { x: [2, 3, 4, 5] }, build: (g, { x }) => g.transpose(x!, [0, 2, 3, 1]) },
  { name: 'Concat axis 1', inputs: { a: [2, 3, 4], b: [2, 1, 4], c: [2, 2, 4] }, build: (g, { a, b, c }) => g.concat([a!, b!, c!], 1) },
  { name: 'Split (two of three parts used)', inputs: { x: [2, 6, 3] }, build: (g, { x }) => { const [p, , q] = g.split(x!, [1, 2, 3], 1); return g.concat([p!, q!], 1); } },
  { name: 'Slice with a negative start', inputs: { x: [3, 8, 5] }, build: (g, { x }) => g.slice(x!, [1, -3], [7, 1000], [1, 2]) },
  { name: 'Pad constant', inputs: { x: [2, 3, 4] }, build: (g, { x }) => g.op('Pad', [x!, g.constInt64([0, 1, 2, 0, 2, 1])]) },
  { name: 'Unsqueeze and Squeeze', inputs: { x: [3, 4] }, build: (g, { x }) => g.mul(g.squeeze(g.unsqueeze(x!, [0, 2]), [0]), g.unsqueeze(x!, [1])) },
  { name: 'Expand', inputs: { x: [3, 1] }, build: (g, { x }) => g.op('Expand', [x!, g.constInt64([2, 3, 4])]) },
];

describe('ONNX gradients (reverse mode) against finite differences on ONNX Runtime', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await checkCase(c);
  });

  test('a stop-gradient value is treated as a constant (the softmax max shift changes no gradient)', async () => {
    // softmax(x − stop(max x)) equals softmax(x): its gradient must match the unshifted one.
    await checkCase({
      name: 'shifted softmax',
      inputs: { x: [2, 3, 6] },
      build: (g, { x }) => {
        const shifted = g.sub(x!, g.stopGradient(g.op('ReduceMax', [x!], { axes: [2], keepdims: 1 })));
        const e = g.op('Exp', [shifted]);
        return g.div(e, g.reduceSum(e, [2]));
      },
    });
    // And the stopped value itself has no gradient: d/dx Σ R ⊙ (x − stop(x)) = R, not 0.
    const g = new OnnxGraphBuilder('stop');
    const x = g.input('x', [2, 2]);
    const loss = g.reduceSum(g.sub(x, g.stopGradient(x)), [], false);
    const { grads } = buildGradients(g, { loss, wrt: [x] });
    g.output(grads[x]!, { as: 'gx' });
    const h = await createOrtSession(g.serialize(), { threads: 1 });
    const out = await h.session.run({ x: new h.ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [2, 2]) });
    expect(Array.from(out.gx!.data as Float32Array)).toEqual([1, 1, 1, 1]);
    await h.session.release();
  });

  test('a tensor that does not reach the loss gets a zero gradient; symbolic dimensions take their sizes from dims', async () => {
    const g = new OnnxGraphBuilder('partial');
    const x = g.input('x', ['batch', 3]);
    const unused = g.input('u', [3]);
    g.op('Exp', [unused]);
    const loss = g.reduceMean(g.mul(x, x), [0, 1], false);
    const { grads } = buildGradients(g, { loss, wrt: [x, unused], dims: { batch: 2 } });
    g.output(grads[x]!, { as: 'gx' });
    g.output(grads[unused]!, { as: 'gu' });
    const h = await createOrtSession(g.serialize(), { threads: 1 });
    const out = await h.session.run({ x: new h.ort.Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]), u: new h.ort.Tensor('float32', new Float32Array(3), [3]) });
    expect(Array.from(out.gx!.data as Float32Array).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 2, 3, 4, 5, 6].map((v) => Math.round(((2 * v) / 6) * 1e6) / 1e6));
    expect(Array.from(out.gu!.data as Float32Array)).toEqual([0, 0, 0]);
    await h.session.release();
    expect(() => buildGradients(new OnnxGraphBuilder('b'), { loss: 'nothing', wrt: [] })).toThrow(/"nothing" is not a tensor/);
  });

  test('errors name the node and op: reflect padding on a differentiated path, an op without a rule, a non-scalar loss', () => {
    const reflect = new OnnxGraphBuilder('reflect');
    const x = reflect.input('x', [1, 1, 4, 4]);
    const padded = reflect.op('Pad', [x, reflect.constInt64([0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'reflect' });
    expect(() => buildGradients(reflect, { loss: reflect.reduceSum(padded, [], false), wrt: [x] })).toThrow(GradientRuleError);
    expect(() => buildGradients(reflect, { loss: reflect.reduceSum(padded, [], false), wrt: [x] })).toThrow(/Pad.*reflect padding is not differentiable/);

    const noRule = new OnnxGraphBuilder('norule');
    const y = noRule.input('y', [3]);
    expect(() => buildGradients(noRule, { loss: noRule.reduceSum(noRule.op('Floor', [y]), [], false), wrt: [y] })).toThrow(/no shape rule for Floor|no gradient rule/);

    const vector = new OnnxGraphBuilder('vector');
    const z = vector.input('z', [3]);
    expect(() => buildGradients(vector, { loss: vector.op('Exp', [z]), wrt: [z] })).toThrow(/one-element float tensor/);
  });
});
