const path = require('node:path');
const preset = require('../../jest.preset.js')(__dirname);

// The page's own modules that need no browser (manifest checks, picked folders). The exporter's
// manifest definition is imported by its subpath, as Vite's alias does.
module.exports = {
  ...preset,
  moduleNameMapper: { '^@srdiff/trainer/web-manifest$': path.join(__dirname, '../trainer/src/pipeline/web-manifest.ts'), ...preset.moduleNameMapper },
};
