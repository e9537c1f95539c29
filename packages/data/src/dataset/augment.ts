import type { Rng } from '@srdiff/core';
import type { RawImage } from '../io/decode';

/**
 * Where a training patch comes from and how it is augmented, drawn once per pair and applied to
 * LQ and GT alike. Mirrors the original (`LQGT_dataset.py` + IR-SDE `util.augment`): crop origin
 * `randint(0, H - P)`, `randint(0, W - P)`; horizontal flip if `use_flip`; vertical flip and 90°
 * rotation (a transpose) if `use_rot`; each with probability ½.
 */
export interface PatchPlacement {
  top: number;
  left: number;
  hflip: boolean;
  vflip: boolean;
  /** Transpose (rows ↔ columns), applied after the flips, as the original's `img.transpose(1, 0, 2)`. */
  rot90: boolean;
}

export interface AugmentOptions {
  patchSize: number;
  useFlip?: boolean;
  useRot?: boolean;
  /**
   * Images smaller than the patch in a dimension: `error` (default; the original would crash in
   * collation) or `pad` — mirror (reflect) padding at the bottom / right, the same way the UNet pads
   * its input, identically for LQ and GT.
   */
  smallImages?: 'error' | 'pad';
}

export function drawPlacement(rng: Rng, width: number, height: number, options: AugmentOptions): PatchPlacement {
  const p = options.patchSize;
  const top = rng.int(0, Math.max(0, height - p));
  const left = rng.int(0, Math.max(0, width - p));
  const hflip = (options.useFlip ?? true) && rng.uniform() < 0.5;
  const useRot = options.useRot ?? true;
  const vflip = useRot && rng.uniform() < 0.5;
  const rot90 = useRot && rng.uniform() < 0.5;
  return { top, left, hflip, vflip, rot90 };
}

/** Mirror index into [0, n) without repeating the edge (numpy / torch `reflect`), any distance. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

const UNIT_FROM_8BIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/**
 * Writes the `P×P×3` float32 patch of `raw` at `placement` into `out` at `offset` (HWC).
 * Source rows / columns past the image edge are mirrored (only reachable with `smallImages: 'pad'`).
 */
export function extractPatch(raw: RawImage, placement: PatchPlacement, patchSize: number, out: Float32Array, offset: number): void {
  const { width, height, data } = raw;
  const p = patchSize;
  const eightBit = raw.bitDepth === 8;
  const rowIndex = new Int32Array(p);
  const colIndex = new Int32Array(p);
  for (let i = 0; i < p; i++) {
    rowIndex[i] = reflect(placement.top + (placement.vflip ? p - 1 - i : i), height);
    colIndex[i] = reflect(placement.left + (placement.hflip ? p - 1 - i : i), width);
  }
  let o = offset;
  for (let y = 0; y < p; y++) {
    for (let x = 0; x < p; x++) {
      // Transposed patch: output (y, x) reads flipped-patch (x, y).
      const r = placement.rot90 ? rowIndex[x]! : rowIndex[y]!;
      const c = placement.rot90 ? colIndex[y]! : colIndex[x]!;
      const s = (r * width + c) * 3;
      if (eightBit) {
        out[o] = UNIT_FROM_8BIT[data[s]!]!;
        out[o + 1] = UNIT_FROM_8BIT[data[s + 1]!]!;
        out[o + 2] = UNIT_FROM_8BIT[data[s + 2]!]!;
      } else {
        out[o] = data[s]! / 65535;
        out[o + 1] = data[s + 1]! / 65535;
        out[o + 2] = data[s + 2]! / 65535;
      }
      o += 3;
    }
  }
}
