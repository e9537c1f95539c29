import { defineConfig } from 'tsup';
import { packageConfig } from '../../tools/tsup.base';

// shims: `__filename` in the ESM build, so the optional `sharp` peer resolves from this package.
export default defineConfig(packageConfig({ shims: true }));
