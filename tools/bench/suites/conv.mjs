// Convolution forward / input-gradient / filter-gradient times: tfjs's own kernels ("before") against
// @srdiff/core's conv2d ("after"). The headline case is DESIGN §4's 3×3 64→64 conv on 1×128×128.

const HEADLINE = { name: '3×3 64→64 1×128×128', x: [1, 128, 128, 64], filter: [3, 3, 64, 64], stride: 1, padding: 1 };

/** The other kernels the networks use, at representative sizes (after only: wasm's speed matters for training). */
const NETWORK_KERNELS = [
  { name: '4×4 s2 64→128 1×128×128', x: [1, 128, 128, 64], filter: [4, 4, 64, 128], stride: 2, padding: 1 },
  { name: '1×1 128→64 1×64×64', x: [1, 64, 64, 128], filter: [1, 1, 128, 64], stride: 1, padding: 0 },
  { name: '7×7 6→64 1×128×128', x: [1, 128, 128, 6], filter: [7, 7, 6, 64], stride: 1, padding: 3 },
  { name: '3×3 256→256 4×16×16', x: [4, 16, 16, 256], filter: [3, 3, 256, 256], stride: 1, padding: 1 },
];

/** Minutes-long tfjs cpu Conv2DBackpropFilter (175 s in DESIGN §4) runs in a child killed after this. */
const CPU_FILTER_GRAD_CAP_S = 300;

function geometry(c) {
  const [n, h, w] = c.x;
  const [kh, kw, ci, co] = c.filter;
  const ho = Math.floor((h + 2 * c.padding - kh) / c.stride) + 1;
  const wo = Math.floor((w + 2 * c.padding - kw) / c.stride) + 1;
  return { dyShape: [n, ho, wo, co], flops: 2 * n * ho * wo * co * kh * kw * ci };
}

function tensors(tf, c, dyShape) {
  // Fresh tensors per run (see lib/measure.mjs); values are irrelevant to speed but kept finite.
  return {
    x: tf.randomUniform(c.x, -1, 1, 'float32', 1),
    w: tf.randomUniform(c.filter, -0.1, 0.1, 'float32', 2),
    dy: tf.randomUniform(dyShape, -1, 1, 'float32', 3),
  };
}

/** tfjs's built-in path: its Conv2D kernel and the two kernels its registered Conv2D gradient calls. */
function tfjsOps(tf, c) {
  const pad = [[0, 0], [c.padding, c.padding], [c.padding, c.padding], [0, 0]];
  const attrs = { strides: [c.stride, c.stride], pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  return {
    forward: ({ x, w }) => tf.conv2d(x, w, c.stride, pad),
    'input-grad': ({ w, dy }) => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: c.x }),
    'filter-grad': ({ x, dy }) => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.filter }),
  };
}

function srdiffOps(core, c) {
  const options = { stride: c.stride, padding: c.padding };
  const { tf } = core;
  return {
    forward: ({ x, w }) => core.conv2d(x, w, options),
    'input-grad': ({ w, dy }) => core.conv2dBackpropInput(c.x, dy, w, options),
    'filter-grad': ({ x, dy }) => core.conv2dBackpropFilter(x, dy, c.filter, options),
    'fwd+bwd': ({ x, w, dy }) => {
      const { value, grads } = tf.valueAndGrads((a, b) => core.conv2d(a, b, options))([x, w], dy);
      return [value, ...grads];
    },
  };
}

