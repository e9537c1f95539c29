// tfjs-core's gradients live only in its ESM `dist/` files, which @srdiff/core imports; let swc
// transform those (everything else in node_modules stays untransformed).
module.exports = require('../../jest.preset.js')(__dirname, {
  transformIgnorePatterns: ['/node_modules/(?!@tensorflow/tfjs-core/dist/(?!tf-core))'],
});
