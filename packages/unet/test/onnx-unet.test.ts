import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTolerance, readSafetensors, selectBackend, tf, toleranceError, type HostTensor, type TensorDict } from '@srdiff/core';
import { IRSDE } from '@srdiff/sde';
import { ConditionalUNet, unetDenoiser, type UNetOptions } from '../src';
import {
  buildUnetGraph,
  createOnnxDenoiser,
  ensureOnnxExport,
  exportOnnx,
  onnxCacheIsFresh,
  OnnxUNet,
  toOnnx,
  unetToOnnxBytes,
  UNET_ONNX_METADATA,
} from '../src/onnx';
import { upsampleConvAsTransposed } from '../src/onnx/emitters/resampling';
import { readOnnxModelSummary } from '@srdiff/core';


const FIXTURES = path.join(__dirname, 'fixtures', 'unet');
const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'meta.json'), 'utf8'));
const REFERENCE_CONFIG = meta.constructor as UNetOptions;
/** The bar for ORT against tfjs: max |ORT - tfjs| / max |tfjs|. */
const ENGINE_TOLERANCE = 1e-4;

let weights: TensorDict;
let io: TensorDict;
let reference: OnnxUNet;

beforeAll(async () => {
  await selectBackend('wasm');
  weights = (await readSafetensors(path.join(FIXTURES, 'weights.safetensors'))).tensors;
  io = (await readSafetensors(path.join(FIXTURES, 'io.safetensors'))).tensors;
  reference = await OnnxUNet.create(unetToOnnxBytes(weights, REFERENCE_CONFIG), { threads: 2 });
});

afterAll(async () => {
  await reference?.dispose();
});

const rel = (got: ArrayLike<number>, ref: ArrayLike<number>) => toleranceError(got, ref, 'rel');
const nhwc = (h: HostTensor) => tf.tidy(() => tf.transpose(tf.tensor4d(h.data, h.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D);

function randomHost(shape: number[], seed: number, scale = 1, offset = 0): HostTensor {
  let s = seed >>> 0;
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return offset + scale * (s / 2 ** 32);
  });
  return { shape, data };
}

describe('ConditionalUNet ONNX graph vs the original PyTorch (reference vectors)', () => {
  test('output and every recorded intermediate within the reference tolerances', async () => {
    const debugKeys: string[] = meta.forward.debug_keys;
    const graph = buildUnetGraph(weights, REFERENCE_CONFIG, { debugOutputs: debugKeys.map((k) => k.slice('debug.'.length)) });
    const unet = await OnnxUNet.create(graph.serialize({ metadata: { [UNET_ONNX_METADATA.config]: JSON.stringify(REFERENCE_CONFIG) } }), { threads: 1 });
    const { ort, session } = unet.handle;
    const T = (k: string) => new ort.Tensor('float32', io[k]!.data, io[k]!.shape);
    const out = await session.run({ xt: T('xt'), cond: T('cond'), time: T('time'), image_context: T('image_context') });
    const rows = ['out', ...debugKeys].map((key) => {
      const got = out[key === 'out' ? 'noise' : key]!;
      expect([...got.dims]).toEqual(io[key]!.shape);
      const tol = findTolerance(meta.tolerances, `io.safetensors:${key}`);
      return { key, error: toleranceError(got.data as Float32Array, io[key]!.data, tol.kind), tol: tol.value };
    });
    for (const r of rows) expect(r.error).toBeLessThanOrEqual(r.tol);
    // Measured when written: out 8.1e-7, worst debug 1.5e-6 (tolerance 2e-5 rel).
    await unet.dispose();
  });

  test('OnnxUNet.run matches the reference output; the graph pads/crops 20×24 itself', async () => {
    const noise = await reference.run({ xt: io.xt!, cond: io.cond!, time: io.time!.data, imageContext: io.image_context! });
    expect(noise.shape).toEqual([2, 3, 20, 24]);
    expect(rel(noise.data, io.out!.data)).toBeLessThanOrEqual(findTolerance(meta.tolerances, 'io.safetensors:out').value);
  });
});

