// tfjs-core's Node bundle registers no gradients (they live only in its ESM `dist/` files, which
// @tensorflow/tfjs normally pulls in); let swc transform those so the gradient test can load them.
module.exports = require('../../jest.preset.js')(__dirname, {
  transformIgnorePatterns: ['/node_modules/(?!@tensorflow/tfjs-core/dist/(?!tf-core))'],
});
