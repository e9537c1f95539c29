import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expandHome, resolveModelSource, type ModelSource } from './model-source';

/**
 * The files of one model, local or from the Hugging Face Hub, for loaders that read the files
 * themselves (BLIP's weights, config and vocabulary). A folder is read as it is. A hub id is
 * looked up, in order, in:
 *
 * 1. `cacheDir/<id>/<file>` (`cacheDir/<id>/<revision>/<file>` for a revision other than main),
 *    the layout transformers.js caches in, so one `cacheDir` serves both loaders;
 * 2. `localModelPath/<id>/<file>`, a folder of pre-downloaded models;
 * 3. the Python `huggingface_hub` cache (`$HF_HUB_CACHE`, `$HF_HOME/hub` or
 *    `~/.cache/huggingface/hub`: `models--<owner>--<name>/snapshots/<commit>/<file>`), so a model
 *    the original Python code already downloaded is found;
 * 4. the Hub itself when `allowRemote`: `<endpoint>/<id>/resolve/<revision>/<file>` (`$HF_ENDPOINT`,
 *    `$HF_TOKEN` honoured), downloaded into (1) through a temporary file and a rename.
 */
export interface ModelFilesOptions {
  revision?: string;
  /** Download cache; default `$SRDIFF_MODEL_CACHE` or `~/.cache/srdiff/models`. */
  cacheDir?: string;
  localModelPath?: string;
  allowRemote?: boolean;
}

export const MODEL_FILES_DEFAULTS = {
  revision: 'main',
  allowRemote: true,
  endpoint: 'https://huggingface.co',
} as const;

export function defaultModelCacheDir(): string {
  return process.env.SRDIFF_MODEL_CACHE || path.join(os.homedir(), '.cache', 'srdiff', 'models');
}

function pythonHubCache(): string {
  if (process.env.HF_HUB_CACHE) return process.env.HF_HUB_CACHE;
  if (process.env.HF_HOME) return path.join(process.env.HF_HOME, 'hub');
  return path.join(os.homedir(), '.cache', 'huggingface', 'hub');
}

export class ModelFiles {
  readonly source: ModelSource;
  readonly revision: string;
  readonly allowRemote: boolean;
  private readonly cacheDir: string;
  private readonly localModelPath?: string;

  constructor(model: string | ModelSource, options: ModelFilesOptions = {}) {
    this.source = typeof model === 'string' ? resolveModelSource(model) : model;
    this.revision = options.revision ?? MODEL_FILES_DEFAULTS.revision;
    this.allowRemote = this.source.kind === 'hub' && (options.allowRemote ?? MODEL_FILES_DEFAULTS.allowRemote);
    this.cacheDir = path.resolve(expandHome(options.cacheDir ?? defaultModelCacheDir()));
    this.localModelPath = options.localModelPath ? path.resolve(expandHome(options.localModelPath)) : undefined;
  }

  get id(): string {
    return this.source.id;
  }

  /** Where a download of `file` goes. */
  private cachePath(file: string): string {
    const key = this.revision === 'main' ? path.join(this.source.id, file) : path.join(this.source.id, this.revision, file);
    return path.join(this.cacheDir, key);
  }

  private pythonSnapshotPath(file: string): string | undefined {
    const repo = path.join(pythonHubCache(), `models--${this.source.id.replace(/\//g, '--')}`);
    const refFile = path.join(repo, 'refs', this.revision);
    const commit = fs.existsSync(refFile) ? fs.readFileSync(refFile, 'utf8').trim() : /^[0-9a-f]{40}$/.test(this.revision) ? this.revision : undefined;
    return commit ? path.join(repo, 'snapshots', commit, file) : undefined;
  }

  /** Every local path checked for `file`, in order. */
  candidates(file: string): string[] {
    if (this.source.kind === 'folder') return [path.join(this.source.folder, file)];
    const paths = [this.cachePath(file)];
    if (this.localModelPath) paths.push(path.join(this.localModelPath, this.source.id, file));
    const snapshot = this.pythonSnapshotPath(file);
    if (snapshot) paths.push(snapshot);
    return paths;
  }

  /** The first local copy of `file`, if any. */
  findLocal(file: string): string | undefined {
    return this.candidates(file).find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
  }

  /**
   * The local path of `file`, downloading it when it is not local and downloads are allowed;
   * `undefined` when it exists nowhere (the Hub answering 404 included).
   */
  async get(file: string): Promise<string | undefined> {
    const local = this.findLocal(file);
    if (local || !this.allowRemote) return local;
    return this.download(file);
  }

  /** The URL of `file` on the Hub. */
  url(file: string): string {
    const endpoint = (process.env.HF_ENDPOINT || MODEL_FILES_DEFAULTS.endpoint).replace(/\/+$/, '');
    return `${endpoint}/${this.source.id}/resolve/${encodeURIComponent(this.revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async download(file: string): Promise<string | undefined> {
    const url = this.url(file);
    const headers: Record<string, string> = {};
    if (process.env.HF_TOKEN) headers.authorization = `Bearer ${process.env.HF_TOKEN}`;
    let response: Response;
    try {
      response = await fetch(url, { headers, redirect: 'follow' });
    } catch (err) {
      throw new Error(`${url}: download failed (${(err as Error).message}); pass a local folder, or allowRemote: false to use only local copies`, { cause: err });
    }
    if (response.status === 404) return undefined;
    if (!response.ok || !response.body) throw new Error(`${url}: the Hub answered ${response.status} ${response.statusText}${response.status === 401 ? ' (gated or private: set HF_TOKEN)' : ''}`);
    const target = this.cachePath(file);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const partial = `${target}.partial-${process.pid}-${Date.now()}`;
    try {
      await pipeline(Readable.fromWeb(response.body as never), fs.createWriteStream(partial));
      await fs.promises.rename(partial, target);
    } catch (err) {
      await fs.promises.rm(partial, { force: true });
      throw new Error(`${url}: download into ${target} failed (${(err as Error).message})`, { cause: err });
    }
    return target;
  }
}