describe('ORT vs the tfjs ConditionalUNet (same weights)', () => {
  let model: ConditionalUNet;
  beforeAll(() => {
    model = new ConditionalUNet(REFERENCE_CONFIG);
    model.loadStateDict(weights);
  });
  afterAll(() => model.dispose());

  test.each([
    [20, 24],
    [32, 32],
    [17, 40],
  ])('batch 2, %i×%i, with image context', async (h, w) => {
    const xt = randomHost([2, h, w, 3], h * 100 + w, 2, -0.5);
    const cond = randomHost([2, h, w, 3], h * 7 + w);
    const ctx = randomHost([2, 16], 99, 2, -1);
    const xtT = tf.tensor4d(xt.data, [2, h, w, 3]);
    const condT = tf.tensor4d(cond.data, [2, h, w, 3]);
    const ctxT = tf.tensor2d(ctx.data, [2, 16]);
    const want = model.forward(xtT, condT, [3.5, 97], { imageContext: ctxT });
    const got = await reference.predict(xtT, condT, [3.5, 97], ctxT);
    expect(got.shape).toEqual([2, h, w, 3]);
    expect(rel(await got.data(), await want.data())).toBeLessThanOrEqual(ENGINE_TOLERANCE);
    tf.dispose([xtT, condT, ctxT, want, got]);
  });

  test('a network without image context (use_image_context false), and one with the prompt path', async () => {
    for (const config of [
      { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2], context_dim: null, use_degra_context: false, use_image_context: false },
      { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 2], context_dim: 12, use_degra_context: true, use_image_context: false },
    ] as UNetOptions[]) {
      const tfModel = new ConditionalUNet(config);
      const withText = config.use_degra_context === true;
      const unet = await OnnxUNet.create(unetToOnnxBytes(tfModel.stateDict(), config, { textContext: withText }), { threads: 1 });
      expect(unet.takesImageContext).toBe(false);
      expect(unet.takesTextContext).toBe(withText);
      const xt = tf.tensor4d(randomHost([2, 20, 24, 3], 5, 2, -0.5).data, [2, 20, 24, 3]);
      const cond = tf.tensor4d(randomHost([2, 20, 24, 3], 6).data, [2, 20, 24, 3]);
      const text = withText ? tf.tensor2d(randomHost([2, 12], 7, 2, -1).data, [2, 12]) : undefined;
      const want = tfModel.forward(xt, cond, 41, { textContext: text });
      const got = await unet.predict(xt, cond, 41, undefined, text);
      expect(rel(await got.data(), await want.data())).toBeLessThanOrEqual(ENGINE_TOLERANCE);
      tf.dispose([xt, cond, want, got, ...(text ? [text] : [])]);
      tfModel.dispose();
      await unet.dispose();
    }
  });

  test('without an image context where the original can run so (context_dim = every transformer width)', async () => {
    const config: UNetOptions = { in_nc: 3, out_nc: 3, nf: 32, ch_mult: [1, 1, 1, 1], context_dim: 32, use_degra_context: false, use_image_context: true };
    const tfModel = new ConditionalUNet(config);
    const unet = await OnnxUNet.create(toOnnx(tfModel, { withoutImageContext: true }), { threads: 1 });
    expect(unet.takesImageContext).toBe(false);
    const xt = tf.tensor4d(randomHost([1, 16, 16, 3], 8, 2, -0.5).data, [1, 16, 16, 3]);
    const cond = tf.tensor4d(randomHost([1, 16, 16, 3], 9).data, [1, 16, 16, 3]);
    const want = tfModel.forward(xt, cond, 12);
    const got = await unet.predict(xt, cond, 12);
    expect(rel(await got.data(), await want.data())).toBeLessThanOrEqual(ENGINE_TOLERANCE);
    tf.dispose([xt, cond, want, got]);
    tfModel.dispose();
    await unet.dispose();
  });

  test("denoiser() feeds the sampler's context where unetDenoiser does: the text context of a prompt-path graph", async () => {
    const config: UNetOptions = { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 2], context_dim: 12, use_degra_context: true, use_image_context: false };
    const tfModel = new ConditionalUNet(config);
    const unet = await OnnxUNet.create(unetToOnnxBytes(tfModel.stateDict(), config, { textContext: true }), { threads: 1 });
    const xt = tf.tensor4d(randomHost([1, 16, 16, 3], 21, 2, -0.5).data, [1, 16, 16, 3]);
    const mu = tf.tensor4d(randomHost([1, 16, 16, 3], 22).data, [1, 16, 16, 3]);
    const context = tf.tensor2d(randomHost([1, 12], 23, 2, -1).data, [1, 12]);
    const want = await unetDenoiser(tfModel)(xt, mu, 7, context);
    const got = await unet.denoiser()(xt, mu, 7, context);
    const viaFactory = await (await createOnnxDenoiser(unet, { contextAs: 'text' }))(xt, mu, 7, context);
    expect(rel(await got.data(), await want.data())).toBeLessThanOrEqual(ENGINE_TOLERANCE);
    expect(Array.from(await viaFactory.data())).toEqual(Array.from(await got.data()));
    // Asked for the other input, the graph says it has none.
    await expect(unet.denoiser({ contextAs: 'image' })(xt, mu, 7, context)).rejects.toThrow(/imageContext was given but this graph has no "image_context" input/);
    expect(() => unet.denoiser({ contextAs: 'prompt' as never })).toThrow(/OnnxUNet.denoiser: contextAs must be 'image' or 'text'/);
    tf.dispose([xt, mu, context, want, got, viaFactory]);
    tfModel.dispose();
    await unet.dispose();
  });

  test('posterior sampling gives the same image on both engines (same seed)', async () => {
    const sde = new IRSDE({ maxSigma: 10, T: 8, schedule: 'cosine', eps: 0.005 });
    const mu = tf.tensor4d(randomHost([1, 20, 24, 3], 11).data, [1, 20, 24, 3]);
    const context = tf.tensor2d(randomHost([1, 16], 12, 2, -1).data, [1, 16]);
    const tfDenoiser = async (xt: tf.Tensor4D, m: tf.Tensor4D, t: number, c?: tf.Tensor) => model.forward(xt, m, t, { imageContext: c });
    const ortDenoiser = await createOnnxDenoiser(reference);
    const a = await sde.sample(tfDenoiser, mu, { noise: 2024, context });
    const b = await sde.sample(ortDenoiser, mu, { noise: 2024, context });
    const [av, bv] = [await a.x0.data(), await b.x0.data()];
    let maxAbs = 0;
    for (let i = 0; i < av.length; i++) maxAbs = Math.max(maxAbs, Math.abs(av[i]! - bv[i]!));
    expect(maxAbs).toBeLessThanOrEqual(1e-4);
    tf.dispose([mu, context, a.x0, b.x0]);
  });
});

