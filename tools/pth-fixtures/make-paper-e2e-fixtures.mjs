// The fixtures of the trainer's "paper's released model" end-to-end test: random weights in the
// original's file formats, sized for the bundled tiny BLIP (32-wide embeddings), each also in
// safetensors so the test can check that both restore the identical image.
//
//   lastest_EMA.pth / unet.safetensors   ConditionalUNet, nf 16, ch_mult [1, 2], context_dim 32
//                                         (the original's torch.save(state_dict) of base_model.py)
//   best_model.pth / srm.safetensors     SRM (CLSEnhancer) 32 → 64, 1 layer, 8 heads (the original's
//                                         default head count, which a .pth cannot state)
//
// Build core, unet and srm first (npm run build -w @srdiff/core -w @srdiff/unet -w @srdiff/srm);
// needs Debian's python3-torch for the .pth files:
//   node tools/pth-fixtures/make-paper-e2e-fixtures.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const load = (name) => import(pathToFileURL(path.join(root, 'packages', name, 'dist/index.mjs')).href);
const [core, unet, srm] = await Promise.all([load('core'), load('unet'), load('srm')]);
const out = path.join(root, 'apps/trainer/test/fixtures/paper-e2e');
fs.mkdirSync(out, { recursive: true });

await core.selectBackend('cpu');
core.manualSeed(16);
const UNET = { in_nc: 3, out_nc: 3, nf: 16, ch_mult: [1, 2], context_dim: 32, use_degra_context: false, use_image_context: true };
const model = new unet.ConditionalUNet(UNET);
// Every parameter perturbed by N(0, 0.05), and weights the initialisation zeroes (the
// SpatialTransformer's proj_out, as the original's zero_module does) drawn from N(0, 0.3): with
// them at zero the semantic context could not reach the output. A bare state dict, as
// lastest_EMA.pth: no srdiff metadata.
const rng = new core.Rng(16);
const perturbed = (dict) =>
  Object.fromEntries(Object.entries(dict).map(([k, t]) => {
    const scale = k.endsWith('weight') && t.data.every((v) => v === 0) ? 0.3 : 0.05;
    return [k, { shape: t.shape, data: t.data.map((v) => v + scale * rng.normal()) }];
  }));
await core.writeSafetensors(path.join(out, 'unet.safetensors'), perturbed(model.stateDict()));
model.dispose();

const SRM = { inputDim: 32, hiddenDim: 64, numLayers: 1, numHeads: 8 };
const refiner = new srm.SemanticRefinementModule(SRM);
await core.writeSafetensors(path.join(out, 'srm.safetensors'), perturbed(refiner.stateDict()));
refiner.dispose();

const python = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const convert = path.join(root, 'tools/pth-fixtures/safetensors_to_pth.py');
execFileSync(python, [convert, path.join(out, 'unet.safetensors'), path.join(out, 'lastest_EMA.pth')], { stdio: 'inherit' });
execFileSync(python, [convert, path.join(out, 'srm.safetensors'), path.join(out, 'best_model.pth')], { stdio: 'inherit' });
fs.writeFileSync(path.join(out, 'config.json'), `${JSON.stringify({ unet: UNET, srm: SRM }, null, 2)}\n`);
console.log(`wrote ${out}`);
