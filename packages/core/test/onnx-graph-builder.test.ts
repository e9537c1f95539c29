import {
  attr,
  createOrtSession,
  fingerprintWeights,
  loadOnnxRuntime,
  OnnxGraphBuilder,
  OnnxRuntimeMissingError,
  onnxRuntimeAvailable,
  readOnnxModelSummary,
  type OrtSessionHandle,
} from '../src/onnx';


async function run(g: OnnxGraphBuilder, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const h: OrtSessionHandle = await createOrtSession(g.serialize(), { threads: 1 });
  const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new h.ort.Tensor('float32', v.data, v.dims)]));
  const out = await h.session.run(ortFeeds);
  await h.session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { data: v.data as Float32Array, dims: v.dims }]));
}

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-6) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!)));
};

const erf = (x: number) => {
  // Abramowitz–Stegun 7.1.26 is too coarse; integrate the series instead (|x| < 4 here).
  let sum = 0;
  let term = x;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};

describe('OnnxGraphBuilder', () => {
  test('onnxruntime-node loads here', () => {
    expect(onnxRuntimeAvailable()).toBe(true);
    expect(typeof loadOnnxRuntime().InferenceSession.create).toBe('function');
  });

  test('a Gemm + exact GELU graph with a symbolic batch runs with the values of its definition', async () => {
    const g = new OnnxGraphBuilder('t');
    const x = g.input('x', ['batch', 3]);
    const w = g.initializer('w', [1, 2, 3, 4, 5, 6], [2, 3]);
    g.output(g.gelu(g.gemm(x, w, g.constFloat([0.5, -0.5]))), { as: 'y', shape: ['batch', 2] });
    for (const batch of [1, 3]) {
      const data = Float32Array.from({ length: batch * 3 }, (_, i) => (i % 5) * 0.3 - 0.6);
      const out = await run(g, { x: { data, dims: [batch, 3] } });
      const want: number[] = [];
      for (let b = 0; b < batch; b++) {
        for (let o = 0; o < 2; o++) {
          let s = o === 0 ? 0.5 : -0.5;
          for (let i = 0; i < 3; i++) s += data[b * 3 + i]! * (o * 3 + i + 1);
          want.push(0.5 * s * (1 + erf(s / Math.SQRT2)));
        }
      }
      expect(out.y!.dims).toEqual([batch, 2]);
      close(out.y!.data, want, 1e-5);
    }
  });

  test('shape helpers: reshape with 0/-1, transpose, concat, slice, split, unsqueeze, reduceMean, layerNorm, softmax', async () => {
    const g = new OnnxGraphBuilder('ops');
    const x = g.input('x', [2, 3, 4]);
    const r = g.reshape(x, [0, -1]); // [2, 12]
    g.output(r, { as: 'reshaped' });
    g.output(g.transpose(x, [2, 0, 1]), { as: 'transposed' });
    const [a, b] = g.split(x, [1, 3], 2);
    g.output(g.concat([b!, a!], 2), { as: 'rotated' });
    g.output(g.slice(x, [1], [3], [2]), { as: 'sliced' });
    g.output(g.unsqueeze(g.reduceMean(x, [2], false), [0]), { as: 'mean' });
    g.output(g.layerNorm(x, g.constFloat([1, 2, 3, 4], [4]), g.constFloat([0, 0, 0, 1], [4]), 1e-5), { as: 'ln' });
    g.output(g.softmax(x, 1), { as: 'sm' });
    const data = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i));
    const out = await run(g, { x: { data, dims: [2, 3, 4] } });
    const at = (i: number, j: number, k: number) => data[(i * 3 + j) * 4 + k]!;
    expect(out.reshaped!.dims).toEqual([2, 12]);
    close(out.reshaped!.data, data);
    expect(out.transposed!.dims).toEqual([4, 2, 3]);
    expect(out.transposed!.data[(1 * 2 + 1) * 3 + 2]).toBeCloseTo(at(1, 2, 1), 6);
    expect(out.rotated!.data[0]).toBeCloseTo(at(0, 0, 1), 6);
    expect(out.rotated!.data[3]).toBeCloseTo(at(0, 0, 0), 6);
    expect(out.sliced!.dims).toEqual([2, 3, 2]);
    expect(out.sliced!.data[0]).toBeCloseTo(at(0, 0, 1), 6);
    expect(out.mean!.dims).toEqual([1, 2, 3]);
    expect(out.mean!.data[4]).toBeCloseTo((at(1, 1, 0) + at(1, 1, 1) + at(1, 1, 2) + at(1, 1, 3)) / 4, 6);
    const row = [0, 1, 2, 3].map((k) => at(1, 2, k));
    const mu = row.reduce((s, v) => s + v) / 4;
    const sd = Math.sqrt(row.reduce((s, v) => s + (v - mu) ** 2, 0) / 4 + 1e-5);
    close(out.ln!.data.slice(20, 24), row.map((v, k) => ((v - mu) / sd) * (k + 1) + (k === 3 ? 1 : 0)), 1e-5);
    const col = [0, 1, 2].map((j) => Math.exp(at(0, j, 1)));
    expect(out.sm!.data[(0 * 3 + 2) * 4 + 1]).toBeCloseTo(col[2]! / (col[0]! + col[1]! + col[2]!), 6);
  });

  test('attributes: whole numbers encode as INT, so float attributes that are whole need attr.float', async () => {
    const g = new OnnxGraphBuilder('attrs');
    const x = g.input('x', [1, 4]);
    // LeakyRelu's alpha is a float attribute: 1 would be encoded as INT and rejected without attr.float.
    g.output(g.op('LeakyRelu', [x], { alpha: attr.float(1) }), { as: 'y' });
    const data = Float32Array.of(-2, -1, 1, 2);
    const out = await run(g, { x: { data, dims: [1, 4] } });
    close(out.y!.data, data);

    const bad = new OnnxGraphBuilder('bad');
    const xb = bad.input('x', [1, 4]);
    bad.output(bad.op('LeakyRelu', [xb], { alpha: 1 }), { as: 'y' });
    await expect(createOrtSession(bad.serialize(), { threads: 1 })).rejects.toThrow(/alpha|attribute|type/i);
  });

  test('metadata, opset and IO names round-trip through the serialised model', () => {
    const g = new OnnxGraphBuilder('meta', { opset: 18 });
    const x = g.input('x', ['n', 2]);
    g.output(g.reduceMean(x, [1]), { as: 'm' });
    const summary = readOnnxModelSummary(g.serialize({ metadata: { 'srdiff.hash': 'abc', other: '1' }, irVersion: 8 }));
    expect(summary).toMatchObject({ irVersion: 8, opsets: { '': 18 }, producerName: 'srdiff', metadata: { 'srdiff.hash': 'abc', other: '1' }, inputs: ['x'], outputs: ['m'] });
    expect(() => readOnnxModelSummary(Uint8Array.of(0xff, 0xff, 0xff), 'junk.onnx')).toThrow(/junk\.onnx: not a readable ONNX model/);
  });

  test('names are unique, scoped, and misuse fails with a clear error', () => {
    const g = new OnnxGraphBuilder('names');
    const x = g.input('x', [1]);
    const a = g.scope('block.0', () => g.op('Relu', [x]));
    const b = g.scope('block.0', () => g.op('Relu', [x]));
    expect(a).toBe('block.0/Relu');
    expect(b).not.toBe(a);
    expect(g.constFloat(2)).toBe(g.constFloat(2));
    expect(g.constInt64([1, 2])).toBe(g.constInt64([1, 2]));
    expect(() => g.op('Relu', ['nothing'])).toThrow(/reads "nothing", which nothing defines/);
    expect(() => g.input('x', [1])).toThrow(/already used/);
    expect(() => g.initializer('w', [1, 2, 3], [2, 2])).toThrow(/shape \[2, 2\] needs 4 values, got 3/);
    expect(() => new OnnxGraphBuilder('empty').serialize()).toThrow(/no outputs/);
    expect(g.stats.initializerValues).toBe(0); // constants are not counted as weights
  });

  test('a conv graph runs in NCHW with the PyTorch weight layout', async () => {
    const g = new OnnxGraphBuilder('conv');
    const x = g.input('x', ['b', 1, 'h', 'w']);
    const w = g.initializer('w', [0, 1, 0, 1, -4, 1, 0, 1, 0], [1, 1, 3, 3]);
    g.output(g.conv(x, w, undefined, { pads: [1, 1, 1, 1] }), { as: 'y' });
    const data = Float32Array.from({ length: 12 }, (_, i) => i * i);
    const out = await run(g, { x: { data, dims: [1, 1, 3, 4] } });
    const px = (r: number, c: number) => (r < 0 || r > 2 || c < 0 || c > 3 ? 0 : data[r * 4 + c]!);
    const want = Array.from({ length: 12 }, (_, i) => {
      const r = Math.floor(i / 4);
      const c = i % 4;
      return px(r - 1, c) + px(r + 1, c) + px(r, c - 1) + px(r, c + 1) - 4 * px(r, c);
    });
    close(out.y!.data, want);
  });
});

