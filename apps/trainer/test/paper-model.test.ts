/**
 * The paper's released model, end to end, at a tiny size: the original's file formats
 * (`lastest_EMA.pth`, `best_model.pth`: torch.save files with random weights, see
 * test/fixtures/paper-e2e and tools/pth-fixtures/make-paper-e2e-fixtures.mjs) and its VLM, BLIP
 * (the bundled tiny random BLIP, 32 wide). Checks that the whole chain runs (restore, and test
 * with the original's test.yml), that the semantic embedding reaches the UNet, and that the same
 * weights from .pth and from .safetensors restore the identical image.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import sharp from 'sharp';
import { readManifest } from '@srdiff/vlm';
import { buildDegradedDataset, bundledCleanImagesDir } from '@srdiff/data';
import { selectBackend, tf, toleranceError } from '@srdiff/core';
import { runCli } from '../src/cli/main';
import { resolveUnetModel } from '../src/pipeline/resolve-model';
import { SemanticContext } from '../src/pipeline/semantic-context';
import { createEngine } from '../src/restore/engine';

const FIXTURES = path.join(__dirname, 'fixtures', 'paper-e2e');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-paper-'));
const weights = path.join(tmp, 'weights');
const data = path.join(tmp, 'datasets');
const lines: string[] = [];
const cli = (args: string[]) => runCli(args, { out: (s) => lines.push(s), log: (s) => lines.push(s) });
let lq: string;

beforeAll(async () => {
  // A copy: the ONNX cache is written beside the weights.
  fs.cpSync(FIXTURES, weights, { recursive: true });
  await buildDegradedDataset(bundledCleanImagesDir(), data, { tasks: ['hazy'], perImage: 1, patchSize: 32, valFraction: 0.5, seed: 3 });
  const lqDir = path.join(data, 'val', 'hazy', 'LQ');
  lq = path.join(lqDir, fs.readdirSync(lqDir).sort()[0]!);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function pixels(file: string): Promise<Buffer> {
  return sharp(file).raw().toBuffer();
}

async function restore(out: string, model: string, srm: string, vlm = 'tiny-blip'): Promise<Buffer> {
  const code = await cli(['restore', lq, '--model', path.join(weights, model), '--srm', path.join(weights, srm), '--vlm', vlm, '--max-sigma', '50', '--steps', '4', '--out', path.join(tmp, out), '--engine', 'onnx']);
  if (code !== 0) throw new Error(`restore exited ${code}:\n${lines.slice(-20).join('\n')}`);
  return pixels(path.join(tmp, out, `${path.basename(lq, path.extname(lq))}.png`));
}

test('restore: lastest_EMA.pth + best_model.pth + BLIP runs; .pth and .safetensors restore the identical image', async () => {
  const fromPth = await restore('pth', 'lastest_EMA.pth', 'best_model.pth');
  const fromSafetensors = await restore('safetensors', 'unet.safetensors', 'srm.safetensors');
  expect(fromPth.length).toBe(32 * 32 * 3);
  expect(fromPth.equals(fromSafetensors)).toBe(true);
  expect(lines.join('\n')).toMatch(/VLM: blip '.*tiny-blip' \(32 wide\)/);
});

test('the BLIP embedding reaches the UNet: the embeddings of two images give two noise predictions', async () => {
  // At the network's output, not the restored image: random weights make the sampler saturate
  // (the restored pixels are mostly 0 or 255), which would hide the context's effect.
  await selectBackend('cpu');
  const model = await resolveUnetModel(path.join(weights, 'lastest_EMA.pth'));
  const engine = await createEngine('onnx', model.weights, model.config);
  const context = await SemanticContext.create({ vlm: 'tiny-blip', srm: path.join(weights, 'best_model.pth'), offline: true });
  try {
    const lqDir = path.dirname(lq);
    const [a, b] = fs.readdirSync(lqDir).sort().slice(0, 2).map((f) => path.join(lqDir, f)) as [string, string];
    const [ea, eb] = [await context.embed(a), await context.embed(b)];
    expect(ea).toHaveLength(32);
    const mu = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const xt = tf.add(mu, tf.randomNormal([1, 32, 32, 3], 0, 0.2, 'float32', 2)) as tf.Tensor4D;
    const predict = async (e: Float32Array) => {
      const c = tf.tensor2d(e, [1, 32]);
      const noise = await engine.denoiser(xt, mu, 50, c);
      const data = await noise.data();
      tf.dispose([c, noise]);
      return data;
    };
    const [na, nb, na2] = [await predict(ea), await predict(eb), await predict(ea)];
    // The same embedding gives the bit-identical prediction, so any difference is the context's
    // (measured 4.8e-3 of the prediction's largest value with these random weights).
    expect(Array.from(na2)).toEqual(Array.from(na));
    expect(toleranceError(ea, eb, 'rel')).toBeGreaterThan(1e-2);
    expect(toleranceError(nb, na, 'rel')).toBeGreaterThan(1e-3);
    tf.dispose([mu, xt]);
  } finally {
    await engine.dispose();
    await context.dispose();
  }
});

test("test: the original's test.yml (max_sigma 50) with --vlm embeds LQCLS with BLIP, refines RestoreCLS with best_model.pth, reports metrics", async () => {
  const testYml = path.join(tmp, 'test.yml');
  // The original's options/test.yml, its paths and network size changed to these fixtures.
  fs.writeFileSync(testYml, yaml.dump({
    name: 'github',
    suffix: null,
    model: 'denoising',
    distortion: ['hazy'],
    gpu_ids: [0],
    sde: { max_sigma: 50, T: 100, schedule: 'cosine', eps: 0.005, sampling_mode: 'posterior' },
    degradation: { sigma: 25, noise_type: 'G', scale: 4 },
    datasets: { test1: { name: 'Test', mode: 'LQGT', dataroot_GT: path.join(data, 'val', 'hazy', 'GT'), dataroot_LQ: path.join(data, 'val', 'hazy', 'LQ'), max_images: 2 } },
    network_G: { which_model_G: 'ConditionalUNet', setting: { in_nc: 3, out_nc: 3, nf: 16, ch_mult: [1, 2], context_dim: 32, use_degra_context: false, use_image_context: true } },
    path: { pretrain_model_G: path.join(weights, 'lastest_EMA.pth') },
  }));
  const results = path.join(tmp, 'results');
  const code = await cli(['test', '-opt', testYml, '--srm', path.join(weights, 'best_model.pth'), '--vlm', 'tiny-blip', '--steps', '5', '--out', results, '--engine', 'onnx']);
  expect(code).toBe(0);
  const manifest = await readManifest(path.join(data, 'val', 'hazy', 'LQCLS'));
  expect(manifest).toMatchObject({ family: 'blip', output: 'decoder_cls', preprocessing: 'slow', width: 32 });
  expect(fs.readdirSync(path.join(data, 'val', 'hazy', 'RestoreCLS')).filter((f) => f.endsWith('.npy')).length).toBe(manifest!.count);
  const metrics = JSON.parse(fs.readFileSync(path.join(results, 'test1', 'metrics.json'), 'utf8'));
  expect(metrics.sde.max_sigma).toBe(50);
  expect(metrics.rows).toHaveLength(2);
  for (const row of metrics.rows) expect(Number.isFinite(row.psnr)).toBe(true);

  // Mixing: the same test set with a CLIP is refused, naming both VLMs.
  lines.length = 0;
  expect(await cli(['test', '-opt', testYml, '--srm', path.join(weights, 'best_model.pth'), '--vlm', 'tiny', '--steps', '5', '--out', results, '--engine', 'onnx'])).not.toBe(0);
  expect(lines.join('\n')).toMatch(/made by blip '.*tiny-blip'/);
});
