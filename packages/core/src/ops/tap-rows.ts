import * as tf from '@tensorflow/tfjs-core';

/**
 * `tapRows(x, offsets)`: for a row-major matrix `x` `[R, L]`, stacks one shifted copy per offset:
 * `out[t·R + r, m] = x[r, m + offsets[t]]`, zero where `m + offsets[t] ≥ L`. Shape `[T·R, L]`.
 *
 * With `x` the channel-major padded input (one row per channel, the N·H·W grid flattened), the
 * shift by `i·W + j` is the input seen by filter tap (i, j), so the result is the im2col matrix of
 * the filter gradient, already in the layout a plain (non-transposed) matMul wants. On wasm and cpu
 * it is a registered kernel made of T·R block copies (tfjs's own Slice kernel copies row by row
 * through JavaScript and concat adds a second pass); elsewhere it is built from slice/pad/concat.
 */
export function tapRows(x: tf.Tensor2D, offsets: readonly number[]): tf.Tensor2D {
  const [, length] = x.shape;
  for (const offset of offsets) {
    if (!Number.isInteger(offset) || offset < 0) throw new Error(`tapRows: offsets must be non-negative integers, got ${offset}`);
  }
  if (x.dtype !== 'float32') throw new Error(`tapRows: expects float32, got ${x.dtype}`);
  if (tf.getKernel(TAP_ROWS_KERNEL, tf.getBackend())) {
    return tf.engine().runKernel(TAP_ROWS_KERNEL, { x }, { offsets: [...offsets] }) as tf.Tensor2D;
  }
  return tf.tidy(() =>
    tf.concat(
      offsets.map((offset) => {
        const kept = Math.max(0, length - offset);
        const shifted = tf.slice(x, [0, Math.min(offset, length)], [-1, kept]);
        return offset === 0 ? shifted : tf.pad(shifted, [[0, 0], [0, length - kept]]);
      }),
      0,
    ),
  );
}

export const TAP_ROWS_KERNEL = 'SrdiffTapRows';

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses (public members of that class). */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** The parts of tfjs-backend-cpu's MathBackendCPU this kernel uses. */
interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

function shapeOf(x: tf.TensorInfo, offsets: number[]): [number, number, number] {
  const [rows, length] = x.shape as [number, number];
  return [rows, length, offsets.length * rows];
}

/** wasm: copies inside the module's heap (`copyWithin` is a memmove). */
const wasmTapRows: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const offsets = (attrs as { offsets: number[] }).offsets;
  const wasm = backend as unknown as WasmBackendLike;
  const [rows, length, outRows] = shapeOf(x, offsets);
  const out = wasm.makeOutput([outRows, length], 'float32');
  // Views are taken after makeOutput: allocating may grow (and so detach) the heap.
  const heap = new Float32Array(wasm.wasm.HEAPU8.buffer);
  const src = wasm.dataIdMap.get(x.dataId)!.memoryOffset / 4;
  let dst = wasm.dataIdMap.get(out.dataId)!.memoryOffset / 4;
  for (const offset of offsets) {
    const kept = Math.max(0, length - offset);
    for (let r = 0; r < rows; r++, dst += length) {
      const from = src + r * length + offset;
      if (kept > 0) heap.copyWithin(dst, from, from + kept);
      if (kept < length) heap.fill(0, dst + kept, dst + length);
    }
  }
  return out;
};

const cpuTapRows: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const offsets = (attrs as { offsets: number[] }).offsets;
  const cpu = backend as unknown as CpuBackendLike;
  const [rows, length, outRows] = shapeOf(x, offsets);
  const values = cpu.data.get(x.dataId)?.values;
  if (!(values instanceof Float32Array)) throw new Error('tapRows (cpu): input values are not a Float32Array');
  const out = new Float32Array(outRows * length);
  let dst = 0;
  for (const offset of offsets) {
    const kept = Math.max(0, length - offset);
    for (let r = 0; r < rows; r++, dst += length) {
      const from = r * length + offset;
      if (kept > 0) out.set(values.subarray(from, from + kept), dst);
    }
  }
  return cpu.makeTensorInfo([outRows, length], 'float32', out);
};

for (const [backendName, kernelFunc] of [['wasm', wasmTapRows], ['cpu', cpuTapRows]] as const) {
  // A second copy of this module (ESM and CJS builds in one process) must not re-register.
  if (!tf.getKernel(TAP_ROWS_KERNEL, backendName)) tf.registerKernel({ kernelName: TAP_ROWS_KERNEL, backendName, kernelFunc });
}
