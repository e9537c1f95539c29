/**
 * @srdiff/core — the shared foundation of srdiff: backend selection, a PyTorch-named module
 * system and layers, state-dict / safetensors / .npy IO, optimisers and seeded randomness.
 */
import * as tf from '@tensorflow/tfjs-core';
import './tfjs/register-gradients';
import './tfjs/wasm-identity';

export { tf };
export * from './backend/select-backend';
export { requireOptional } from './backend/require-optional';
export * from './backend/wasm-memory';
export { logicalCores } from './backend/cores';
export * from './random/rng';
export * from './io/host-tensor';
export * from './io/atomic';
export * from './io/safetensors';
export * from './io/npy';
export * from './io/torch';
export * from './io/state-dict-file';
export * from './io/embedding-file';
export * from './io/checkpoint';
export * from './ops/conv2d';
export * from './nn';
export * from './optim';
export * from './verify/tolerance';
export * from './onnx';
export * from './tiling';
export { mapLimit } from './concurrency/map-limit';
export { linear } from './ops/linear';
