import { weight, type EmitContext } from '../emit-context';

/** `Downsample`: Conv2d(dimIn → dimOut, 4, stride 2, pad 1, bias); at the deepest level a 3×3 conv without bias. */
export function emitDownsample(ctx: EmitContext, path: string, x: string, dimIn: number, dimOut: number, deepest: boolean): string {
  const { g } = ctx;
  return g.scope(path, () => {
    const out = deepest
      ? g.conv(x, weight(ctx, `${path}.weight`, [dimOut, dimIn, 3, 3]), undefined, { pads: [1, 1, 1, 1] })
      : g.conv(x, weight(ctx, `${path}.weight`, [dimOut, dimIn, 4, 4]), weight(ctx, `${path}.bias`, [dimOut]), { pads: [1, 1, 1, 1], strides: [2, 2] });
    return ctx.record(path, out);
  });
}

/**
 * Which 3×3 kernel taps add up into each tap of the 4×4 kernel of one stride-2 transposed
 * convolution (pad 1) that equals "nearest ×2 upsampling, then 3×3 conv (pad 1)". Output row 2i+a
 * only sees input rows i-1, i (a = 0: kernel rows [W0], [W1+W2]) or i, i+1 (a = 1: [W0+W1], [W2]);
 * a transposed conv places input row r at output rows 2r-1+k, so those become its kernel rows
 * k = 3, 1 (a = 0) and 2, 0 (a = 1). Columns likewise. 16 instead of 36 multiply-adds per input
 * pixel and channel pair, and no upsampled tensor. As a `[9, 16]` 0/1 matrix S: the transposed
 * kernel of a 3×3 kernel w (flattened) is w·S.
 */
export function upsampleKernelSelector(): Float32Array {
  // rowsFor[k]: which 3×3 kernel rows add up into transposed-kernel row k.
  const rowsFor = [[2], [1, 2], [0, 1], [0]];
  const s = new Float32Array(9 * 16);
  for (let ky = 0; ky < 4; ky++) {
    for (let kx = 0; kx < 4; kx++) {
      for (const r of rowsFor[ky]!) for (const c of rowsFor[kx]!) s[(r * 3 + c) * 16 + ky * 4 + kx] = 1;
    }
  }
  return s;
}

/**
 * {@link upsampleKernelSelector} applied on the host: `[out, in, 3, 3]` (Conv layout) →
 * `[in, out, 4, 4]` (ConvTranspose layout).
 */
export function upsampleConvAsTransposed(w: Float32Array, outCh: number, inCh: number): Float32Array {
  const select = upsampleKernelSelector();
  const out = new Float32Array(inCh * outCh * 16);
  for (let o = 0; o < outCh; o++) {
    for (let i = 0; i < inCh; i++) {
      const src = (o * inCh + i) * 9;
      const dst = (i * outCh + o) * 16;
      for (let k = 0; k < 16; k++) {
        let sum = 0;
        for (let t = 0; t < 9; t++) sum += w[src + t]! * select[t * 16 + k]!;
        out[dst + k] = sum;
      }
    }
  }
  return out;
}

/**
 * `Upsample`: nearest ×2 then Conv2d(dimOut → dimIn, 3, pad 1, bias) (`path.1`), emitted as one
 * transposed convolution (see {@link upsampleKernelSelector}); at the shallowest level a 3×3 conv
 * without bias and no upsampling.
 */
export function emitUpsample(ctx: EmitContext, path: string, x: string, dimOut: number, dimIn: number, shallowest: boolean): string {
  const { g } = ctx;
  return g.scope(path, () => {
    if (shallowest) return ctx.record(path, g.conv(x, weight(ctx, `${path}.weight`, [dimIn, dimOut, 3, 3]), undefined, { pads: [1, 1, 1, 1] }));
    // [dimIn, dimOut, 3, 3] → taps · S → [dimIn, dimOut, 4, 4] → ConvTranspose layout [dimOut, dimIn, 4, 4].
    const w = weight(ctx, `${path}.1.weight`, [dimIn, dimOut, 3, 3]);
    const taps = g.matMul(g.reshape(w, [dimIn * dimOut, 9]), g.constFloat(upsampleKernelSelector(), [9, 16]));
    const kernel = g.transpose(g.reshape(taps, [dimIn, dimOut, 4, 4]), [1, 0, 2, 3]);
    return ctx.record(path, g.op('ConvTranspose', [x, kernel, weight(ctx, `${path}.1.bias`, [dimIn])], { strides: [2, 2], pads: [1, 1, 1, 1] }));
  });
}
