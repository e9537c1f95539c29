import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ResolvedClipOptions } from '../options';

/**
 * Where a model comes from (a local folder in the Hugging Face layout, or a hub id) and where
 * transformers.js looks for its files. transformers.js 4.x loads an absolute folder path as it
 * is, and looks up a hub id first in its cache (`cacheDir/<id>/<file>`), then under
 * `localModelPath/<id>/<file>`, then on the Hub.
 */
export interface ModelLocation {
  kind: 'folder' | 'hub';
  /** The id recorded in manifests: the hub id, or the folder's absolute path. */
  id: string;
  /** The id handed to `from_pretrained`: the hub id, or the folder's absolute path. */
  loadId: string;
  /** `env.localModelPath` during the load (ends with a separator); hub ids are looked up under it. */
  localModelPath: string;
  /** Absolute folder of a local model. */
  folder?: string;
}

export class ModelNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelNotFoundError';
  }
}

export function onnxFileName(quantized: boolean): string {
  return `onnx/vision_model${quantized ? '_quantized' : ''}.onnx`;
}

export function requiredModelFiles(quantized: boolean): string[] {
  return ['config.json', 'preprocessor_config.json', onnxFileName(quantized)];
}

function looksLikePath(model: string): boolean {
  return /^(\.{1,2}([\\/]|$)|[\\/]|~|[A-Za-z]:[\\/])/.test(model) || model.includes('\\');
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

function withSep(dir: string): string {
  return dir.endsWith(path.sep) ? dir : dir + path.sep;
}

/** A model string is a local folder when it exists as a directory or is written as a path; otherwise a hub id. */
export function resolveModelLocation(options: ResolvedClipOptions, defaultLocalModelPath: string): ModelLocation {
  const localModelPath = withSep(path.resolve(expandHome(options.localModelPath ?? defaultLocalModelPath)));
  const candidate = path.resolve(expandHome(options.model));
  const isDir = fs.existsSync(candidate) && fs.statSync(candidate).isDirectory();
  if (isDir || looksLikePath(options.model)) {
    if (!isDir) {
      throw new ModelNotFoundError(
        `@srdiff/vlm: model folder ${candidate} does not exist. Pass a folder holding ${requiredModelFiles(options.quantized).join(', ')} ` +
          `(e.g. downloaded with \`huggingface-cli download ${'Xenova/clip-vit-base-patch32'} --local-dir <folder>\`), or a hub id such as 'Xenova/clip-vit-base-patch32'.`,
      );
    }
    return { kind: 'folder', id: candidate, loadId: candidate, localModelPath, folder: candidate };
  }
  return { kind: 'hub', id: options.model, loadId: options.model, localModelPath };
}

/** Every path transformers.js checks for `file`, in its order (cache, local folder). */
export function candidatePaths(location: ModelLocation, file: string, options: ResolvedClipOptions, defaultCacheDir: string | null): string[] {
  if (location.kind === 'folder') return [path.join(location.folder!, file)];
  const paths: string[] = [];
  const cacheDir = options.cacheDir ?? defaultCacheDir;
  if (cacheDir) {
    const key = options.revision === 'main' ? path.join(location.id, file) : path.join(location.id, options.revision, file);
    paths.push(path.join(path.resolve(expandHome(cacheDir)), key));
  }
  paths.push(path.join(location.localModelPath, location.loadId, file));
  return paths;
}

/** The first local copy of `file` in transformers.js's lookup order, if any. */
export function findLocalFile(location: ModelLocation, file: string, options: ResolvedClipOptions, defaultCacheDir: string | null): string | undefined {
  return candidatePaths(location, file, options, defaultCacheDir).find((p) => fs.existsSync(p));
}

function howToProvide(location: ModelLocation, options: ResolvedClipOptions): string {
  const hubId = location.kind === 'hub' ? location.id : 'Xenova/clip-vit-base-patch32';
  const folderName = hubId.split('/').pop();
  return (
    `To provide it, download it once while online, e.g.\n` +
    `  huggingface-cli download ${hubId} --local-dir ./models/${folderName}\n` +
    `  (or: git clone https://huggingface.co/${hubId} ./models/${folderName})\n` +
    `and pass model: './models/${folderName}'` +
    (location.kind === 'hub' && !options.allowRemote ? `, or set allowRemote: true to let transformers.js download it into its cache.` : '.') +
    `\nThe folder must hold ${requiredModelFiles(options.quantized).join(', ')}` +
    (options.quantized ? '.' : ' (fp32; pass quantized: true to use onnx/vision_model_quantized.onnx instead).')
  );
}

/** The missing files and where each was looked for; empty when everything is present locally. */
export function findMissingFiles(location: ModelLocation, options: ResolvedClipOptions, defaultCacheDir: string | null): { file: string; tried: string[] }[] {
  return requiredModelFiles(options.quantized)
    .map((file) => ({ file, tried: candidatePaths(location, file, options, defaultCacheDir) }))
    .filter(({ tried }) => !tried.some((p) => fs.existsSync(p)));
}

export function modelNotFoundMessage(location: ModelLocation, options: ResolvedClipOptions, missing: { file: string; tried: string[] }[], cause?: string): string {
  const what = location.kind === 'folder' ? `model folder ${location.folder}` : `CLIP model '${location.id}'${options.revision !== 'main' ? ` (revision ${options.revision})` : ''}`;
  const why = cause ? ` could not be loaded (${cause})` : location.kind === 'hub' ? ' is not available offline (allowRemote: false)' : ' is incomplete';
  const lines = missing.map(({ file, tried }) => `  ${file}: looked in ${tried.join(', ')}`);
  const otherOnnx = location.folder && fs.existsSync(path.join(location.folder, onnxFileName(!options.quantized)));
  const hint = otherOnnx && missing.some((m) => m.file.startsWith('onnx/')) ? `\nThe folder has ${onnxFileName(!options.quantized)}: pass quantized: ${!options.quantized}.` : '';
  return `@srdiff/vlm: ${what}${why}.\nMissing:\n${lines.join('\n')}${hint}\n${howToProvide(location, options)}`;
}
