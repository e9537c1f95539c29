/**
 * `@srdiff/core/io` — the file formats alone (safetensors, NumPy `.npy`, atomic writes, host
 * tensors): no TensorFlow.js is loaded, so a package that only reads or writes these files (such
 * as `@srdiff/metrics`' reference check) can use them without the engine. The same functions are
 * exported by `@srdiff/core`.
 */
export * from './host-tensor';
export * from './atomic';
export * from './safetensors';
export * from './npy';
