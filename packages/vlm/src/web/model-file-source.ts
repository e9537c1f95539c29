/**
 * Where a page finds a model's files (`config.json`, `onnx/vision_model.onnx`, …): one async
 * lookup by file name, `undefined` when the model has no such file. The same model folder can be
 * served at a URL or picked by the user as local files.
 */
export type ModelFileSource = (name: string) => Promise<Uint8Array | undefined>;

/** Files under a URL prefix (`https://…/tiny-clip/` or a path of the page's origin), fetched; a 404 is a missing file. */
export function urlFileSource(baseUrl: string, fetcher: typeof fetch = fetch): ModelFileSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return async (name) => {
    const response = await fetcher(`${base}${name}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`${base}${name}: HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  };
}

/** Files already in memory (e.g. a folder the user picked, by relative path). */
export function memoryFileSource(files: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>): ModelFileSource {
  const get = files instanceof Map ? (n: string) => files.get(n) : (n: string) => (files as Record<string, Uint8Array>)[n];
  return async (name) => get(name);
}

/** A JSON object file; errors name the model and the file. */
export async function readJsonFile(files: ModelFileSource, name: string, model: string): Promise<Record<string, unknown> | undefined> {
  const bytes = await files(name);
  if (!bytes) return undefined;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${model}/${name}: cannot read (${(err as Error).message})`, { cause: err });
  }
}

export async function requireFile<T>(found: Promise<T | undefined>, model: string, name: string): Promise<T> {
  const value = await found;
  if (value === undefined) throw new Error(`${model}: the model has no ${name}`);
  return value;
}
