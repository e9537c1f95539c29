#!/usr/bin/env node
// Bundles every library package for the browser with esbuild (--platform=browser, the `browser`
// export condition, dependencies included) and fails when any Node.js built-in (fs, path, crypto,
// module, os, worker_threads, …) or Node-only package (sharp, onnxruntime-node, tfjs-node) is
// reached, naming the chain of imports that leads to it. Run after `npm run build`:
//   node tools/browser-bundle/check.mjs [--out DIR] [package …]
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const LIBRARY_PACKAGES = ['core', 'sde', 'unet', 'srm', 'vlm', 'metrics', 'data'];
const NODE_ONLY_PACKAGES = ['sharp', 'onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Stops at imports of Node.js built-ins and Node-only packages and records them with their
 * importer. esbuild's own browser-field handling runs first (a dependency that maps `fs` to
 * `false` for browsers, as tfjs and emscripten glue do for their guarded `require('fs')`, is fine).
 */
function nodeImportRecorder(found) {
  return {
    name: 'node-imports',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData?.probe) return undefined;
        const builtin = BUILTINS.has(args.path) || BUILTINS.has(args.path.split('/')[0]);
        if (!builtin && !NODE_ONLY_PACKAGES.includes(packageOf(args.path))) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { probe: true } });
        // A package.json `browser` field that maps the module to false leaves it disabled (no
        // namespace): the bundle gets an empty module, which is what the dependency intends.
        if (resolved.errors.length === 0 && resolved.namespace === '') return undefined;
        found.push({ spec: args.path, importer: path.relative(root, args.importer), kind: args.kind });
        return { path: args.path, external: true };
      });
    },
  };
}

export async function checkPackage(name, outDir) {
  const found = [];
  const entry = `@srdiff/${name}`;
  const result = await esbuild.build({
    stdin: { contents: `export * from '${entry}';\n`, resolveDir: root, sourcefile: `${name}-entry.mjs`, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['browser'],
    write: Boolean(outDir),
    outfile: outDir ? path.join(outDir, `${name}.browser.mjs`) : path.join(os.tmpdir(), `srdiff-${name}.browser.mjs`),
    metafile: true,
    // No tsconfig `paths`: packages resolve through node_modules and their `exports`, as in an app.
    tsconfig: path.join(path.dirname(fileURLToPath(import.meta.url)), 'tsconfig.json'),
    logLevel: 'silent',
    // onnxruntime-web's and tfjs-wasm's .wasm files are fetched at run time, not bundled.
    loader: { '.wasm': 'file' },
    plugins: [nodeImportRecorder(found)],
  });
  const inputs = Object.keys(result.metafile.inputs);
  const own = inputs.find((f) => f.includes(`packages/${name}/dist/`));
  const problems = [];
  if (!own) problems.push(`${entry} did not resolve into packages/${name}/dist (is it built?)`);
  else if (!own.endsWith('index.browser.mjs')) problems.push(`${entry} resolved to ${own}, not its browser entry (dist/index.browser.mjs)`);
  for (const f of found) problems.push(`${f.importer} imports ${f.spec} (${f.kind})`);
  const bytes = Object.values(result.metafile.outputs).reduce((a, o) => a + o.bytes, 0);
  return { name, problems, bytes, inputs: inputs.length };
}

/** The check must catch what it is for: a module that imports Node built-ins, directly or by require. */
async function selfTest() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-bundle-self-test-'));
  try {
    fs.writeFileSync(path.join(dir, 'sneaky.mjs'), "import fs from 'node:fs';\nconst os = require('os');\nexport const home = () => fs.existsSync(os.homedir());\n");
    const found = [];
    await esbuild.build({ entryPoints: [path.join(dir, 'sneaky.mjs')], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', plugins: [nodeImportRecorder(found)] });
    const specs = found.map((f) => f.spec).sort();
    if (specs.join(',') !== 'node:fs,os') throw new Error(`self-test: a module importing node:fs and requiring os was reported as [${specs.join(', ')}]`);
    console.log('self-test: a module importing node:fs and requiring os is caught');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--self-test')) await selfTest();
  const outIndex = args.indexOf('--out');
  const outDir = outIndex >= 0 ? path.resolve(args[outIndex + 1]) : undefined;
  const names = args.filter((a, i) => !a.startsWith('--') && (outIndex < 0 || i !== outIndex + 1));
  const packages = names.length ? names : LIBRARY_PACKAGES;
  const unknown = packages.filter((p) => !LIBRARY_PACKAGES.includes(p));
  if (unknown.length) throw new Error(`unknown package(s) ${unknown.join(', ')}; expected ${LIBRARY_PACKAGES.join(', ')}`);
  if (outDir) fs.mkdirSync(outDir, { recursive: true });
  let failed = 0;
  for (const name of packages) {
    let report;
    try {
      report = await checkPackage(name, outDir);
    } catch (err) {
      report = { name, problems: (err.errors ?? [err]).map((e) => e.text ?? e.message), bytes: 0, inputs: 0 };
    }
    if (report.problems.length) {
      failed++;
      console.log(`browser bundle @srdiff/${name}: FAIL`);
      for (const p of report.problems) console.log(`  ${p}`);
    } else {
      console.log(`browser bundle @srdiff/${name}: ok (${report.inputs} modules, ${(report.bytes / 1e6).toFixed(2)} MB, no Node built-in)`);
    }
  }
  console.log(`${packages.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err.stack ?? err);
    process.exitCode = 1;
  });
}
