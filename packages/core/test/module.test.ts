import {
  ChannelLayerNorm, Conv2d, GroupNorm, LayerNorm, Linear, Module, StateDictError, gelu, reflectPad, selectBackend, silu, tf,
  upsampleNearest,
} from '../src';

class Block extends Module {
  conv: Conv2d;
  norm: GroupNorm;
  constructor() {
    super();
    this.conv = this.addModule('conv', new Conv2d(3, 4, 3, { padding: 1 }));
    this.norm = this.addModule('norm', new GroupNorm(2, 4));
  }
}
class Net extends Module {
  constructor() {
    super();
    this.addModule('0', new Block());
    this.addModule('head', new Linear(4, 2));
  }
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('Module', () => {
  test('state-dict keys are dotted PyTorch paths in registration order, conv weights in [out,in,kh,kw]', () => {
    const net = new Net();
    const sd = net.stateDict();
    expect(Object.keys(sd)).toEqual(['0.conv.weight', '0.conv.bias', '0.norm.weight', '0.norm.bias', 'head.weight', 'head.bias']);
    expect(sd['0.conv.weight']!.shape).toEqual([4, 3, 3, 3]);
    expect(sd['head.weight']!.shape).toEqual([2, 4]);
    expect(net.parameterCount()).toBe(4 * 3 * 9 + 4 + 4 + 4 + 8 + 2);
    net.dispose();
  });

  test('a conv weight survives the PyTorch-layout round trip element by element', () => {
    const a = new Conv2d(2, 3, 3);
    const sd = a.stateDict();
    sd['weight']!.data.forEach((_, i, d) => (d[i] = i));
    a.loadStateDict(sd);
    // PyTorch index [o, i, y, x] = ((o*2 + i)*3 + y)*3 + x must sit at tfjs [y, x, i, o].
    const w = a.weight.arraySync() as number[][][][];
    expect(w[1]![2]![1]![2]).toBe(((2 * 2 + 1) * 3 + 1) * 3 + 2);
    expect(Array.from(a.stateDict()['weight']!.data)).toEqual(Array.from(sd['weight']!.data));
    a.dispose();
  });

  test('loadStateDict lists missing, unexpected and mis-shaped keys together and changes nothing', () => {
    const net = new Net();
    const before = net.stateDict();
    const sd = net.stateDict();
    delete sd['head.bias'];
    sd['extra.weight'] = { shape: [1], data: new Float32Array(1) };
    sd['0.conv.weight'] = { shape: [8, 3, 3, 3], data: new Float32Array(8 * 27) };
    sd['0.norm.weight'] = { shape: [4], data: new Float32Array(4).fill(9) };
    let err: StateDictError | undefined;
    try {
      net.loadStateDict(sd, { source: 'ckpt.safetensors', hint: () => 'looks like nf=8' });
    } catch (e) {
      err = e as StateDictError;
    }
    expect(err).toBeInstanceOf(StateDictError);
    expect(err!.missing).toEqual(['head.bias']);
    expect(err!.unexpected).toEqual(['extra.weight']);
    expect(err!.mismatched).toEqual([{ key: '0.conv.weight', expected: [4, 3, 3, 3], got: [8, 3, 3, 3] }]);
    expect(err!.message).toMatch(/^ckpt.safetensors: state dict does not match the model/);
    expect(err!.message).toMatch(/0.conv.weight: model expects \[4, 3, 3, 3\], file has \[8, 3, 3, 3\]/);
    expect(err!.message).toMatch(/hint: looks like nf=8/);
    expect(Array.from(net.stateDict()['0.norm.weight']!.data)).toEqual(Array.from(before['0.norm.weight']!.data));
    net.dispose();
  });

  test('non-strict loading accepts subsets; DataParallel "module." prefixes are stripped', () => {
    const net = new Net();
    const head = { 'module.head.bias': { shape: [2], data: Float32Array.from([5, 6]) } };
    net.loadStateDict(head, { strict: false });
    expect(Array.from(net.stateDict()['head.bias']!.data)).toEqual([5, 6]);
    net.dispose();
  });

  test('frozen parameters leave the trainable set', () => {
    const net = new Net();
    expect(Object.keys(net.trainableVariables())).toHaveLength(6);
    (net.getModule('0') as Block).setTrainable(false);
    expect(Object.keys(net.trainableVariables())).toEqual(['head.weight', 'head.bias']);
    expect(() => net.getModule('0.nothing')).toThrow(/no submodule "0.nothing"/);
    net.dispose();
  });

  test('dispose releases every parameter', () => {
    const start = tf.memory().numTensors;
    const net = new Net();
    expect(tf.memory().numTensors).toBeGreaterThan(start);
    net.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

/** Float64 reference implementations for layer checks. */
function refGroupNorm(x: Float32Array, [n, h, w, c]: number[], groups: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  const cg = c / groups;
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      let s = 0, s2 = 0, cnt = 0;
      for (let p = 0; p < h * w; p++) for (let k = 0; k < cg; k++) { const v = x[(b * h * w + p) * c + g * cg + k]!; s += v; s2 += v * v; cnt++; }
      const mean = s / cnt;
      const v = s2 / cnt - mean * mean;
      for (let p = 0; p < h * w; p++) for (let k = 0; k < cg; k++) { const i = (b * h * w + p) * c + g * cg + k; out[i] = (x[i]! - mean) / Math.sqrt(v + eps); }
    }
  }
  return out;
}

describe('layers', () => {
  const rand = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', 3);

  test('GroupNorm normalises each (sample, group) with the biased variance', () => {
    const x = rand([2, 3, 5, 8]);
    const gn = new GroupNorm(4, 8, 1e-6);
    const got = gn.forward(x as tf.Tensor4D).dataSync();
    const ref = refGroupNorm(x.dataSync() as Float32Array, x.shape, 4, 1e-6);
    ref.forEach((r, i) => expect(Math.abs(got[i]! - r)).toBeLessThan(2e-5));
    gn.dispose();
  });

  test('LayerNorm and ChannelLayerNorm normalise the last axis (ChannelLayerNorm has gain only)', () => {
    const x = rand([2, 4, 4, 6]);
    const ln = new ChannelLayerNorm(6);
    const g = ln.stateDict();
    g['g']!.data.set([1, 2, 3, 4, 5, 6]);
    ln.loadStateDict(g);
    const y = ln.forward(x as tf.Tensor4D).arraySync() as number[][][][];
    const px = (x.arraySync() as number[][][][])[1]![2]![3]!;
    const mean = px.reduce((a, b) => a + b) / 6;
    const v = px.reduce((a, b) => a + (b - mean) ** 2, 0) / 6;
    y[1]![2]![3]!.forEach((val, k) => expect(val).toBeCloseTo(((px[k]! - mean) / Math.sqrt(v + 1e-5)) * (k + 1), 4));
    const ln2 = new LayerNorm(6);
    expect(tf.sum(ln2.forward(x)).dataSync()[0]).toBeCloseTo(0, 3);
    ln.dispose();
    ln2.dispose();
  });

  test('exact GELU and SiLU', () => {
    const x = tf.tensor1d([-3, -1, 0, 0.5, 2]);
    // gelu(x) = x·Φ(x); values from the erf definition.
    const expected = [-0.0040496, -0.1586553, 0, 0.3457312, 1.9544997];
    Array.from(gelu(x).dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    Array.from(silu(x).dataSync()).forEach((v, i) => {
      const t = [-3, -1, 0, 0.5, 2][i]!;
      expect(v).toBeCloseTo(t / (1 + Math.exp(-t)), 6);
    });
  });

  test('nearest upsampling repeats pixels; reflect padding mirrors without the edge', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    expect(Array.from(upsampleNearest(x).dataSync())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const row = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    expect(reflectPad(row, { bottom: 1, right: 2 }).shape).toEqual([1, 3, 5, 1]);
    expect(Array.from(reflectPad(row, { bottom: 1, right: 2 }).dataSync())).toEqual([1, 2, 3, 2, 1, 4, 5, 6, 5, 4, 1, 2, 3, 2, 1]);
    expect(() => reflectPad(row, { bottom: 2 })).toThrow(/must be smaller than the 2×3 input/);
  });

  test('Conv2d rejects a wrong channel count with the layer and the shape', () => {
    const c = new Conv2d(3, 8, 3, { padding: 1 });
    expect(() => c.forward(tf.zeros([1, 4, 4, 5]) as tf.Tensor4D)).toThrow(/Conv2d\(3 → 8\): input has 5 channels \(NHWC\), expected 3/);
    expect(c.forward(tf.zeros([2, 5, 7, 3]) as tf.Tensor4D).shape).toEqual([2, 5, 7, 8]);
    c.dispose();
  });
});

describe.each(['cpu', 'wasm'] as const)('upsampleNearest gradient on %s', (backend) => {
  test('is the sum over each output block, for batches > 1 and factors 2 and 3', async () => {
    await selectBackend(backend);
    for (const factor of [2, 3]) {
      const x = tf.randomNormal([2, 3, 5, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomNormal([2, 3 * factor, 5 * factor, 2], 0, 1, 'float32', 2);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(upsampleNearest(t as tf.Tensor4D, factor), w)))(x);
      const wa = w.arraySync() as number[][][][];
      const ga = g.arraySync() as number[][][][];
      for (let b = 0; b < 2; b++) for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) for (let c = 0; c < 2; c++) {
        let s = 0;
        for (let di = 0; di < factor; di++) for (let dj = 0; dj < factor; dj++) s += wa[b]![i * factor + di]![j * factor + dj]![c]!;
        expect(ga[b]![i]![j]![c]).toBeCloseTo(s, 4);
      }
    }
    await selectBackend('wasm');
  });
});
