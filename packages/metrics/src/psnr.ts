import { Accumulator, type Planes } from './planes';

/**
 * PSNR as the original `calculate_psnr`: float64 `mse = mean((a - b)²)` over every pixel and
 * channel, `20·log10(255 / sqrt(mse))`; `Infinity` for identical images.
 */
export function psnrOfPlanes(a: Planes, b: Planes): number {
  const acc = new Accumulator();
  let count = 0;
  for (let c = 0; c < a.planes.length; c++) {
    const pa = a.planes[c]!;
    const pb = b.planes[c]!;
    for (let i = 0; i < pa.length; i++) {
      const d = pa[i]! - pb[i]!;
      acc.add(d * d);
    }
    count += pa.length;
  }
  const mse = acc.value() / count;
  if (mse === 0) return Infinity;
  return 20 * Math.log10(255 / Math.sqrt(mse));
}