describe('inputs and errors', () => {
  test('the image context is mandatory for this network; sizes too small to reflect-pad are refused', async () => {
    const xt = randomHost([1, 3, 20, 24], 1);
    await expect(reference.run({ xt, cond: xt, time: 5 })).rejects.toThrow(/cross-attends to an image context: pass imageContext \[1, 16\]/);
    const tiny = randomHost([1, 3, 5, 24], 1);
    await expect(reference.run({ xt: tiny, cond: tiny, time: 5, imageContext: randomHost([1, 16], 2) })).rejects.toThrow(
      /height 5 is too small: .* multiple of 16 .* padding \(11\)/,
    );
    await expect(reference.run({ xt, cond: xt, time: 5, imageContext: randomHost([1, 8], 2) })).rejects.toThrow(/imageContext must be \[1, 16\]/);
    await expect(reference.run({ xt, cond: randomHost([1, 3, 20, 20], 1), time: 5, imageContext: randomHost([1, 16], 2) })).rejects.toThrow(/cond must have the shape of xt/);
    await expect(reference.run({ xt, cond: xt, time: [1, 2, 3], imageContext: randomHost([1, 16], 2) })).rejects.toThrow(/3 time values for a batch of 1/);
  });

  test('one context row is broadcast over the batch', async () => {
    const xt = randomHost([2, 3, 16, 16], 3);
    const ctx = randomHost([1, 16], 4);
    const both = { shape: [2, 16], data: new Float32Array([...ctx.data, ...ctx.data]) };
    const a = await reference.run({ xt, cond: xt, time: 9, imageContext: ctx });
    const b = await reference.run({ xt, cond: xt, time: [9, 9], imageContext: both });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  test('a model without srdiff metadata is refused with a pointer to exportOnnx', async () => {
    const bare = buildUnetGraph(weights, REFERENCE_CONFIG).serialize();
    await expect(OnnxUNet.create(bare)).rejects.toThrow(/not a srdiff ConditionalUNet export .* export it with exportOnnx\(\)/);
  });

  test('exporting without the image context is refused where the original would crash', () => {
    expect(() => unetToOnnxBytes(weights, REFERENCE_CONFIG, { withoutImageContext: true })).toThrow(/cannot run without one here/);
  });

  test('state dicts of another shape fail with the key and the shapes', () => {
    const missing = { ...weights };
    delete missing['mid_block1.block1.proj.weight'];
    expect(() => unetToOnnxBytes(missing, REFERENCE_CONFIG)).toThrow(/missing key "mid_block1.block1.proj.weight" \(expected shape \[64, 64, 3, 3\]\)/);
    const wrong = { ...weights, 'final_conv.bias': { shape: [4], data: new Float32Array(4) } };
    expect(() => unetToOnnxBytes(wrong, REFERENCE_CONFIG)).toThrow(/"final_conv.bias" has shape \[4\], expected \[3\]/);
    const extra = { ...weights, 'head.weight': { shape: [1], data: new Float32Array(1) } };
    expect(() => unetToOnnxBytes(extra, REFERENCE_CONFIG)).toThrow(/1 unexpected key\(s\) for this config: "head.weight"/);
  });

  test('nearest ×2 + 3×3 conv equals the transposed-conv kernel it is exported as', () => {
    // Direct evaluation on a tiny random case, independent of ORT.
    const [cin, cout, h, w] = [2, 3, 3, 4];
    const x = randomHost([cin, h, w], 21, 2, -1).data;
    const k = randomHost([cout, cin, 3, 3], 22, 2, -1).data;
    const kt = upsampleConvAsTransposed(k, cout, cin); // [cin, cout, 4, 4]
    for (let o = 0; o < cout; o++) {
      for (let Y = 0; Y < 2 * h; Y++) {
        for (let X = 0; X < 2 * w; X++) {
          let direct = 0;
          for (let i = 0; i < cin; i++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
            const [uy, ux] = [Y + dy, X + dx];
            if (uy < 0 || ux < 0 || uy >= 2 * h || ux >= 2 * w) continue;
            direct += k[((o * cin + i) * 3 + dy + 1) * 3 + dx + 1]! * x[(i * h + (uy >> 1)) * w + (ux >> 1)]!;
          }
          let transposed = 0; // output Y = 2·r - 1 + ky
          for (let i = 0; i < cin; i++) for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
            const [ky, kx] = [Y - 2 * r + 1, X - 2 * c + 1];
            if (ky < 0 || ky > 3 || kx < 0 || kx > 3) continue;
            transposed += kt[((i * cout + o) * 4 + ky) * 4 + kx]! * x[(i * h + r) * w + c]!;
          }
          expect(transposed).toBeCloseTo(direct, 5);
        }
      }
    }
  });
});

describe('export and cache next to a checkpoint', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-onnx-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('exportOnnx writes a model that records its weights; the cache goes stale when a weight changes', async () => {
    const file = path.join(dir, 'unet.onnx');
    expect(await onnxCacheIsFresh(file, weights, REFERENCE_CONFIG)).toBe(false); // missing
    const result = await exportOnnx(weights, REFERENCE_CONFIG, file);
    expect(fs.statSync(file).size).toBe(result.bytes);
    expect(fs.readdirSync(dir)).toEqual(['unet.onnx']); // no temporary left behind
    const summary = readOnnxModelSummary(fs.readFileSync(file));
    expect(summary.opsets['']).toBeGreaterThanOrEqual(17);
    expect(summary.inputs).toEqual(['xt', 'cond', 'time', 'image_context']);
    expect(summary.outputs).toEqual(['noise']);
    expect(summary.metadata[UNET_ONNX_METADATA.fingerprint]).toBe(result.fingerprint);
    expect(await onnxCacheIsFresh(file, weights, REFERENCE_CONFIG)).toBe(true);

    const changed = { ...weights, 'final_conv.bias': { shape: [3], data: weights['final_conv.bias']!.data.map((v, i) => (i === 0 ? v + 1e-3 : v)) } };
    expect(await onnxCacheIsFresh(file, changed, REFERENCE_CONFIG)).toBe(false);
    expect(await ensureOnnxExport(file, changed, REFERENCE_CONFIG)).toEqual({ path: file, rebuilt: true });
    expect(await ensureOnnxExport(file, changed, REFERENCE_CONFIG)).toEqual({ path: file, rebuilt: false });
    expect(await onnxCacheIsFresh(file, weights, REFERENCE_CONFIG)).toBe(false);

    const fromFile = await OnnxUNet.create(file, { threads: 1 });
    expect(fromFile.config).toMatchObject(REFERENCE_CONFIG);
    await fromFile.dispose();

    fs.writeFileSync(path.join(dir, 'junk.onnx'), 'not a model');
    expect(await onnxCacheIsFresh(path.join(dir, 'junk.onnx'), weights, REFERENCE_CONFIG)).toBe(false);
  });

  test('toOnnx(model) is the export of its state dict and config', () => {
    const model = new ConditionalUNet({ in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2], context_dim: null, use_degra_context: false, use_image_context: false });
    const a = toOnnx(model);
    const b = unetToOnnxBytes(model.stateDict(), model.config);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    model.dispose();
  });
});
