/**
 * Shape arithmetic of a PyTorch-style 2-D convolution (NHWC input, `[kh, kw, in, out]` filter,
 * symmetric zero padding, no dilation), and its reduction to a stride-1 problem.
 *
 * The gradients are computed on a stride-1 problem: a strided convolution equals a stride-1
 * convolution of the space-to-depth rearranged, padded input with a rearranged filter (kernel
 * ceil(k/s), channels s²·C). That keeps every gradient a plain matrix product or a stride-1 forward
 * convolution, the two things the wasm backend runs fast.
 */

export interface Conv2dGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outChannels: number;
  kernelHeight: number;
  kernelWidth: number;
  strideHeight: number;
  strideWidth: number;
  padHeight: number;
  padWidth: number;
  outHeight: number;
  outWidth: number;
}

/** The stride-1 convolution that a strided one is rearranged into (identity when the stride is 1). */
export interface StrideOneProblem {
  /** Spatial size of the input after the optional space-to-depth step (before `pad*`). */
  height: number;
  width: number;
  /** Channels after space-to-depth: strideH·strideW·inChannels. */
  channels: number;
  kernelHeight: number;
  kernelWidth: number;
  /** Zero padding of the stride-1 input (PyTorch's padding when the stride is 1, else 0). */
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  /** For a strided conv: rows/columns of zeros appended to the padded input so its size is a multiple of the stride. */
  spaceToDepthPadBottom: number;
  spaceToDepthPadRight: number;
}

export function toPair(value: number | [number, number], name: string): [number, number] {
  const pair: [number, number] = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => Number.isInteger(v))) {
    throw new Error(`conv2d: ${name} must be an integer or a pair of integers, got ${JSON.stringify(value)}`);
  }
  return pair;
}

export function conv2dGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  stride: [number, number],
  padding: [number, number],
): Conv2dGeometry {
  if (xShape.length !== 4) throw new Error(`conv2d: input must be rank 4 (NHWC), got shape [${xShape.join(', ')}]`);
  if (filterShape.length !== 4) {
    throw new Error(`conv2d: filter must be rank 4 ([kh, kw, in, out]), got shape [${filterShape.join(', ')}]`);
  }
  const [batch, inHeight, inWidth, inChannels] = xShape as [number, number, number, number];
  const [kernelHeight, kernelWidth, filterIn, outChannels] = filterShape as [number, number, number, number];
  if (filterIn !== inChannels) {
    throw new Error(
      `conv2d: input has ${inChannels} channels (NHWC shape [${xShape.join(', ')}]) but the filter expects ${filterIn} ` +
        `(filter shape [kh, kw, in, out] = [${filterShape.join(', ')}])`,
    );
  }
  const [strideHeight, strideWidth] = stride;
  const [padHeight, padWidth] = padding;
  if (strideHeight < 1 || strideWidth < 1) throw new Error(`conv2d: stride must be >= 1, got [${stride.join(', ')}]`);
  if (padHeight < 0 || padWidth < 0) throw new Error(`conv2d: padding must be >= 0, got [${padding.join(', ')}]`);
  const outHeight = Math.floor((inHeight + 2 * padHeight - kernelHeight) / strideHeight) + 1;
  const outWidth = Math.floor((inWidth + 2 * padWidth - kernelWidth) / strideWidth) + 1;
  if (outHeight < 1 || outWidth < 1) {
    throw new Error(
      `conv2d: a ${kernelHeight}×${kernelWidth} kernel does not fit the ${inHeight}×${inWidth} input padded by ` +
        `[${padding.join(', ')}]`,
    );
  }
  return {
    batch, inHeight, inWidth, inChannels, outChannels, kernelHeight, kernelWidth,
    strideHeight, strideWidth, padHeight, padWidth, outHeight, outWidth,
  };
}

export function isStrideOne(g: Conv2dGeometry): boolean {
  return g.strideHeight === 1 && g.strideWidth === 1;
}

export function strideOneProblem(g: Conv2dGeometry): StrideOneProblem {
  if (isStrideOne(g)) {
    return {
      height: g.inHeight, width: g.inWidth, channels: g.inChannels,
      kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
      padTop: g.padHeight, padBottom: g.padHeight, padLeft: g.padWidth, padRight: g.padWidth,
      spaceToDepthPadBottom: 0, spaceToDepthPadRight: 0,
    };
  }
  const axis = (size: number, kernel: number, stride: number, pad: number, out: number) => {
    const kernelBlocks = Math.ceil(kernel / stride);
    // Enough blocks to cover the padded input and every block an output position reads.
    const blocks = Math.max(Math.ceil((size + 2 * pad) / stride), out + kernelBlocks - 1);
    return { kernelBlocks, blocks, extra: blocks * stride - size - 2 * pad };
  };
  const rows = axis(g.inHeight, g.kernelHeight, g.strideHeight, g.padHeight, g.outHeight);
  const cols = axis(g.inWidth, g.kernelWidth, g.strideWidth, g.padWidth, g.outWidth);
  return {
    height: rows.blocks, width: cols.blocks, channels: g.strideHeight * g.strideWidth * g.inChannels,
    kernelHeight: rows.kernelBlocks, kernelWidth: cols.kernelBlocks,
    padTop: 0, padBottom: 0, padLeft: 0, padRight: 0,
    spaceToDepthPadBottom: rows.extra, spaceToDepthPadRight: cols.extra,
  };
}
