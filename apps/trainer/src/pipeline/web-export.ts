import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readStateDictFile, serializeSafetensors } from '@srdiff/core';
import { exportSrmOnnx, loadSrm } from '@srdiff/srm';
import { resolveUnetConfig, unetToOnnxBytes, type UNetConfig } from '@srdiff/unet';
import { ModelFiles, type VlmFamily } from '@srdiff/vlm';
import { defaultSdeSection } from '../options/package-options';
import type { TrainOptions } from '../options/train-options';
import { resolveUnetModel } from './resolve-model';
import { resolveSrmFile } from './srm-stage';
import { checkVlmAgainstRecord, describeVlm, openVlm, readSrmEmbeddingOrigin } from './vlm';
import { resolveVlmModel } from './models';
import { WEB_MANIFEST_FILE, WEB_MANIFEST_FORMAT, type WebManifest } from './web-manifest';

export { WEB_MANIFEST_FILE, WEB_MANIFEST_FORMAT, type WebManifest } from './web-manifest';

/**
 * `srdiff export --web OUT/`: everything the web app (apps/web) loads to restore in a page, in one
 * folder it can fetch or the user can pick — the UNet (an ONNX graph, or its safetensors weights for
 * the page to build the graph), the SRM's graph, the VLM's files in the layout the page's
 * embedders read, and `manifest.json` with the network config, the SDE and how the context is made.
 */

export interface WebExportOptions {
  model: string;
  weights?: 'EMA' | 'G';
  vlm?: string;
  srm?: string;
  noSrm?: boolean;
  maxSigma?: number;
  steps?: number;
  unetFormat?: 'onnx' | 'safetensors';
  description?: string;
  offline?: boolean;
  log?: (line: string) => void;
}

const VLM_FOLDER = 'vlm';
const CLIP_FILES = ['config.json', 'preprocessor_config.json', 'onnx/vision_model.onnx'];
const BLIP_FILES = ['config.json', 'preprocessor_config.json'];
const BLIP_OPTIONAL_FILES = ['tokenizer_config.json', 'special_tokens_map.json'];

