import type { ModelFileSource } from '@srdiff/vlm';

/** A model folder the page reads: served at a URL, or picked by the user (nothing is uploaded). */
export type ModelLocation = { kind: 'url'; url: string } | { kind: 'files'; files: { path: string; bytes: Uint8Array }[] };

export interface ModelFolder {
  /** Names the folder in messages. */
  label: string;
  read: ModelFileSource;
}

/** The folder of a manifest URL (`…/demo/manifest.json` or `…/demo/`), fetched file by file. */
export function urlFolder(url: string, base: string): ModelFolder {
  const manifestUrl = new URL(url.endsWith('/') ? `${url}manifest.json` : url, base);
  const folder = new URL('.', manifestUrl);
  return {
    label: manifestUrl.href,
    read: async (name) => {
      const response = await fetch(new URL(name, folder));
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`${new URL(name, folder).href}: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

/**
 * Files the user picked: a folder (paths relative to it, `webkitRelativePath`) or the files
 * themselves. The folder is where manifest.json is.
 */
export function pickedFolder(files: { path: string; bytes: Uint8Array }[]): ModelFolder {
  const manifest = files.map((f) => f.path).filter((p) => p === 'manifest.json' || p.endsWith('/manifest.json')).sort((a, b) => a.length - b.length)[0];
  if (!manifest) throw new Error(`no manifest.json among the ${files.length} picked file(s): pick the folder srdiff export --web wrote`);
  const prefix = manifest.slice(0, manifest.length - 'manifest.json'.length);
  const byName = new Map(files.filter((f) => f.path.startsWith(prefix)).map((f) => [f.path.slice(prefix.length), f.bytes]));
  return { label: prefix ? prefix.replace(/\/$/, '') : 'picked files', read: async (name) => byName.get(name) };
}

export function openFolder(location: ModelLocation, base: string): ModelFolder {
  return location.kind === 'url' ? urlFolder(location.url, base) : pickedFolder(location.files);
}

/** The files under `sub/` of a folder. */
export function subFolder(folder: ModelFolder, sub: string): ModelFileSource {
  const prefix = sub.replace(/\/?$/, '/');
  return (name) => folder.read(`${prefix}${name}`);
}
