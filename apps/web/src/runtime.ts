import * as ort from 'onnxruntime-web/webgpu';
import { selectBackend, tf, useOnnxRuntime } from '@srdiff/core';
import ortMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import tfjsWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import tfjsWasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import tfjsWasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/*
 * The engines of the page, served from the app itself (no CDN: it works offline):
 * - onnxruntime-web (its WebGPU build, which also runs WebAssembly with SIMD and threads; the
 *   build transformers.js loads, so the page holds one runtime) for the UNet, the SRM and the VLM;
 * - TensorFlow.js on its wasm backend, single-threaded, for the sampler's arithmetic: the
 *   kernels `srdiff restore` uses in Node, so both compute the same x_t.
 */

let started: Promise<string> | undefined;

export function startRuntime(threads: number): Promise<string> {
  started ??= (async () => {
    ort.env.wasm.wasmPaths = { mjs: new URL(ortMjs, self.location.href).href, wasm: new URL(ortWasm, self.location.href).href };
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    useOnnxRuntime(ort as never);
    // One thread, the non-threaded SIMD build, as in Node.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const selection = await selectBackend('wasm', {
      wasmPaths: { 'tfjs-backend-wasm.wasm': tfjsWasm, 'tfjs-backend-wasm-simd.wasm': tfjsWasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': tfjsWasmThreaded },
    });
    return selection.description;
  })();
  return started;
}
