import { OnnxUNet } from '@srdiff/unet';
import { startRuntime } from './runtime';

/*
 * The browser half of tools/bench/browser-unet.mjs: one UNet forward pass (one sampling step's
 * network call) timed on onnxruntime-web in this page, with the threads the URL asks for (set
 * once per page: onnxruntime-web starts its WebAssembly once). Results in `window.benchResult`.
 */

interface BenchResult {
  ms: number[];
  median: number;
  threads: number;
  providers: readonly string[];
  crossOriginIsolated: boolean;
  error?: string;
}

function gaussian(n: number, seed: number): Float32Array {
  // A small LCG: the inputs only need to be fixed, not good random numbers.
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

async function main(): Promise<BenchResult> {
  const q = new URLSearchParams(location.search);
  const threads = Number(q.get('threads') ?? 1);
  const runs = Number(q.get('runs') ?? 5);
  const warmup = Number(q.get('warmup') ?? 2);
  const size = Number(q.get('size') ?? 256);
  const providers = (q.get('ep') ?? 'wasm').split(',');
  await startRuntime(threads);
  const bytes = new Uint8Array(await (await fetch(q.get('model')!)).arrayBuffer());
  const unet = await OnnxUNet.create(bytes, { threads, executionProviders: providers });
  const c = unet.config;
  const image = { shape: [1, c.in_nc, size, size], data: gaussian(c.in_nc * size * size, 1) };
  const inputs = { xt: image, cond: { shape: image.shape, data: gaussian(image.data.length, 2) }, time: 10, imageContext: c.use_image_context ? { shape: [1, c.context_dim!], data: gaussian(c.context_dim!, 3) } : undefined };
  for (let i = 0; i < warmup; i++) await unet.run(inputs);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await unet.run(inputs);
    ms.push(performance.now() - t);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  const result = { ms, median: sorted[Math.floor(sorted.length / 2)]!, threads: unet.handle.options.threads, providers: unet.handle.executionProviders, crossOriginIsolated };
  await unet.dispose();
  return result;
}

const out = document.getElementById('out')!;
main().then(
  (r) => {
    (window as unknown as { benchResult: BenchResult }).benchResult = r;
    out.textContent = JSON.stringify(r, null, 2);
  },
  (err: Error) => {
    (window as unknown as { benchResult: Partial<BenchResult> }).benchResult = { error: err.message ?? String(err) };
    out.textContent = `error: ${err.message}`;
  },
);
