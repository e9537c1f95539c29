// Reading weights: the original's torch.save files through @srdiff/core's reader (no Python)
// against the same tensors as safetensors. Files: the reference UNet (3.2 MB, 63 tensors) as
// lastest_G.pth and as weights.safetensors, and the reference SRM in torch.save's legacy format.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const UNET = path.join(ROOT, 'packages', 'unet', 'test', 'fixtures', 'unet');
const PTH = path.join(ROOT, 'packages', 'core', 'test', 'fixtures', 'pth');

export default {
  name: 'io',
  description: "weights files: the original's .pth (zip and legacy torch.save) vs safetensors",
  requires: ['core'],
  backends: ['cpu'],

  async run(ctx) {
    const { core } = ctx;
    const backend = { name: 'host', spec: 'host', threads: 1 };
    const cases = [
      ['UNet nf=8 (3.2 MB)', 'lastest_G.pth (zip)', path.join(UNET, 'lastest_G.pth')],
      ['UNet nf=8 (3.2 MB)', 'weights.safetensors', path.join(UNET, 'weights.safetensors')],
      ['SRM 16/32/2 (80 kB)', 'srm_legacy_format.pth (legacy)', path.join(PTH, 'srm_legacy_format.pth')],
      ['SRM 16/32/2 (80 kB)', 'srm_best_model.pth (zip)', path.join(PTH, 'srm_best_model.pth')],
    ];
    for (const [caseName, impl, file] of cases) {
      if (!ctx.wants(impl, 'readStateDictFile')) continue;
      await ctx.measure({
        case: caseName,
        op: 'readStateDictFile',
        impl,
        backend,
        repeat: Math.max(ctx.options.repeat ?? 15, 15),
        warmup: 10, // the reader's JIT warms up over a few files, as in a process that loads several
        run: async () => {
          await core.readStateDictFile(file);
        },
        note: 'file → float32 state dict (page cache warm after the first run)',
      });
    }
  },

  summarize(rows) {
    const ms = (impl) => rows.find((r) => r.status === 'ok' && r.impl === impl)?.medianMs;
    const pth = ms('lastest_G.pth (zip)');
    const st = ms('weights.safetensors');
    return pth && st ? [`UNet .pth / safetensors read time: ${(pth / st).toFixed(2)}×`] : [];
  },
};
