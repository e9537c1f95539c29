#!/usr/bin/env node
// The browser test (`npm run test:browser`): the built web app in headless Chromium (Debian's
// `chromium`, driven by playwright-core over 127.0.0.1), against `srdiff restore` in Node.
//   1. every library package bundles for the browser without a Node built-in (tools/browser-bundle);
//   2. the bundled demo model (UNet weights → graph built in the page, tiny CLIP) restores a hazy
//      image with a fixed seed; the page's result equals `srdiff restore` of the same image and
//      seed (8-bit output) and Node's restoreImage (float, before quantisation) within TOLERANCE;
//   3. a tiled image (4 tiles) likewise, with "tile i of M" progress;
//   4. cancel stops a long restoration between steps, and the page restores again afterwards;
//   5. an `srdiff export --web` with a ready ONNX graph, loaded by URL, on 2 threads, likewise;
//   7. the paper's structure at a tiny size: BLIP (the bundled tiny one) refined by an SRM, random
//      UNet weights, by URL, likewise against `srdiff restore` with the run's SRM;
//   6. offline: once loaded, the page reloads and restores with the network off;
// and saves a screenshot of the before/after view (test-results/browser/before-after.png).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { exportDemo, makeDemoRun, srdiff, WORKSPACE } from '../scripts/demo-model.mjs';
import { writeSample } from '../scripts/prepare-demo.mjs';
import { serve } from '../scripts/serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const appDir = path.join(here, '..');
const dist = path.join(appDir, 'dist');
const artifacts = path.join(appDir, 'test-results', 'browser');
/** Largest |browser − Node| of the float restoration ([0, 1] scale) that passes; the measured value is printed. */
const TOLERANCE = 5e-5;
/** 8-bit outputs: at most this many levels apart, on at most this share of the values (rounding of values within TOLERANCE). */
const MAX_LEVELS = 1;
const MAX_DIFFERING = 0.01;
const SEED = 7;
const STEPS = 4;
const CHROMIUM = process.env.SRDIFF_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const results = [];
async function check(name, fn) {
  const start = Date.now();
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name}${note ? ` — ${note}` : ''} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}\n     ${String(err.stack ?? err).split('\n').join('\n     ')}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function ensureBuilt() {
  if (fs.existsSync(path.join(dist, 'index.html')) && fs.existsSync(path.join(dist, 'models', 'demo', 'manifest.json'))) return;
  console.log('building the web app (npx nx run @srdiff/web:build)…');
  execFileSync('npx', ['nx', 'run', '@srdiff/web:build', '--outputStyle=static'], { cwd: WORKSPACE, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } });
}

/** Node's restoration of `file`, as `srdiff restore` computes it (VLM, SRM when given, restoreImage), before 8-bit quantisation. */
async function nodeRestore(runDir, sdeSection, file, { tile, overlap, vlm = path.join(WORKSPACE, 'apps/trainer/assets/tiny-clip'), srm } = {}) {
  const { selectBackend } = await import('@srdiff/core');
  const { readImage } = await import('@srdiff/data');
  const { IRSDE } = await import('@srdiff/sde');
  const { loadSrm, refine } = await import('@srdiff/srm');
  const { createImageEmbedder } = await import('@srdiff/vlm');
  const { createEngine, resolveUnetModel, restoreImage } = await import('@srdiff/trainer');
  await selectBackend('auto');
  const model = await resolveUnetModel(runDir);
  const s = sdeSection;
  const sde = new IRSDE({ maxSigma: s.max_sigma, T: s.T, eps: s.eps, schedule: s.schedule }).withSampleSteps(STEPS);
  const embedder = await createImageEmbedder(vlm);
  const refiner = srm ? await loadSrm(srm) : undefined;
  const engine = await createEngine('onnx', model.weights, model.config);
  try {
    const [embedding] = await embedder.extract([file]);
    const context = refiner ? refine(refiner, [embedding])[0] : embedding;
    const restored = await restoreImage(await readImage(file), context, sde, engine, { method: 'posterior', seed: SEED, tile, overlap });
    return restored.data;
  } finally {
    await engine.dispose();
    await embedder.dispose();
    refiner?.dispose();
  }
}

