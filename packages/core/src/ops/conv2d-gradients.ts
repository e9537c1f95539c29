import * as tf from '@tensorflow/tfjs-core';
import { type Conv2dGeometry, isStrideOne, strideOneProblem, type StrideOneProblem } from './conv2d-geometry';
import { reverseRows, tapRows } from './row-blocks';

/*
 * Gradients of y = conv2d(x, W) (PyTorch semantics, NHWC, filter [kh, kw, C, O]) as the two
 * operations the wasm backend runs fast: a stride-1 forward convolution (XNNPACK) and a plain
 * matMul. tfjs-backend-wasm has no Conv2DBackpropFilter kernel and its Conv2DBackpropInput is a
 * loop 10× slower than its forward; matMul with transposeA/transposeB, rank > 4 transposes, Reverse,
 * Gather and Slice (row by row in JavaScript) are slow paths there too (DESIGN §4, measured again
 * in tools/bench), so none of those touch large tensors below: copies go through row-blocks.ts.
 *
 * A strided convolution is first rewritten as a stride-1 one (conv2d-geometry.ts):
 *   z = spaceToDepth(pad(x)),  V[q, r·C + c] = W[s·q + r, c]  ⇒  conv(x, W, stride s) = conv(z, V, stride 1).
 */

/** dL/dx: the full correlation of dy with the spatially flipped, in/out-swapped filter. */
export function inputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, g: Conv2dGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const p = strideOneProblem(g);
    const v = isStrideOne(g) ? filter : filterToStrideOne(filter, g, p);
    const flipped = flipAndSwap(v);
    // Rows of dz = outHeight + top + bottom - kernel + 1 must equal p.height (likewise columns).
    const top = p.kernelHeight - 1 - p.padTop;
    const left = p.kernelWidth - 1 - p.padLeft;
    const bottom = p.height - g.outHeight + p.padTop;
    const right = p.width - g.outWidth + p.padLeft;
    let dz = tf.conv2d(dy, flipped as tf.Tensor4D, 1, [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]]);
    if (top < 0 || left < 0 || bottom < 0 || right < 0) {
      // Padding wider than kernel - 1: the first/last outputs see only padding, so dy's border is dropped.
      dz = cropSpatial(dz, Math.max(-top, 0), Math.max(-left, 0), p.height, p.width);
    }
    if (isStrideOne(g)) return dz;
    const padded = depthToSpace(dz, g.strideHeight, g.strideWidth, g.inChannels);
    return cropSpatial(padded, g.padHeight, g.padWidth, g.inHeight, g.inWidth);
  });
}

/**
 * Most elements of the filter gradient's im2col matrix built at once (64 MiB of float32). Larger
 * problems (batch 4 at 256², say) are split into bands of grid rows whose partial products add up.
 */
const MAX_IM2COL_ELEMENTS = 1 << 24;

/**
 * dL/dW[i, j, c, o] = Σ_{n,a,b} xpad[n, a + i, b + j, c] · dy[n, a, b, o], as matMuls
 * A [taps·C, n·Hp·Wp] · dyGrid [n·Hp·Wp, O]. A row is channel c of the padded input, flattened over
 * the whole padded grid and shifted by i·Wp + j; dyGrid is dy placed in the top-left corner of that
 * grid with zeros elsewhere, so shifted reads that wrap into the next row or image meet a zero.
 * The only large copies are one transpose of x, one pad of dy and the shifted rows.
 */
export function filterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, g: Conv2dGeometry, maxIm2colElements = MAX_IM2COL_ELEMENTS): tf.Tensor4D {
  return tf.tidy(() => {
    const p = strideOneProblem(g);
    const z = isStrideOne(g) ? x : inputToStrideOne(x, g, p);
    const gridHeight = p.height + p.padTop + p.padBottom;
    const gridWidth = p.width + p.padLeft + p.padRight;
    const gridRows = g.batch * gridHeight;
    const hasPad = p.padTop + p.padBottom + p.padLeft + p.padRight > 0;
    const zPadded = hasPad ? tf.pad(z, [[0, 0], [p.padTop, p.padBottom], [p.padLeft, p.padRight], [0, 0]]) : z;
    const planes = tf.reshape(tf.transpose(zPadded, [3, 0, 1, 2]), [p.channels, gridRows * gridWidth]) as tf.Tensor2D;
    const shifts: number[] = [];
    for (let i = 0; i < p.kernelHeight; i++) for (let j = 0; j < p.kernelWidth; j++) shifts.push(i * gridWidth + j);
    const dyGrid = tf.reshape(
      tf.pad(dy, [[0, 0], [0, gridHeight - g.outHeight], [0, gridWidth - g.outWidth], [0, 0]]),
      [gridRows * gridWidth, g.outChannels],
    ) as tf.Tensor2D;

    const rowsPerBand = Math.max(1, Math.floor(maxIm2colElements / (shifts.length * p.channels * gridWidth)));
    const bands = Math.ceil(gridRows / rowsPerBand);
    const partials: tf.Tensor2D[] = [];
    for (let band = 0; band < bands; band++) {
      const firstRow = Math.floor((band * gridRows) / bands);
      const columns = (Math.floor(((band + 1) * gridRows) / bands) - firstRow) * gridWidth;
      const offset = firstRow * gridWidth;
      const whole = bands === 1;
      const columnsOfA = whole && shifts.length === 1 ? planes : tapRows(planes, shifts.map((s) => s + offset), columns);
      partials.push(tf.matMul(columnsOfA, whole ? dyGrid : tf.slice(dyGrid, [offset, 0], [columns, -1])));
    }
    const dv = partials.length === 1 ? partials[0]! : tf.addN(partials);
    const dvFilter = tf.reshape(dv, [p.kernelHeight, p.kernelWidth, p.channels, g.outChannels]) as tf.Tensor4D;
    return isStrideOne(g) ? dvFilter : filterFromStrideOne(dvFilter, g, p);
  });
}

