import type { OnnxGraphBuilder } from '../../graph-builder';
import { shapeOf, wanted } from './helpers';
import { GradientRuleError, type GradContext, type GradRule } from './types';

interface ConvGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begin pads then end pads, ONNX order. */
  pads: number[];
}

function geometry(c: GradContext, weightShape: readonly number[]): ConvGeometry {
  const spatial = weightShape.length - 2;
  if (spatial !== 2) throw new GradientRuleError(c.node, 'only 2-D convolutions are differentiable');
  if (c.node.int('group', 1) !== 1) throw new GradientRuleError(c.node, 'grouped convolutions are not supported');
  return {
    kernel: weightShape.slice(2),
    strides: c.node.ints('strides') ?? [1, 1],
    dilations: c.node.ints('dilations') ?? [1, 1],
    pads: c.node.ints('pads') ?? [0, 0, 0, 0],
  };
}

/**
 * The patch matrix of a convolution (explicit im2col): for `x` `[N, C, H, W]`, rows (a, b, c) over
 * the kernel taps and channels, columns (n, y, x) over the output positions, holding
 * `x_padded[n, c, y·s + a·d, x·s + b·d]`: `[kh·kw·C, N·Ho·Wo]`. Built from one transpose, one pad and
 * kh·kw strided slices, so a filter gradient is one large GEMM instead of a convolution with an
 * image-sized kernel (which ORT runs as many thin matrix products).
 */
export function patchMatrix(g: OnnxGraphBuilder, x: string, xShape: readonly number[], geo: ConvGeometry, out: readonly number[]): string {
  const [n, ch, h, w] = xShape as [number, number, number, number];
  const [kh, kw] = geo.kernel as [number, number];
  const [sh, sw] = geo.strides as [number, number];
  const [dh, dw] = geo.dilations as [number, number];
  const [pt, pl] = geo.pads as [number, number];
  const [ho, wo] = out as [number, number];
  // Channels first so each tap's slice is already [C, N, Ho, Wo] in the row order wanted.
  let t = g.transpose(x, [1, 0, 2, 3]);
  // Pads may exceed what the taps reach (and end pads may be negative in effect): pad only what is read.
  const needH = (ho - 1) * sh + (kh - 1) * dh + 1;
  const needW = (wo - 1) * sw + (kw - 1) * dw + 1;
  const endH = Math.max(0, needH - (h + pt));
  const endW = Math.max(0, needW - (w + pl));
  if (pt || pl || endH || endW) t = g.op('Pad', [t, g.constInt64([0, 0, pt, pl, 0, 0, endH, endW])]);
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && ho === h && wo === w && !pt && !pl) return g.reshape(t, [ch, n * ho * wo]);
  const taps: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const tap = g.slice(t, [a * dh, b * dw], [a * dh + (ho - 1) * sh + 1, b * dw + (wo - 1) * sw + 1], [2, 3], [sh, sw]);
      taps.push(g.reshape(tap, [1, ch, n * ho * wo]));
    }
  }
  return g.reshape(taps.length === 1 ? taps[0]! : g.concat(taps, 0), [kh * kw * ch, n * ho * wo]);
}

/** `[N, C, H, W]` → `[C, N·H·W]`. */
function channelsByPositions(g: OnnxGraphBuilder, t: string, shape: readonly number[]): string {
  const [n, ch, h, w] = shape as [number, number, number, number];
  return g.reshape(g.transpose(t, [1, 0, 2, 3]), [ch, n * h * w]);
}

/** A `[O, kh·kw·C]` GEMM result (rows (a, b, c) as {@link patchMatrix}) in the `[O, C, kh, kw]` weight layout. */
function toWeightLayout(g: OnnxGraphBuilder, flat: string, o: number, ch: number, kh: number, kw: number): string {
  return g.transpose(g.reshape(flat, [o, kh, kw, ch]), [0, 3, 1, 2]);
}

const biasGrad = (g: OnnxGraphBuilder, dY: string) => g.reduceSum(dY, [0, 2, 3], false);

export const CONVOLUTION_RULES: Record<string, GradRule> = {
  /**
   * Y = conv(X, W) + B. dX is the transposed convolution of dY with the same kernel (output
   * padding recovers sizes a stride rounded down); dW = dY₂ · patches(X)ᵀ (one GEMM over every
   * output position of the batch); dB = Σ dY over batch and space.
   */
  Conv: (c) => {
    const [x, w, b] = c.node.inputs as [string, string, string | undefined];
    const { g } = c;
    const dY = c.dY[0]!;
    const [xs, ws, ys] = [shapeOf(c, x), shapeOf(c, w), shapeOf(c, c.node.outputs[0]!)];
    const geo = geometry(c, ws);
    let dX: string | undefined;
    if (wanted(c, 0)) {
      const outputPadding = [0, 1].map((i) => {
        const k = (geo.kernel[i]! - 1) * geo.dilations[i]! + 1;
        return xs[i + 2]! - ((ys[i + 2]! - 1) * geo.strides[i]! - geo.pads[i]! - geo.pads[i + 2]! + k);
      });
      if (outputPadding.some((p, i) => p < 0 || p >= Math.max(geo.strides[i]!, geo.dilations[i]!))) {
        throw new GradientRuleError(c.node, `cannot recover input size [${xs}] from output [${ys}]`);
      }
      dX = g.op('ConvTranspose', [dY, w], {
        strides: geo.strides, pads: geo.pads, dilations: geo.dilations,
        output_padding: outputPadding.some((p) => p) ? outputPadding : undefined,
      });
    }
    let dW: string | undefined;
    if (wanted(c, 1)) {
      const [o, ch, kh, kw] = ws as [number, number, number, number];
      const patches = patchMatrix(g, x, xs, geo, ys.slice(2));
      dW = toWeightLayout(g, g.op('Gemm', [channelsByPositions(g, dY, ys), patches], { transB: 1 }), o, ch, kh, kw);
    }
    return [dX, dW, b && wanted(c, 2) ? biasGrad(g, dY) : undefined];
  },

  /**
   * Y = convT(X, W) + B with W `[Cin, Cout, kh, kw]`. dX is the convolution of dY with W (same
   * strides and pads); dW[ci, co, a, b] = Σ X[n, ci, y, x]·dY[n, co, y·s − p + a·d, x·s − p + b·d],
   * i.e. X₂ · patches(dY)ᵀ with the roles of the convolution's input and output swapped.
   */
  ConvTranspose: (c) => {
    const [x, w, b] = c.node.inputs as [string, string, string | undefined];
    const { g } = c;
    const dY = c.dY[0]!;
    const [xs, ws, ys] = [shapeOf(c, x), shapeOf(c, w), shapeOf(c, c.node.outputs[0]!)];
    const geo = geometry(c, ws);
    let dX: string | undefined;
    if (wanted(c, 0)) dX = g.conv(dY, w, undefined, { pads: geo.pads, strides: geo.strides });
    if (dX && geo.dilations.some((d) => d !== 1)) throw new GradientRuleError(c.node, 'dilated transposed convolutions are not supported');
    let dW: string | undefined;
    if (wanted(c, 1)) {
      const [ci, co, kh, kw] = ws as [number, number, number, number];
      const patches = patchMatrix(g, dY, ys, geo, xs.slice(2));
      dW = toWeightLayout(g, g.op('Gemm', [channelsByPositions(g, x, xs), patches], { transB: 1 }), ci, co, kh, kw);
    }
    return [dX, dW, b && wanted(c, 2) ? biasGrad(g, dY) : undefined];
  },
};