/** A run folder with random weights guided by the bundled tiny BLIP (32 wide) through a random SRM: the paper's structure at a tiny size. */
async function makeBlipRun(dir) {
  const { selectBackend, writeSafetensors } = await import('@srdiff/core');
  const { ConditionalUNet, CONFIG_METADATA_KEY, resolveUnetConfig } = await import('@srdiff/unet');
  const { SemanticRefinementModule, saveSrmWeights } = await import('@srdiff/srm');
  await selectBackend('cpu');
  const config = resolveUnetConfig({ in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 32, use_image_context: true });
  const unet = new ConditionalUNet(config);
  const srm = new SemanticRefinementModule({ inputDim: 32, hiddenDim: 64, numLayers: 1, numHeads: 4 });
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  try {
    await writeSafetensors(path.join(dir, 'models', 'last_EMA.safetensors'), unet.stateDict(), { format: 'pt', [CONFIG_METADATA_KEY]: JSON.stringify(config) });
    await saveSrmWeights(path.join(dir, 'srm.safetensors'), srm);
  } finally {
    unet.dispose();
    srm.dispose();
  }
  const sde = { max_sigma: 50, T: 100, eps: 0.005, schedule: 'cosine', sample_T: null, sampling_mode: 'posterior' };
  fs.writeFileSync(path.join(dir, 'options.yml'), JSON.stringify({ sde, network_G: { setting: config }, datasets: { train: { context: 'RestoreCLS' } }, srm: { path: path.join(dir, 'srm.safetensors') }, vlm: { model: 'tiny-blip' } }));
  return { dir, sde, srm: path.join(dir, 'srm.safetensors') };
}

/** The 8-bit RGB of a PNG as sharp decodes it (what `srdiff restore` wrote). */
async function pngRgb(file) {
  const { readRawImage } = await import('@srdiff/data');
  return (await readRawImage(file)).raw.data;
}

function compare(browserFloat, nodeFloat, browserRgb, nodeRgb) {
  assert(browserFloat.length === nodeFloat.length, `float lengths differ: ${browserFloat.length} vs ${nodeFloat.length}`);
  assert(browserRgb.length === nodeRgb.length, `8-bit lengths differ: ${browserRgb.length} vs ${nodeRgb.length}`);
  let maxFloat = 0;
  for (let i = 0; i < nodeFloat.length; i++) maxFloat = Math.max(maxFloat, Math.abs(browserFloat[i] - nodeFloat[i]));
  let maxLevels = 0;
  let differing = 0;
  for (let i = 0; i < nodeRgb.length; i++) {
    const d = Math.abs(browserRgb[i] - nodeRgb[i]);
    maxLevels = Math.max(maxLevels, d);
    if (d) differing++;
  }
  const share = differing / nodeRgb.length;
  const summary = `max |Δ| ${maxFloat.toExponential(2)} (float, tolerance ${TOLERANCE}); 8-bit: max ${maxLevels} level(s), ${differing} of ${nodeRgb.length} values differ (${(100 * share).toFixed(2)} %)`;
  assert(Number.isFinite(maxFloat) && maxFloat <= TOLERANCE, `browser vs Node: ${summary}`);
  assert(maxLevels <= MAX_LEVELS && share <= MAX_DIFFERING, `browser vs srdiff restore: ${summary}`);
  return { maxFloat, maxLevels, share, summary };
}

async function openPage(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`     page error: ${e.message}`));
  await page.goto(url);
  await waitModel(page);
  return page;
}

async function waitModel(page) {
  await page.waitForFunction(() => window.srdiffPage && (window.srdiffPage.model || window.srdiffPage.errors.length), null, { timeout: 180_000 });
  const errors = await page.evaluate(() => window.srdiffPage.errors);
  assert(errors.length === 0, `the model did not load: ${errors.join('; ')}`);
}

