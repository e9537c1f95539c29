import fs from 'node:fs';
import path from 'node:path';
import type { Options } from 'tsup';

/**
 * Shared tsup settings: every package ships ESM (`.mjs`) + CommonJS (`.js`) + type declarations.
 * Workspace packages and all npm dependencies stay external (tsup externalises package.json
 * dependencies; the list below also covers the tsconfig path aliases, which would otherwise be
 * inlined), so consumers get one copy of TensorFlow.js (its backend registry is global state).
 */
export function packageConfig(overrides: Partial<Options> = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    external: [/^@srdiff\//, /^@tensorflow\//, '@huggingface/transformers', 'onnxruntime-node', 'onnxruntime-web', 'sharp'],
    // tfjs-core's gradient registrations exist only as ESM sources: bundle them (see core/src/tfjs).
    noExternal: [/@tensorflow\/tfjs-core\/dist\/register_all_gradients/],
    tsconfig: 'tsconfig.json',
    ...overrides,
  };
}

/**
 * The browser entry of a package (`src/index.browser.ts` → `dist/index.browser.mjs` + types), the
 * file the `browser` condition of its `exports` points to. ESM only, for bundlers and pages.
 * Built by a second tsup run (`tsup --config tsup.browser.config.ts`, after the Node build, which
 * cleans `dist/`). Inside it, a relative import of `./x` resolves to `./x.browser.ts` when that
 * file exists: the same API over browser facilities (see {@link platformVariants}).
 */
export function browserPackageConfig(overrides: Partial<Options> = {}): Options {
  return packageConfig({
    entry: { 'index.browser': 'src/index.browser.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    clean: false,
    esbuildPlugins: [platformVariants('browser')],
    ...overrides,
  });
}

/**
 * An esbuild plugin that swaps a module for its `<name>.<platform>.ts` sibling. The variant must
 * export what the original exports (each package's `src/platform-variants.ts` checks the types),
 * so callers import `./cores` and get `os` in Node and `navigator` in a page.
 */
export function platformVariants(platform: 'browser'): NonNullable<Options['esbuildPlugins']>[number] {
  return {
    name: `srdiff-${platform}-variants`,
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        // Only our own sources (dependencies are resolved by their package.json `browser` fields).
        if (!args.importer.includes(`${path.sep}src${path.sep}`) || args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const base = path.resolve(args.resolveDir, args.path).replace(/\.(ts|js)$/, '');
        const variant = `${base}.${platform}.ts`;
        return variant !== args.importer && fs.existsSync(variant) ? { path: variant } : undefined;
      });
    },
  };
}
