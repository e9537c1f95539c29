// The Semantic Refinement Module's training step (forward + hybrid loss + backward + gradient clip +
// AdamW) at the original size, CLSEnhancer(768, 1024, 4, 8), with the original's batch 8192 and a
// smaller 256; plus the one kernel the step is made of (a linear layer's forward + gradients), core's
// `Linear` against @srdiff/srm's `linear`.

const DIMS = { inputDim: 768, hiddenDim: 1024, numLayers: 4, numHeads: 8 };
const MICRO_BATCH = 2048; // TRAIN_SRM_DEFAULTS.microBatchSize: 8192 rows do not fit in wasm's 4 GiB at once
/** One tfjs-cpu step at batch 256 is minutes (matMul ≈ 0.4 GFLOP/s): one run in a child, capped. */
const CPU_STEP_CAP_S = 480;

/** Multiply-adds per row of the linears a length-1 step needs (q and k skipped). */
function macsPerRow({ inputDim: D, hiddenDim: H, numLayers }, fullAttention) {
  const attention = fullAttention ? 3 * H * H + H * H : H * H + H * H; // in_proj (q,k,v or v) + out_proj
  return 2 * D * H + D * H + H * D + numLayers * (H * H + attention + 2 * H * H + H * H);
}

/** Forward (1 product) + backward (2 products) per linear, 2 FLOPs per multiply-add. */
const stepFlops = (batch, fullAttention) => 6 * batch * macsPerRow(DIMS, fullAttention);

