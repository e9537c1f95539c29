import { defineConfig } from 'tsup';
import { browserPackageConfig } from '../../tools/tsup.base';

// The browser entry (`exports` → `browser`): run after tsup.config.ts, which cleans dist/.
// skipNodeModulesBundle: false as in tsup.config.ts (tsconfig `paths` would otherwise inline @srdiff/core).
export default defineConfig(browserPackageConfig({ skipNodeModulesBundle: false }));
