import * as tf from '@tensorflow/tfjs-core';

/**
 * A block of rows of a row-major matrix `x` `[R, L]`: rows `start … start + count - 1`, each read
 * from column `shift` on (`out[m] = x[r, m + shift]`, zero where `m + shift ≥ L`).
 */
export interface RowBlock {
  start: number;
  count: number;
  shift: number;
}

/**
 * Stacks the given row blocks of `x` `[R, L]` into `[Σ count, columns]` (`columns` defaults to L). On wasm and cpu this is a
 * registered kernel of block copies (memmove inside the wasm heap); tfjs-wasm's own Slice copies
 * each innermost run through JavaScript and its Reverse and Gather kernels are element loops, so
 * this is several times faster than composing those. Elsewhere it is built from slice/pad/concat.
 */
export function copyRowBlocks(x: tf.Tensor2D, blocks: readonly RowBlock[], columns = x.shape[1]): tf.Tensor2D {
  const [rows, length] = x.shape;
  if (!Number.isInteger(columns) || columns < 1) throw new Error(`copyRowBlocks: columns must be a positive integer, got ${columns}`);
  if (x.dtype !== 'float32') throw new Error(`copyRowBlocks: expects float32, got ${x.dtype}`);
  for (const { start, count, shift } of blocks) {
    const ok = [start, count, shift].every((v) => Number.isInteger(v) && v >= 0) && start + count <= rows;
    if (!ok) throw new Error(`copyRowBlocks: block {start: ${start}, count: ${count}, shift: ${shift}} does not fit ${rows} rows`);
  }
  if (tf.getKernel(ROW_BLOCKS_KERNEL, tf.getBackend())) {
    const flat = blocks.flatMap((b) => [b.start, b.count, b.shift]);
    return tf.engine().runKernel(ROW_BLOCKS_KERNEL, { x }, { blocks: flat, columns }) as tf.Tensor2D;
  }
  return tf.tidy(() =>
    tf.concat(
      blocks.map(({ start, count, shift }) => {
        const kept = Math.max(0, Math.min(columns, length - shift));
        const part = tf.slice(x, [start, Math.min(shift, length)], [count, kept]);
        return kept === columns ? part : tf.pad(part, [[0, 0], [0, columns - kept]]);
      }),
      0,
    ),
  );
}

/**
 * `out[t·R + r, m] = x[r, m + shifts[t]]` (zero past the end): with `x` the channel-major padded
 * input (one row per channel, the N·H·W grid flattened), shifting by `i·W + j` gives the input seen
 * by filter tap (i, j), so this is the im2col matrix of the filter gradient.
 */
export function tapRows(x: tf.Tensor2D, shifts: readonly number[], columns = x.shape[1]): tf.Tensor2D {
  const rows = x.shape[0];
  return copyRowBlocks(x, shifts.map((shift) => ({ start: 0, count: rows, shift })), columns);
}

/** The rows of `x` in reverse order. */
export function reverseRows(x: tf.Tensor2D): tf.Tensor2D {
  const rows = x.shape[0];
  return copyRowBlocks(x, Array.from({ length: rows }, (_, i) => ({ start: rows - 1 - i, count: 1, shift: 0 })));
}

export const ROW_BLOCKS_KERNEL = 'SrdiffCopyRowBlocks';

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

interface Layout {
  /** Input row length. */
  length: number;
  /** Output row length. */
  columns: number;
  outRows: number;
  blocks: number[];
}

function layoutOf(x: tf.TensorInfo, attrs: tf.NamedAttrMap | undefined): Layout {
  const { blocks, columns } = attrs as unknown as { blocks: number[]; columns: number };
  let outRows = 0;
  for (let b = 0; b < blocks.length; b += 3) outRows += blocks[b + 1]!;
  return { length: x.shape[1]!, columns, outRows, blocks };
}

/** Calls `copy(from, to, count)` / `zero(to, count)` for every row of every block, in output order. */
function forEachRow(
  { length, columns, blocks }: Layout,
  copy: (from: number, to: number, count: number) => void,
  zero: (to: number, count: number) => void,
): void {
  let dst = 0;
  for (let b = 0; b < blocks.length; b += 3) {
    const [start, count, shift] = [blocks[b]!, blocks[b + 1]!, blocks[b + 2]!];
    const kept = Math.max(0, Math.min(columns, length - shift));
    for (let r = start; r < start + count; r++, dst += columns) {
      if (kept > 0) copy(r * length + shift, dst, kept);
      if (kept < columns) zero(dst + kept, columns - kept);
    }
  }
}

const wasmRowBlocks: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const wasm = backend as unknown as WasmBackendLike;
  const layout = layoutOf(x, attrs);
  const out = wasm.makeOutput([layout.outRows, layout.columns], 'float32');
  // Views are taken after makeOutput: allocating may grow (and so replace) the heap buffer.
  const heap = new Float32Array(wasm.wasm.HEAPU8.buffer);
  const src = wasm.dataIdMap.get(x.dataId)!.memoryOffset / 4;
  const dst = wasm.dataIdMap.get(out.dataId)!.memoryOffset / 4;
  forEachRow(
    layout,
    (from, to, count) => heap.copyWithin(dst + to, src + from, src + from + count),
    (to, count) => heap.fill(0, dst + to, dst + to + count),
  );
  return out;
};

const cpuRowBlocks: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const cpu = backend as unknown as CpuBackendLike;
  const layout = layoutOf(x, attrs);
  // Duck-typed: under test runners the array may come from another realm.
  const values = cpu.data.get(x.dataId)?.values as Float32Array | undefined;
  if (!values || typeof values.subarray !== 'function') throw new Error('copyRowBlocks (cpu): the input has no float32 values on the cpu backend');
  const out = new Float32Array(layout.outRows * layout.columns);
  forEachRow(
    layout,
    (from, to, count) => out.set(values.subarray(from, from + count), to),
    () => {}, // a new Float32Array is already zero
  );
  return cpu.makeTensorInfo([layout.outRows, layout.columns], 'float32', out);
};

for (const [backendName, kernelFunc] of [['wasm', wasmRowBlocks], ['cpu', cpuRowBlocks]] as const) {
  // A second copy of this module (ESM and CJS builds in one process) must not re-register.
  if (!tf.getKernel(ROW_BLOCKS_KERNEL, backendName)) tf.registerKernel({ kernelName: ROW_BLOCKS_KERNEL, backendName, kernelFunc });
}
