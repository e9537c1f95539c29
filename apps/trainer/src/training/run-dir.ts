import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { writeFileAtomic } from '@srdiff/core';

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

  async init(options: unknown): Promise<void> {
    await fs.promises.mkdir(this.checkpoints, { recursive: true });
    await fs.promises.mkdir(this.models, { recursive: true });
    await writeFileAtomic(path.join(this.root, 'options.yml'), yaml.dump(options, { lineWidth: 120 }));
  }

  /** Appends one record (with a timestamp) to metrics.jsonl. */
  async log(record: Record<string, unknown>): Promise<void> {
    await fs.promises.appendFile(this.metricsFile, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
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
