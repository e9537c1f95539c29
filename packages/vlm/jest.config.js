module.exports = require('../../jest.preset.js')(__dirname, {
  // onnxruntime-node's outputs must pass `instanceof Float32Array` inside the test VM.
  testEnvironment: '<rootDir>/test/typed-array-environment.js',
});
