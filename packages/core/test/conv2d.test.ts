import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, selectBackend, tf, type Conv2dOptions } from '../src';
import { conv2dGeometry } from '../src/ops/conv2d-geometry';
import { filterGradient } from '../src/ops/conv2d-gradients';
import { copyRowBlocks, ROW_BLOCKS_KERNEL, type RowBlock } from '../src/ops/row-blocks';

/*
 * conv2d against two references: a direct float64 evaluation of the definitions (PyTorch's
 * F.conv2d and its two gradients) and tfjs's own kernels on the cpu backend — Conv2D for the
 * forward, Conv2DBackpropInput / Conv2DBackpropFilter for the gradients, which is what tfjs's
 * registered Conv2D gradient runs. Then wasm against cpu.
 */

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  options: Conv2dOptions;
}

const CASES: Case[] = [
  { name: '1×1', x: [2, 5, 6, 4], filter: [1, 1, 4, 3], options: {} },
  { name: '3×3 pad 1', x: [2, 7, 6, 3], filter: [3, 3, 3, 5], options: { padding: 1 } },
  { name: '4×4 stride 2 pad 1 (downsample)', x: [1, 8, 8, 3], filter: [4, 4, 3, 4], options: { stride: 2, padding: 1 } },
  { name: '4×4 stride 2 pad 1, odd sizes', x: [2, 7, 9, 2], filter: [4, 4, 2, 3], options: { stride: 2, padding: 1 } },
  { name: '7×7 pad 3 (init conv)', x: [1, 9, 8, 2], filter: [7, 7, 2, 3], options: { padding: 3 } },
  { name: '3×3 stride 2 pad 1 (kernel not a multiple of the stride)', x: [1, 7, 7, 3], filter: [3, 3, 3, 2], options: { stride: 2, padding: 1 } },
  { name: '3×3 stride 3, no padding', x: [1, 9, 10, 2], filter: [3, 3, 2, 2], options: { stride: 3 } },
  { name: '3×2 kernel, stride [1, 2], padding [2, 0]', x: [2, 5, 7, 2], filter: [3, 2, 2, 3], options: { stride: [1, 2], padding: [2, 0] } },
  { name: '1×1 pad 1 (padding wider than kernel - 1)', x: [1, 4, 3, 2], filter: [1, 1, 2, 2], options: { padding: 1 } },
  { name: '3×3 pad 3', x: [1, 5, 4, 2], filter: [3, 3, 2, 3], options: { padding: 3 } },
];

function pair(v: number | [number, number] | undefined, fallback: number): [number, number] {
  if (v === undefined) return [fallback, fallback];
  return typeof v === 'number' ? [v, v] : v;
}

