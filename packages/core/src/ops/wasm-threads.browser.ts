import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/*
 * In a page, tfjs-backend-wasm starts its own threaded build when the page is cross-origin
 * isolated (SharedArrayBuffer available); only the count is ours to set. No worker files or
 * patches are needed, unlike in Node (ops/wasm-threads.ts).
 */

const MAX_WASM_THREADS = 8;

let configuredThreads: number | undefined;

/** Makes the tfjs `wasm` backend use `threads` threads; call before it starts. Needs a cross-origin isolated page for more than 1. */
export function configureWasmThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new Error(`configureWasmThreads: threads must be an integer from 1 to ${MAX_WASM_THREADS}, got ${threads}`);
  }
  if (tf.engine().registry['wasm']) {
    throw new Error('configureWasmThreads: the wasm backend has already started; call this before selectBackend()/tf.setBackend("wasm")');
  }
  if (configuredThreads !== undefined && configuredThreads !== threads) {
    throw new Error(`configureWasmThreads: already configured for ${configuredThreads} threads`);
  }
  if (threads > 1 && !(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) {
    throw new Error('configureWasmThreads: threads need a cross-origin isolated page (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)');
  }
  setThreadsCount(threads);
  configuredThreads = threads;
}

/** Threads the started wasm backend uses, undefined before it starts. */
export function wasmThreadCount(): number | undefined {
  if (!tf.engine().registry['wasm']) return undefined;
  try {
    return getThreadsCount();
  } catch {
    return undefined;
  }
}
