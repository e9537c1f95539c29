import { Rng, type HostTensor } from '@srdiff/core';
import { DatasetError } from '../errors';
import type { AugmentOptions } from './augment';
import type { ImagePair } from './discover';
import type { PairedDataset, WholeSample } from './paired-dataset';

export interface TrainLoaderOptions extends AugmentOptions {
  batchSize: number;
  /** Seed of the shuffles and augmentations (default 0). */
  seed?: number;
  /** Shuffle each epoch (default true; `use_shuffle` in the original options). */
  shuffle?: boolean;
  /** Batches decoded ahead of the one being consumed (default 2; 0 decodes on demand). */
  prefetch?: number;
  /**
   * A pair that fails (an image that does not decode, a bad embedding, …): `stop` (default) fails
   * the batch, naming the file; `skip` takes the next readable pair of the same epoch's order in its
   * place (so the stream stays a function of the seed and the files: the same with or without
   * prefetch, and after a resume) and reports the pair once to `onSkip`.
   */
  onError?: 'stop' | 'skip';
  /** Hears about each pair skipped under `onError: 'skip'`, the first time it fails (default `console.warn`). */
  onSkip?: (pair: ImagePair, error: Error) => void;
}

/** What `onError: 'skip'` has left out so far. */
export interface SkippedSamples {
  /** Pairs that failed, in the order they first did. */
  pairs: ImagePair[];
  /** Samples of the stream that another pair stood in for. */
  samples: number;
}

/** Where a loader stands; JSON-serialisable, saved with checkpoints to resume the exact stream. */
export interface LoaderState {
  seed: number;
  /** Epoch of the next sample. */
  epoch: number;
  /** Position of the next sample within that epoch's order. */
  index: number;
  /** Dataset size and fingerprint at save time (checked on restore). */
  size: number;
  fingerprint: string;
}

export interface TrainBatch {
  /** NHWC `[B, P, P, 3]` float32 in [0, 1]. */
  lq: HostTensor;
  gt: HostTensor;
  /** `[B, D]`, when the dataset has embeddings. */
  embedding?: HostTensor;
  pairs: ImagePair[];
  /** Position of the batch's first sample. */
  epoch: number;
  index: number;
}

