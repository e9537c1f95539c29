/**
 * Where tiles go along one axis and how much each contributes where tiles overlap.
 *
 * Tiles have the full tile size (the last one is aligned to the far edge rather than cut short), are
 * `tile - overlap` apart, and an axis shorter than a tile is one tile of the axis' size. In a region
 * shared by two neighbours the weights are a linear cross-fade, `(i + 0.5)/L` rising in the next tile
 * and `(L - i - 0.5)/L` falling in the previous one (L = the actual overlap of that pair), which sum to
 * 1; everywhere else a tile's weight is 1, including at the image borders. Outputs are divided by the
 * summed weight, so the blend is exact wherever the ramps do not add up to exactly 1 in floating point
 * or where more than two tiles meet.
 */
export interface AxisTiling {
  /** Start of every tile along the axis, increasing. */
  starts: number[];
  /** Tile extent along the axis (≤ the requested tile size). */
  size: number;
  /** `weights[k][i]`: weight of tile k at offset i inside the tile. */
  weights: Float64Array[];
  /** Summed weight of all tiles at every position of the axis. */
  total: Float64Array;
}

export function tileStarts(length: number, tile: number, overlap: number): number[] {
  if (length <= tile) return [0];
  const stride = tile - overlap;
  const starts: number[] = [];
  for (let s = 0; s + tile < length; s += stride) starts.push(s);
  starts.push(length - tile);
  return starts;
}

export function planAxis(length: number, tile: number, overlap: number): AxisTiling {
  const size = Math.min(tile, length);
  const starts = tileStarts(length, tile, overlap);
  const weights = starts.map((start, k) => {
    const w = new Float64Array(size).fill(1);
    const before = k > 0 ? starts[k - 1]! + size - start : 0; // overlap with the previous tile
    const after = k < starts.length - 1 ? start + size - starts[k + 1]! : 0; // with the next one
    for (let i = 0; i < before; i++) w[i] = Math.min(w[i]!, (i + 0.5) / before);
    for (let i = 0; i < after; i++) w[size - 1 - i] = Math.min(w[size - 1 - i]!, (i + 0.5) / after);
    return w;
  });
  const total = new Float64Array(length);
  starts.forEach((start, k) => {
    for (let i = 0; i < size; i++) total[start + i]! += weights[k]![i]!;
  });
  return { starts, size, weights, total };
}
