import { tf } from '@srdiff/core';

/**
 * `splitRows(x, parts)`: splits a tensor into `parts` equal pieces along axis 0 — contiguous blocks
 * of memory — as one kernel with one copy per piece. Differentiable (the gradient concatenates).
 *
 * tfjs-backend-wasm's Slice/Unpack/SplitV read the whole input out of the wasm heap for every
 * piece (`readSync` copies) and then copy row by row in JavaScript: unstacking a [16, 4096, 32]
 * activation costs ~10 ms and is quadratic in the number of pieces. Here wasm copies inside its
 * heap (`copyWithin`, a memmove) and cpu copies subarrays; other backends use `tf.split`.
 */
export function splitRows<T extends tf.Tensor>(x: T, parts: number): T[] {
  return tf.tidy(() => splitRowsUntracked(x, parts));
}

function splitRowsUntracked<T extends tf.Tensor>(x: T, parts: number): T[] {
  const rows = x.shape[0];
  if (x.rank < 1 || !Number.isInteger(parts) || parts < 1 || rows === undefined || rows % parts !== 0) {
    throw new Error(`splitRows: cannot split axis 0 of [${x.shape.join(', ')}] into ${parts} equal parts`);
  }
  if (x.dtype !== 'float32' || !tf.getKernel(SPLIT_ROWS_KERNEL, tf.getBackend())) return tf.split(x, parts, 0) as T[];
  const pieceShape = [rows / parts, ...x.shape.slice(1)];
  return tf.engine().runKernel(SPLIT_ROWS_KERNEL, { x }, { parts, pieceShape }) as unknown as T[];
}

/**
 * `tf.concat(xs, 0)` of equally shaped pieces whose gradient is {@link splitRows} (tfjs's own
 * concat gradient is a SplitV, which is slow on wasm for the reason above).
 */
export function concatRows<T extends tf.Tensor>(xs: readonly T[]): T {
  if (xs.length === 1) return tf.clone(xs[0]!);
  const shape = xs[0]!.shape.join(',');
  if (xs.some((x) => x.shape.join(',') !== shape)) throw new Error(`concatRows: pieces must have one shape, got ${xs.map((x) => `[${x.shape}]`).join(' ')}`);
  return concatRowsOp(...xs) as T;
}

const concatRowsOp = tf.customGrad((...args) => {
  const xs = args.slice(0, -1) as tf.Tensor[];
  return {
    value: tf.concat(xs, 0),
    gradFunc: (dy: tf.Tensor) => splitRowsUntracked(dy, xs.length),
  };
});

export const SPLIT_ROWS_KERNEL = 'SrdiffUnetSplitRows';

interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

interface SplitRowsAttrs {
  parts: number;
  pieceShape: number[];
}

function pieceSize(x: tf.TensorInfo, parts: number): number {
  return x.shape.reduce((a, b) => a * b, 1) / parts;
}

const wasmSplitRows: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const { parts, pieceShape } = attrs as unknown as SplitRowsAttrs;
  const wasm = backend as unknown as WasmBackendLike;
  const size = pieceSize(x, parts);
  const outs = Array.from({ length: parts }, () => wasm.makeOutput(pieceShape, 'float32'));
  // The heap view is taken after allocating: growing the heap detaches older views.
  const heap = new Float32Array(wasm.wasm.HEAPU8.buffer);
  const src = wasm.dataIdMap.get(x.dataId)!.memoryOffset / 4;
  outs.forEach((out, p) => {
    const dst = wasm.dataIdMap.get(out.dataId)!.memoryOffset / 4;
    heap.copyWithin(dst, src + p * size, src + (p + 1) * size);
  });
  return outs;
};

const cpuSplitRows: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const { parts, pieceShape } = attrs as unknown as SplitRowsAttrs;
  const cpu = backend as unknown as CpuBackendLike;
  const size = pieceSize(x, parts);
  const values = cpu.data.get(x.dataId)?.values;
  if (!(values instanceof Float32Array)) throw new Error('splitRows (cpu): input values are not a Float32Array');
  return Array.from({ length: parts }, (_, p) => cpu.makeTensorInfo(pieceShape, 'float32', values.slice(p * size, (p + 1) * size)));
};

for (const [backendName, kernelFunc] of [['wasm', wasmSplitRows], ['cpu', cpuSplitRows]] as const) {
  // A second copy of this module (ESM and CJS builds in one process) must not re-register.
  if (!tf.getKernel(SPLIT_ROWS_KERNEL, backendName)) tf.registerKernel({ kernelName: SPLIT_ROWS_KERNEL, backendName, kernelFunc });
}

if (!tf.getGradient(SPLIT_ROWS_KERNEL)) {
  tf.registerGradient({
    kernelName: SPLIT_ROWS_KERNEL,
    outputsToSave: [],
    gradFunc: (dy, _saved, attrs) => {
      const { parts } = attrs as unknown as SplitRowsAttrs;
      const dys = (Array.isArray(dy) ? dy : [dy]) as Array<tf.Tensor | null>;
      const shape = dys.find((d) => d)!.shape;
      // Pieces that did not reach the loss have no gradient: they contribute zeros.
      return { x: () => tf.concat(Array.from({ length: parts }, (_, p) => dys[p] ?? tf.zeros(shape)), 0) };
    },
  });
}