describe('createOrtSession', () => {
  test('falls back to the CPU when a preferred provider cannot start, and says why', async () => {
    const g = new OnnxGraphBuilder('ep');
    g.output(g.op('Relu', [g.input('x', [2])]), { as: 'y' });
    const h = await createOrtSession(g.serialize(), { executionProviders: ['cuda'], threads: 1 });
    expect(h.executionProviders.at(-1)).toBe('cpu');
    expect(h.attempts.at(-1)!.ok).toBe(true);
    if (h.executionProviders[0] === 'cpu') expect(h.attempts[0]).toMatchObject({ provider: 'cuda', ok: false });
    const out = await h.session.run({ x: new h.ort.Tensor('float32', Float32Array.of(-1, 2), [2]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 2]);
    await h.session.release();
  });

  test('rejects a broken model without retrying and validates options', async () => {
    await expect(createOrtSession(Uint8Array.of(1, 2, 3), { threads: 1 })).rejects.toThrow(/createOrtSession\(<3 bytes>\)/);
    await expect(createOrtSession(Uint8Array.of(1), { threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
  });

  test('the missing-runtime error tells the user what to install', () => {
    expect(new OnnxRuntimeMissingError('not installed').message).toMatch(/npm install onnxruntime-node.*onnxruntime-node-install=skip.*tfjs engine/);
  });
});

describe('fingerprintWeights', () => {
  const dict = () => ({ b: { shape: [2], data: Float32Array.of(1, 2) }, a: { shape: [1, 1], data: Float32Array.of(3) } });
  test('depends on values, shapes, names and the description, not on key order', () => {
    const base = fingerprintWeights(dict(), { nf: 8 });
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    const reordered = { a: dict().a, b: dict().b };
    expect(fingerprintWeights(reordered, { nf: 8 })).toBe(base);
    const changed = dict();
    changed.b.data[1] = 2.0000002;
    expect(fingerprintWeights(changed, { nf: 8 })).not.toBe(base);
    expect(fingerprintWeights({ ...dict(), a: { shape: [1], data: Float32Array.of(3) } }, { nf: 8 })).not.toBe(base);
    expect(fingerprintWeights(dict(), { nf: 16 })).not.toBe(base);
  });
});

describe('createOrtSession options', () => {
  test('spinWait and extra config entries are accepted and the session runs', async () => {
    const g = new OnnxGraphBuilder('spin');
    g.output(g.op('Neg', [g.input('x', [2])]), { as: 'y' });
    for (const spinWait of [false, true]) {
      const h = await createOrtSession(g.serialize(), { threads: 2, spinWait, extra: { session: { set_denormal_as_zero: '1' } }, graphOptimizationLevel: 'basic' });
      expect(h.options).toEqual({ threads: 2, interOpThreads: 1, graphOptimizationLevel: 'basic' });
      const out = await h.session.run({ x: new h.ort.Tensor('float32', Float32Array.of(1, -2), [2]) });
      expect(Array.from(out.y!.data as Float32Array)).toEqual([-1, 2]);
      await h.session.release();
    }
  });
});
