/**
 * `@srdiff/core/testing` — the helpers the packages' tests share (error measures of the
 * reference sets, NCHW ↔ NHWC for reference tensors, temp folders, fixture files), in one place
 * instead of a copy per package. Also for anyone testing code built on srdiff against PyTorch.
 * It uses `@srdiff/core` itself (one TensorFlow.js), never a test framework.
 */
export { relError, absError } from './errors';
export { nhwc, nchwValues, randomImage } from './tensors';
export { tempDir, fixtureTensors } from './files';
