import { defineConfig } from 'tsup';
import { packageConfig } from '../../tools/tsup.base';

// Two entries: the library and the `srdiff-data` CLI. `shims` gives the ESM build `__dirname`,
// which bundledCleanImagesDir() uses to find assets/.
export default defineConfig(packageConfig({ entry: ['src/index.ts', 'src/cli.ts'], shims: true }));