async function stepCases(ctx, srm, backend, { cpu = false } = {}) {
  const { tf, core } = ctx;
  core.manualSeed(0);
  const model = new srm.SemanticRefinementModule(DIMS);
  let optimizer;
  tf.tidy(() => {
    optimizer = new core.AdamW(model.namedParameters(), { lr: 3e-4, weightDecay: 1e-4 });
  });
  const rng = new core.Rng(1);
  const batchOf = (rows) => () => ({ lq: tf.tensor2d(rng.normalArray(rows * DIMS.inputDim), [rows, DIMS.inputDim]), gt: tf.tensor2d(rng.normalArray(rows * DIMS.inputDim), [rows, DIMS.inputDim]) });
  const step = ({ lq, gt }) => {
    srm.srmTrainStep(model, optimizer, lq, gt, { lr: 3e-4, alpha: 0.7, maxGradNorm: 1, microBatchSize: MICRO_BATCH });
  };
  try {
    if (cpu) {
      await ctx.measure({
        case: '768/1024/4/8 batch 256', op: 'train step', impl: 'length-1 shortcut', backend,
        flops: stepFlops(256, false), prepare: batchOf(256), run: step, repeat: 1, warmup: 0, note: 'one run (minutes)',
      });
      return;
    }
    for (const fullAttention of [false, true]) {
      model.setLengthOneFastPath(!fullAttention);
      await ctx.measure({
        case: '768/1024/4/8 batch 256', op: 'train step', impl: fullAttention ? 'full attention' : 'length-1 shortcut', backend,
        flops: stepFlops(256, false), prepare: batchOf(256), run: step,
        note: fullAttention ? 'q, k, softmax computed (GFLOP/s counts the shortcut\'s work)' : undefined,
      });
    }
    model.setLengthOneFastPath(true);
    const row = { case: '768/1024/4/8 batch 8192', op: 'train step', impl: 'length-1 shortcut', backend };
    if (ctx.options.quick) {
      ctx.record({ ...row, status: 'skipped', note: '--quick (about 2 minutes per step on wasm)' });
    } else {
      // Heavy: one timed run after the batch-256 runs have warmed the kernels (the wasm heap still grows on it).
      await ctx.measure({ ...row, flops: stepFlops(8192, false), prepare: batchOf(8192), run: step, repeat: 1, warmup: 0, note: `${8192 / MICRO_BATCH} micro-batches of ${MICRO_BATCH}, one update` });
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** A 256×1024 → 1024 linear layer, forward and both gradients, through tf.variableGrads. */
async function linearCases(ctx, srm, backend) {
  const { tf, core } = ctx;
  core.manualSeed(0);
  const layer = new core.Linear(1024, 1024);
  const vars = [layer.weight, layer.bias];
  const prepare = () => tf.randomNormal([256, 1024]);
  const impls = {
    'core Linear': (x) => layer.forward(x),
    'srm linear': (x) => srm.linear(x, layer.weight, layer.bias),
  };
  try {
    for (const [impl, forward] of Object.entries(impls)) {
      await ctx.measure({
        case: 'linear 256×1024→1024', op: 'fwd+bwd', impl, backend, flops: 3 * 2 * 256 * 1024 * 1024, prepare,
        run: (x) => {
          const { value, grads } = tf.variableGrads(() => tf.sum(forward(x)), vars);
          return [value, ...Object.values(grads)];
        },
        note: impl === 'core Linear' ? 'matMul(x, W, false, true); tfjs gradient' : 'plain matMuls of explicit transposes',
      });
    }
  } finally {
    layer.dispose();
  }
}

/** The same step on the ONNX Runtime engine (`trainSrm({ engine: 'onnx' })`): one graph per step, clip and AdamW on the host. */
async function onnxStepCases(ctx, srm, backend) {
  const { core } = ctx;
  if (!core.onnxRuntimeAvailable()) return;
  core.manualSeed(0);
  const model = new srm.SemanticRefinementModule(DIMS);
  const engine = srm.createSrmStepEngine('onnx', model, { lr: 3e-4, weightDecay: 1e-4 }, { alpha: 0.7 });
  const rng = new core.Rng(2);
  try {
    for (const rows of [256, 8192]) {
      if (rows === 8192 && ctx.options.quick) continue;
      await ctx.measure({
        case: `768/1024/4/8 batch ${rows}`, op: 'train step', impl: 'onnx', backend, flops: stepFlops(rows, false), repeat: rows === 8192 ? 3 : ctx.options.repeat,
        prepare: () => ({ lq: rng.normalArray(rows * DIMS.inputDim), gt: rng.normalArray(rows * DIMS.inputDim) }),
        run: async ({ lq, gt }) => {
          await engine.step(lq, gt, rows, { lr: 3e-4, alpha: 0.7, maxGradNorm: 1 });
        },
        note: 'one ORT graph (forward, hybrid loss, backward); clip + AdamW (wasm SIMD) on host arenas',
      });
    }
  } finally {
    await engine.dispose();
    model.dispose();
  }
}

export default {
  name: 'srm',
  description: 'SRM training step at the original size (768/1024/4/8), batch 256 and 8192, on tfjs and on ONNX Runtime; linear layer kernels',
  requires: ['core', 'srm'],
  backends: ['wasm', 'wasm:2', 'cpu'],

  async run(ctx) {
    const srm = await ctx.importPackage('srm');
    for (const backend of ctx.backends) {
      await ctx.useBackend(backend);
      if (backend.name === 'cpu' && !ctx.options.child) {
        await cpuInChild(ctx, backend);
        continue;
      }
      // (on cpu this is the child: one step at batch 256 only)
      await linearCases(ctx, srm, backend);
      await stepCases(ctx, srm, backend, { cpu: backend.name === 'cpu' });
    }
    if (!ctx.options.child) await onnxStepCases(ctx, srm, ctx.backends[0]);
  },

  /** Speed-ups the suite exists to show. */
  summarize(rows) {
    const lines = [];
    const find = (backend, c, impl) => rows.find((r) => r.backend === backend && r.case === c && r.impl === impl && r.status === 'ok');
    for (const backend of [...new Set(rows.map((r) => r.backend))]) {
      const fast = find(backend, '768/1024/4/8 batch 256', 'length-1 shortcut');
      const full = find(backend, '768/1024/4/8 batch 256', 'full attention');
      const coreLinear = find(backend, 'linear 256×1024→1024', 'core Linear');
      const srmLinear = find(backend, 'linear 256×1024→1024', 'srm linear');
      const parts = [];
      if (fast && full) parts.push(`length-1 shortcut ${(full.medianMs / fast.medianMs).toFixed(2)}× faster than full attention`);
      if (coreLinear && srmLinear) parts.push(`srm linear ${(coreLinear.medianMs / srmLinear.medianMs).toFixed(1)}× faster than core Linear`);
      if (parts.length) lines.push(`${backend}: ${parts.join('; ')}`);
    }
    for (const r of rows.filter((row) => row.impl === 'onnx' && row.status === 'ok')) {
      const wasm = rows.find((o) => o.case === r.case && o.impl === 'length-1 shortcut' && o.backend === 'wasm' && o.status === 'ok');
      lines.push(`onnx ${r.case}: ${(r.medianMs / 1000).toFixed(2)} s${wasm ? ` (${(wasm.medianMs / r.medianMs).toFixed(1)}× tfjs wasm)` : ''}`);
    }
    return lines;
  },
};

async function cpuInChild(ctx, backend) {
  const row = { case: '768/1024/4/8 batch 256', op: 'train step', impl: 'length-1 shortcut', backend };
  if (ctx.options.quick) {
    ctx.record({ ...row, status: 'skipped', note: '--quick (minutes per step on tfjs cpu)' });
    return;
  }
  ctx.log(`tfjs cpu: one SRM step at batch 256 and the linear kernels, capped at ${CPU_STEP_CAP_S} s …`);
  const result = await ctx.inChild({ backend, repeat: ctx.options.repeat, timeoutMs: CPU_STEP_CAP_S * 1000 });
  if (result.timedOut) ctx.record({ ...row, status: 'timeout', note: `> ${CPU_STEP_CAP_S} s (killed)` });
  else ctx.addRows(result.rows);
}
