import type { HostTensor } from '@srdiff/core';
import { writeImage } from '@srdiff/data';

const GAP = 4;

/**
 * A side-by-side comparison sheet: each row is one image's panels (e.g. LQ | restored | GT), all
 * `[1, H, W, 3]` of equal size within a row; rows are stacked with white gaps. Written as PNG.
 */
export async function writeComparisonSheet(file: string, rows: HostTensor[][]): Promise<void> {
  if (!rows.length) return;
  const dims = rows.map((panels) => {
    const [, h, w] = panels[0]!.shape as [number, number, number, number];
    for (const p of panels) {
      if (p.shape[1] !== h || p.shape[2] !== w) throw new Error(`writeComparisonSheet: panels of one row must share a size, got ${p.shape} and ${panels[0]!.shape}`);
    }
    return { h, w, width: panels.length * w + (panels.length - 1) * GAP };
  });
  const width = Math.max(...dims.map((d) => d.width));
  const height = dims.reduce((s, d) => s + d.h, 0) + GAP * (rows.length - 1);
  const data = new Float32Array(height * width * 3).fill(1);
  let top = 0;
  rows.forEach((panels, r) => {
    const { h, w } = dims[r]!;
    panels.forEach((p, k) => {
      const left = k * (w + GAP);
      for (let y = 0; y < h; y++) data.set(p.data.subarray(y * w * 3, (y + 1) * w * 3), ((top + y) * width + left) * 3);
    });
    top += h + GAP;
  });
  await writeImage(file, { shape: [height, width, 3], data });
}
