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
