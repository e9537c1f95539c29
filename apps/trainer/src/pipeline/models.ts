import fs from 'node:fs';
import path from 'node:path';
import { resolveUnetConfig, type UNetConfig } from '@srdiff/unet';

/** `--model tiny`: the bundled random 16-wide CLIP (offline demos and tests only). */
export const TINY_CLIP_ALIAS = 'tiny';

/** `--vlm tiny-blip`: the bundled random 32-wide BLIP, the paper's VLM at a tiny size (offline demos and tests only). */
export const TINY_BLIP_ALIAS = 'tiny-blip';

/** The folder of bundled assets, from the sources (`src/…`) and from the build (`dist/…`). */
export function assetsDir(): string {
  for (const candidate of [path.join(__dirname, '..', 'assets'), path.join(__dirname, '..', '..', 'assets')]) {
    if (fs.existsSync(path.join(candidate, 'tiny-clip'))) return candidate;
  }
  throw new Error(`@srdiff/trainer: bundled assets not found next to ${__dirname}`);
}

/**
 * Resolves a VLM flag's value: the `tiny` alias to the bundled folder, anything else unchanged.
 * `flag` is the command's name for it (`--model` for extract and demo, `--vlm` for restore), so
 * the hint names the flag the user actually types.
 */
export function resolveVlmModel(model: string, flag = '--model'): { model: string; note?: string } {
  if (model === TINY_CLIP_ALIAS) {
    return {
      model: path.join(assetsDir(), 'tiny-clip'),
      note: `using the bundled tiny random CLIP (16-wide, meaningless embeddings: for demos and tests; pass ${flag} Xenova/clip-vit-base-patch32 for real use)`,
    };
  }
  if (model === TINY_BLIP_ALIAS) {
    return {
      model: path.join(assetsDir(), 'tiny-blip'),
      note: `using the bundled tiny random BLIP (32-wide, meaningless embeddings: for demos and tests; pass ${flag} Salesforce/blip-image-captioning-base for real use)`,
    };
  }
  return { model };
}

/** Where the bundled demo UNet lives (weights + the recipe that made them). */
export const DEMO_UNET_ASSET = 'demo-unet';

/** `recipe.json` beside the bundled demo weights: what they are and how they were made. */
export interface DemoUnetRecipe {
  config: UNetConfig;
  sde: { max_sigma: number; T: number; eps: number; schedule: string };
  steps: number;
  description: string;
}

/**
 * The bundled demo UNet when it fits `config` and the demo's `sde` exactly, otherwise why not
 * (a real CLIP changes `context_dim`, for one): the demo then starts from random weights.
 */
export async function bundledDemoUnet(config: UNetConfig, sde: DemoUnetRecipe['sde']): Promise<{ file?: string; description?: string; reason?: string }> {
  const dir = path.join(assetsDir(), DEMO_UNET_ASSET);
  const file = path.join(dir, 'model.safetensors');
  const recipeFile = path.join(dir, 'recipe.json');
  if (!fs.existsSync(file) || !fs.existsSync(recipeFile)) return { reason: `no bundled weights in ${dir}` };
  let recipe: DemoUnetRecipe;
  try {
    recipe = JSON.parse(await fs.promises.readFile(recipeFile, 'utf8')) as DemoUnetRecipe;
  } catch (err) {
    return { reason: `${recipeFile}: ${(err as Error).message}` };
  }
  const wanted = JSON.stringify(resolveUnetConfig(config));
  const bundled = JSON.stringify(resolveUnetConfig(recipe.config));
  if (wanted !== bundled) return { reason: `the bundled weights are for ${bundled}, this run needs ${wanted}` };
  const sdeKeys = ['max_sigma', 'T', 'eps', 'schedule'] as const;
  const differs = sdeKeys.filter((k) => recipe.sde[k] !== sde[k]);
  if (differs.length) return { reason: `the bundled weights were trained with a different SDE (${differs.map((k) => `${k} ${recipe.sde[k]} vs ${sde[k]}`).join(', ')})` };
  return { file, description: recipe.description };
}
