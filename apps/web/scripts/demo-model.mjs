// The bundled demo model as the web app ships it, made from the trainer's assets (never a copy of
// their numbers): apps/trainer/assets/demo-unet (weights + recipe.json: config, SDE, what it is)
// and the tiny CLIP. A run folder is laid out from the recipe so that `srdiff export --web` and
// `srdiff restore` (the browser test's reference) both read the model the same way.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const WORKSPACE = path.resolve(here, '../../..');
export const SRDIFF_BIN = path.join(WORKSPACE, 'apps/trainer/bin/srdiff.js');
export const DEMO_ASSET = path.join(WORKSPACE, 'apps/trainer/assets/demo-unet');

export function readRecipe() {
  const file = path.join(DEMO_ASSET, 'recipe.json');
  const recipe = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const key of ['config', 'sde', 'description']) if (!recipe[key]) throw new Error(`${file}: no "${key}"`);
  return recipe;
}

/** What the page says the demo model is, from the recipe: plainly, that it is a demo and not the paper's model. */
export function demoDescription(recipe) {
  const c = recipe.config;
  return (
    `The bundled demo model — not the paper's: ${recipe.description} (ConditionalUNet nf ${c.nf}, ch_mult [${c.ch_mult.join(', ')}]), ` +
    `guided by a tiny CLIP with random weights whose ${c.context_dim}-wide embeddings carry no meaning, with an IR-SDE of T ${recipe.sde.T} (the paper's: 100). ` +
    'It shows the whole pipeline running in your browser; it does not restore photos well. ' +
    'For real restoration, load a model exported with `srdiff export --web` from a trained run.'
  );
}

/** A run folder for the demo weights: models/last_EMA.safetensors and options.yml (JSON, which YAML reads) from the recipe. */
export function makeDemoRun(dir) {
  const recipe = readRecipe();
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  fs.copyFileSync(path.join(DEMO_ASSET, 'model.safetensors'), path.join(dir, 'models', 'last_EMA.safetensors'));
  const options = {
    name: 'bundled-demo',
    sde: { ...recipe.sde, sample_T: null, sampling_mode: 'posterior' },
    network_G: { setting: recipe.config },
    // The SRM the demo weights were trained with is not bundled: the context is the raw CLIP embedding.
    datasets: { train: { context: 'LQCLS' } },
    srm: { path: null },
    vlm: { model: 'tiny' },
  };
  fs.writeFileSync(path.join(dir, 'options.yml'), `${JSON.stringify(options, null, 2)}\n`);
  return { dir, recipe };
}

export function srdiff(args, options = {}) {
  return execFileSync(process.execPath, [SRDIFF_BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', options.quiet ? 'pipe' : 'inherit'], ...options });
}

/** `srdiff export --web OUT` of the demo run (the UNet as weights: the page builds its graph). */
export function exportDemo(runDir, outDir, recipe, unetFormat = 'safetensors') {
  return srdiff(['export', '--web', outDir, '--model', runDir, '--vlm', 'tiny', '--no-srm', '--unet-format', unetFormat, '--description', demoDescription(recipe), '--offline']);
}
