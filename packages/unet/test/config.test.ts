import { selectBackend } from '@srdiff/core';
import { ConditionalUNet, SRDIFF_UNET_CONFIG, UNET_DEFAULTS, UNetConfigError, planLevels, resolveUnetConfig } from '../src';
import { referenceMeta } from './helpers';
import { originalParameterCount } from './param-count';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('config', () => {
  test('defaults are the original constructor\'s; options keep the YAML names', () => {
    const c = resolveUnetConfig({ in_nc: 3, out_nc: 3, nf: 64 });
    expect(c).toEqual({ in_nc: 3, out_nc: 3, nf: 64, ch_mult: [1, 2, 4, 4], context_dim: 512, use_degra_context: true, use_image_context: false });
    expect(UNET_DEFAULTS.ch_mult).toEqual([1, 2, 4, 4]);
    expect(resolveUnetConfig({ in_nc: 3, out_nc: 3, nf: 8, upscale: 1 }).nf).toBe(8);
  });

  test('readable errors name the option', () => {
    const base = { in_nc: 3, out_nc: 3, nf: 64 };
    expect(() => resolveUnetConfig({ ...base, nf: 0 })).toThrow(/nf must be a positive integer, got 0/);
    expect(() => resolveUnetConfig({ ...base, nf: 7 })).toThrow(/nf must be an even number ≥ 4/);
    expect(() => resolveUnetConfig({ ...base, ch_mult: [] })).toThrow(/ch_mult must be a non-empty list/);
    expect(() => resolveUnetConfig({ ...base, ch_mult: [1, 2.5] })).toThrow(/ch_mult\[1\] must be a positive integer/);
    expect(() => resolveUnetConfig({ ...base, context_dim: 1.5 })).toThrow(/context_dim must be an integer or null/);
    expect(() => resolveUnetConfig({ ...base, use_image_context: 'yes' as unknown as boolean })).toThrow(/use_image_context must be true or false/);
    expect(() => resolveUnetConfig({ ...base, upscale: 4 })).toThrow(/upscale must be 1/);
    expect(() => resolveUnetConfig({ ...base, nff: 3 } as never)).toThrow(/unknown option "nff"/);
    expect(() => resolveUnetConfig({ ...base, nf: 64 }).nf).not.toThrow();
  });

  test('GroupNorm(32) widths are checked per level with image context, naming the level', () => {
    const opts = { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 2, 3], context_dim: 16, use_degra_context: false, use_image_context: true };
    // Level 3: down width 8·2 = 16 is not a multiple of 32.
    expect(() => resolveUnetConfig(opts)).toThrow(UNetConfigError);
    expect(() => resolveUnetConfig(opts)).toThrow(/level 3 \(down path\) is 16 channels wide \(nf 8 × ch_mult\[2\] = 2\).*multiple of 32/);
    expect(() => resolveUnetConfig({ ...opts, ch_mult: [1, 2, 4, 6] })).toThrow(/level 3 \(up path\) is 48 channels wide/);
    // Without image context there is no GroupNorm: the same widths are fine.
    expect(() => resolveUnetConfig({ ...opts, use_image_context: false })).not.toThrow();
    expect(() => resolveUnetConfig({ ...opts, ch_mult: [1, 1, 1], nf: 16 })).toThrow(/the middle is 16 channels wide/);
  });

  test('plan: widths per level, padding multiple, which blocks exist', () => {
    const plan = planLevels(resolveUnetConfig(SRDIFF_UNET_CONFIG));
    expect(plan.depth).toBe(4);
    expect(plan.padMultiple).toBe(16);
    expect(plan.levels.map((l) => [l.dimIn, l.dimOut, l.transformer])).toEqual([[64, 64, false], [64, 128, false], [128, 256, false], [256, 512, true]]);
    expect(plan.midDim).toBe(512);
    expect(plan.imageContext).toBe(true);
    expect(plan.degraContext).toBe(false);
    // context_dim ≤ 0 (or null) disables both paths, as `context_dim > 0` does in the original.
    expect(planLevels(resolveUnetConfig({ ...SRDIFF_UNET_CONFIG, context_dim: null })).imageContext).toBe(false);
  });
});

describe('parameter count equals the original\'s', () => {
  test('reference config: 791,795 (meta.json) and the independent count', () => {
    const meta = referenceMeta();
    const model = new ConditionalUNet(meta.constructor as never);
    expect(model.parameterCount()).toBe(meta.param_count);
    expect(originalParameterCount(meta.constructor as never)).toBe(meta.param_count);
    model.dispose();
  });

  test.each([
    ['nf 16, SR-Diff config', { ...SRDIFF_UNET_CONFIG, nf: 16 }],
    ['prompt path on', { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 16, use_degra_context: true, use_image_context: true }],
    ['no image context (LinearAttention everywhere)', { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 16, use_degra_context: false, use_image_context: false }],
    ['original defaults, depth 5, gray images', { in_nc: 1, out_nc: 1, nf: 32, ch_mult: [1, 1, 2, 2, 4], context_dim: 64, use_degra_context: true, use_image_context: true }],
  ])('%s', (_, config) => {
    const model = new ConditionalUNet(config);
    expect(model.parameterCount()).toBe(originalParameterCount(config as never));
    model.dispose();
  });

  test('SR-Diff\'s network (nf 64): 49.4 M parameters with context_dim 768 (48.7 M with the constructor default 512)', () => {
    expect(Math.round(originalParameterCount(SRDIFF_UNET_CONFIG as never) / 1e5) / 10).toBe(49.4);
    expect(Math.round(originalParameterCount({ ...SRDIFF_UNET_CONFIG, context_dim: 512 } as never) / 1e5) / 10).toBe(48.7);
  });
});
