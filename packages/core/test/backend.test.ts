import { selectBackend, currentBackend, tf } from '../src';

describe('selectBackend', () => {
  const saved = process.env.SRDIFF_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.SRDIFF_BACKEND;
    else process.env.SRDIFF_BACKEND = saved;
  });

  test('auto skips the native engine when it is not installed and reports why', async () => {
    delete process.env.SRDIFF_BACKEND;
    const sel = await selectBackend('auto');
    expect(['tensorflow', 'wasm']).toContain(sel.backend);
    expect(tf.getBackend()).toBe(sel.backend);
    if (sel.backend === 'wasm') {
      const native = sel.attempts.filter((a) => a.name.startsWith('tensorflow'));
      expect(native).toHaveLength(2);
      native.forEach((a) => expect(a.ok).toBe(false));
    }
    expect(currentBackend()).toBe(sel);
  });

  test('SRDIFF_BACKEND overrides auto', async () => {
    process.env.SRDIFF_BACKEND = 'cpu';
    const sel = await selectBackend();
    expect(sel.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  test('an explicit preference runs computations on that backend', async () => {
    const sel = await selectBackend('wasm');
    expect(sel.backend).toBe('wasm');
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(y.dataSync())).toEqual([11]);
  });

  test('an unknown name is a clear error', async () => {
    await expect(selectBackend('gpu' as never)).rejects.toThrow(/unknown backend "gpu"; expected one of auto, tensorflow, wasm, cpu/);
    process.env.SRDIFF_BACKEND = 'metal';
    await expect(selectBackend()).rejects.toThrow(/SRDIFF_BACKEND: unknown backend "metal"/);
  });

  test('forcing the native engine without it installed fails instead of silently falling back', async () => {
    await expect(selectBackend('tensorflow')).rejects.toThrow(/no backend could be started[\s\S]*tfjs-node-gpu/);
  });
});
