import * as tf from '@tensorflow/tfjs-core';
import { conv2dGeometry, toPair } from './conv2d-geometry';
import { filterGradient, inputGradient } from './conv2d-gradients';

/** Options of {@link conv2d}, in PyTorch's terms. */
export interface Conv2dOptions {
  /** Stride (rows, cols); a number applies to both. Default 1. */
  stride?: number | [number, number];
  /** Zero padding added to each side (rows, cols), as PyTorch's `padding`. Default 0. */
  padding?: number | [number, number];
}

/**
 * 2-D convolution of NHWC `x` with a `[kh, kw, in, out]` filter, as PyTorch's `F.conv2d` (zero padding
 * on both sides, cross-correlation, no dilation). Differentiable with respect to both inputs.
 *
 * The forward pass is the backend's own Conv2D kernel. The gradients are registered for this op
 * (so they need no `register_all_gradients`, and only the inputs a `tf.grads`/`tf.variableGrads`
 * call asks for are computed): a stride-1 forward convolution for the input and one matrix product
 * for the filter, because wasm has no filter-gradient kernel, its input-gradient kernel is 10× slower
 * than its forward, and cpu's filter gradient takes minutes (see `conv2d-gradients.ts`).
 */
export function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, options: Conv2dOptions = {}): tf.Tensor4D {
  const stride = toPair(options.stride ?? 1, 'stride');
  const padding = toPair(options.padding ?? 0, 'padding');
  conv2dGeometry(x.shape, filter.shape, stride, padding);
  for (const [name, t] of [['input', x], ['filter', filter]] as const) {
    if (t.dtype !== 'float32') throw new Error(`conv2d: ${name} must be float32, got ${t.dtype}`);
  }
  ensureForwardKernel(tf.getBackend());
  const attrs: Conv2dAttrs = { strides: stride, padding };
  return tf.engine().runKernel(CONV2D_KERNEL, { x, filter }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * The input gradient of {@link conv2d} on its own: dL/dx for the upstream gradient `dy`, for an input
 * of shape `xShape`. What the op's backward pass runs (a stride-1 forward convolution).
 */
export function conv2dBackpropInput(
  xShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  options: Conv2dOptions = {},
): tf.Tensor4D {
  const g = checkedGeometry(xShape, filter.shape, options);
  expectShape('dy', dy.shape, [g.batch, g.outHeight, g.outWidth, g.outChannels]);
  return inputGradient(dy, filter, g);
}

/**
 * The filter gradient of {@link conv2d} on its own: dL/dW for the upstream gradient `dy`, for a filter
 * of shape `filterShape` `[kh, kw, in, out]`. What the op's backward pass runs (one matMul).
 */
export function conv2dBackpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  options: Conv2dOptions = {},
): tf.Tensor4D {
  const g = checkedGeometry(x.shape, filterShape, options);
  expectShape('dy', dy.shape, [g.batch, g.outHeight, g.outWidth, g.outChannels]);
  return filterGradient(x, dy, g);
}

function checkedGeometry(xShape: readonly number[], filterShape: readonly number[], options: Conv2dOptions) {
  return conv2dGeometry(xShape, filterShape, toPair(options.stride ?? 1, 'stride'), toPair(options.padding ?? 0, 'padding'));
}

function expectShape(name: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
    throw new Error(`conv2d: ${name} has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`);
  }
}

const CONV2D_KERNEL = 'SrdiffConv2D';

interface Conv2dAttrs {
  strides: [number, number];
  padding: [number, number];
}

function explicitPad([ph, pw]: [number, number]): tf.backend_util.ExplicitPadding {
  return [[0, 0], [ph, ph], [pw, pw], [0, 0]];
}

/** The op's forward kernel on a backend: that backend's Conv2D with explicit symmetric padding. */
function ensureForwardKernel(backendName: string): void {
  if (tf.getKernel(CONV2D_KERNEL, backendName)) return;
  const conv = tf.getKernel(tf.Conv2D, backendName);
  if (!conv) throw new Error(`conv2d: backend "${backendName}" has no Conv2D kernel`);
  tf.registerKernel({
    kernelName: CONV2D_KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { strides, padding } = attrs as unknown as Conv2dAttrs;
      const convAttrs: tf.Conv2DAttrs = { strides, pad: explicitPad(padding), dataFormat: 'NHWC', dilations: [1, 1] };
      return conv.kernelFunc({ inputs, backend, attrs: convAttrs as unknown as tf.NamedAttrMap });
    },
  });
}

if (!tf.getGradient(CONV2D_KERNEL)) {
  tf.registerGradient({
    kernelName: CONV2D_KERNEL,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const { strides, padding } = attrs as unknown as Conv2dAttrs;
      const g = conv2dGeometry(x.shape, filter.shape, strides, padding);
      const dy4 = dy as tf.Tensor4D;
      return {
        x: () => inputGradient(dy4, filter, g),
        filter: () => filterGradient(x, dy4, g),
      };
    },
  });
}

export { configureWasmThreads, wasmThreadCount } from './wasm-threads';
