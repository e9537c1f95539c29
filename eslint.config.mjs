// ESLint (flat config) for every package: `npm run lint`, or each project's `lint` target, which
// `npm test` runs. The rules are structural — the TypeScript compiler checks the types:
//   - import-x/no-cycle: no module imports itself back through a chain of imports, inside a
//     package or across packages (`@srdiff/*` resolve to their sources, as in tsconfig.base.json);
//   - import-x/no-self-import, import-x/no-relative-packages: a package reaches another only by
//     its name (its public API), never by a relative path into it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const root = path.dirname(fileURLToPath(import.meta.url));

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/.nx/**', '**/test/fixtures/**', 'bench-results/**'] },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    plugins: { 'import-x': importX },
    settings: {
      // How import-x reads the modules an import leads to (needed to follow chains for no-cycle).
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts', '.cts'] },
      'import-x/extensions': ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: path.join(root, 'tsconfig.base.json'), alwaysTryTypes: true })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-relative-packages': 'error',
    },
  },
];
