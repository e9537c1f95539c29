import { defineConfig } from 'tsup';
import { packageConfig } from '../../tools/tsup.base';

// The main entry and two subpaths: `@srdiff/core/testing` (shared test helpers; it imports
// `@srdiff/core` itself, kept external, so there is one TensorFlow.js) and `@srdiff/core/io`
// (the file formats alone, bundled without the engine).
export default defineConfig(packageConfig({ entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', io: 'src/io/index.ts' } }));
