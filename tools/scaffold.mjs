// One-off scaffolder for a workspace package: package.json, tsup/jest/tsconfig files.
// Usage: node tools/scaffold.mjs <dir> <name> "<description>"
import fs from 'node:fs';
import path from 'node:path';
const [dir, name, description] = process.argv.slice(2);
const write = (f, s) => { const p = path.join(dir, f); if (!fs.existsSync(p)) fs.writeFileSync(p, s); };
fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
fs.mkdirSync(path.join(dir, 'test'), { recursive: true });
const depth = dir.split('/').length;
const up = '../'.repeat(depth);
write('package.json', JSON.stringify({
  name, version: '0.1.0', description, license: 'MIT',
  main: './dist/index.js', module: './dist/index.mjs', types: './dist/index.d.ts',
  exports: { '.': { import: { types: './dist/index.d.mts', default: './dist/index.mjs' }, require: { types: './dist/index.d.ts', default: './dist/index.js' } }, './package.json': './package.json' },
  files: ['dist', 'README.md'],
  sideEffects: false,
  scripts: { build: 'tsup', typecheck: 'tsc -p tsconfig.json --noEmit', test: 'jest' },
  repository: { type: 'git', url: 'https://github.com/srdiff/srdiff.git', directory: dir },
  engines: { node: '>=20' },
}, null, 2) + '\n');
write('tsconfig.json', JSON.stringify({ extends: `${up}tsconfig.base.json`, include: ['src', 'test'] }, null, 2) + '\n');
write('tsup.config.ts', `import { defineConfig } from 'tsup';\nimport { packageConfig } from '${up}tools/tsup.base';\n\nexport default defineConfig(packageConfig());\n`);
write('jest.config.js', `module.exports = require('${up}jest.preset.js')(__dirname);\n`);