/** Deterministic values in [-1, 1) (no dependence on tfjs's random ops). */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function tensor4(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.tensor4d(values(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** The definitions evaluated directly, in float64. */
function naive(xs: ArrayLike<number>, ws: ArrayLike<number>, dys: ArrayLike<number> | undefined, c: Case) {
  const [n, h, w, ci] = c.x;
  const [kh, kw, , co] = c.filter;
  const [sh, sw] = pair(c.options.stride, 1);
  const [ph, pw] = pair(c.options.padding, 0);
  const ho = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const wo = Math.floor((w + 2 * pw - kw) / sw) + 1;
  const y = new Float64Array(n * ho * wo * co);
  const dx = new Float64Array(xs.length);
  const dw = new Float64Array(ws.length);
  for (let b = 0; b < n; b++)
    for (let a = 0; a < ho; a++)
      for (let e = 0; e < wo; e++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const r = sh * a + i - ph;
            const q = sw * e + j - pw;
            if (r < 0 || r >= h || q < 0 || q >= w) continue;
            for (let ch = 0; ch < ci; ch++) {
              const xi = ((b * h + r) * w + q) * ci + ch;
              for (let o = 0; o < co; o++) {
                const wi = ((i * kw + j) * ci + ch) * co + o;
                const yi = ((b * ho + a) * wo + e) * co + o;
                y[yi]! += xs[xi]! * ws[wi]!;
                if (dys) {
                  dx[xi]! += dys[yi]! * ws[wi]!;
                  dw[wi]! += xs[xi]! * dys[yi]!;
                }
              }
            }
          }
  return { y, dx, dw, outShape: [n, ho, wo, co] as [number, number, number, number] };
}

function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

/** Forward and both gradients of our conv2d for upstream gradient `dy`. */
function ours(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D, options: Conv2dOptions) {
  const y = conv2d(x, w, options);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv2d(a as tf.Tensor4D, b as tf.Tensor4D, options))([x, w], dy);
  const out = { y: y.dataSync().slice(), dx: dx!.dataSync().slice(), dw: dw!.dataSync().slice(), shape: y.shape };
  tf.dispose([y, dx!, dw!]);
  return out;
}

/** tfjs's own kernels, run as its registered Conv2D gradient runs them. */
function tfjsKernels(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D, options: Conv2dOptions) {
  const [sh, sw] = pair(options.stride, 1);
  const [ph, pw] = pair(options.padding, 0);
  const pad = [[0, 0], [ph, ph], [pw, pw], [0, 0]] as tf.backend_util.ExplicitPadding;
  const common = { strides: [sh, sw], pad, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap;
  const y = tf.conv2d(x, w, [sh, sw], pad);
  const dx = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, { ...common, inputShape: x.shape }) as tf.Tensor;
  const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...common, filterShape: w.shape }) as tf.Tensor;
  const out = { y: y.dataSync().slice(), dx: dx.dataSync().slice(), dw: dw.dataSync().slice() };
  tf.dispose([y, dx, dw]);
  return out;
}

function run(c: Case, seed: number) {
  const x = tensor4(c.x, seed);
  const w = tensor4(c.filter, seed + 1);
  const { outShape } = naive(x.dataSync(), w.dataSync(), undefined, c);
  const dy = tensor4(outShape, seed + 2);
  return { x, w, dy, dispose: () => tf.dispose([x, w, dy]) };
}

const TOL = 1e-5;

