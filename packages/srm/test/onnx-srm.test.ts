import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTolerance, readOnnxModelSummary, readSafetensors, selectBackend, tf, toleranceError, type TensorDict } from '@srdiff/core';
import { SemanticRefinementModule, inferSrmConfig, type SrmConfig } from '../src';
import { exportSrmOnnx, OnnxSrm, srmOnnxCacheIsFresh, srmToOnnxBytes, SRM_ONNX_METADATA } from '../src/onnx';


const FIXTURES = path.join(__dirname, 'fixtures', 'srm');
const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'meta.json'), 'utf8'));
const CONFIG: SrmConfig = {
  inputDim: meta.constructor.input_dim,
  hiddenDim: meta.constructor.hidden_dim,
  numLayers: meta.constructor.num_layers,
  numHeads: meta.constructor.num_heads,
};

let weights: TensorDict;
let io: TensorDict;

beforeAll(async () => {
  await selectBackend('wasm');
  weights = (await readSafetensors(path.join(FIXTURES, 'weights.safetensors'))).tensors;
  io = (await readSafetensors(path.join(FIXTURES, 'io.safetensors'))).tensors;
});

describe('SRM ONNX graph', () => {
  test('matches the original PyTorch CLSEnhancer output within the reference tolerance', async () => {
    expect(inferSrmConfig(weights)).toEqual({ inputDim: CONFIG.inputDim, hiddenDim: CONFIG.hiddenDim, numLayers: CONFIG.numLayers });
    const srm = await OnnxSrm.create(srmToOnnxBytes(weights, CONFIG), { threads: 1 });
    const out = await srm.refine(io.x!);
    expect(out.shape).toEqual(io.out!.shape);
    const tol = findTolerance(meta.tolerances, 'io.safetensors:out');
    // Measured when written: 3.3e-7 (tolerance 1e-5 rel).
    expect(toleranceError(out.data, io.out!.data, tol.kind)).toBeLessThanOrEqual(tol.value);
    await srm.dispose();
  });

  test('matches the tfjs SemanticRefinementModule on a larger random module, dynamic batch', async () => {
    const config: SrmConfig = { inputDim: 48, hiddenDim: 64, numLayers: 3, numHeads: 8 };
    const model = new SemanticRefinementModule(config);
    const srm = await OnnxSrm.create(srmToOnnxBytes(model.stateDict(), config), { threads: 1 });
    for (const batch of [1, 5]) {
      const x = tf.randomNormal([batch, 48], 0, 3, 'float32', batch) as tf.Tensor2D;
      const want = model.forward(x);
      const got = await srm.refine({ shape: [batch, 48], data: (await x.data()) as Float32Array });
      expect(toleranceError(got.data, (await want.data()) as Float32Array, 'rel')).toBeLessThanOrEqual(1e-5);
      tf.dispose([x, want]);
    }
    model.dispose();
    await srm.dispose();
  });

  test('wrong widths and foreign state dicts fail clearly', async () => {
    const srm = await OnnxSrm.create(srmToOnnxBytes(weights, CONFIG), { threads: 1 });
    await expect(srm.refine({ shape: [2, 8], data: new Float32Array(16) })).rejects.toThrow(/expected \[batch, 16\] embeddings, got \[2, 8\]/);
    await srm.dispose();
    expect(() => srmToOnnxBytes(weights, { ...CONFIG, hiddenDim: 16 })).toThrow(/"upper_path.0.weight" has shape \[32, 16\], expected \[16, 16\]/);
    expect(() => srmToOnnxBytes(weights, { ...CONFIG, numLayers: 1 })).toThrow(/unexpected key\(s\) for this config: "sr_encoders.1/);
  });

  test('exportSrmOnnx writes atomically and records a fingerprint the cache check uses', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-srm-onnx-'));
    try {
      const file = path.join(dir, 'srm.onnx');
      const { fingerprint } = await exportSrmOnnx(weights, CONFIG, file);
      const summary = readOnnxModelSummary(fs.readFileSync(file));
      expect(summary.inputs).toEqual(['embedding']);
      expect(summary.outputs).toEqual(['refined']);
      expect(summary.metadata[SRM_ONNX_METADATA.fingerprint]).toBe(fingerprint);
      expect(await srmOnnxCacheIsFresh(file, weights, CONFIG)).toBe(true);
      const changed = { ...weights, 'lower_output_proj.bias': { shape: [16], data: weights['lower_output_proj.bias']!.data.map((v) => v * 1.001) } };
      expect(await srmOnnxCacheIsFresh(file, changed, CONFIG)).toBe(false);
      expect(await srmOnnxCacheIsFresh(path.join(dir, 'missing.onnx'), weights, CONFIG)).toBe(false);
      const fromFile = await OnnxSrm.create(file, { threads: 1 });
      expect(toleranceError((await fromFile.refine(io.x!)).data, io.out!.data, 'rel')).toBeLessThanOrEqual(1e-5);
      await fromFile.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
