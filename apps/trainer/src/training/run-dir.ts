import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { removeStaleTemporaries, writeFileAtomic } from '@srdiff/core';
import { OptionsError } from '../options/schema';
import { checkpointStep, listCheckpoints } from './diffusion-checkpoint';

/** Weight files a run writes into `models/` (and the ONNX exports cached beside them). */
const RUN_WEIGHTS = /^(last|best)_(G|EMA)\.(safetensors|onnx)$/;

/** What an earlier run left in a run folder. */
export interface PreviousRun {
  /** Checkpoint files (newest first) and the highest step among them. */
  checkpoints: string[];
  lastStep?: number;
  /** `models/{last,best}_*` files. */
  weights: string[];
  /** Records in metrics.jsonl. */
  records: number;
}

/**
 * A run folder that already holds a run, entered without `--resume`: training would restart at
 * step 0, overwrite its weights and mix both runs' metrics. The message gives the ways out.
 */
export class RunFolderInUseError extends Error {
  constructor(readonly root: string, readonly previous: PreviousRun) {
    const what = [
      previous.checkpoints.length ? `checkpoints up to step ${previous.lastStep}` : '',
      previous.weights.length ? previous.weights.map((w) => `models/${w}`).join(', ') : '',
      previous.records ? `${previous.records} metrics records` : '',
    ].filter(Boolean);
    super(
      `${root} already holds a run (${what.join('; ')}). Continue it with --resume, ` +
        `start a new run under another name (--set name=<new> or path.experiments_root), or replace it with --overwrite (deletes its checkpoints, weights and metrics)`,
    );
    this.name = 'RunFolderInUseError';
  }
}

/**
 * `name` becomes a folder name (`runs/<name>`, `results/<name>`): one path segment, so that a value
 * like `../../etc` cannot place a run outside its parent.
 */
export function checkRunName(name: string, source = 'options'): void {
  if (!name || name === '.' || name === '..' || /[/\\]/.test(name) || name.includes('\0')) {
    throw new OptionsError(source, [`name: ${JSON.stringify(name)} is not allowed (expected a folder name without path separators; use path.experiments_root to put the run elsewhere)`]);
  }
}

/** The absolute run folder of a training run: `path.experiments_root`, else `runs/<name>`. */
export function resolveRunRoot(name: string, experimentsRoot: string | null, source = 'options'): string {
  checkRunName(name, source);
  return path.resolve(experimentsRoot ?? path.join('runs', name));
}

/**
 * The folder of one training run:
 * ```
 * <run>/options.yml            the resolved options (every default filled in)
 * <run>/metrics.jsonl          one JSON object per logged step / validation
 * <run>/checkpoints/*.ckpt     full training state (weights, optimizer, EMA, RNG, data position)
 * <run>/models/{last,best}_{G,EMA}.safetensors   PyTorch-layout weights (the original's names)
 * <run>/val_images/<step>/     restored validation images
 * ```
 */
export class RunDir {
  constructor(readonly root: string) {}

  get checkpoints(): string {
    return path.join(this.root, 'checkpoints');
  }
  get models(): string {
    return path.join(this.root, 'models');
  }
  get metricsFile(): string {
    return path.join(this.root, 'metrics.jsonl');
  }
  valImages(step: number): string {
    return path.join(this.root, 'val_images', String(step));
  }
  model(kind: 'last' | 'best', weights: 'G' | 'EMA'): string {
    return path.join(this.models, `${kind}_${weights}.safetensors`);
  }

  /** What an earlier run left here, or undefined when nothing (an `options.yml` alone is no run). */
  previousRun(): PreviousRun | undefined {
    const checkpoints = listCheckpoints(this.checkpoints);
    const weights = fs.existsSync(this.models) ? fs.readdirSync(this.models).filter((f) => RUN_WEIGHTS.test(f)).sort() : [];
    const records = this.readLog().length;
    if (!checkpoints.length && !weights.length && !records) return undefined;
    return { checkpoints, lastStep: checkpoints.length ? checkpointStep(checkpoints[0]!) : undefined, weights, records };
  }

  /** `--overwrite`: removes what an earlier run wrote (checkpoints, weights, metrics, validation images); other files stay. */
  async removePreviousRun(): Promise<string[]> {
    const removed: string[] = [];
    const rm = async (p: string, recursive = false) => {
      if (!fs.existsSync(p)) return;
      await fs.promises.rm(p, { recursive, force: true });
      removed.push(p);
    };
    if (fs.existsSync(this.checkpoints)) {
      for (const f of fs.readdirSync(this.checkpoints)) if (/^step-\d+\.ckpt(\.superseded)?$/.test(f)) await rm(path.join(this.checkpoints, f));
    }
    if (fs.existsSync(this.models)) for (const f of fs.readdirSync(this.models)) if (RUN_WEIGHTS.test(f)) await rm(path.join(this.models, f));
    await rm(this.metricsFile);
    await rm(path.join(this.root, 'val_images'), true);
    return removed;
  }

  /** Temporaries of atomic writes that a killed process left here (never a live writer's). */
  async removeStaleTemporaries(): Promise<string[]> {
    return [
      ...(await removeStaleTemporaries(this.root)),
      ...(await removeStaleTemporaries(this.checkpoints)),
      ...(await removeStaleTemporaries(this.models)),
      ...(await removeStaleTemporaries(path.join(this.root, 'val_images'), { recursive: true })),
    ];
  }

  async init(options: unknown): Promise<void> {
    await fs.promises.mkdir(this.checkpoints, { recursive: true });
    await fs.promises.mkdir(this.models, { recursive: true });
    await writeFileAtomic(path.join(this.root, 'options.yml'), yaml.dump(options, { lineWidth: 120 }));
  }

  /** Appends one record (with a timestamp) to metrics.jsonl. */
  async log(record: Record<string, unknown>): Promise<void> {
    await fs.promises.appendFile(this.metricsFile, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }

  /**
   * Drops the records of steps after `step` (rewritten atomically): after a resume from step S those
   * steps are trained again, and their old records (written before a kill, or by an abandoned
   * continuation) would otherwise stand twice. Returns how many were dropped.
   */
  async truncateLog(step: number): Promise<number> {
    if (!fs.existsSync(this.metricsFile)) return 0;
    const records = this.readLog();
    const kept = records.filter((r) => !(typeof r.step === 'number' && r.step > step));
    const dropped = records.length - kept.length;
    // A torn last line (a kill mid-append) is dropped too: rewrite whenever the file is not clean.
    const clean = fs.readFileSync(this.metricsFile, 'utf8').split('\n').filter(Boolean).length === records.length;
    if (dropped || !clean) await writeFileAtomic(this.metricsFile, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
    return dropped;
  }

  /** Records of metrics.jsonl (skipping a torn last line after a crash). */
  readLog(): Record<string, unknown>[] {
    if (!fs.existsSync(this.metricsFile)) return [];
    return fs
      .readFileSync(this.metricsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }
}
