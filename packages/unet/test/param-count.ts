/**
 * Parameter count of the original ConditionalUNet, written out from DenoisingUNet_arch.py,
 * module_util.py and attention.py independently of our modules (a cross-check of their structure).
 */
export interface CountConfig {
  in_nc: number;
  out_nc: number;
  nf: number;
  ch_mult: number[];
  context_dim: number;
  use_degra_context: boolean;
  use_image_context: boolean;
}

export function originalParameterCount(c: CountConfig): number {
  const td = 4 * c.nf;
  const linear = (i: number, o: number, bias = true) => i * o + (bias ? o : 0);
  const conv = (i: number, o: number, k: number, bias: boolean) => o * i * k * k + (bias ? o : 0);
  const resBlock = (i: number, o: number) => linear(td, 2 * o) + conv(i, o, 3, false) + conv(o, o, 3, false) + (i !== o ? conv(i, o, 1, false) : 0);
  // Residual(PreNorm(C, fn)): PreNorm's channel LayerNorm g [1, C, 1, 1] plus fn.
  const linearAttention = (ch: number) => conv(ch, 384, 1, false) + conv(128, ch, 1, true) + ch;
  const spatialTransformer = (ch: number) => {
    const d = Math.floor(ch / 32) * 32;
    const attn = (ctx: number) => linear(d, d, false) + 2 * linear(ctx, d, false) + linear(d, d);
    const ff = linear(d, 8 * d) + linear(4 * d, d);
    return 2 * ch + conv(ch, d, 1, true) + attn(d) + ff + attn(c.context_dim) + 3 * 2 * d + conv(d, ch, 1, true);
  };
  const image = c.use_image_context && c.context_dim > 0;
  const attention = (ch: number, level: number) => ch + (image && level >= 3 ? spatialTransformer(ch) : linearAttention(ch));
  const mult = [1, ...c.ch_mult];
  const depth = c.ch_mult.length;
  let n = conv(2 * c.in_nc, c.nf, 7, false) + linear(c.nf, td) + linear(td, td);
  if (c.use_degra_context && c.context_dim > 0) n += td + linear(c.context_dim, td) + linear(td, td) + linear(td, td);
  for (let i = 0; i < depth; i++) {
    const dimIn = c.nf * mult[i]!;
    const dimOut = c.nf * mult[i + 1]!;
    n += 2 * resBlock(dimIn, dimIn) + attention(dimIn, i) + (i !== depth - 1 ? conv(dimIn, dimOut, 4, true) : conv(dimIn, dimOut, 3, false));
    n += 2 * resBlock(dimOut + dimIn, dimOut) + attention(dimOut, i) + (i !== 0 ? conv(dimOut, dimIn, 3, true) : conv(dimOut, dimIn, 3, false));
  }
  const mid = c.nf * mult[depth]!;
  n += 2 * resBlock(mid, mid) + mid + (image ? spatialTransformer(mid) : linearAttention(mid));
  n += resBlock(2 * c.nf, c.nf) + conv(c.nf, c.out_nc, 3, true);
  return n;
}
