import { explainWasmOutOfMemory, WasmMemoryError } from '../src';

describe('explainWasmOutOfMemory', () => {
  const trap = new WebAssembly.RuntimeError('memory access out of bounds');

  test('turns the wasm out-of-memory trap into an error that names the work, the limit and the remedies', () => {
    const err = explainWasmOutOfMemory(trap, 'a training step (batch 16, patch 64)', 'Lower datasets.train.batch_size', 'wasm');
    expect(err).toBeInstanceOf(WasmMemoryError);
    const message = (err as Error).message;
    expect(message).toContain('a training step (batch 16, patch 64)');
    expect(message).toContain('4 GiB');
    expect(message).toContain('Lower datasets.train.batch_size');
    expect(message).toContain('@tensorflow/tfjs-node');
    expect((err as WasmMemoryError).cause).toBe(trap);
  });

  test('recognises the abort that follows a failed XNNPACK allocation', () => {
    const abort = new WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.');
    expect(explainWasmOutOfMemory(abort, 'x', 'y', 'wasm')).toBeInstanceOf(WasmMemoryError);
  });

  test('leaves other errors, and the same message on other backends, unchanged', () => {
    const other = new Error('shape mismatch');
    expect(explainWasmOutOfMemory(other, 'x', 'y', 'wasm')).toBe(other);
    expect(explainWasmOutOfMemory(trap, 'x', 'y', 'cpu')).toBe(trap);
    expect(explainWasmOutOfMemory('not an error', 'x', 'y', 'wasm')).toBe('not an error');
  });
});
