import { readEmbeddingTensor, type HostTensor, type Rng } from '@srdiff/core';
import { DatasetError } from '../errors';
import { rawToFloat, readRawImage, type DecodeOptions, type ImageInfo, type RawImage } from '../io/decode';
import { drawPlacement, extractPatch, type AugmentOptions, type PatchPlacement } from './augment';
import { DEFAULT_HINTS, discoverDataset, type DatasetIndex, type DatasetSource, type DiscoverOptions, type ImagePair, type OptionHints } from './discover';

export interface PairedDatasetOptions {
  decode?: DecodeOptions;
  /** Keep decoded images in memory (small datasets, e.g. the demo); default false. */
  cacheImages?: boolean;
  /** Option names error messages suggest (see {@link OptionHints}). */
  hints?: OptionHints;
}

/** A training example: LQ / GT patches `P×P×3` (HWC float32 in [0, 1]) and the pair's embedding. */
export interface TrainSample {
  pair: ImagePair;
  lq: Float32Array;
  gt: Float32Array;
  embedding?: Float32Array;
  placement: PatchPlacement;
}

/** A whole-image example (validation / test): NHWC `[1, H, W, 3]` tensors and `[1, D]` embedding. */
export interface WholeSample {
  pair: ImagePair;
  lq: HostTensor;
  gt: HostTensor;
  embedding?: HostTensor;
}

/**
 * A NaN or infinite embedding would turn every output of the network conditioned on it into NaN
 * (black images at test time, a "non-finite loss" blamed on the learning rate in training): refuse
 * it, naming the file.
 */
function checkFinite(data: Float32Array, file: string): void {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count) throw new DatasetError('bad-embedding', `${file}: the embedding is not finite (${data[first]} at index ${first}; ${count} of ${data.length} values)`, [file]);
}

