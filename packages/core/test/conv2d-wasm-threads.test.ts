import { configureWasmThreads, conv2d, selectBackend, tf, wasmThreadCount } from '../src';

/*
 * The threaded wasm build in Node (see ops/wasm-threads.ts). Its own test file: the wasm backend
 * must be configured before it starts, and jest gives every file a fresh tfjs. Only correctness is
 * checked here; speed is the benchmark's business (`npm run bench -- --suite conv`).
 */

function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function convAndGrads(seed: number) {
  const x = tf.tensor4d(values(2 * 20 * 20 * 16, seed), [2, 20, 20, 16]);
  const w = tf.tensor4d(values(3 * 3 * 16 * 32, seed + 1), [3, 3, 16, 32]);
  const dy = tf.tensor4d(values(2 * 20 * 20 * 32, seed + 2), [2, 20, 20, 32]);
  const f = (a: tf.Tensor, b: tf.Tensor) => conv2d(a as tf.Tensor4D, b as tf.Tensor4D, { padding: 1 });
  const y = f(x, w);
  const [dx, dw] = tf.grads(f)([x, w], dy);
  const out = [y, dx!, dw!].map((t) => t.dataSync().slice());
  tf.dispose([x, w, dy, y, dx!, dw!]);
  return out;
}

function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    ref = Math.max(ref, Math.abs(b[i]!));
  }
  return diff / ref;
}

describe('configureWasmThreads', () => {
  test('rejects bad thread counts', () => {
    expect(() => configureWasmThreads(0)).toThrow(/integer from 1 to 8, got 0/);
    expect(() => configureWasmThreads(1.5)).toThrow(/integer from 1 to 8/);
  });

  test('the wasm backend starts with 2 threads and computes what the cpu backend computes', async () => {
    expect(wasmThreadCount()).toBeUndefined();
    configureWasmThreads(2);
    await selectBackend('cpu');
    const cpu = convAndGrads(7);
    await selectBackend('wasm');
    expect(wasmThreadCount()).toBe(2);
    const wasm = convAndGrads(7);
    for (let k = 0; k < 3; k++) expect(relError(wasm[k]!, cpu[k]!)).toBeLessThan(1e-5);
  });

  test('configuring after the backend started is a clear error', () => {
    expect(() => configureWasmThreads(2)).toThrow(/already started; call this before selectBackend/);
  });
});
