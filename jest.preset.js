// Shared jest settings. TypeScript is compiled by swc (fast, no type-check: `npm run typecheck`
// does that); `@srdiff/*` imports resolve to the sources so tests never need a prior build.
const path = require('node:path');

module.exports = (packageDir, overrides = {}) => ({
  rootDir: packageDir,
  displayName: path.basename(packageDir),
  // Node's environment, with the main realm's typed arrays so data made by native addons
  // (onnxruntime-node, sharp) passes `instanceof Float32Array` checks inside the test VM.
  testEnvironment: path.join(__dirname, 'tools/jest/typed-array-environment.js'),
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  moduleNameMapper: {
    '^@srdiff/trainer$': path.join(__dirname, 'apps/trainer/src/index.ts'),
    // Subpath entries (`@srdiff/core/testing`, `@srdiff/core/io`): src/<subpath>/index.ts.
    '^@srdiff/([^/]+)/(testing|io)$': path.join(__dirname, 'packages/$1/src/$2/index.ts'),
    '^@srdiff/(.*)$': path.join(__dirname, 'packages/$1/src/index.ts'),
  },
  // tfjs-core's gradient registrations are ESM-only sources; let swc compile them (see core/src/tfjs).
  transformIgnorePatterns: ['/node_modules/(?!@tensorflow/tfjs-core/dist/(?!tf-core))'],
  testTimeout: 120000,
  ...overrides,
});
