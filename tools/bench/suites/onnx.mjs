// SR-Diff's ConditionalUNet on each engine: tfjs (cpu, wasm) against ONNX Runtime (the graph
// @srdiff/unet exports), for the reference config, nf=16 at 128×128 and the paper's network (nf=64,
// 256×256); a full 100-step posterior restoration on ORT; and the peak RSS of a tiled 2048×2048
// restoration (a child process, so its RSS is its own).
//
// Targets (DESIGN §4, this CPU): the original PyTorch runs the paper's forward in 3.5 s and ORT runs
// PyTorch's own export in 2.0 s; ours must take ≤ 2.0 s, and 100 posterior steps ≤ 0.6 × 100 × 3.5 s.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const PAPER = { in_nc: 3, out_nc: 3, nf: 64, ch_mult: [1, 2, 4, 8], context_dim: 768, use_degra_context: false, use_image_context: true };
const CASES = [
  // The PyTorch reference set's UNet config and input size.
  { name: 'reference nf=8 2×20×24', config: { ...PAPER, nf: 8, context_dim: 16 }, batch: 2, height: 20, width: 24 },
  { name: 'nf=16 1×128×128', config: { ...PAPER, nf: 16 }, batch: 1, height: 128, width: 128 },
  { name: 'nf=64 1×256×256 (paper)', config: PAPER, batch: 1, height: 256, width: 256 },
];
const ORIGINAL_FORWARD_S = 3.5; // PyTorch eager, paper network, DESIGN §4
const ORT_PYTORCH_EXPORT_S = 2.0; // onnxruntime-node on PyTorch's own export, DESIGN §4
const RESTORE_STEPS = 100;
const TILED = { size: 2048, tileSize: 256, overlap: 32, steps: 2 };
/** tfjs cpu runs ~0.7 GFLOP/s here: the paper's forward would take minutes, so it is not run. */
const TFJS_CPU_MAX_GFLOP = 20;

/** Multiply-add FLOPs of one forward of the original architecture (convs, attention products). */
export function unetFlops(config, height, width) {
  const { nf, ch_mult: mult } = config;
  const widths = [1, ...mult].map((m) => nf * m);
  const depth = mult.length;
  const pad = 2 ** depth;
  let hw = Math.ceil(height / pad) * pad * Math.ceil(width / pad) * pad;
  let flops = 0;
  const conv = (cin, cout, k, pixels) => (flops += 2 * cin * cout * k * k * pixels);
  const res = (cin, cout, pixels) => {
    conv(cin, cout, 3, pixels);
    conv(cout, cout, 3, pixels);
    if (cin !== cout) conv(cin, cout, 1, pixels);
  };
  const transformer = config.use_image_context && config.context_dim > 0;
  const attention = (c, pixels, level) => {
    if (transformer && level >= 3) {
      conv(c, c, 1, pixels);
      conv(c, c, 1, pixels);
      flops += 2 * pixels * c * c * 4 + 4 * pixels * pixels * c + 2 * pixels * c * 8 * c + 2 * pixels * 4 * c * c;
    } else {
      conv(c, 384, 1, pixels);
      conv(128, c, 1, pixels);
      flops += 2 * 2 * 4 * 32 * 32 * pixels;
    }
  };
  conv(6, nf, 7, hw);
  const levels = [];
  for (let i = 0; i < depth; i++) {
    const [di, dout] = [widths[i], widths[i + 1]];
    levels.push({ di, dout, hw });
    res(di, di, hw);
    res(di, di, hw);
    attention(di, hw, i);
    if (i < depth - 1) {
      hw /= 4;
      conv(di, dout, 4, hw);
    } else conv(di, dout, 3, hw);
  }
  const mid = widths[depth];
  res(mid, mid, hw);
  attention(mid, hw, transformer ? 3 : 0);
  res(mid, mid, hw);
  levels.reverse().forEach(({ di, dout, hw: p }, j) => {
    const level = depth - 1 - j;
    res(dout + di, dout, p);
    res(dout + di, dout, p);
    attention(dout, p, level);
    conv(dout, di, 3, level > 0 ? 4 * p : p);
  });
  const full = levels.at(-1).hw;
  res(2 * nf, nf, full);
  conv(nf, config.out_nc, 3, full);
  return flops;
}

function ortBackend(threads) {
  return { name: 'ort', spec: `ort:${threads}`, threads };
}

