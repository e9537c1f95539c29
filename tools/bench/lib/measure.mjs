import { performance } from 'node:perf_hooks';

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Times `run(inputs)` `repeat` times after `warmup` untimed runs. `prepare()` (untimed) makes fresh
 * inputs for every run, so per-tensor caches (XNNPACK packs a filter once per tensor) behave as in
 * training, where weights and upstream gradients are new tensors each step. Whatever `run` returns
 * (tensors, arrays of tensors) is read back (`dataSync`) inside the timed region and then disposed.
 */
export async function timeRuns({ tf, prepare = () => undefined, run, repeat, warmup = 1 }) {
  const runsMs = [];
  const cpuRunsMs = [];
  for (let i = 0; i < warmup + repeat; i++) {
    const inputs = prepare();
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const out = await run(inputs);
    const tensors = collectTensors(tf, out);
    for (const t of tensors) t.dataSync();
    const elapsed = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    tf.dispose(tensors);
    tf.dispose(collectTensors(tf, inputs));
    if (i >= warmup) {
      runsMs.push(elapsed);
      // CPU time of the whole process (all threads): on a busy machine wall time grows while a
      // single-threaded run's CPU time does not, so it shows the work itself.
      cpuRunsMs.push((cpu.user + cpu.system) / 1000);
    }
  }
  return { medianMs: median(runsMs), minMs: Math.min(...runsMs), cpuMedianMs: median(cpuRunsMs), runsMs, cpuRunsMs };
}

function collectTensors(tf, value, out = []) {
  if (value instanceof tf.Tensor) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => collectTensors(tf, v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collectTensors(tf, v, out));
  return out;
}
