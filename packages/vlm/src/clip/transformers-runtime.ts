import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The slice of `@xenova/transformers` 2.x that srdiff uses, loaded lazily. The package is ESM-only,
 * so it is imported with a native dynamic `import()` that neither tsup (CJS output) nor jest
 * rewrites into `require()`.
 */

/** transformers.js's tensor (`data` row-major, `dims` its shape). */
export interface TjsTensor {
  type: string;
  data: Float32Array;
  dims: number[];
}

export interface TjsSession {
  inputNames: string[];
  outputNames: string[];
  handler: { dispose(): Promise<void> | void };
  constructor: { create(model: Uint8Array, options: { executionProviders: string[] }): Promise<TjsSession> };
}

export interface TjsModel {
  config: Record<string, unknown>;
  session: TjsSession;
  (inputs: Record<string, TjsTensor>): Promise<Record<string, TjsTensor>>;
  dispose(): Promise<unknown>;
}

export interface TjsRawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export interface TjsProcessor {
  feature_extractor: { config: Record<string, unknown> };
  (images: TjsRawImage[]): Promise<{ pixel_values: TjsTensor }>;
}

export interface TjsEnv {
  allowRemoteModels: boolean;
  allowLocalModels: boolean;
  localModelPath: string;
  cacheDir: string | null;
  remoteHost: string;
  __dirname: string;
  version: string;
}

export interface PretrainedOptions {
  quantized?: boolean;
  local_files_only?: boolean;
  revision?: string;
  cache_dir?: string;
}

export interface TransformersModule {
  env: TjsEnv;
  AutoProcessor: { from_pretrained(id: string, options?: PretrainedOptions): Promise<TjsProcessor> };
  CLIPVisionModelWithProjection: { from_pretrained(id: string, options?: PretrainedOptions): Promise<TjsModel> };
  RawImage: new (data: Uint8Array, width: number, height: number, channels: number) => TjsRawImage;
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => TjsTensor;
}

export interface TransformersHub {
  getModelFile(id: string, file: string, fatal: boolean, options: PretrainedOptions): Promise<Uint8Array>;
}

// A Function-built import() is invisible to bundlers and to jest's CJS transform. The unique
// comment keeps V8 from reusing a cached compilation of the same source, whose dynamic-import
// context would belong to whichever module (e.g. an earlier jest test file) compiled it first.
const importEsm = new Function('s', `return import(s); // ${Date.now()}-${Math.random()}`) as (specifier: string) => Promise<unknown>;

let runtime: Promise<TransformersModule> | undefined;

export function loadTransformers(): Promise<TransformersModule> {
  runtime ??= importEsm('@xenova/transformers').then(
    (m) => m as TransformersModule,
    (err: Error) => {
      runtime = undefined;
      throw new Error(`@srdiff/vlm: cannot load @xenova/transformers (${err.message}). Install it with \`npm install @xenova/transformers@2\`.`);
    },
  );
  return runtime;
}

/** transformers.js's hub helpers (not re-exported by its index), as the same module instance. */
export async function loadTransformersHub(): Promise<TransformersHub> {
  const { env } = await loadTransformers();
  return (await importEsm(pathToFileURL(path.join(env.__dirname, 'src', 'utils', 'hub.js')).href)) as TransformersHub;
}

let envLock: Promise<unknown> = Promise.resolve();

/**
 * transformers.js keeps its settings in one global `env`; loading two models at once with
 * different settings would race. Loads are serialised and the previous settings restored after.
 */
export async function withTransformersEnv<T>(settings: Partial<TjsEnv>, fn: (t: TransformersModule) => Promise<T>): Promise<T> {
  const t = await loadTransformers();
  const run = envLock.then(async () => {
    const saved: Partial<TjsEnv> = {};
    for (const key of Object.keys(settings) as (keyof TjsEnv)[]) (saved as Record<string, unknown>)[key] = t.env[key];
    Object.assign(t.env, settings);
    try {
      return await fn(t);
    } finally {
      Object.assign(t.env, saved);
    }
  });
  envLock = run.catch(() => undefined);
  return run;
}

