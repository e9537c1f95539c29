import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor } from '../io/host-tensor';
import { planAxis, type AxisTiling } from './tile-grid';

/** Where a tile sits in the image (pixels; NHWC). */
export interface TileInfo {
  /** 0-based index in processing order (row by row, left to right). */
  index: number;
  count: number;
  /** Top-left corner. */
  y: number;
  x: number;
  height: number;
  width: number;
}

export interface TiledProcessOptions {
  /** Tile edge in pixels, or `[height, width]` (default 256). An image smaller than a tile is one tile of its own size. */
  tileSize?: number | [number, number];
  /** Pixels shared by neighbouring tiles and cross-faded (default 32; must be smaller than the tile along every axis split into several tiles). */
  overlap?: number;
  /** Called after every tile. */
  onProgress?: (done: number, total: number, tile: TileInfo) => void;
  /** Stops before the next tile; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export const TILED_PROCESS_DEFAULTS = { tileSize: 256, overlap: 32 } as const;

type TileFn<T> = (tile: T, info: TileInfo) => Promise<T>;

/**
 * Runs `process` on overlapping tiles of an NHWC image `[B, H, W, C]` and blends the results into one
 * image of the same height and width (the channel count may change; it is taken from the first
 * tile's output). For images too large to process whole, e.g. diffusion restoration of a 2048×2048
 * photo.
 *
 * Blending: in the strip two neighbouring tiles share, their outputs are cross-faded with linear
 * ramps (see `planAxis`), so seams vanish when the per-tile outputs agree and are smoothed when they
 * differ; at the image borders every tile counts fully. The result is normalised by the summed
 * weights, so an identity `process` returns the input exactly.
 *
 * Memory stays bounded: one tile (and its output) at a time, plus a float64 accumulator one tile-row
 * high, plus the output image. Tiles are visited row by row; a finished band of rows is normalised
 * and written out before the next row of tiles starts. Deterministic.
 *
 * `image` is a host tensor (tiles and outputs are host tensors) or a tfjs tensor (tiles are tfjs
 * tensors the callee must not keep; it returns a tensor this function disposes).
 */
export async function tiledProcess(image: HostTensor, process: TileFn<HostTensor>, options?: TiledProcessOptions): Promise<HostTensor>;
export async function tiledProcess(image: tf.Tensor4D, process: TileFn<tf.Tensor4D>, options?: TiledProcessOptions): Promise<tf.Tensor4D>;
export async function tiledProcess(
  image: HostTensor | tf.Tensor4D,
  process: TileFn<HostTensor> | TileFn<tf.Tensor4D>,
  options: TiledProcessOptions = {},
): Promise<HostTensor | tf.Tensor4D> {
  const isTf = image instanceof tf.Tensor;
  const shape = [...image.shape];
  if (shape.length !== 4) throw new Error(`tiledProcess: expected an NHWC image [batch, height, width, channels], got [${shape.join(', ')}]`);
  const [batch, height, width, channels] = shape as [number, number, number, number];
  const [tileH, tileW] = typeof options.tileSize === 'number' || options.tileSize === undefined
    ? [options.tileSize ?? TILED_PROCESS_DEFAULTS.tileSize, options.tileSize ?? TILED_PROCESS_DEFAULTS.tileSize]
    : options.tileSize;
  const overlap = options.overlap ?? TILED_PROCESS_DEFAULTS.overlap;
  for (const [name, v] of [['tileSize', tileH], ['tileSize', tileW]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`tiledProcess: ${name} must be a positive integer, got ${v}`);
  }
  // The overlap must leave a positive stride along every axis that is split into several tiles.
  const splitTiles = [height > tileH ? tileH : Infinity, width > tileW ? tileW : Infinity];
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= Math.min(...splitTiles)) {
    throw new RangeError(`tiledProcess: overlap must be an integer in [0, tile size), got ${overlap} for tiles ${tileH}×${tileW}`);
  }
  if (typeof process !== 'function') throw new TypeError('tiledProcess: process must be a function (tile, info) => Promise<tile>');

  const rows = planAxis(height, tileH, overlap);
  const cols = planAxis(width, tileW, overlap);
  const count = rows.starts.length * cols.starts.length;
  const hostImage = isTf ? undefined : (image as HostTensor);
  const tfImage = isTf ? (image as tf.Tensor4D) : undefined;
  if (hostImage && hostImage.data.length !== batch * height * width * channels) {
    throw new Error(`tiledProcess: image data has ${hostImage.data.length} values, shape [${shape.join(', ')}] needs ${batch * height * width * channels}`);
  }

  let outChannels = -1;
  let output: Float32Array | undefined;
  let band: Float64Array | undefined; // rows [bandStart, bandStart + rows.size) of the accumulator
  let bandStart = 0;
  let flushedTo = 0; // rows [0, flushedTo) are final in `output`
  let index = 0;

  const flush = (upTo: number) => {
    for (let y = flushedTo; y < upTo; y++) {
      const r = y - bandStart;
      for (let b = 0; b < batch; b++) {
        for (let x = 0; x < width; x++) {
          const norm = rows.total[y]! * cols.total[x]!;
          const src = ((b * rows.size + r) * width + x) * outChannels;
          const dst = ((b * height + y) * width + x) * outChannels;
          for (let c = 0; c < outChannels; c++) output![dst + c] = band![src + c]! / norm;
        }
      }
    }
    flushedTo = upTo;
  };