/** Writes the export into `outDir` (a new folder, or a previous web export, replaced whole); returns the manifest. */
export async function exportWeb(outDir: string, options: WebExportOptions): Promise<WebManifest> {
  checkTarget(outDir);
  const model = await resolveUnetModel(options.model, undefined, options.weights ?? 'EMA');
  const run = model.runOptions as TrainOptions | undefined;
  const sdeSection = { ...(run?.sde ?? defaultSdeSection()), ...(options.maxSigma !== undefined ? { max_sigma: options.maxSigma } : {}) };
  const steps = options.steps ?? sdeSection.sample_T ?? sdeSection.T;
  const config = resolveUnetConfig(model.config);
  const staging = `${outDir.replace(/[\\/]+$/, '')}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  try {
    const unetFormat = options.unetFormat ?? 'onnx';
    const unetFile = unetFormat === 'onnx' ? 'unet.onnx' : 'unet.safetensors';
    const unetBytes = unetFormat === 'onnx' ? unetToOnnxBytes(model.weights, config) : serializeSafetensors(model.weights, { format: 'pt' });
    fs.writeFileSync(path.join(staging, unetFile), unetBytes);
    let vlm: WebManifest['vlm'] = null;
    let srm: WebManifest['srm'] = null;
    if (config.use_image_context) {
      const context = await exportContext(staging, model.source, run, config, options);
      vlm = context.vlm;
      srm = context.srm;
    }
    const manifest: WebManifest = {
      format: WEB_MANIFEST_FORMAT,
      description: options.description ?? `ConditionalUNet nf ${config.nf} from ${path.basename(model.source)}`,
      source: model.source,
      unet: { file: unetFile, format: unetFormat, config },
      sde: { max_sigma: sdeSection.max_sigma, T: sdeSection.T, eps: sdeSection.eps, schedule: sdeSection.schedule, sampling_mode: sdeSection.sampling_mode ?? 'posterior', steps },
      vlm,
      srm,
      files: listFiles(staging),
    };
    fs.writeFileSync(path.join(staging, WEB_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    replaceFolder(staging, outDir);
    return manifest;
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

/** OUT must be new, empty, or a previous web export: nothing else is ever overwritten. */
function checkTarget(outDir: string): void {
  if (!fs.existsSync(outDir)) return;
  if (!fs.statSync(outDir).isDirectory()) throw new Error(`--web ${outDir} is a file; give a folder (new, or a previous srdiff export --web)`);
  const entries = fs.readdirSync(outDir);
  if (entries.length === 0) return;
  const manifest = path.join(outDir, WEB_MANIFEST_FILE);
  let format: unknown;
  try {
    format = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { format?: unknown }).format;
  } catch {
    format = undefined;
  }
  if (format !== WEB_MANIFEST_FORMAT) throw new Error(`--web ${outDir} holds other files (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); give a new folder or a previous srdiff export --web`);
}

/** Moves the finished staging folder into place; a previous export there is removed only after. */
function replaceFolder(staging: string, outDir: string): void {
  const old = fs.existsSync(outDir) ? `${outDir.replace(/[\\/]+$/, '')}.old-${process.pid}` : undefined;
  if (old) fs.renameSync(outDir, old);
  try {
    fs.renameSync(staging, outDir);
  } catch (err) {
    if (old) fs.renameSync(old, outDir);
    throw err;
  }
  if (old) fs.rmSync(old, { recursive: true, force: true });
}

function listFiles(dir: string, prefix = ''): WebManifest['files'] {
  const out: WebManifest['files'] = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) Object.assign(out, listFiles(full, rel));
    else {
      const bytes = fs.readFileSync(full);
      out[rel] = { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
  }
  return out;
}

/** The VLM's files and the SRM's graph, chosen as `srdiff restore` chooses them (flags, then the run's record). */
async function exportContext(
  staging: string,
  source: string,
  run: TrainOptions | undefined,
  config: UNetConfig,
  options: WebExportOptions,
): Promise<{ vlm: NonNullable<WebManifest['vlm']>; srm: WebManifest['srm'] }> {
  const log = options.log;
  const vlmId = options.vlm ?? run?.vlm?.model ?? undefined;
  if (!vlmId) throw new Error('this model is guided by a VLM embedding: pass --vlm <the model its embeddings were extracted with>');
  const trainedOnRefined = (run?.datasets?.train?.context ?? 'RestoreCLS') === 'RestoreCLS';
  const srmPath = options.noSrm ? undefined : (options.srm ?? run?.srm?.path ?? undefined);
  if (trainedOnRefined && !srmPath && !options.noSrm) throw new Error('this model was trained on SRM-refined embeddings (RestoreCLS): pass --srm <the SRM used by srdiff refine>, or --no-srm');
  await checkVlmAgainstRecord(vlmId, run?.vlm?.model, `the model ${source}`, { offline: options.offline, log });
  if (srmPath) await checkVlmAgainstRecord(vlmId, readSrmEmbeddingOrigin(srmPath)?.model, `the SRM ${srmPath}`, { offline: options.offline, log });
  // Opening it checks that it loads and gives its width; the page's embedders read the same files.
  const embedder = await openVlm(vlmId, { offline: options.offline, flag: '--vlm', log });
  const width = embedder.width;
  const family = embedder.family as VlmFamily;
  log?.(`VLM: ${describeVlm(embedder)}`);
  await embedder.dispose();
  // openVlm chose the family from the model's config.json (detectVlmFamily); the files to copy follow it.
  const { model: located } = resolveVlmModel(vlmId, '--vlm');
  await copyVlmFiles(located, family, path.join(staging, VLM_FOLDER), options.offline ?? false);
  let srm: WebManifest['srm'] = null;
  if (srmPath) {
    const loaded = await loadSrm(resolveSrmFile(srmPath));
    try {
      if (loaded.config.inputDim !== width) throw new Error(`the SRM takes ${loaded.config.inputDim}-wide embeddings but ${vlmId} produces ${width}; use the VLM the SRM was trained with`);
      await exportSrmOnnx(loaded.stateDict(), loaded.config, path.join(staging, 'srm.onnx'));
    } finally {
      loaded.dispose();
    }
    srm = { file: 'srm.onnx' };
  }
  if (width !== config.context_dim) throw new Error(`the VLM gives ${width}-wide embeddings but the UNet expects context_dim ${config.context_dim}`);
  return { vlm: { family, id: vlmId, folder: VLM_FOLDER, width }, srm };
}

/** The files the page's CLIP (transformers.js layout) or BLIP (safetensors weights) embedder reads. */
async function copyVlmFiles(model: string, family: VlmFamily, dir: string, offline: boolean): Promise<void> {
  const files = new ModelFiles(model, { allowRemote: !offline });
  const copy = async (name: string, required: boolean) => {
    const found = await files.get(name);
    if (!found) {
      if (required) throw new Error(`--vlm ${model}: no ${name} (looked in ${files.candidates(name).join(', ')})`);
      return false;
    }
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.copyFileSync(found, path.join(dir, name));
    return true;
  };
  if (family === 'clip') {
    for (const name of CLIP_FILES) await copy(name, true);
    return;
  }
  for (const name of BLIP_FILES) await copy(name, true);
  for (const name of BLIP_OPTIONAL_FILES) await copy(name, false);
  if (!(await copy('vocab.txt', false)) && !(await copy('tokenizer.json', false))) throw new Error(`--vlm ${model}: no tokenizer vocabulary (vocab.txt or tokenizer.json)`);
  if (await copy('model.safetensors', false)) return;
  // A page reads safetensors only: a pytorch_model.bin (or shards) becomes one model.safetensors.
  const bin = await files.get('pytorch_model.bin');
  if (!bin) throw new Error(`--vlm ${model}: no model.safetensors or pytorch_model.bin (sharded checkpoints: convert them to one model.safetensors first)`);
  fs.writeFileSync(path.join(dir, 'model.safetensors'), serializeSafetensors((await readStateDictFile(bin)).tensors, { format: 'pt' }));
}
