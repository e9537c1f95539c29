// Shared by every package (jest.preset.js). Jest runs tests in a VM context with its own Float32Array, Int32Array, ... while native addons
// (onnxruntime-node) create typed arrays in the main realm. onnxruntime-common checks
// `data instanceof Float32Array`, so ORT outputs fail that check inside a jest VM. Jest already
// shares the main realm's Uint8Array and ArrayBuffer; this environment shares the other typed
// arrays too, as plain Node has them. Only the test harness needs this.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = ['Int8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'DataView'];

class TypedArrayEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = TypedArrayEnvironment;
