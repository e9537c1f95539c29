import { defineConfig } from 'tsup';
import { packageConfig } from '../../tools/tsup.base';

// skipNodeModulesBundle makes tsup bundle whatever tsconfig `paths` map (so @srdiff/core would be
// inlined, a second copy); without it tsup externalises package.json dependencies plus `external`.
export default defineConfig(packageConfig({ skipNodeModulesBundle: false }));
