import { defineConfig } from 'tsup';
import { browserPackageConfig } from '../../tools/tsup.base';

// The browser entry (`exports` → `browser`): run after tsup.config.ts, which cleans dist/.
export default defineConfig(browserPackageConfig());
