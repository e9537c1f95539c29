import fs from 'node:fs';
import path from 'node:path';

/** `--model tiny`: the bundled random 16-wide CLIP (offline demos and tests only). */
export const TINY_CLIP_ALIAS = 'tiny';

/** The folder of bundled assets, from the sources (`src/…`) and from the build (`dist/…`). */
export function assetsDir(): string {
  for (const candidate of [path.join(__dirname, '..', 'assets'), path.join(__dirname, '..', '..', 'assets')]) {
    if (fs.existsSync(path.join(candidate, 'tiny-clip'))) return candidate;
  }
  throw new Error(`@srdiff/trainer: bundled assets not found next to ${__dirname}`);
}

/** Resolves a `--model` value: the `tiny` alias to the bundled folder, anything else unchanged. */
export function resolveVlmModel(model: string): { model: string; note?: string } {
  if (model === TINY_CLIP_ALIAS) {
    return {
      model: path.join(assetsDir(), 'tiny-clip'),
      note: 'using the bundled tiny random CLIP (16-wide, meaningless embeddings: for demos and tests; pass --model Xenova/clip-vit-base-patch32 for real use)',
    };
  }
  return { model };
}
