import { parseSafetensors, type OrtSessionOptions } from '@srdiff/core';
import { IRSDE, type Denoiser } from '@srdiff/sde';
import { OnnxSrm } from '@srdiff/srm';
import { OnnxUNet, resolveUnetConfig, unetToOnnxBytes } from '@srdiff/unet';
import { createWebBlipEmbedder, createWebClipEmbedder, type ImageEmbedder, type RgbImage } from '@srdiff/vlm';
import type { ModelFolder } from './file-source';
import { MANIFEST_FILE, parseManifest, type WebManifest } from './manifest';

/** An exported model, open in the page: the UNet denoiser, its IR-SDE, and the semantic context. */
export interface LoadedModel {
  manifest: WebManifest;
  label: string;
  /** The ORT execution providers the UNet session runs on (first = used). */
  providers: readonly string[];
  threads: number;
  /** How the UNet graph came to be: loaded, or built in the page from the weights. */
  graph: 'loaded' | 'built from weights';
  denoiser: Denoiser;
  /** The IR-SDE sampled in `steps` steps (the network time is scaled by T/steps, as in Node). */
  sde(steps: number): IRSDE;
  /** The context vector for an image: VLM embedding, refined by the SRM when the model has one. */
  context(image: RgbImage): Promise<Float32Array | undefined>;
  dispose(): Promise<void>;
}

export interface LoadOptions {
  session?: OrtSessionOptions;
  onStatus?: (text: string) => void;
}

async function required(folder: ModelFolder, name: string): Promise<Uint8Array> {
  const bytes = await folder.read(name);
  if (!bytes) throw new Error(`${folder.label}: ${name} is missing (the manifest lists it)`);
  return bytes;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A file of the model, checked against the size and SHA-256 the manifest records. */
async function verified(folder: ModelFolder, manifest: WebManifest, name: string): Promise<Uint8Array> {
  const bytes = await required(folder, name);
  const want = manifest.files[name];
  if (!want) throw new Error(`${folder.label}: ${name} is not in the manifest's file list`);
  if (bytes.byteLength !== want.bytes || (await sha256Hex(bytes)) !== want.sha256) {
    throw new Error(`${folder.label}: ${name} differs from what the manifest records (${want.bytes} bytes, sha256 ${want.sha256.slice(0, 12)}…): a partial or mixed copy?`);
  }
  return bytes;
}

/** A model folder whose files are each checked once, on first read (the VLM reads its own). */
function verifiedFolder(folder: ModelFolder, manifest: WebManifest, sub: string): ModelFolder {
  return { label: `${folder.label}/${sub}`, read: (name) => (manifest.files[`${sub}/${name}`] ? verified(folder, manifest, `${sub}/${name}`) : Promise.resolve(undefined)) };
}

export async function loadModel(folder: ModelFolder, options: LoadOptions = {}): Promise<LoadedModel> {
  const status = options.onStatus ?? (() => undefined);
  status('reading manifest.json');
  const manifest = parseManifest(new TextDecoder().decode(await required(folder, MANIFEST_FILE)), `${folder.label} ${MANIFEST_FILE}`);
  const config = resolveUnetConfig(manifest.unet.config);
  status(`loading the UNet (${manifest.unet.file})`);
  const unetBytes = await verified(folder, manifest, manifest.unet.file);
  // A safetensors UNet is turned into its ONNX graph here, by the same builder as `srdiff export`.
  const graph = manifest.unet.format === 'onnx' ? unetBytes : unetToOnnxBytes(parseSafetensors(unetBytes, manifest.unet.file).tensors, config);
  const unet = await OnnxUNet.create(graph, options.session);
  const closers: Array<() => Promise<void>> = [() => unet.dispose()];
  try {
    let embedder: ImageEmbedder | undefined;
    let srm: OnnxSrm | undefined;
    if (manifest.vlm) {
      status(`loading the VLM (${manifest.vlm.family} ${manifest.vlm.id})`);
      const files = verifiedFolder(folder, manifest, manifest.vlm.folder).read;
      embedder = manifest.vlm.family === 'clip' ? await createWebClipEmbedder({ files, id: manifest.vlm.id }) : await createWebBlipEmbedder({ files, id: manifest.vlm.id, session: options.session });
      closers.push(() => embedder!.dispose());
      if (embedder.width !== config.context_dim) throw new Error(`the VLM gives ${embedder.width}-wide embeddings but the UNet expects context_dim ${config.context_dim}`);
    }
    if (manifest.srm) {
      status(`loading the SRM (${manifest.srm.file})`);
      srm = await OnnxSrm.create(await verified(folder, manifest, manifest.srm.file), options.session);
      closers.push(() => srm!.dispose());
    }
    const full = new IRSDE({ maxSigma: manifest.sde.max_sigma, T: manifest.sde.T, eps: manifest.sde.eps, schedule: manifest.sde.schedule as 'cosine' });
    return {
      manifest,
      label: folder.label,
      providers: unet.handle.executionProviders,
      threads: unet.handle.options.threads,
      graph: manifest.unet.format === 'onnx' ? 'loaded' : 'built from weights',
      denoiser: unet.denoiser(),
      sde: (steps) => full.withSampleSteps(steps),
      async context(image) {
        if (!embedder) return undefined;
        const [embedding] = await embedder.embed([image]);
        checkFinite(embedding!, `the VLM ${manifest.vlm!.id}`);
        if (!srm) return embedding;
        const refined = await srm.refine({ shape: [1, embedding!.length], data: embedding! });
        checkFinite(refined.data, `the SRM ${manifest.srm!.file}`);
        return refined.data;
      },
      async dispose() {
        for (const close of closers.reverse()) await close();
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw err;
  }
}

function checkFinite(v: Float32Array, source: string): void {
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new Error(`the semantic embedding from ${source} is not finite (${v[bad]} at index ${bad}); the restored image would be black — check that model's weights`);
}
