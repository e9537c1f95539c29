/**
 * Either VLM in every command, and one VLM per run: extract picks BLIP by its config, runs record
 * which VLM made their embeddings (the SRM's embeddings.json, the run's vlm.model), and using
 * embeddings of two VLMs together is an error that names both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { writeSafetensors } from '@srdiff/core';
import { createImageEmbedder, randomBlipStateDict, readManifest, resolveBlipConfig } from '@srdiff/vlm';
import { runCli } from '../src/cli/main';
import { assetsDir } from '../src/pipeline/models';
import { tinyDataset, tinyRawOptions } from './helpers/tiny-run';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-vlm-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const lines: string[] = [];
const cli = async (args: string[]) => {
  lines.length = 0;
  return runCli(args, { out: (s) => lines.push(s), log: (s) => lines.push(s) });
};
const text = () => lines.join('\n');
const task = (root: string) => path.join(root, 'train', 'rainy');

/** Another BLIP of the tiny-blip's sizes, with other weights: the same width, another vector space. */
async function otherBlip(): Promise<string> {
  const dir = path.join(tmp, 'blip-other');
  if (fs.existsSync(dir)) return dir;
  fs.cpSync(path.join(assetsDir(), 'tiny-blip'), dir, { recursive: true });
  const config = resolveBlipConfig(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')));
  await writeSafetensors(path.join(dir, 'model.safetensors'), randomBlipStateDict(config, 5));
  return dir;
}

const SRM_FLAGS = ['--epochs', '1', '--batch-size', '4', '--hidden-dim', '32', '--num-layers', '1', '--num-heads', '4', '--warmup-steps', '1', '--val-fraction', '0.3'];

test('extract takes a BLIP by its config: tiny-blip, fast preprocessing; a CLIP mode is refused naming the family', async () => {
  const data = await tinyDataset(path.join(tmp, 'extract'));
  expect(await cli(['extract', '--data', data, '--model', 'tiny-blip', '--preprocessing', 'python', '--phase', 'train'])).not.toBe(0);
  expect(text()).toMatch(/--preprocessing python is for CLIP; tiny-blip is a BLIP \(config.json model_type "blip"\): use slow or fast/);
  expect(await cli(['extract', '--data', data, '--model', 'tiny-blip', '--preprocessing', 'fast', '--phase', 'train'])).toBe(0);
  expect(await readManifest(path.join(task(data), 'LQCLS'))).toMatchObject({ family: 'blip', output: 'decoder_cls', preprocessing: 'fast', width: 32 });
  expect(await readManifest(path.join(task(data), 'GTCLS'))).toMatchObject({ family: 'blip', model: path.join(assetsDir(), 'tiny-blip') });
});

test('train-srm records the VLM (embeddings.json) and refuses LQCLS and GTCLS of two VLMs; refine refuses LQCLS of another VLM than the SRM\'s', async () => {
  const data = await tinyDataset(path.join(tmp, 'srm'));
  expect(await cli(['extract', '--data', data, '--model', 'tiny-blip', '--phase', 'train'])).toBe(0);
  const srmDir = path.join(tmp, 'srm-run');
  expect(await cli(['train-srm', '--data', data, '--out', srmDir, ...SRM_FLAGS])).toBe(0);
  expect(JSON.parse(fs.readFileSync(path.join(srmDir, 'embeddings.json'), 'utf8'))).toMatchObject({ family: 'blip', model: path.join(assetsDir(), 'tiny-blip'), width: 32 });

  // GTCLS of another BLIP beside LQCLS of tiny-blip.
  const other = await otherBlip();
  const mixed = await tinyDataset(path.join(tmp, 'mixed'));
  expect(await cli(['extract', '--data', mixed, '--model', 'tiny-blip', '--phase', 'train', '--no-gt'])).toBe(0);
  const embedder = await createImageEmbedder(other, { allowRemote: false });
  try {
    await embedder.extractFolder(path.join(task(mixed), 'GT'), path.join(task(mixed), 'GTCLS'));
  } finally {
    await embedder.dispose();
  }
  expect(await cli(['train-srm', '--data', mixed, '--out', path.join(tmp, 'srm-mixed'), ...SRM_FLAGS])).not.toBe(0);
  expect(text()).toMatch(/embeddings from two different VLMs would be mixed: .*LQCLS was made by blip '.*tiny-blip'.*GTCLS by blip '.*blip-other'/);

  // LQCLS of the other BLIP, refined by the SRM trained on tiny-blip's.
  const elsewhere = await tinyDataset(path.join(tmp, 'elsewhere'));
  expect(await cli(['refine', '--data', elsewhere, '--srm', srmDir, '--phase', 'train', '--vlm', other])).not.toBe(0);
  expect(text()).toMatch(/the SRM .*srm-run was trained on embeddings of blip '.*tiny-blip' .*; --vlm .*blip-other is another model/);
  expect(fs.existsSync(path.join(task(elsewhere), 'LQCLS'))).toBe(false); // refused before embedding anything
  // LQCLS made by the other BLIP (by extract), then refined with this SRM: refused by their manifests.
  const otherLq = await tinyDataset(path.join(tmp, 'other-lq'));
  expect(await cli(['extract', '--data', otherLq, '--model', other, '--phase', 'train', '--no-gt'])).toBe(0);
  expect(await cli(['refine', '--data', otherLq, '--srm', srmDir, '--phase', 'train'])).not.toBe(0);
  expect(text()).toMatch(/the SRM .*srm-run was made by blip '.*tiny-blip'.*LQCLS by blip '.*blip-other'/);
  // With the SRM's own VLM, refine embeds the missing LQCLS first and refines them.
  expect(await cli(['refine', '--data', elsewhere, '--srm', srmDir, '--phase', 'train', '--vlm', 'tiny-blip'])).toBe(0);
  expect(fs.readdirSync(path.join(task(elsewhere), 'RestoreCLS')).filter((f) => f.endsWith('.npy')).length).toBe(fs.readdirSync(path.join(task(elsewhere), 'LQ')).length);
});

test("restore refuses a VLM of another family than the run's recorded vlm.model, naming both", async () => {
  const run = path.join(tmp, 'run');
  fs.mkdirSync(path.join(run, 'models'), { recursive: true });
  fs.copyFileSync(path.join(__dirname, 'fixtures', 'paper-e2e', 'unet.safetensors'), path.join(run, 'models', 'best_EMA.safetensors'));
  const setting = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'paper-e2e', 'config.json'), 'utf8')).unet;
  fs.writeFileSync(path.join(run, 'options.yml'), yaml.dump({ vlm: { model: 'tiny-blip' }, network_G: { setting }, datasets: { train: { context: 'LQCLS' } }, srm: { path: null } }));
  const lq = fs.readdirSync(path.join(task(path.join(tmp, 'srm')), 'LQ'))[0]!;
  const code = await cli(['restore', path.join(task(path.join(tmp, 'srm')), 'LQ', lq), '--model', run, '--vlm', 'tiny', '--no-srm', '--steps', '2', '--out', path.join(tmp, 'restored')]);
  expect(code).not.toBe(0);
  expect(text()).toMatch(/--vlm tiny is a CLIP but the model .* was trained on embeddings of the BLIP 'tiny-blip'/);
});