/** A 32-bit seed from several integers (murmur3 finaliser per word), for independent sub-streams. */
export function mixSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    let k = Math.imul(w >>> 0, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
    h ^= Math.floor(w / 4294967296);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const ORDER_STREAM = 0x6f726472; // 'ordr'
const SAMPLE_STREAM = 0x736d706c; // 'smpl'

interface StreamPick {
  pairIndex: number;
  epoch: number;
  position: number;
  /** That epoch's order (for stand-ins under `onError: 'skip'`). */
  order: readonly number[];
}

interface Pending {
  epoch: number;
  index: number;
  batch: Promise<TrainBatch>;
}

/**
 * An endless stream of training batches. The samples form one sequence — epoch 0's permutation,
 * then epoch 1's, … — cut into batches of `batchSize` (a batch may span two epochs, so no sample is
 * dropped and datasets smaller than a batch work). Every random choice is a function of
 * `(seed, epoch, position)`: the epoch order from its own generator, each sample's crop and flips
 * from another; so the stream is identical with or without prefetch, and `getState()` /
 * `setState()` resume it exactly.
 *
 * Prefetch: `prefetch` batches are decoded ahead (sharp works in libuv's thread pool, the crops
 * are cheap JS), so a trainer's step overlaps the next batches' decoding.
 */
export class TrainBatchLoader implements AsyncIterable<TrainBatch> {
  private readonly options: Required<Omit<TrainLoaderOptions, 'smallImages' | 'onSkip'>> & Pick<TrainLoaderOptions, 'smallImages' | 'onSkip'>;
  /** Pairs known to fail (under `onError: 'skip'`), by index, with the first error. */
  private readonly failing = new Map<number, Error>();
  private substituted = 0;
  private epoch = 0;
  private index = 0;
  /** Position of the next batch to be scheduled (ahead of `epoch/index` by the queue). */
  private scheduleEpoch = 0;
  private scheduleIndex = 0;
  private readonly queue: Pending[] = [];
  private order: { epoch: number; perm: number[] } | undefined;

  constructor(
    readonly dataset: PairedDataset,
    options: TrainLoaderOptions,
  ) {
    const { batchSize, patchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`TrainBatchLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(patchSize) || patchSize <= 0) throw new Error(`TrainBatchLoader: patchSize must be a positive integer, got ${patchSize}`);
    const prefetch = options.prefetch ?? 2;
    if (!Number.isInteger(prefetch) || prefetch < 0) throw new Error(`TrainBatchLoader: prefetch must be a non-negative integer, got ${prefetch}`);
    this.options = {
      batchSize,
      patchSize,
      useFlip: options.useFlip ?? true,
      useRot: options.useRot ?? true,
      smallImages: options.smallImages,
      seed: options.seed ?? 0,
      shuffle: options.shuffle ?? true,
      prefetch,
      onError: options.onError ?? 'stop',
      onSkip: options.onSkip,
    };
    if (this.options.onError !== 'stop' && this.options.onError !== 'skip') throw new Error(`TrainBatchLoader: onError must be 'stop' or 'skip', got ${String(options.onError)}`);
  }

  /** Pairs left out under `onError: 'skip'`, and how many samples were replaced. */
  get skipped(): SkippedSamples {
    return { pairs: [...this.failing.keys()].map((i) => this.dataset.pairs[i]!), samples: this.substituted };
  }

  /** Batches per epoch (fractional when the dataset size is not a multiple of the batch size). */
  get batchesPerEpoch(): number {
    return this.dataset.length / this.options.batchSize;
  }

  private epochOrder(epoch: number): number[] {
    if (this.order?.epoch !== epoch) {
      const n = this.dataset.length;
      const perm = this.options.shuffle ? new Rng(mixSeed(this.options.seed, ORDER_STREAM, epoch)).permutation(n) : Array.from({ length: n }, (_, i) => i);
      this.order = { epoch, perm };
    }
    return this.order.perm;
  }

  private schedule(): void {
    const { batchSize, patchSize, seed } = this.options;
    const n = this.dataset.length;
    const start = { epoch: this.scheduleEpoch, index: this.scheduleIndex };
    const picks: StreamPick[] = [];
    let epoch = start.epoch;
    let position = start.index;
    for (let b = 0; b < batchSize; b++) {
      const order = this.epochOrder(epoch);
      picks.push({ pairIndex: order[position]!, epoch, position, order });
      if (++position === n) {
        epoch++;
        position = 0;
      }
    }
    this.scheduleEpoch = epoch;
    this.scheduleIndex = position;

    const size = patchSize * patchSize * 3;
    const lq = new Float32Array(batchSize * size);
    const gt = new Float32Array(batchSize * size);
    const batch = Promise.all(
      picks.map((pick, b) => this.sample(pick, mixSeed(seed, SAMPLE_STREAM, pick.epoch, pick.position), { lq, gt, offset: b * size })),
    ).then((samples) => assemble(samples, lq, gt, [batchSize, patchSize, patchSize, 3], start));
    batch.catch(() => undefined); // surfaced by next(); avoids unhandled rejections for dropped prefetches
    this.queue.push({ ...start, batch });
  }

  /**
   * The sample at one position of the stream. Under `skip`, a failing pair is replaced by the next
   * pair of that epoch's order that reads, cropped with the position's own generator: the result
   * depends only on the files (a pair that fails always fails), not on which failures were seen.
   */
  private async sample(pick: StreamPick, rngSeed: number, into: { lq: Float32Array; gt: Float32Array; offset: number }) {
    if (this.options.onError === 'stop') return this.dataset.trainSample(pick.pairIndex, new Rng(rngSeed), this.options, into);
    const n = pick.order.length;
    let last: Error | undefined;
    for (let k = 0; k < n; k++) {
      const pairIndex = pick.order[(pick.position + k) % n]!;
      const known = this.failing.get(pairIndex);
      if (known) {
        last = known;
        continue;
      }
      try {
        const s = await this.dataset.trainSample(pairIndex, new Rng(rngSeed), this.options, into);
        if (k > 0) this.substituted++;
        return s;
      } catch (err) {
        last = err as Error;
        // Concurrent samples may hit the same pair: report it once.
        if (this.failing.has(pairIndex)) continue;
        this.failing.set(pairIndex, last);
        (this.options.onSkip ?? ((pair: ImagePair, e: Error) => console.warn(`srdiff/data: skipping ${pair.lq}: ${e.message}`)))(this.dataset.pairs[pairIndex]!, last);
      }
    }
    throw new DatasetError('unreadable', `no pair of the dataset could be read (${n} tried); the last error: ${last?.message}`, this.dataset.pairs.map((p) => p.lq));
  }

  /** The next batch (waits only if prefetching has not finished it yet). */
  async next(): Promise<TrainBatch> {
    if (this.queue.length === 0) this.schedule();
    const head = this.queue.shift()!;
    while (this.queue.length < this.options.prefetch) this.schedule();
    const batch = await head.batch;
    const after = this.queue[0] ?? { epoch: this.scheduleEpoch, index: this.scheduleIndex };
    this.epoch = after.epoch;
    this.index = after.index;
    return batch;
  }

  /** Position after the last batch returned by {@link next}. */
  getState(): LoaderState {
    return { seed: this.options.seed, epoch: this.epoch, index: this.index, size: this.dataset.length, fingerprint: this.dataset.fingerprint };
  }

  /** Continues from a saved position (pending prefetches are discarded). The dataset must be the same. */
  setState(state: LoaderState): void {
    if (state.size !== this.dataset.length || state.fingerprint !== this.dataset.fingerprint) {
      throw new DatasetError(
        'state-mismatch',
        `loader state was saved for a dataset of ${state.size} pairs (fingerprint ${state.fingerprint}); this one has ${this.dataset.length} (${this.dataset.fingerprint}) — the resumed stream would differ`,
      );
    }
    if (state.seed !== this.options.seed) throw new DatasetError('state-mismatch', `loader state has seed ${state.seed}, this loader ${this.options.seed}`);
    if (!Number.isInteger(state.epoch) || state.epoch < 0 || !Number.isInteger(state.index) || state.index < 0 || state.index >= state.size) {
      throw new DatasetError('state-mismatch', `invalid loader position epoch ${state.epoch}, index ${state.index}`);
    }
    this.queue.length = 0;
    this.epoch = this.scheduleEpoch = state.epoch;
    this.index = this.scheduleIndex = state.index;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TrainBatch> {
    for (;;) yield await this.next();
  }
}

function assemble(samples: { pair: ImagePair; embedding?: Float32Array }[], lq: Float32Array, gt: Float32Array, shape: number[], start: { epoch: number; index: number }): TrainBatch {
  const batch: TrainBatch = { lq: { shape, data: lq }, gt: { shape: [...shape], data: gt }, pairs: samples.map((s) => s.pair), ...start };
  const withEmb = samples.filter((s) => s.embedding);
  if (withEmb.length > 0) {
    if (withEmb.length !== samples.length) {
      const missing = samples.find((s) => !s.embedding)!.pair;
      throw new DatasetError('missing-embedding', `batch mixes pairs with and without embeddings (${missing.lq} has none)`, [missing.lq]);
    }
    const dim = samples[0]!.embedding!.length;
    const data = new Float32Array(samples.length * dim);
    samples.forEach((s, b) => {
      if (s.embedding!.length !== dim) {
        throw new DatasetError('bad-embedding', `embedding ${s.pair.embedding} has ${s.embedding!.length} values, ${samples[0]!.pair.embedding} has ${dim}`, [s.pair.embedding!, samples[0]!.pair.embedding!]);
      }
      data.set(s.embedding!, b * dim);
    });
    batch.embedding = { shape: [samples.length, dim], data };
  }
  return batch;
}

/**
 * Whole images in dataset order (validation / test), `prefetch` pairs decoded ahead.
 * Pass an AbortSignal to stop early. A pair that fails to read stops the iteration with its error,
 * or, when `onSkip` is given, is reported to it and left out.
 */
export async function* wholeImages(
  dataset: PairedDataset,
  options: { prefetch?: number; signal?: AbortSignal; onSkip?: (pair: ImagePair, error: Error) => void } = {},
): AsyncGenerator<WholeSample> {
  const ahead = Math.max(0, options.prefetch ?? 2);
  const pending: { index: number; sample: Promise<WholeSample> }[] = [];
  let next = 0;
  const fill = () => {
    while (next < dataset.length && pending.length <= ahead) {
      const index = next++;
      const sample = dataset.wholeSample(index);
      sample.catch(() => undefined);
      pending.push({ index, sample });
    }
  };
  fill();
  while (pending.length > 0) {
    options.signal?.throwIfAborted();
    const { index, sample } = pending.shift()!;
    let value: WholeSample;
    try {
      value = await sample;
    } catch (err) {
      if (!options.onSkip) throw err;
      options.onSkip(dataset.pairs[index]!, err as Error);
      fill();
      continue;
    }
    fill();
    yield value;
  }
}
