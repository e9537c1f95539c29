// One SRM training step (forward + hybrid loss + backward + clip + AdamW) at a given size.
// Usage: node packages/srm/bench/step.mjs [--backend wasm] [--batch 256,8192] [--micro 2048] [--dims 768,1024,4,8] [--repeats 5] [--full-attention]
// Reports medians of wall and CPU time per step (the first step is a warm-up) and GFLOP per CPU second.
// Needs `npm run build -w @srdiff/core -w @srdiff/srm` first (imports the built dist).
import { AdamW, Rng, manualSeed, selectBackend, tf } from '@srdiff/core';
import { SemanticRefinementModule, srmTrainStep } from '../dist/index.mjs';

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((a) => { const [k, ...v] = a.trim().split(/\s+/); return [k, v.join(' ') || true]; }));
const backend = args.backend ?? 'wasm';
const batches = String(args.batch ?? '256').split(',').map(Number);
const [inputDim, hiddenDim, numLayers, numHeads] = String(args.dims ?? '768,1024,4,8').split(',').map(Number);
const repeats = Number(args.repeats ?? 5);
const micro = Number(args.micro ?? 2048);
const modes = args['full-attention'] ? [true, false] : [true];

await selectBackend(backend);
manualSeed(0);
const model = new SemanticRefinementModule({ inputDim, hiddenDim, numLayers, numHeads });
const opt = new AdamW(model.namedParameters(), { lr: 3e-4, weightDecay: 1e-4 });
const rng = new Rng(1);

// Multiply-adds of the linears a length-1 step needs (q/k skipped), ×2 FLOPs, ×3 for fwd + 2 bwd products.
const D = inputDim, H = hiddenDim;
const macsPerRow = 2 * D * H + D * H + H * D + numLayers * (H * H + H * H + H * H + 2 * H * H + H * H);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`SRM ${D}/${H}/${numLayers}/${numHeads} (${model.parameterCount().toLocaleString()} parameters), backend ${backend}`);
for (const batch of batches) {
  for (const fast of modes) {
    model.setLengthOneFastPath(fast);
    const lq = tf.tensor2d(rng.normalArray(batch * D), [batch, D]);
    const gt = tf.tensor2d(rng.normalArray(batch * D), [batch, D]);
    const times = [];
    const cpuTimes = [];
    const n = batch >= 4096 ? Math.min(repeats, 3) : repeats;
    for (let i = 0; i <= n; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      srmTrainStep(model, opt, lq, gt, { lr: 3e-4, alpha: 0.7, maxGradNorm: 1, microBatchSize: micro });
      const c = process.cpuUsage(c0);
      if (i > 0) {
        // the first is warm-up. CPU time is reported beside wall time because the machine is shared:
        // wasm runs on one thread, so CPU time ≈ wall time on an idle machine.
        times.push(performance.now() - t0);
        cpuTimes.push((c.user + c.system) / 1000);
      }
    }
    tf.dispose([lq, gt]);
    const ms = median(times);
    const cpuMs = median(cpuTimes);
    const gflops = (6 * batch * macsPerRow) / (cpuMs / 1000) / 1e9;
    console.log(JSON.stringify({ batch, microBatch: Math.min(batch, micro), attention: fast ? 'length-1 shortcut' : 'full', wallMs: Math.round(ms), cpuMs: Math.round(cpuMs), gflopsPerCpuSecond: +gflops.toFixed(1), steps: n, tensors: tf.memory().numTensors }));
  }
}