describe('conv2d on the cpu backend', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  test.each(CASES)('$name: forward and both gradients match the definition and tfjs’s kernels', (c) => {
    const { x, w, dy, dispose } = run(c, 11);
    const got = ours(x, w, dy, c.options);
    const def = naive(x.dataSync(), w.dataSync(), dy.dataSync(), c);
    const tfjs = tfjsKernels(x, w, dy, c.options);
    expect(got.shape).toEqual(def.outShape);
    for (const key of ['y', 'dx', 'dw'] as const) {
      expect(relError(got[key], def[key])).toBeLessThan(TOL);
      expect(relError(got[key], tfjs[key])).toBeLessThan(TOL);
    }
    dispose();
  });

  test('only the gradients that are asked for are computed', async () => {
    const c = CASES[1]!;
    const { x, w, dy, dispose } = run(c, 3);
    const kernelsOf = async (f: () => tf.Tensor) => (await tf.profile(() => void f().dispose())).kernelNames;
    const inputOnly = await kernelsOf(() => tf.grad((t: tf.Tensor) => conv2d(t as tf.Tensor4D, w, c.options))(x, dy));
    const filterOnly = await kernelsOf(() => tf.grad((t: tf.Tensor) => conv2d(x, t as tf.Tensor4D, c.options))(w, dy));
    expect(inputOnly).toContain('Conv2D');
    expect(inputOnly).not.toContain('BatchMatMul');
    expect(filterOnly).toContain('BatchMatMul');
    expect(filterOnly).not.toContain('Conv2D');
    dispose();
  });

  test('works inside tf.variableGrads and leaks no tensors over repeated steps', () => {
    const c: Case = { name: '3×3 to a single output', x: [1, 3, 3, 2], filter: [3, 3, 2, 1], options: {} };
    const x = tensor4(c.x, 5);
    const w = tf.variable(tensor4(c.filter, 6), true, 'conv2d-test-w');
    const expected = naive(x.dataSync(), w.dataSync(), new Float32Array([1]), c).dw;
    let baseline = -1;
    for (let step = 0; step < 4; step++) {
      const { value, grads } = tf.variableGrads(() => tf.reshape(conv2d(x, w as unknown as tf.Tensor4D), []) as tf.Scalar, [w]);
      expect(relError(grads[w.name]!.dataSync(), expected)).toBeLessThan(TOL);
      tf.dispose([value, grads[w.name]!]);
      if (step === 0) baseline = tf.memory().numTensors;
      expect(tf.memory().numTensors).toBe(baseline);
    }
    tf.dispose([x, w]);
  });

  test('conv2dBackpropInput / conv2dBackpropFilter are the gradients on their own', () => {
    const c = CASES[3]!;
    const { x, w, dy, dispose } = run(c, 9);
    const got = ours(x, w, dy, c.options);
    const dx = conv2dBackpropInput(c.x, dy, w, c.options);
    const dw = conv2dBackpropFilter(x, dy, c.filter, c.options);
    expect(Array.from(dx.dataSync())).toEqual(Array.from(got.dx));
    expect(Array.from(dw.dataSync())).toEqual(Array.from(got.dw));
    expect(() => conv2dBackpropFilter(x, x, c.filter, c.options)).toThrow(/dy has shape \[2, 7, 9, 2\], expected \[2, 3, 4, 3\]/);
    tf.dispose([dx, dw]);
    dispose();
  });

  test.each(['cpu', 'wasm'])('on %s, the filter gradient split into bands of grid rows equals the whole', async (backend) => {
    await selectBackend(backend as 'cpu' | 'wasm');
    for (const c of [CASES[1]!, CASES[3]!, CASES[4]!]) {
      const { x, w, dy, dispose } = run(c, 13);
      const g = conv2dGeometry(c.x, c.filter, pair(c.options.stride, 1), pair(c.options.padding, 0));
      const whole = filterGradient(x, dy, g);
      // Budgets of one grid row per band, and one that leaves an uneven last band.
      for (const budget of [1, c.filter[0] * c.filter[1] * c.x[3] * 3 * (c.x[2] + 2)]) {
        const banded = filterGradient(x, dy, g, budget);
        expect(relError(banded.dataSync(), whole.dataSync())).toBeLessThan(1e-6);
        banded.dispose();
      }
      whole.dispose();
      dispose();
    }
  });

  test('bad input is a clear error', () => {
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    expect(() => conv2d(x, tf.zeros([3, 3, 2, 4]) as tf.Tensor4D)).toThrow(/input has 3 channels .* filter expects 2/);
    expect(() => conv2d(x, tf.zeros([5, 5, 3, 4]) as tf.Tensor4D)).toThrow(/5×5 kernel does not fit the 4×4 input/);
    expect(() => conv2d(x, tf.zeros([3, 3, 3, 4]) as tf.Tensor4D, { stride: 0 })).toThrow(/stride must be >= 1/);
    expect(() => conv2d(x, tf.zeros([3, 3, 3, 4]) as tf.Tensor4D, { padding: 1.5 })).toThrow(/padding must be an integer/);
    expect(() => conv2d(tf.zeros([4, 4, 3]) as unknown as tf.Tensor4D, tf.zeros([3, 3, 3, 4]) as tf.Tensor4D)).toThrow(/must be rank 4/);
  });
});

