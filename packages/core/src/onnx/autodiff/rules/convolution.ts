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
 * Positions per image from which the filter gradient contracts each kernel tap per image (batched
 * products, then a sum over the batch) instead of folding the batch into one product. Measured on
 * ORT with 2 threads: the folded form wins below (its transposes are small), the batched one above
 * (3×3 64→64 on 4×256×256: 0.6 s against 2.5 s; im2col into one GEMM: 7–9 s, its patch matrix alone
 * is 600 MB).
 */
export const BATCHED_TAP_POSITIONS = 2048;

/**
 * `out[f, w, a, b] = Σ_n Σ_p fixed[n, f, p] · padded(windowed)[n, w, p·s + (a, b)·d]`: the filter
 * gradient of a convolution (fixed = dY, windowed = X) or of a transposed one (fixed = X,
 * windowed = dY), one kernel tap at a time, each tap's window a strided slice of the padded
 * tensor. `positions` is the spatial size of `fixed`, `pads` the begin pads of the window.
 */
function tapContractions(
  g: OnnxGraphBuilder,
  fixed: { t: string; shape: readonly number[] },
  windowed: { t: string; shape: readonly number[] },
  geo: ConvGeometry,
): string {
  const [n, f, ph, pw] = fixed.shape as [number, number, number, number];
  const [, wc, h, w] = windowed.shape as [number, number, number, number];
  const [kh, kw] = geo.kernel as [number, number];
  const [sh, sw] = geo.strides as [number, number];
  const [dh, dw] = geo.dilations as [number, number];
  const [pt, pl] = geo.pads as [number, number];
  const positions = ph * pw;
  const batched = positions >= BATCHED_TAP_POSITIONS;
  // Pad only what the taps read (end pads may exceed it, or fall short of the input's end).
  const needH = (ph - 1) * sh + (kh - 1) * dh + 1;
  const needW = (pw - 1) * sw + (kw - 1) * dw + 1;
  const endH = Math.max(0, needH - (h + pt));
  const endW = Math.max(0, needW - (w + pl));
  // Folded form: channels first once, so every window slice is already [C, N, ...].
  let win = batched ? windowed.t : g.transpose(windowed.t, [1, 0, 2, 3]);
  if (pt || pl || endH || endW) win = g.op('Pad', [win, g.constInt64([0, 0, pt, pl, 0, 0, endH, endW])]);
  const fixedRows = batched ? g.reshape(fixed.t, [n, f, positions]) : g.reshape(g.transpose(fixed.t, [1, 0, 2, 3]), [f, n * positions]);
  const identity = kh === 1 && kw === 1 && sh === 1 && sw === 1 && !pt && !pl && ph === h && pw === w;
  const parts: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const tap = identity ? win : g.slice(win, [a * dh, b * dw], [a * dh + (ph - 1) * sh + 1, b * dw + (pw - 1) * sw + 1], [2, 3], [sh, sw]);
      const product = batched
        ? g.reduceSum(g.matMul(fixedRows, g.transpose(g.reshape(tap, [n, wc, positions]), [0, 2, 1])), [0], false)
        : g.op('Gemm', [fixedRows, g.reshape(tap, [wc, n * positions])], { transB: 1 });
      parts.push(g.unsqueeze(product, [2]));
    }
  }
  return g.reshape(parts.length === 1 ? parts[0]! : g.concat(parts, 2), [f, wc, kh, kw]);
}

/** Stride 1, no dilation, pads within the kernel: dX is then a plain convolution. */
const unitStrided = (geo: ConvGeometry) =>
  geo.strides.every((v) => v === 1) && geo.dilations.every((v) => v === 1) && geo.pads.every((p, i) => p <= geo.kernel[i % 2]! - 1);

/**
 * dX of a stride-1 convolution as a plain convolution of dY with the kernel flipped in space and
 * its in/out channels swapped (pads k − 1 − p): the same values as the transposed convolution,
 * on ORT's faster Conv kernel (measured: the demo UNet's ConvTranspose nodes took 1.8× the time of
 * its forward Convs).
 */
function inputGradientAsConv(g: OnnxGraphBuilder, dY: string, w: string, geo: ConvGeometry): string {
  const [kh, kw] = geo.kernel as [number, number];
  const flipped = g.slice(g.transpose(w, [1, 0, 2, 3]), [kh - 1, kw - 1], [-kh - 1, -kw - 1], [2, 3], [-1, -1]);
  const [pt, pl, pb, pr] = geo.pads as [number, number, number, number];
  return g.conv(dY, flipped, undefined, { pads: [kh - 1 - pt, kw - 1 - pl, kh - 1 - pb, kw - 1 - pr] });
}

/** A (transposed) convolution node's tensors, their shapes and geometry. */
function operands(c: GradContext) {
  const [x, w, b] = c.node.inputs as [string, string, string | undefined];
  const ws = shapeOf(c, w);
  return { x, w, b, dY: c.dY[0]!, xs: shapeOf(c, x), ys: shapeOf(c, c.node.outputs[0]!), geo: geometry(c, ws) };
}

const biasGrad = (g: OnnxGraphBuilder, dY: string) => g.reduceSum(dY, [0, 2, 3], false);

export const CONVOLUTION_RULES: Record<string, GradRule> = {
  /**
   * Y = conv(X, W) + B. dX is the transposed convolution of dY with the same kernel (output
   * padding recovers sizes a stride rounded down; at stride 1 a convolution with the flipped
   * kernel, {@link inputGradientAsConv}); dW per kernel tap, dY contracted with the
   * tap's strided window of X over the batch and positions ({@link tapContractions}); dB = Σ dY.
   */
  Conv: (c) => {
    const { x, w, b, dY, xs, ys, geo } = operands(c);
    const { g } = c;
    let dX: string | undefined;
    if (wanted(c, 0) && unitStrided(geo)) {
      dX = inputGradientAsConv(g, dY, w, geo);
    } else if (wanted(c, 0)) {
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
    const dW = wanted(c, 1) ? tapContractions(g, { t: dY, shape: ys }, { t: x, shape: xs }, geo) : undefined;
    return [dX, dW, b && wanted(c, 2) ? biasGrad(g, dY) : undefined];
  },

  /**
   * Y = convT(X, W) + B with W `[Cin, Cout, kh, kw]`. dX is the convolution of dY with W (same
   * strides and pads); dW[ci, co, a, b] = Σ X[n, ci, y, x]·dY[n, co, y·s − p + a·d, x·s − p + b·d],
   * the tap contractions with the roles of the convolution's input and output swapped.
   */
  ConvTranspose: (c) => {
    const { x, w, b, dY, xs, ys, geo } = operands(c);
    const { g } = c;
    let dX: string | undefined;
    if (wanted(c, 0)) dX = g.conv(dY, w, undefined, { pads: geo.pads, strides: geo.strides });
    if (dX && geo.dilations.some((d) => d !== 1)) throw new GradientRuleError(c.node, 'dilated transposed convolutions are not supported');
    const dW = wanted(c, 1) ? tapContractions(g, { t: x, shape: xs }, { t: dY, shape: ys }, geo) : undefined;
    return [dX, dW, b && wanted(c, 2) ? biasGrad(g, dY) : undefined];
  },
};