/** FNV-1a over the pair list, to notice a dataset that changed under a saved loader position. */
function fingerprintOf(pairs: readonly ImagePair[]): string {
  let h = 0x811c9dc5;
  for (const p of pairs) {
    const s = `${p.task}/${p.name};`;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * Paired LQ / GT images with their embeddings: decoding (sharp, in libuv's thread pool), training
 * patches (random crop + flips + 90° rotations at the same place in LQ and GT) and whole images.
 */
export class PairedDataset {
  readonly pairs: readonly ImagePair[];
  readonly skipped: DatasetIndex['skipped'];
  readonly fingerprint: string;
  private readonly options: PairedDatasetOptions;
  private readonly imageCache = new Map<string, Promise<RawImage>>();
  /** Headers seen (from discovery or a first decode): later decodes go straight to the pixels. */
  private readonly infoCache = new Map<string, ImageInfo>();
  private readonly embeddingCache = new Map<string, Promise<Float32Array>>();

  constructor(index: DatasetIndex | readonly ImagePair[], options: PairedDatasetOptions = {}) {
    const pairs = Array.isArray(index) ? (index as ImagePair[]) : (index as DatasetIndex).pairs;
    if (pairs.length === 0) throw new DatasetError('empty', 'PairedDataset: no pairs');
    this.pairs = pairs;
    this.skipped = Array.isArray(index) ? [] : (index as DatasetIndex).skipped;
    this.fingerprint = fingerprintOf(pairs);
    this.options = options;
  }

  /** Discovers a dataset (see {@link discoverDataset}) and opens it. */
  static async open(source: DatasetSource, options: DiscoverOptions & PairedDatasetOptions = {}): Promise<PairedDataset> {
    return new PairedDataset(await discoverDataset(source, options), options);
  }

  get length(): number {
    return this.pairs.length;
  }

  /** True when every pair has an embedding file. */
  get hasEmbeddings(): boolean {
    return this.pairs.every((p) => p.embedding !== undefined);
  }

  private pairAt(i: number): ImagePair {
    const pair = this.pairs[i];
    if (!pair) throw new RangeError(`PairedDataset: index ${i} outside 0..${this.pairs.length - 1}`);
    return pair;
  }

  private decode(file: string, known: ImageInfo | undefined): Promise<RawImage> {
    const cached = this.imageCache.get(file);
    if (cached) return cached;
    const pending = readRawImage(file, this.options.decode, known ?? this.infoCache.get(file)).then((r) => {
      this.infoCache.set(file, r.info);
      return r.raw;
    });
    if (this.options.cacheImages) {
      this.imageCache.set(file, pending);
      pending.catch(() => this.imageCache.delete(file));
    }
    return pending;
  }

  /** Both images of pair `i`, decoded (8/16-bit RGB); their sizes are checked to agree. */
  async readPair(i: number): Promise<{ pair: ImagePair; lq: RawImage; gt: RawImage }> {
    const pair = this.pairAt(i);
    const [lq, gt] = await Promise.all([this.decode(pair.lq, pair.info?.lq), this.decode(pair.gt, pair.info?.gt)]);
    if (lq.width !== gt.width || lq.height !== gt.height) {
      throw new DatasetError('size-mismatch', `size mismatch: LQ ${pair.lq} is ${lq.width}×${lq.height}, GT ${pair.gt} is ${gt.width}×${gt.height} (width×height)`, [pair.lq, pair.gt]);
    }
    return { pair, lq, gt };
  }

  /** The pair's embedding as a vector (`.npy` or the original's `.pt`, of shape [D] or [1, D]), or undefined without embeddings. */
  async readEmbedding(i: number): Promise<Float32Array | undefined> {
    const file = this.pairAt(i).embedding;
    if (!file) return undefined;
    let pending = this.embeddingCache.get(file);
    if (!pending) {
      pending = readEmbeddingTensor(file).then((t) => {
        if (!(t.shape.length === 1 || (t.shape.length === 2 && t.shape[0] === 1)) || t.data.length === 0) {
          throw new DatasetError('bad-embedding', `${file}: expected an embedding of shape [D] or [1, D], got (${t.shape.join(', ')})`, [file]);
        }
        checkFinite(t.data, file);
        return t.data;
      });
      this.embeddingCache.set(file, pending);
      pending.catch(() => this.embeddingCache.delete(file));
    }
    return pending;
  }

  /**
   * A training sample of pair `i`: placement drawn from `rng` (crop, then hflip / vflip / rot90),
   * applied identically to LQ and GT. Written into `into` (LQ, GT at `offset`) when given.
   * `rng` is drawn from after decoding: give each sample its own generator (the batch loader does)
   * so that concurrent samples never race for one stream.
   */
  async trainSample(i: number, rng: Rng, options: AugmentOptions, into?: { lq: Float32Array; gt: Float32Array; offset: number }): Promise<TrainSample> {
    const p = options.patchSize;
    if (!Number.isInteger(p) || p <= 0) throw new Error(`patchSize must be a positive integer, got ${p}`);
    const pair = this.pairAt(i);
    const [{ lq, gt }, embedding] = await Promise.all([this.readPair(i), this.readEmbedding(i)]);
    if ((lq.width < p || lq.height < p) && (options.smallImages ?? 'error') === 'error') {
      throw new DatasetError(
        'too-small',
        `pair "${pair.name}" (${pair.lq}) is ${lq.width}×${lq.height}, smaller than patch_size ${p}; use larger images, a smaller patch, or ${this.options.hints?.smallImages ?? DEFAULT_HINTS.smallImages}`,
        [pair.lq, pair.gt],
      );
    }
    const placement = drawPlacement(rng, lq.width, lq.height, options);
    const size = p * p * 3;
    const lqOut = into?.lq ?? new Float32Array(size);
    const gtOut = into?.gt ?? new Float32Array(size);
    const offset = into?.offset ?? 0;
    extractPatch(lq, placement, p, lqOut, offset);
    extractPatch(gt, placement, p, gtOut, offset);
    return { pair, lq: lqOut.subarray(offset, offset + size), gt: gtOut.subarray(offset, offset + size), embedding, placement };
  }

  /** Pair `i` as whole images (validation / test). */
  async wholeSample(i: number): Promise<WholeSample> {
    const [{ pair, lq, gt }, embedding] = await Promise.all([this.readPair(i), this.readEmbedding(i)]);
    const shape = [1, lq.height, lq.width, 3];
    return {
      pair,
      lq: { shape, data: rawToFloat(lq) },
      gt: { shape: [...shape], data: rawToFloat(gt) },
      embedding: embedding ? { shape: [1, embedding.length], data: embedding } : undefined,
    };
  }
}