test("train records the embeddings' VLM as vlm.model in the run's options.yml, and refuses a vlm.model that is another", async () => {
  const data = await tinyDataset(path.join(tmp, 'train'));
  expect(await cli(['extract', '--data', data, '--model', 'tiny-blip', '--phase', 'train', '--no-gt'])).toBe(0);
  const options = {
    ...tinyRawOptions(data, path.join(tmp, 'train-run')),
    datasets: { train: { dataroot: data, batch_size: 2, patch_size: 32, n_workers: 0, context: 'LQCLS' } },
    network_G: { setting: { nf: 16, ch_mult: [1, 2], context_dim: 32, use_image_context: true } },
    train: { niter: 1, lr_G: 1e-3, threads: 1 },
  };
  const file = path.join(tmp, 'train.yml');
  fs.writeFileSync(file, yaml.dump(options));
  expect(await cli(['train', '-opt', file])).toBe(0);
  const recorded = yaml.load(fs.readFileSync(path.join(tmp, 'train-run', 'options.yml'), 'utf8')) as { vlm: { model: string } };
  expect(recorded.vlm.model).toBe(path.join(assetsDir(), 'tiny-blip'));

  fs.writeFileSync(file, yaml.dump({ ...options, vlm: { model: 'tiny' }, path: { experiments_root: path.join(tmp, 'train-run-2') } }));
  expect(await cli(['train', '-opt', file])).not.toBe(0);
  expect(text()).toMatch(/vlm.model says its embeddings come from 'tiny', but .*LQCLS .* were made by blip '.*tiny-blip'/);
});