async function runCase(ctx, backend, c, { before }) {
  const { tf, core } = ctx;
  const { dyShape, flops } = geometry(c);
  const prepare = () => tensors(tf, c, dyShape);
  // cpu takes seconds per run: at most 3.
  const repeat = backend.name === 'cpu' ? Math.min(ctx.options.repeat, 3) : ctx.options.repeat;
  const common = { case: c.name, backend, prepare, repeat };
  if (before) {
    const ops = tfjsOps(tf, c);
    for (const op of ['forward', 'input-grad', 'filter-grad']) {
      const row = { ...common, op, impl: 'before' };
      const kernel = { 'input-grad': 'Conv2DBackpropInput', 'filter-grad': 'Conv2DBackpropFilter' }[op];
      if (kernel && !tf.getKernel(kernel, backend.name)) {
        ctx.record({ ...row, status: 'missing', note: `tfjs-backend-${backend.name} has no ${kernel} kernel` });
      } else if (op === 'filter-grad' && backend.name === 'cpu' && !ctx.options.child) {
        await cpuFilterGradInChild(ctx, row);
      } else {
        const slow = op === 'filter-grad' && backend.name === 'cpu';
        await ctx.measure({ ...row, flops, run: ops[op], ...(slow ? { repeat: 1, warmup: 0 } : {}), note: 'tfjs kernels' });
      }
    }
  }
  const ops = srdiffOps(core, c);
  for (const op of Object.keys(ops)) {
    await ctx.measure({ ...common, op, impl: 'after', flops: op === 'fwd+bwd' ? 3 * flops : flops, run: ops[op], note: 'srdiff conv2d' });
  }
}

async function cpuFilterGradInChild(ctx, row) {
  if (!ctx.wants(row.impl, row.op)) return;
  if (ctx.options.quick) {
    ctx.record({ ...row, status: 'skipped', note: '--quick (takes minutes: 175 s in DESIGN §4)' });
    return;
  }
  ctx.log(`tfjs cpu Conv2DBackpropFilter, one run, capped at ${CPU_FILTER_GRAD_CAP_S} s …`);
  const result = await ctx.inChild({ backend: row.backend, only: ['before:filter-grad'], repeat: 1, timeoutMs: CPU_FILTER_GRAD_CAP_S * 1000 });
  if (result.timedOut) ctx.record({ ...row, status: 'timeout', note: `> ${CPU_FILTER_GRAD_CAP_S} s (killed)` });
  else ctx.addRows(result.rows);
}

export default {
  name: 'conv',
  description: 'conv2d forward / input-gradient / filter-gradient: tfjs kernels (before) vs @srdiff/core conv2d (after)',
  requires: ['core'],
  backends: ['wasm', 'wasm:2', 'cpu'],

  async run(ctx) {
    for (const backend of ctx.backends) {
      await ctx.useBackend(backend);
      await runCase(ctx, backend, HEADLINE, { before: true });
      if (backend.name === 'wasm' || !ctx.options.quick) {
        for (const c of NETWORK_KERNELS) {
          if (backend.name === 'cpu') continue; // minutes on cpu; the headline case already shows it
          await runCase(ctx, backend, c, { before: false });
        }
      }
    }
  },

  /** Each gradient as a multiple of the forward time, per backend (the target on wasm: ≤ 2×). */
  summarize(rows) {
    const lines = [];
    const find = (backend, impl, op) => rows.find((r) => r.case === HEADLINE.name && r.backend === backend && r.impl === impl && r.op === op && r.status === 'ok');
    for (const backend of [...new Set(rows.map((r) => r.backend))]) {
      const fwd = find(backend, 'after', 'forward');
      if (!fwd) continue;
      const parts = ['input-grad', 'filter-grad'].map((op) => {
        const after = find(backend, 'after', op);
        const before = find(backend, 'before', op);
        if (!after) return `${op} n/a`;
        const ratio = `${(after.medianMs / fwd.medianMs).toFixed(2)}× forward (CPU time ${(after.cpuMedianMs / fwd.cpuMedianMs).toFixed(2)}×)`;
        const speedup = before ? `, ${(before.medianMs / after.medianMs).toFixed(1)}× faster than tfjs` : '';
        return `${op} ${ratio}${speedup}`;
      });
      lines.push(`${backend}: ${HEADLINE.name}: ${parts.join('; ')}`);
    }
    return lines;
  },
};
