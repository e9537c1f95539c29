import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { disposeGradients, logicalCores, type BackendName, type NamedGradients, type tf } from '@srdiff/core';
import type { IRSDE, IRSDEOptions } from '@srdiff/sde';
import type { ConditionalUNet, UNetConfig } from '@srdiff/unet';
import { matchingLossGradients, shareOf, type DiffusionBatch, type MatchingLossSettings } from '../diffusion-loss';
import type { GradientWorkerInit } from './protocol';
import {
  disposeBatch, flatLayout, hostShards, localShard, shardSizes, sumGradients, writeVariables, type FlatLayout,
} from './shared-tensors';
import { GradientWorker } from './worker-handle';

export interface DataParallelOptions {
  /** Threads computing gradients, this one included (≥ 1; see {@link resolveGradientThreads}). */
  threads: number;
  /** The backend the workers select (the main thread's). */
  backend: BackendName;
  unet: UNetConfig;
  sde: IRSDEOptions;
  loss: MatchingLossSettings;
}

const WORKER_SCRIPT = 'gradient-worker.js';

/** dist/gradient-worker.js next to the running bundle, or the built one when running from sources (tests). */
export function gradientWorkerScript(): string {
  const candidates = [path.join(__dirname, WORKER_SCRIPT), path.resolve(__dirname, '../../../dist', WORKER_SCRIPT)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`data-parallel training needs ${WORKER_SCRIPT}, not found at ${candidates.join(' or ')}; build @srdiff/trainer (npm run build) or set train.threads: 1`);
  return found;
}

/**
 * `train.threads`: 0 (auto) means one thread per CPU core on the wasm and cpu backends, at most one
 * per batch element, and 1 on the native tensorflow backend, which already uses every core.
 */
export function resolveGradientThreads(requested: number, backend: BackendName, batchSize: number): number {
  if (backend === 'tensorflow') {
    if (requested > 1) throw new Error(`train.threads: ${requested} is for the wasm and cpu backends; the tensorflow backend already uses every core (set 0 or 1)`);
    return 1;
  }
  return Math.max(1, Math.min(requested > 0 ? requested : logicalCores(), batchSize));
}

/**
 * Data-parallel gradients on one machine: each batch is split into contiguous shards; this thread
 * computes the first shard while worker threads (each its own TensorFlow.js engine and wasm
 * instance, so each a core) compute the others with the weights published in a shared buffer; the
 * batch's loss and gradients are the shards' weighted by their sizes (exact up to float rounding:
 * the loss is a mean and the network has no cross-sample layer). The optimizer, EMA and checkpoints
 * stay on this thread. tfjs-backend-wasm's own threads do not help training (its threaded build is
 * slower per kernel); separate engines do: batch 4 at nf 16 takes ~1.6 s in two threads of two
 * elements where one thread takes ~2.2–2.8 s for all four (tools/bench).
 */
export class DataParallelGradients {
  private nextId = 1;
  private constructor(
    private readonly model: ConditionalUNet,
    private readonly sde: IRSDE,
    private readonly loss: MatchingLossSettings,
    private readonly variables: Record<string, tf.Variable>,
    private readonly layout: FlatLayout,
    private readonly parameters: Float32Array,
    private readonly workers: GradientWorker[],
  ) {}

  /** Starts `threads - 1` workers (none for 1) and waits until each has built its network. */
  static async start(model: ConditionalUNet, sde: IRSDE, options: DataParallelOptions): Promise<DataParallelGradients> {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new Error(`DataParallelGradients: threads must be an integer >= 1, got ${options.threads}`);
    const variables = model.trainableVariables();
    const layout = flatLayout(variables);
    const parameterBuffer = new SharedArrayBuffer(layout.size * 4);
    const workers: GradientWorker[] = [];
    const script = options.threads > 1 ? gradientWorkerScript() : '';
    for (let index = 1; index < options.threads; index++) {
      const gradients = new SharedArrayBuffer(layout.size * 4);
      const init: GradientWorkerInit = {
        index, backend: options.backend, unet: options.unet, sde: options.sde, loss: options.loss,
        names: layout.names, parameters: parameterBuffer, gradients,
      };
      workers.push(new GradientWorker(new Worker(script, { workerData: init }), index, gradients));
    }
    try {
      await Promise.all(workers.map((w) => w.whenReady()));
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${message} (starting ${workers.length} gradient worker thread(s); set train.threads: 1 to train on the main thread only)`, { cause: err });
    }
    return new DataParallelGradients(model, sde, options.loss, variables, layout, new Float32Array(parameterBuffer), workers);
  }

  /** Threads computing gradients, this one included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * The batch's matching loss and gradients (tensors the caller disposes). Does not touch the
   * batch's tensors' lifetimes. One call at a time (the workers share one weight buffer).
   */
  async gradients(batch: DiffusionBatch): Promise<{ loss: number; grads: NamedGradients }> {
    const total = batch.lq.shape[0];
    const sizes = shardSizes(total, this.threads);
    if (sizes.length === 1) return matchingLossGradients(this.model, this.sde, batch, this.loss);
    writeVariables(this.variables, this.layout, this.parameters);
    const id = this.nextId++;
    const shards = hostShards(batch, sizes[0]!, sizes.slice(1));
    const remote = shards.map((shard, k) => this.workers[k]!.request(id, { batch: shard, share: sizes[k + 1]! / total }));
    let local: { loss: number; grads: NamedGradients } | undefined;
    let localError: unknown;
    const shard = localShard(batch, 0, sizes[0]!);
    try {
      local = matchingLossGradients(this.model, this.sde, shard, shareOf(this.loss, sizes[0]! / total));
    } catch (err) {
      localError = err;
    } finally {
      disposeBatch(shard);
    }
    // Every worker must be done with the published weights before anything else happens.
    const settled = await Promise.allSettled(remote);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (localError || failed) {
      if (local) disposeGradients(local.grads);
      throw localError ?? failed!.reason;
    }
    const replies = settled.map((s) => (s as PromiseFulfilledResult<{ loss: number; present: number[] }>).value);
    const grads = sumGradients(local!.grads, replies.map((r, k) => ({ buffer: this.workers[k]!.gradients, present: r.present })), this.layout);
    const loss = replies.reduce((sum, r) => sum + r.loss, local!.loss);
    return { loss, grads };
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