/** z = spaceToDepth(pad(x)): [n, H', W', sh·sw·C] with channel index (rh·sw + rw)·C + c. */
function inputToStrideOne(x: tf.Tensor4D, g: Conv2dGeometry, p: StrideOneProblem): tf.Tensor4D {
  const padded = tf.pad(x, [
    [0, 0],
    [g.padHeight, g.padHeight + p.spaceToDepthPadBottom],
    [g.padWidth, g.padWidth + p.spaceToDepthPadRight],
    [0, 0],
  ]);
  // [n·H', sh, W', sw·C] → [n·H', W', sh, sw·C]: a rank-4 transpose (rank 6 is slow on wasm).
  const blocks = tf.reshape(padded, [g.batch * p.height, g.strideHeight, p.width, g.strideWidth * g.inChannels]);
  return tf.reshape(tf.transpose(blocks, [0, 2, 1, 3]), [g.batch, p.height, p.width, p.channels]);
}

/** Inverse of the space-to-depth above: [n, H', W', sh·sw·C] → [n, sh·H', sw·W', C]. */
function depthToSpace(z: tf.Tensor4D, sh: number, sw: number, channels: number): tf.Tensor4D {
  const [n, h, w] = z.shape;
  const blocks = tf.reshape(z, [n * h, w, sh, sw * channels]);
  return tf.reshape(tf.transpose(blocks, [0, 2, 1, 3]), [n, h * sh, w * sw, channels]);
}

/**
 * The spatially flipped, in/out-swapped filter: F[i, j, o, c] = V[kh-1-i, kw-1-j, c, o]. Flipping
 * both spatial axes reverses the flattened tap index: a row reversal, then a rank-3 transpose.
 */
function flipAndSwap(v: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, cin, cout] = v.shape;
  const reversed = reverseRows(tf.reshape(v, [kh * kw, cin * cout]) as tf.Tensor2D);
  return tf.reshape(tf.transpose(tf.reshape(reversed, [kh * kw, cin, cout]), [0, 2, 1]), [kh, kw, cout, cin]);
}

/**
 * x[:, top : top + height, left : left + width, :] as a rank-3 slice over [n, H, W·C]: tfjs-wasm's
 * Slice copies each innermost run separately in JavaScript, so whole rows of W·C values beat runs of C.
 */
function cropSpatial(x: tf.Tensor4D, top: number, left: number, height: number, width: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (top === 0 && left === 0 && height === h && width === w) return x;
  const rows = tf.slice(tf.reshape(x, [n, h, w * c]), [0, top, left * c], [n, height, width * c]);
  return tf.reshape(rows, [n, height, width, c]);
}

/**
 * V[qh, qw, (rh·sw + rw)·C + c, o] = W[sh·qh + rh, sw·qw + rw, c, o], zero past the kernel: the
 * permutation (qh, rh, qw, rest) → (qh, qw, rh, rest) is a rank-4 transpose (rank 6 is slow on wasm).
 */
function filterToStrideOne(filter: tf.Tensor4D, g: Conv2dGeometry, p: StrideOneProblem): tf.Tensor4D {
  const [sh, sw] = [g.strideHeight, g.strideWidth];
  const padded = tf.pad(filter, [[0, p.kernelHeight * sh - g.kernelHeight], [0, p.kernelWidth * sw - g.kernelWidth], [0, 0], [0, 0]]);
  const blocks = tf.reshape(padded, [p.kernelHeight, sh, p.kernelWidth, sw * g.inChannels * g.outChannels]);
  return tf.reshape(tf.transpose(blocks, [0, 2, 1, 3]), [p.kernelHeight, p.kernelWidth, p.channels, g.outChannels]);
}

function filterFromStrideOne(v: tf.Tensor4D, g: Conv2dGeometry, p: StrideOneProblem): tf.Tensor4D {
  const [sh, sw] = [g.strideHeight, g.strideWidth];
  const blocks = tf.reshape(v, [p.kernelHeight, p.kernelWidth, sh, sw * g.inChannels * g.outChannels]);
  const full = tf.reshape(tf.transpose(blocks, [0, 2, 1, 3]), [p.kernelHeight * sh, p.kernelWidth * sw, g.inChannels, g.outChannels]);
  if (p.kernelHeight * sh === g.kernelHeight && p.kernelWidth * sw === g.kernelWidth) return full as tf.Tensor4D;
  return tf.slice(full as tf.Tensor4D, [0, 0, 0, 0], [g.kernelHeight, g.kernelWidth, -1, -1]);
}
