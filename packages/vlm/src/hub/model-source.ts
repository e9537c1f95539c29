import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * What a `model` string names, with the rule CLIP's loader uses too: an existing directory, or
 * anything written as a path (`./x`, `/x`, `~/x`, `C:\x`), is a local folder in the Hugging Face
 * layout; everything else is a hub id (`Salesforce/blip-image-captioning-base`).
 */
export type ModelSource = { kind: 'folder'; id: string; folder: string } | { kind: 'hub'; id: string };

export function looksLikePath(model: string): boolean {
  return /^(\.{1,2}([\\/]|$)|[\\/]|~|[A-Za-z]:[\\/])/.test(model) || model.includes('\\');
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

export class ModelSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelSourceError';
  }
}

/** Resolves `model` to a folder (absolute path, which must exist) or a hub id (`owner/name`). */
export function resolveModelSource(model: string, what = 'model'): ModelSource {
  if (typeof model !== 'string' || !model) throw new ModelSourceError(`${what}: expected a hub id or a folder, got ${JSON.stringify(model)}`);
  const candidate = path.resolve(expandHome(model));
  const isDir = fs.existsSync(candidate) && fs.statSync(candidate).isDirectory();
  if (isDir) return { kind: 'folder', id: candidate, folder: candidate };
  if (looksLikePath(model) || fs.existsSync(candidate)) throw new ModelSourceError(`${what} folder ${candidate} does not exist (or is not a folder)`);
  if (!/^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/.test(model)) throw new ModelSourceError(`${what} '${model}' is neither an existing folder nor a hub id like 'owner/name'`);
  return { kind: 'hub', id: model };
}
