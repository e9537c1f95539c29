import { defineConfig } from 'tsup';
import { packageConfig } from '../../tools/tsup.base';

// The library entry, the `srdiff` bin and the data-parallel gradient worker (a script of its own,
// loaded by path); `shims` gives the ESM build `__dirname` (bundled assets, the worker script).
export default defineConfig(packageConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', 'gradient-worker': 'src/training/parallel/gradient-worker.ts' },
  shims: true,
}));