/** Restores `file` in the page with these settings; returns the float values and the 8-bit RGB shown in the "after" canvas. */
async function restoreInPage(page, file, settings) {
  await page.setInputFiles('#image-file', file);
  await page.waitForFunction((name) => window.srdiffPage.image?.name === name && !document.getElementById('restore').disabled, path.basename(file), { timeout: 30_000 });
  for (const [key, value] of Object.entries(settings)) await page.fill(`#${key}`, String(value));
  await page.evaluate(() => {
    window.srdiffProgress = [];
    new MutationObserver(() => window.srdiffProgress.push(document.getElementById('progress-text').textContent)).observe(document.getElementById('progress-text'), { childList: true, characterData: true, subtree: true });
  });
  await page.click('#restore');
  await page.waitForFunction(() => window.srdiffPage.lastOutcome, null, { timeout: 300_000 });
  const outcome = await page.evaluate(() => ({ outcome: window.srdiffPage.lastOutcome, errors: window.srdiffPage.errors, progress: window.srdiffProgress }));
  assert(outcome.outcome === 'done', `restoration ended ${outcome.outcome}: ${outcome.errors.join('; ')}`);
  const { values, rgb, ms } = await page.evaluate(() => {
    const last = window.srdiffPage.last;
    const canvas = document.getElementById('after');
    const rgba = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const rgb = [];
    for (let i = 0; i < rgba.length; i += 4) rgb.push(rgba[i], rgba[i + 1], rgba[i + 2]);
    return { values: Array.from(last.values), rgb, ms: last.ms };
  });
  return { values: Float32Array.from(values), rgb: Uint8Array.from(rgb), ms, progress: outcome.progress };
}