async function forwardRows(ctx, unetPkg, onnxByCase) {
  const { tf } = ctx;
  const threads = os.availableParallelism?.() ?? os.cpus().length;
  for (const c of CASES) {
    const flops = unetFlops(c.config, c.height, c.width);
    // Parameters are created on the active backend: build the model on wasm (cpu reads them as needed).
    await ctx.useBackend(ctx.backends.find((b) => b.name === 'wasm') ?? ctx.backends[0]);
    const model = new unetPkg.ConditionalUNet(c.config);
    const inputs = () => ({
      xt: tf.randomNormal([c.batch, c.height, c.width, 3], 0.5, 0.5, 'float32', 1),
      cond: tf.randomUniform([c.batch, c.height, c.width, 3], 0, 1, 'float32', 2),
      ctx: tf.randomNormal([c.batch, c.config.context_dim], 0, 1, 'float32', 3),
    });
    const paper = c.config.nf === 64;
    for (const backend of ctx.backends) {
      const row = { case: c.name, op: 'forward', impl: 'tfjs', backend, flops };
      if (backend.name === 'cpu' && flops / 1e9 > TFJS_CPU_MAX_GFLOP) {
        ctx.record({ ...row, status: 'skipped', note: `${(flops / 1e9).toFixed(0)} GFLOP at ~0.7 GFLOP/s (tfjs cpu) ≈ ${((flops / 0.7e9) / 60).toFixed(0)} min` });
        continue;
      }
      const slow = (backend.name === 'cpu' && flops > 1e9) || (backend.name === 'wasm' && paper);
      if (slow && ctx.options.quick) {
        ctx.record({ ...row, status: 'skipped', note: '--quick (tens of seconds per run)' });
        continue;
      }
      await ctx.useBackend(backend);
      await ctx.measure({
        ...row,
        prepare: inputs,
        run: ({ xt, cond, ctx: context }) => model.forward(xt, cond, 50, { imageContext: context }),
        ...(slow ? { repeat: 1 } : {}),
        note: 'ConditionalUNet.forward',
      });
    }
    const bytes = unetPkg.toOnnx(model);
    model.dispose();
    onnxByCase.set(c.name, bytes);
    const unet = await unetPkg.OnnxUNet.create(bytes, { threads });
    await ctx.measure({
      case: c.name, op: 'forward', impl: 'ort', backend: ortBackend(threads), flops,
      prepare: inputs,
      run: ({ xt, cond, ctx: context }) => unet.predict(xt, cond, 50, context),
      note: `onnxruntime-node ${ctx.ortVersion}, ${threads} threads, incl. NHWC↔NCHW`,
    });
    await unet.dispose();
  }
}

async function restoreRow(ctx, unetPkg, sdePkg, bytes) {
  const { tf } = ctx;
  const threads = os.availableParallelism?.() ?? os.cpus().length;
  const row = { case: `nf=64 1×256×256 (paper)`, op: `restore ${RESTORE_STEPS} steps`, impl: 'ort', backend: ortBackend(threads) };
  if (ctx.options.quick) {
    ctx.record({ ...row, status: 'skipped', note: `--quick (${RESTORE_STEPS} forwards)` });
    return;
  }
  await ctx.useBackend(ctx.backends.find((b) => b.name === 'wasm') ?? ctx.backends[0]);
  const unet = await unetPkg.OnnxUNet.create(bytes, { threads });
  const sde = new sdePkg.IRSDE({ maxSigma: 50, T: RESTORE_STEPS, schedule: 'cosine', eps: 0.005 });
  const denoiser = unet.denoiser();
  await ctx.measure({
    ...row,
    repeat: 1,
    warmup: 0,
    prepare: () => ({ mu: tf.randomUniform([1, 256, 256, 3], 0, 1, 'float32', 4), context: tf.randomNormal([1, 768], 0, 1, 'float32', 5) }),
    run: async ({ mu, context }) => (await sde.sample(denoiser, mu, { method: 'posterior', noise: 7, context })).x0,
    note: `@srdiff/sde posterior sampler + ORT denoiser; target ≤ ${(0.6 * RESTORE_STEPS * ORIGINAL_FORWARD_S).toFixed(0)} s`,
  });
  await unet.dispose();
}

