import type * as Transformers from '@huggingface/transformers';

/**
 * `@huggingface/transformers` (transformers.js 4.x, the maintained successor of
 * `@xenova/transformers`), loaded lazily: it is large, and only model loading needs it. It ships
 * ESM and CommonJS builds for Node, so a plain dynamic `import()` works from both of ours. It runs
 * on the same onnxruntime-node (1.30) and sharp as the rest of srdiff, so one copy of each is in
 * the process.
 */
export type TransformersModule = typeof Transformers;
export type TjsEnv = TransformersModule['env'];

let runtime: Promise<TransformersModule> | undefined;

export function loadTransformers(): Promise<TransformersModule> {
  runtime ??= import('@huggingface/transformers').then(
    (m) => m as TransformersModule,
    (err: Error) => {
      runtime = undefined;
      throw new Error(`@srdiff/vlm: cannot load @huggingface/transformers (${err.message}). Install it with \`npm install @huggingface/transformers@4\`.`);
    },
  );
  return runtime;
}

type EnvSettings = Partial<Pick<TjsEnv, 'allowRemoteModels' | 'allowLocalModels' | 'localModelPath' | 'cacheDir' | 'useBrowserCache' | 'fetch'>>;

let envLock: Promise<unknown> = Promise.resolve();

/**
 * transformers.js keeps its settings in one global `env`; loading two models at once with
 * different settings would race. Loads are serialised and the previous settings restored after.
 */
export async function withTransformersEnv<T>(settings: EnvSettings, fn: (t: TransformersModule) => Promise<T>): Promise<T> {
  const t = await loadTransformers();
  const run = envLock.then(async () => {
    const keys = Object.keys(settings) as (keyof EnvSettings)[];
    const saved = Object.fromEntries(keys.map((key) => [key, t.env[key]]));
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