describe('copyRowBlocks (the im2col / row-reversal kernel)', () => {
  const x = [
    [1, 2, 3, 4, 5],
    [6, 7, 8, 9, 10],
    [11, 12, 13, 14, 15],
  ];
  const blocks: RowBlock[] = [
    { start: 0, count: 3, shift: 0 },
    { start: 1, count: 2, shift: 3 },
    { start: 2, count: 1, shift: 5 },
    { start: 0, count: 1, shift: 9 },
  ];
  const expected = [
    ...x,
    [9, 10, 0, 0, 0],
    [14, 15, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
  ];

  test.each(['cpu', 'wasm'])('registered kernel on %s', async (backend) => {
    await selectBackend(backend as 'cpu' | 'wasm');
    // Freed memory full of non-zeros is likely reused for the output: the zero-fill must be explicit.
    tf.fill([expected.length, 5], 99).dispose();
    const input = tf.tensor2d(x);
    const out = copyRowBlocks(input, blocks);
    expect(out.arraySync()).toEqual(expected);
    tf.dispose([input, out]);
  });

  test('fallback from slice/pad/concat on backends without the kernel', async () => {
    await selectBackend('cpu');
    const kernel = tf.getKernel(ROW_BLOCKS_KERNEL, 'cpu')!;
    tf.unregisterKernel(ROW_BLOCKS_KERNEL, 'cpu');
    try {
      const input = tf.tensor2d(x);
      expect(copyRowBlocks(input, blocks).arraySync()).toEqual(expected);
      expect(copyRowBlocks(input, [{ start: 1, count: 2, shift: 1 }], 3).arraySync()).toEqual([[7, 8, 9], [12, 13, 14]]);
      expect(copyRowBlocks(input, [{ start: 0, count: 1, shift: 2 }], 7).arraySync()).toEqual([[3, 4, 5, 0, 0, 0, 0]]);
    } finally {
      tf.registerKernel(kernel);
    }
  });

  test.each(['cpu', 'wasm'])('on %s, output rows may be shorter or longer than the input rows', async (backend) => {
    await selectBackend(backend as 'cpu' | 'wasm');
    const input = tf.tensor2d(x);
    const short = copyRowBlocks(input, [{ start: 1, count: 2, shift: 1 }], 3);
    expect(short.arraySync()).toEqual([[7, 8, 9], [12, 13, 14]]);
    const long = copyRowBlocks(input, [{ start: 0, count: 1, shift: 2 }], 7);
    expect(long.arraySync()).toEqual([[3, 4, 5, 0, 0, 0, 0]]);
    tf.dispose([input, short, long]);
  });

  test('a block outside the matrix is an error', () => {
    expect(() => copyRowBlocks(tf.zeros([3, 5]) as tf.Tensor2D, [{ start: 2, count: 2, shift: 0 }])).toThrow(/does not fit 3 rows/);
  });
});

describe('conv2d on wasm matches cpu', () => {
  const WASM_CASES: Case[] = [
    ...CASES,
    { name: '3×3 pad 1, 16 channels', x: [2, 12, 12, 16], filter: [3, 3, 16, 16], options: { padding: 1 } },
    { name: '4×4 stride 2 pad 1, 16 channels', x: [2, 16, 16, 16], filter: [4, 4, 16, 24], options: { stride: 2, padding: 1 } },
  ];

  test.each(WASM_CASES)('$name', async (c) => {
    await selectBackend('cpu');
    const cpuIn = run(c, 21);
    const cpu = ours(cpuIn.x, cpuIn.w, cpuIn.dy, c.options);
    cpuIn.dispose();
    await selectBackend('wasm');
    const wasmIn = run(c, 21);
    const wasm = ours(wasmIn.x, wasmIn.w, wasmIn.dy, c.options);
    wasmIn.dispose();
    for (const key of ['y', 'dx', 'dw'] as const) expect(relError(wasm[key], cpu[key])).toBeLessThan(TOL);
  });

  test('the wasm gradients use no Conv2DBackprop* kernel', async () => {
    await selectBackend('wasm');
    const c = CASES[2]!;
    const { x, w, dy, dispose } = run(c, 4);
    const profile = await tf.profile(() => {
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.options))([x, w], dy);
      tf.dispose([dx!, dw!]);
    });
    expect(profile.kernelNames).toEqual(expect.arrayContaining(['SrdiffConv2D', 'SrdiffCopyRowBlocks', 'BatchMatMul', 'Conv2D']));
    expect(profile.kernelNames).not.toContain('Conv2DBackpropInput');
    expect(profile.kernelNames).not.toContain('Conv2DBackpropFilter');
    dispose();
  });
});