async function tiledRow(ctx, bytes, nf) {
  const threads = os.availableParallelism?.() ?? os.cpus().length;
  const caseName = `tiled ${TILED.size}×${TILED.size} nf=${nf}, tiles ${TILED.tileSize}/${TILED.overlap}, ${TILED.steps} steps`;
  const row = { case: caseName, op: 'restore (peak RSS)', impl: 'ort', backend: ortBackend(threads) };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'srdiff-bench-onnx-'));
  try {
    const model = path.join(dir, 'unet.onnx');
    writeFileSync(model, bytes);
    const result = await runTiledChild({ model, threads, contextDim: 768 });
    ctx.addRows([{
      ...row, backend: row.backend.spec, status: 'ok', medianMs: result.ms, minMs: result.ms, runsMs: [result.ms],
      note: `peak RSS ${(result.maxRssKiB / 2 ** 20).toFixed(2)} GiB (${(result.loadedRssKiB / 2 ** 20).toFixed(2)} GiB after loading the model); ${result.tiles} tiles`,
    }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runTiledChild(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--tiled-child', JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`tiled restoration child exited with code ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** The child: restores a random 2048×2048 image tile by tile and reports time and peak RSS. */
async function tiledChild({ model, threads, contextDim }) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const load = (name) => import(pathToFileURL(path.join(root, 'packages', name, 'dist/index.mjs')).href);
  const [core, unetPkg, sdePkg] = await Promise.all([load('core'), load('unet'), load('sde')]);
  const { tf } = core;
  await core.selectBackend('wasm');
  const unet = await unetPkg.OnnxUNet.create(model, { threads });
  const loadedRssKiB = process.resourceUsage().maxRSS;
  const sde = new sdePkg.IRSDE({ maxSigma: 50, T: 100, schedule: 'cosine', eps: 0.005 }).withSampleSteps(TILED.steps);
  const rng = new core.Rng(1);
  const image = { shape: [1, TILED.size, TILED.size, 3], data: rng.uniformArray(TILED.size * TILED.size * 3) };
  const context = tf.tensor2d(rng.normalArray(contextDim), [1, contextDim]);
  const denoiser = unet.denoiser();
  let tiles = 0;
  const start = performance.now();
  await core.tiledProcess(image, async (tile, info) => {
    const mu = tf.tensor4d(tile.data, tile.shape);
    const { x0 } = await sde.sample(denoiser, mu, { noise: 100 + info.index, context });
    const data = await x0.data();
    tf.dispose([mu, x0]);
    tiles++;
    return { shape: tile.shape, data };
  }, { tileSize: TILED.tileSize, overlap: TILED.overlap });
  const ms = performance.now() - start;
  process.stdout.write(`${JSON.stringify({ ms, tiles, maxRssKiB: process.resourceUsage().maxRSS, loadedRssKiB })}\n`);
  await unet.dispose();
}

export default {
  name: 'onnx',
  description: 'ConditionalUNet forward per engine (tfjs cpu/wasm vs ONNX Runtime), 100-step restoration on ORT, tiled 2048² peak RSS',
  requires: ['core', 'unet', 'sde'],
  backends: ['cpu', 'wasm'],

  async run(ctx) {
    const ort = ctx.core.loadOnnxRuntime();
    ctx.ortVersion = ort.env?.versions?.node ?? '';
    const unetPkg = await ctx.importPackage('unet');
    const sdePkg = await ctx.importPackage('sde');
    const onnxByCase = new Map();
    await forwardRows(ctx, unetPkg, onnxByCase);
    await restoreRow(ctx, unetPkg, sdePkg, onnxByCase.get(CASES[2].name));
    if (ctx.wants('ort', 'restore (peak RSS)')) {
      // --quick: the nf=16 network (81 tiles × 2 steps of the paper's take ~5 minutes).
      const nf = ctx.options.quick ? 16 : 64;
      await tiledRow(ctx, onnxByCase.get(CASES[ctx.options.quick ? 1 : 2].name), nf);
    }
  },

  summarize(rows) {
    const lines = [];
    const paper = rows.find((r) => r.case === CASES[2].name && r.impl === 'ort' && r.op === 'forward' && r.status === 'ok');
    if (paper) {
      const s = paper.medianMs / 1000;
      lines.push(
        `paper network forward on ORT: ${s.toFixed(2)} s (target ≤ ${ORT_PYTORCH_EXPORT_S} s, ORT on PyTorch's export; ${(ORIGINAL_FORWARD_S / s).toFixed(2)}× the original PyTorch's ${ORIGINAL_FORWARD_S} s)`,
      );
      for (const r of rows.filter((x) => x.case === CASES[2].name && x.impl === 'tfjs' && x.status === 'ok')) {
        lines.push(`  tfjs ${r.backend}: ${(r.medianMs / paper.medianMs).toFixed(1)}× slower than ORT`);
      }
    }
    const restore = rows.find((r) => r.op === `restore ${RESTORE_STEPS} steps` && r.status === 'ok');
    if (restore) {
      const s = restore.medianMs / 1000;
      const original = RESTORE_STEPS * ORIGINAL_FORWARD_S;
      lines.push(`${RESTORE_STEPS}-step restoration: ${s.toFixed(1)} s = ${(s / original).toFixed(2)} × the original's ≈ ${original} s (target ≤ 0.6)`);
    }
    return lines;
  },
};

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === '--tiled-child') {
  tiledChild(JSON.parse(process.argv[3])).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
