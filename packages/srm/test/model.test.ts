import { StateDictError, manualSeed, selectBackend, tf } from '@srdiff/core';
import { SRM_DEFAULTS, SREncoderLayer, SemanticRefinementModule, inferSrmConfig, resolveSrmConfig } from '../src';
import { fixture, fixtureMeta, relError } from './helpers';

const meta = fixtureMeta();
const refConfig = {
  inputDim: meta.constructor.input_dim,
  hiddenDim: meta.constructor.hidden_dim,
  numLayers: meta.constructor.num_layers,
  numHeads: meta.constructor.num_heads,
};

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('SemanticRefinementModule structure', () => {
  test('state-dict names, shapes, order and parameter count are PyTorch\'s', () => {
    const model = new SemanticRefinementModule(refConfig);
    expect(model.namedParameters().map(([k, p]) => [k, p.torchShape])).toEqual(meta.params);
    expect(model.parameterCount()).toBe(meta.param_count);
    model.dispose();
  });

  test('defaults are CLSEnhancer()\'s 768/1024/4/8 (36,732,416 parameters)', () => {
    expect(resolveSrmConfig()).toEqual({ inputDim: 768, hiddenDim: 1024, numLayers: 4, numHeads: 8 });
    expect(SRM_DEFAULTS).toEqual(resolveSrmConfig());
    // Counted by hand from CLSEnhancer's layers: upper 2 linears, lower in/out, 4 × (pre, in_proj, out_proj, post 2H→H, H→H).
    const D = 768, H = 1024;
    const layer = H * H + H + 3 * H * H + 3 * H + H * H + H + 2 * H * H + H + H * H + H;
    const expected = D * H + H + H * D + D + D * H + H + H * D + D + 4 * layer;
    expect(expected).toBe(36_732_416);
    const model = new SemanticRefinementModule();
    expect(model.parameterCount()).toBe(expected);
    model.dispose();
  });

  test('config validation names the field', () => {
    expect(() => resolveSrmConfig({ hiddenDim: 30, numHeads: 8 })).toThrow(/hiddenDim 30 must be divisible by numHeads 8/);
    expect(() => resolveSrmConfig({ inputDim: 0 })).toThrow(/inputDim must be a positive integer, got 0/);
    expect(() => resolveSrmConfig({ numLayers: 1.5 })).toThrow(/numLayers/);
    expect(resolveSrmConfig({ numLayers: 0 }).numLayers).toBe(0);
  });

  test('the same seed builds the same weights', () => {
    manualSeed(5);
    const a = new SemanticRefinementModule(refConfig);
    manualSeed(5);
    const b = new SemanticRefinementModule(refConfig);
    const sa = a.stateDict();
    const sb = b.stateDict();
    for (const k of Object.keys(sa)) expect(sb[k]!.data).toEqual(sa[k]!.data);
    a.dispose();
    b.dispose();
  });
});

describe('fromStateDict / loading original weights', () => {
  test('a CLSEnhancer state dict (the reference weights) loads with its shape inferred, and reproduces the output', async () => {
    const weights = await fixture('srm/weights.safetensors');
    const io = await fixture('srm/io.safetensors');
    expect(inferSrmConfig(weights)).toEqual({ inputDim: 16, hiddenDim: 32, numLayers: 2 });
    const model = SemanticRefinementModule.fromStateDict(weights, { numHeads: 4 });
    expect(model.config).toEqual(refConfig);
    const out = tf.tidy(() => model.forward(tf.tensor2d(io.x!.data, io.x!.shape as [number, number])));
    expect(relError(out.dataSync(), io.out!.data)).toBeLessThan(meta.tolerances['io.safetensors:out'].value);
    out.dispose();
    model.dispose();
  });

  test('DataParallel "module." prefixes are accepted', async () => {
    const weights = await fixture('srm/weights.safetensors');
    const prefixed = Object.fromEntries(Object.entries(weights).map(([k, v]) => [`module.${k}`, v]));
    const model = SemanticRefinementModule.fromStateDict(prefixed, { numHeads: 4 });
    expect(model.stateDict()['lower_output_proj.bias']!.data).toEqual(weights['lower_output_proj.bias']!.data);
    model.dispose();
  });

  test('a missing or mis-shaped key is a StateDictError naming it; a foreign dict is refused', async () => {
    const weights = await fixture('srm/weights.safetensors');
    const { ['sr_encoders.1.post_net.2.bias']: _dropped, ...missing } = weights;
    expect(() => SemanticRefinementModule.fromStateDict(missing, { numHeads: 4 })).toThrow(StateDictError);
    expect(() => SemanticRefinementModule.fromStateDict(missing, { numHeads: 4 })).toThrow(/sr_encoders\.1\.post_net\.2\.bias/);
    const model = new SemanticRefinementModule({ ...refConfig, hiddenDim: 64 });
    expect(() => model.loadStateDict(weights)).toThrow(/upper_path\.0\.weight/);
    model.dispose();
    expect(() => SemanticRefinementModule.fromStateDict({ 'conv.weight': { shape: [1], data: new Float32Array(1) } })).toThrow(/not an SRM \(CLSEnhancer\) state dict/);
  });
});

describe('forward', () => {
  let model: SemanticRefinementModule;
  beforeAll(() => {
    manualSeed(1);
    model = new SemanticRefinementModule(refConfig);
  });
  afterAll(() => model.dispose());

  test('embeddings of the wrong width are refused with both widths named', () => {
    const x = tf.zeros([2, 12]) as tf.Tensor2D;
    expect(() => model.forward(x)).toThrow(/embeddings are 12 wide, this SRM expects 16/);
    const x3 = tf.zeros([2, 1, 16]) as unknown as tf.Tensor2D;
    expect(() => model.forward(x3)).toThrow(/expected a \[batch, 16\] tensor/);
    tf.dispose([x, x3]);
  });

  test('rows are independent: a batch equals its rows run one by one', () => {
    const x = tf.randomNormal([5, 16], 0, 1, 'float32', 3) as tf.Tensor2D;
    const all = model.forward(x);
    for (let i = 0; i < 5; i++) {
      const row = tf.tidy(() => model.forward(tf.slice(x, [i, 0], [1, 16])));
      expect(relError(row.dataSync(), all.dataSync().subarray(i * 16, (i + 1) * 16))).toBeLessThan(1e-6);
      row.dispose();
    }
    tf.dispose([x, all]);
  });

  test('an encoder layer takes [B, H] (length 1) and [B, L, H]; a length-1 sequence equals the row form', () => {
    const layer = model.encoderLayers[0] as SREncoderLayer;
    const x = tf.randomNormal([3, 32], 0, 1, 'float32', 4);
    const asRows = layer.forward(x);
    const asSeq = tf.tidy(() => layer.forward(tf.expandDims(x, 1)));
    expect(asSeq.shape).toEqual([3, 1, 32]);
    expect(relError(asSeq.dataSync(), asRows.dataSync())).toBeLessThan(1e-6);
    const seq = tf.tidy(() => layer.forward(tf.randomNormal([2, 5, 32])));
    expect(seq.shape).toEqual([2, 5, 32]);
    expect(() => layer.forward(tf.zeros([3, 31]))).toThrow(/SREncoderLayer\(32\): input must be/);
    tf.dispose([x, asRows, asSeq, seq]);
  });

  test('forward does not leak tensors', () => {
    const x = tf.randomNormal([4, 16]) as tf.Tensor2D;
    model.forward(x).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) model.forward(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