async function main() {
  await check('browser bundles of every library package have no Node built-in', () => {
    const out = execFileSync(process.execPath, [path.join(WORKSPACE, 'tools/browser-bundle/check.mjs'), '--self-test'], { cwd: WORKSPACE, encoding: 'utf8' });
    process.stdout.write(out.replace(/^/gm, '     '));
    return 'esbuild --platform=browser';
  });
  ensureBuilt();
  assert(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (or set SRDIFF_CHROMIUM)`);
  fs.mkdirSync(artifacts, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-browser-test-'));
  const run = makeDemoRun(path.join(tmp, 'run'));
  const small = path.join(tmp, 'hazy-small.png');
  const large = path.join(tmp, 'hazy-tiled.png');
  await writeSample(small, { x: 100, y: 50, width: 48, height: 40, seed: 11 });
  await writeSample(large, { x: 60, y: 30, width: 72, height: 56, seed: 12 });
  const onnxExport = path.join(tmp, 'export-onnx');
  exportDemo(run.dir, onnxExport, run.recipe, 'onnx');
  const blipRun = await makeBlipRun(path.join(tmp, 'blip-run'));
  const blipExport = path.join(tmp, 'export-blip');
  srdiff(['export', '--web', blipExport, '--model', blipRun.dir, '--offline'], { quiet: true });
  const reference = (file, out, extra = []) => {
    srdiff(['restore', file, '--model', run.dir, '--vlm', 'tiny', '--no-srm', '--seed', String(SEED), '--steps', String(STEPS), '--engine', 'onnx', '--out', out, ...extra], { quiet: true });
    return path.join(out, path.basename(file));
  };
  const server = await serve({ dir: dist, mounts: { '/test-models/onnx/': onnxExport, '/test-models/blip/': blipExport } });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1100, height: 1300 } });
  const measured = {};
  try {
    let page;
    await check('the demo model loads (graph built in the page from the weights) and says what it is', async () => {
      page = await openPage(browser, `${server.url}?threads=1`);
      const info = await page.evaluate(() => ({ graph: window.srdiffPage.model.graph, iso: window.srdiffPage.model.crossOriginIsolated, text: document.getElementById('model-description').textContent }));
      assert(info.graph === 'built from weights', `graph: ${info.graph}`);
      assert(/demo model/.test(info.text) && /not the paper/.test(info.text) && /random weights/.test(info.text), `the page does not say plainly what the demo model is: ${info.text}`);
      assert(info.iso, 'the page is not cross-origin isolated (no threads)');
      return 'cross-origin isolated';
    });
    await check(`a 48×40 image, seed ${SEED}, ${STEPS} steps: the page equals srdiff restore`, async () => {
      const browserOut = await restoreInPage(page, small, { steps: STEPS, seed: SEED, tile: 512, overlap: 32 });
      const nodeFloat = await nodeRestore(run.dir, run.recipe.sde, small, { tile: 512, overlap: 32 });
      const nodeRgb = await pngRgb(reference(small, path.join(tmp, 'ref-small')));
      const c = compare(browserOut.values, nodeFloat, browserOut.rgb, nodeRgb);
      measured.small = c;
      await page.fill('#slider', '50');
      await page.dispatchEvent('#slider', 'input');
      await page.locator('#result-section').screenshot({ path: path.join(artifacts, 'before-after.png') });
      return `${c.summary}; ${browserOut.ms.toFixed(0)} ms`;
    });
    await check('a 72×56 image in 4 tiles of 40 (overlap 8): the page equals srdiff restore --tile 40 --overlap 8', async () => {
      const browserOut = await restoreInPage(page, large, { steps: STEPS, seed: SEED, tile: 40, overlap: 8 });
      assert(browserOut.progress.some((t) => /tile 4 of 4/.test(t)), `no "tile 4 of 4" progress: ${browserOut.progress.slice(-3).join(' | ')}`);
      const nodeFloat = await nodeRestore(run.dir, run.recipe.sde, large, { tile: 40, overlap: 8 });
      const nodeRgb = await pngRgb(reference(large, path.join(tmp, 'ref-tiled'), ['--tile', '40', '--overlap', '8']));
      const c = compare(browserOut.values, nodeFloat, browserOut.rgb, nodeRgb);
      measured.tiled = c;
      return c.summary;
    });
    await check('cancel stops a restoration between steps; the page restores again after', async () => {
      await page.setInputFiles('#image-file', large);
      await page.waitForFunction(() => !document.getElementById('restore').disabled);
      await page.fill('#steps', '200');
      await page.fill('#tile', '40');
      await page.click('#restore');
      await page.waitForFunction(() => /step ([3-9]|\d\d+) of 200/.test(document.getElementById('progress-text').textContent), null, { timeout: 120_000 });
      await page.click('#cancel');
      await page.waitForFunction(() => window.srdiffPage.lastOutcome, null, { timeout: 60_000 });
      const after = await page.evaluate(() => ({ outcome: window.srdiffPage.lastOutcome, text: document.getElementById('progress-text').textContent, restoreEnabled: !document.getElementById('restore').disabled }));
      assert(after.outcome === 'cancelled', `outcome ${after.outcome}`);
      assert(after.restoreEnabled, 'the restore button stayed disabled after cancel');
      const stoppedAt = Number(/step (\d+)/.exec(after.text)?.[1]);
      assert(stoppedAt < 200, `it ran to the end (${after.text})`);
      const again = await restoreInPage(page, small, { steps: 2, seed: SEED, tile: 512, overlap: 32 });
      assert(again.values.length === 48 * 40 * 3, 'no result after cancel');
      return `stopped at "${after.text}"`;
    });
    await check('offline: once loaded, the page reloads and restores with the network off', async () => {
      await page.evaluate(async () => {
        await navigator.serviceWorker.ready;
      });
      // The worker installs from precache.json; wait until the cache holds the demo model.
      await page.waitForFunction(async () => (await caches.keys()).length > 0 && Boolean(await caches.match('models/demo/unet.safetensors')), null, { timeout: 60_000, polling: 500 });
      await browser.setOffline(true);
      try {
        await page.reload();
        await waitModel(page);
        const out = await restoreInPage(page, small, { steps: 2, seed: SEED, tile: 512, overlap: 32 });
        assert(out.values.length === 48 * 40 * 3, 'no result offline');
      } finally {
        await browser.setOffline(false);
      }
      return 'service worker cache';
    });
    await check('an srdiff export --web with a ready ONNX graph, by URL, on 2 threads: equals srdiff restore', async () => {
      const onnxPage = await openPage(browser, `${server.url}?threads=2&model=${encodeURIComponent('/test-models/onnx/manifest.json')}`);
      const info = await onnxPage.evaluate(() => ({ graph: window.srdiffPage.model.graph, threads: window.srdiffPage.model.threads }));
      assert(info.graph === 'loaded' && info.threads === 2, `graph ${info.graph}, threads ${info.threads}`);
      const browserOut = await restoreInPage(onnxPage, small, { steps: STEPS, seed: SEED, tile: 512, overlap: 32 });
      const nodeFloat = await nodeRestore(run.dir, run.recipe.sde, small, { tile: 512, overlap: 32 });
      const nodeRgb = await pngRgb(path.join(tmp, 'ref-small', path.basename(small)));
      const c = compare(browserOut.values, nodeFloat, browserOut.rgb, nodeRgb);
      measured.onnx = c;
      await onnxPage.close();
      return c.summary;
    });
    await check('WebGPU asked for: the UNet session uses it where the browser has it, else falls back to wasm, and restores', async () => {
      const gpuPage = await openPage(browser, `${server.url}?threads=1&webgpu=1`);
      const info = await gpuPage.evaluate(() => ({ providers: window.srdiffPage.model.providers, adapter: window.srdiffPage.model.webgpuAdapter }));
      assert(info.providers.at(-1) === 'wasm' && info.providers[0] === (info.adapter ? 'webgpu' : 'wasm'), `providers ${info.providers.join(', ')} with${info.adapter ? '' : 'out'} a WebGPU adapter`);
      const out = await restoreInPage(gpuPage, small, { steps: 2, seed: SEED, tile: 512, overlap: 32 });
      assert(out.values.every(Number.isFinite), 'non-finite output');
      await gpuPage.close();
      return `WebGPU adapter ${info.adapter ? 'present' : 'absent'}: runs on ${info.providers[0]}`;
    });
    await check("BLIP (the paper's VLM, tiny) refined by an SRM, from an srdiff export --web: equals srdiff restore --srm", async () => {
      const blipPage = await openPage(browser, `${server.url}?threads=1&model=${encodeURIComponent('/test-models/blip/manifest.json')}`);
      const info = await blipPage.evaluate(() => ({ vlm: window.srdiffPage.model.manifest.vlm, srm: window.srdiffPage.model.manifest.srm }));
      assert(info.vlm?.family === 'blip' && info.srm?.file === 'srm.onnx', `manifest: ${JSON.stringify(info)}`);
      const browserOut = await restoreInPage(blipPage, small, { steps: STEPS, seed: SEED, tile: 512, overlap: 32 });
      const nodeFloat = await nodeRestore(blipRun.dir, blipRun.sde, small, { tile: 512, overlap: 32, vlm: path.join(WORKSPACE, 'apps/trainer/assets/tiny-blip'), srm: blipRun.srm });
      const out = path.join(tmp, 'ref-blip');
      srdiff(['restore', small, '--model', blipRun.dir, '--seed', String(SEED), '--steps', String(STEPS), '--engine', 'onnx', '--out', out], { quiet: true });
      const c = compare(browserOut.values, nodeFloat, browserOut.rgb, await pngRgb(path.join(out, path.basename(small))));
      measured.blip = c;
      await blipPage.close();
      return c.summary;
    });
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(artifacts, 'parity.json'), `${JSON.stringify({ tolerance: TOLERANCE, seed: SEED, steps: STEPS, measured }, null, 2)}\n`);
  console.log(`screenshot: ${path.relative(WORKSPACE, path.join(artifacts, 'before-after.png'))}`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err.stack ?? err);
  process.exitCode = 1;
});
