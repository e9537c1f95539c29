import { defineConfig } from 'tsup';
import { packageConfig } from '../../tools/tsup.base';

// The library entry plus the `srdiff` bin; `shims` gives the ESM build `__dirname` (bundled assets).
export default defineConfig(packageConfig({ entry: ['src/index.ts', 'src/cli.ts'], shims: true }));
