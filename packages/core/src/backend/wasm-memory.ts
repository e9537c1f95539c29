import * as tf from '@tensorflow/tfjs-core';

/** tfjs-backend-wasm is built for wasm32: its heap cannot grow past 4 GiB, whatever the machine has. */
export const WASM_HEAP_LIMIT_BYTES = 4 * 2 ** 30;

/**
 * What the wasm module throws when an allocation fails: a trap when malloc's null is written
 * through, or an abort when XNNPACK cannot allocate an operator (it logs "status 6", out of memory,
 * then calls abort()) — an abort has no other cause we have seen during a large step.
 */
const WASM_OUT_OF_MEMORY = /memory access out of bounds|out of memory|Cannot enlarge memory|Aborted\(/i;

/** The wasm backend ran out of its heap; the backend is unusable afterwards (its allocator state is lost). */
export class WasmMemoryError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'WasmMemoryError';
  }
}

/**
 * `err` as a WasmMemoryError that says what ran out and what to change, when it is the wasm
 * backend's opaque out-of-memory trap; otherwise `err` unchanged. `what` names the work (e.g.
 * "a training step of batch 16 at 64×64") and `advice` the knobs that reduce its memory.
 */
export function explainWasmOutOfMemory(err: unknown, what: string, advice: string, backend: string = tf.getBackend()): unknown {
  if (backend !== 'wasm' || !(err instanceof Error) || !WASM_OUT_OF_MEMORY.test(err.message)) return err;
  const limit = `${WASM_HEAP_LIMIT_BYTES / 2 ** 30} GiB`;
  return new WasmMemoryError(
    `${what} needs more than the wasm backend's ${limit} heap (it failed with "${err.message.split('.')[0]}"). ${advice}, ` +
      'or install @tensorflow/tfjs-node / @tensorflow/tfjs-node-gpu (native memory, no such limit). ' +
      'The wasm backend cannot be used again in this process.',
    err,
  );
}
