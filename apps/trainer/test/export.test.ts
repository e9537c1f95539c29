/**
 * `srdiff export`, as its own --help shows it: the UNet and the SRM to ONNX, in a fresh process
 * (the built CLI), then both graphs run on onnxruntime-node and agree with the tfjs modules.
 * The SRM path used to fail there ("The highest priority backend 'wasm' has not yet been
 * initialized"): nothing selected a tfjs backend before the SRM weights became tensors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Rng, selectBackend, tf, writeSafetensors } from '@srdiff/core';
import { SemanticRefinementModule, saveSrmWeights } from '@srdiff/srm';
import { CONFIG_METADATA_KEY, ConditionalUNet, resolveUnetConfig } from '@srdiff/unet';
import { runBuilt, runInProcess as cli } from './helpers/cli-process';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-export-'));
const unetConfig = resolveUnetConfig({ in_nc: 3, out_nc: 3, nf: 16, ch_mult: [1, 2], context_dim: 16, use_image_context: true });
const unetFile = path.join(tmp, 'unet.safetensors');
const srmFile = path.join(tmp, 'srm.safetensors');
let unet: ConditionalUNet;
let srm: SemanticRefinementModule;

beforeAll(async () => {
  await selectBackend('cpu');
  unet = new ConditionalUNet(unetConfig);
  await writeSafetensors(unetFile, unet.stateDict(), { format: 'pt', [CONFIG_METADATA_KEY]: JSON.stringify(unetConfig) });
  srm = new SemanticRefinementModule({ inputDim: 16, hiddenDim: 32, numLayers: 1, numHeads: 4 });
  await saveSrmWeights(srmFile, srm);
});
afterAll(() => {
  unet.dispose();
  srm.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('export --model R --srm S (the --help example) writes both graphs in a fresh process; they match the tfjs modules', async () => {
  const unetOnnx = path.join(tmp, 'out', 'unet.onnx');
  const srmOnnx = path.join(tmp, 'out', 'srm.onnx');
  const run = await runBuilt(['export', '--model', unetFile, '--out', unetOnnx, '--srm', srmFile, '--srm-out', srmOnnx]);
  expect(run.output).not.toMatch(/not yet been initialized/);
  expect(run.code).toBe(0);
  expect(run.output).toMatch(/UNet .* → .*unet\.onnx/);
  expect(run.output).toMatch(/SRM .* → .*srm\.onnx/);

  const rng = new Rng(3);
  const embedding = Float32Array.from(rng.normalArray(2 * 16));
  const srmSession = await ort.InferenceSession.create(srmOnnx);
  try {
    const feeds = { [srmSession.inputNames[0]!]: new ort.Tensor('float32', embedding, [2, 16]) };
    const onnxOut = (await srmSession.run(feeds))[srmSession.outputNames[0]!]!.data as Float32Array;
    const tfOut = tf.tidy(() => srm.forward(tf.tensor2d(embedding, [2, 16])).dataSync());
    expect(maxAbsDiff(onnxOut, tfOut)).toBeLessThan(1e-5);
  } finally {
    await srmSession.release();
  }

  const unetSession = await ort.InferenceSession.create(unetOnnx);
  try {
    expect([...unetSession.inputNames].sort()).toEqual(['cond', 'image_context', 'time', 'xt']);
    expect(unetSession.outputNames).toEqual(['noise']);
  } finally {
    await unetSession.release();
  }
});

test('export --srm alone (a fresh process: no UNet, no backend chosen before the SRM loads)', async () => {
  const srmOnnx = path.join(tmp, 'only', 'srm.onnx');
  const run = await runBuilt(['export', '--srm', srmFile, '--srm-out', srmOnnx]);
  expect(run.code).toBe(0);
  expect(fs.existsSync(srmOnnx)).toBe(true);
  expect(fs.existsSync(path.join(tmp, 'only', 'unet.onnx'))).toBe(false);
});

test('export checks its inputs before writing anything', async () => {
  const unetOnnx = path.join(tmp, 'bad', 'unet.onnx');
  const missing = await cli(['export', '--model', unetFile, '--out', unetOnnx, '--srm', path.join(tmp, 'nope.safetensors')]);
  expect(missing.code).toBe(1);
  expect(missing.output).toMatch(/SRM weights .*nope\.safetensors do not exist/);
  expect(fs.existsSync(unetOnnx)).toBe(false);

  const nothing = await cli(['export']);
  expect(nothing.code).toBe(2);
  expect(nothing.output).toMatch(/nothing to export: pass --model and\/or --srm/);
  const same = await cli(['export', '--model', unetFile, '--srm', srmFile, '--out', 'x.onnx', '--srm-out', 'x.onnx']);
  expect(same.code).toBe(2);
  expect(same.output).toMatch(/--out and --srm-out are both x\.onnx/);
});