  // Moves the band down so that it starts at `start`, keeping the rows both bands cover.
  const shiftBand = (start: number) => {
    const keep = bandStart + rows.size - start;
    const rowLen = width * outChannels;
    for (let b = 0; b < batch; b++) {
      const base = b * rows.size * rowLen;
      if (keep > 0) band!.copyWithin(base, base + (start - bandStart) * rowLen, base + rows.size * rowLen);
      band!.fill(0, base + Math.max(keep, 0) * rowLen, base + rows.size * rowLen);
    }
    bandStart = start;
  };

  for (let j = 0; j < rows.starts.length; j++) {
    const y0 = rows.starts[j]!;
    if (band) {
      flush(y0);
      shiftBand(y0);
    }
    for (let i = 0; i < cols.starts.length; i++) {
      options.signal?.throwIfAborted();
      const x0 = cols.starts[i]!;
      const info: TileInfo = { index, count, y: y0, x: x0, height: rows.size, width: cols.size };
      const result = tfImage
        ? await runTfTile(tfImage, process as TileFn<tf.Tensor4D>, info)
        : await (process as TileFn<HostTensor>)(cropHost(hostImage!, info), info);
      checkTileOutput(result, batch, info);
      if (outChannels < 0) {
        outChannels = result.shape[3]!;
        output = new Float32Array(batch * height * width * outChannels);
        band = new Float64Array(batch * rows.size * width * outChannels);
        bandStart = y0;
      } else if (result.shape[3] !== outChannels) {
        throw new Error(`tiledProcess: tile ${index} returned ${result.shape[3]} channels, earlier tiles ${outChannels}`);
      }
      accumulate(band!, result.data, info, rows, cols, j, i, batch, width, outChannels, y0 - bandStart);
      index++;
      options.onProgress?.(index, count, info);
    }
  }
  flush(height);
  const shapeOut = [batch, height, width, outChannels];
  return isTf ? tf.tensor4d(output!, shapeOut as [number, number, number, number]) : { shape: shapeOut, data: output! };
}

async function runTfTile(image: tf.Tensor4D, process: TileFn<tf.Tensor4D>, info: TileInfo): Promise<HostTensor> {
  const tile = tf.slice(image, [0, info.y, info.x, 0], [-1, info.height, info.width, -1]);
  let out: tf.Tensor4D | undefined;
  try {
    out = await process(tile, info);
    if (!(out instanceof tf.Tensor)) throw new Error(`tiledProcess: tile ${info.index}: process must return a tf.Tensor4D for a tensor image`);
    return { shape: [...out.shape], data: (await out.data()) as Float32Array };
  } finally {
    if (out !== tile) out?.dispose();
    tile.dispose();
  }
}

function cropHost(image: HostTensor, info: TileInfo): HostTensor {
  const [batch, , width, channels] = image.shape as [number, number, number, number];
  const height = image.shape[1]!;
  const out = new Float32Array(batch * info.height * info.width * channels);
  const rowLen = info.width * channels;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < info.height; r++) {
      const src = ((b * height + info.y + r) * width + info.x) * channels;
      out.set(image.data.subarray(src, src + rowLen), (b * info.height + r) * rowLen);
    }
  }
  return { shape: [batch, info.height, info.width, channels], data: out };
}

function checkTileOutput(out: HostTensor, batch: number, info: TileInfo): void {
  if (!out || !Array.isArray(out.shape) || !(out.data instanceof Float32Array)) {
    throw new Error(`tiledProcess: tile ${info.index}: process must return a host tensor { shape, data: Float32Array }`);
  }
  const [b, h, w, c] = out.shape;
  if (out.shape.length !== 4 || b !== batch || h !== info.height || w !== info.width || !(c! >= 1)) {
    throw new Error(
      `tiledProcess: tile ${info.index} (${info.height}×${info.width} at y ${info.y}, x ${info.x}) must come back as [${batch}, ${info.height}, ${info.width}, channels], got [${out.shape.join(', ')}]`,
    );
  }
  if (out.data.length !== b! * h! * w! * c!) throw new Error(`tiledProcess: tile ${info.index}: output data length ${out.data.length} does not match its shape`);
}

function accumulate(
  band: Float64Array,
  data: Float32Array,
  info: TileInfo,
  rows: AxisTiling,
  cols: AxisTiling,
  j: number,
  i: number,
  batch: number,
  width: number,
  channels: number,
  rowOffset: number,
): void {
  const wy = rows.weights[j]!;
  const wx = cols.weights[i]!;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < info.height; r++) {
      const dstRow = ((b * rows.size + rowOffset + r) * width + info.x) * channels;
      const srcRow = (b * info.height + r) * info.width * channels;
      for (let x = 0; x < info.width; x++) {
        const weight = wy[r]! * wx[x]!;
        const d = dstRow + x * channels;
        const s = srcRow + x * channels;
        for (let c = 0; c < channels; c++) band[d + c]! += weight * data[s + c]!;
      }
    }
  }
}
