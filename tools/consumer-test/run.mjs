#!/usr/bin/env node
// `npm run test:consumer`: the packages as an npm consumer gets them. Every package is packed,
// the tarballs are installed into a fresh project outside the workspace with only what the
// READMEs tell a consumer (no overrides; `onnxruntime-node-install=skip` in .npmrc, as documented
// for offline installs), and then:
//   - every package is imported from ESM and from CommonJS, and both expose the same names;
//   - a TypeScript file importing each is type-checked under moduleResolution node16 (ESM and
//     CJS files) and bundler, together with the READMEs' TypeScript main examples;
//   - each README's main example, extracted from the installed README, runs to completion;
//   - the bins (`srdiff`, `srdiff-data`) answer --help, and one onnxruntime-node and one sharp
//     are installed.
// Options: --keep (leave the temporary project for inspection).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './lib/exec.mjs';
import { prepareExampleFolder } from './lib/fixtures.mjs';
import { mainExample } from './lib/readme-example.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const keep = process.argv.includes('--keep');
const rootPkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** The publishable workspace packages: { dir, name (short), pkg }. */
function workspacePackages() {
  return ['packages', 'apps']
    .flatMap((top) => fs.readdirSync(path.join(repo, top)).map((d) => path.join(top, d)))
    .filter((dir) => fs.existsSync(path.join(repo, dir, 'package.json')))
    .map((dir) => ({ dir, pkg: JSON.parse(fs.readFileSync(path.join(repo, dir, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => !pkg.private && pkg.name.startsWith('@srdiff/'))
    .map(({ dir, pkg }) => ({ dir, pkg, name: pkg.name.slice('@srdiff/'.length) }));
}

const results = [];
function record(step, ok, seconds, detail = '') {
  results.push({ step, ok, seconds, detail });
  process.stderr.write(`${ok ? 'ok  ' : 'FAIL'} ${step} (${seconds.toFixed(1)} s)${detail ? ` ${detail}` : ''}\n`);
}
async function step(name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    record(name, true, (Date.now() - started) / 1000, detail ?? '');
    return true;
  } catch (err) {
    record(name, false, (Date.now() - started) / 1000);
    process.stderr.write(`${String(err.message ?? err).trimEnd()}\n`);
    return false;
  }
}
async function mustRun(command, args, options) {
  const r = await run(command, args, options);
  if (r.code !== 0) throw new Error(`\`${command} ${args.join(' ')}\` exited ${r.code}:\n${r.output.slice(-6000)}`);
  return r;
}

function newest(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

const packages = workspacePackages();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-consumer-'));
const tarballs = path.join(work, 'tarballs');
const project = path.join(work, 'project');
process.stderr.write(`consumer test in ${work}\n`);

// 1. Fresh builds (with type declarations): `npm test` has just made them in CI.
await step('build (what is missing or older than its sources)', async () => {
  const stale = packages.filter(({ dir }) => {
    const dts = path.join(repo, dir, 'dist', 'index.d.ts');
    return !fs.existsSync(dts) || fs.statSync(dts).mtimeMs < newest(path.join(repo, dir, 'src'));
  });
  if (!stale.length) return 'all fresh';
  const nxPkg = path.join(repo, 'node_modules', 'nx', 'package.json');
  const nxBin = path.join(path.dirname(nxPkg), JSON.parse(fs.readFileSync(nxPkg, 'utf8')).bin.nx);
  await mustRun(process.execPath, [nxBin, 'run-many', '-t', 'build', '-p', ...stale.map((p) => p.pkg.name), '--outputStyle=static'], {
    cwd: repo, env: { NX_DAEMON: 'false' }, timeoutSeconds: 900,
  });
  return `built ${stale.map((p) => p.name).join(', ')}`;
});

// 2. npm pack every package; check what each tarball ships.
const packed = {};
await step('npm pack every package', async () => {
  fs.mkdirSync(tarballs, { recursive: true });
  const r = await mustRun(npm, ['pack', '--json', '--pack-destination', tarballs, ...packages.flatMap((p) => ['-w', p.dir])], { cwd: repo });
  const list = JSON.parse(r.output.slice(r.output.indexOf('[')));
  const problems = [];
  for (const entry of list) {
    const name = entry.name.slice('@srdiff/'.length);
    packed[name] = path.join(tarballs, entry.filename);
    const files = new Set(entry.files.map((f) => f.path));
    const { pkg } = packages.find((p) => p.name === name);
    const wanted = ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts', ...Object.values(pkg.bin ?? {}).map((b) => b.replace(/^\.\//, ''))];
    for (const f of wanted) if (!files.has(f)) problems.push(`${entry.name}: ${f} is not in the tarball`);
    for (const f of files) if (/(^|\/)(test|src)\//.test(f) || /\.test\.[cm]?[jt]s$/.test(f)) problems.push(`${entry.name}: ships ${f}`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return list.map((e) => `${e.name.slice(8)} ${(e.size / 1e3).toFixed(0)} kB`).join(', ');
});

// 2b. What npm publish would say: no package.json fix-ups (bin paths, repository URL, …).
await step('npm publish --dry-run: no warnings for any package', async () => {
  const problems = [];
  for (const { dir, pkg } of packages) {
    const r = await run(npm, ['publish', '--dry-run', '-w', dir], { cwd: repo });
    // Not about the package: the dry run is not logged in, and npm does not know the repository's
    // onnxruntime-node-install key (it is read by onnxruntime-node's install script).
    const warnings = r.output.split('\n').filter((l) => /^npm (warn|error)/i.test(l) && !/requires you to be logged in|Unknown (project|env) config/.test(l));
    if (r.code !== 0 || warnings.length) problems.push(`${pkg.name} (exit ${r.code}):\n  ${warnings.join('\n  ')}`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
});

// 3. A fresh project outside the workspace, with only what the READMEs say.
const installed = await step('npm install the tarballs into a fresh project', async () => {
  fs.mkdirSync(project, { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'srdiff-consumer', version: '1.0.0', private: true }, null, 2));
  // The READMEs' offline-install line: onnxruntime-node's install script otherwise downloads CUDA files.
  fs.writeFileSync(path.join(project, '.npmrc'), 'onnxruntime-node-install=skip\n');
  const tools = [`typescript@${rootPkg.devDependencies.typescript}`, `@types/node@${rootPkg.devDependencies['@types/node']}`];
  await mustRun(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', ...Object.values(packed), ...tools], { cwd: project, timeoutSeconds: 600 });
  const du = await run('du', ['-sh', 'node_modules'], { cwd: project });
  return `node_modules ${du.output.split('\t')[0]}`;
});
if (!installed) finish();

await step('one onnxruntime-node and one sharp in the install', async () => {
  const found = [];
  for (const name of ['onnxruntime-node', 'sharp']) {
    const r = await run(npm, ['ls', name, '--all', '--parseable', '--long'], { cwd: project });
    const versions = [...new Set(r.output.split('\n').map((l) => l.split(':')[1]).filter((v) => v?.startsWith(`${name}@`)))];
    if (versions.length !== 1) throw new Error(`${name}: ${versions.length ? versions.join(', ') : 'not installed'}\n${r.output}`);
    found.push(versions[0]);
  }
  return found.join(', ');
});

// 4. Every entry point (each package and its subpaths, e.g. @srdiff/core/io) from ESM and from
// CommonJS, each in a process of its own.
const names = packages.flatMap(({ pkg }) =>
  Object.keys(pkg.exports ?? { '.': null }).filter((k) => k !== './package.json').map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`)));
await step('import every entry point from ESM and CommonJS (same exports)', async () => {
  fs.writeFileSync(path.join(project, 'exports.mjs'), `for (const n of ${JSON.stringify(names)}) console.log(n, Object.keys(await import(n)).sort().join(','));\n`);
  fs.writeFileSync(path.join(project, 'exports.cjs'), `for (const n of ${JSON.stringify(names)}) console.log(n, Object.keys(require(n)).filter((k) => k !== '__esModule').sort().join(','));\n`);
  const esm = (await mustRun(process.execPath, ['exports.mjs'], { cwd: project })).output.trim().split('\n');
  const cjs = (await mustRun(process.execPath, ['exports.cjs'], { cwd: project })).output.trim().split('\n');
  const byName = (lines) => Object.fromEntries(lines.filter((l) => l.startsWith('@srdiff/')).map((l) => [l.split(' ')[0], (l.split(' ')[1] ?? '').split(',').filter(Boolean)]));
  const [e, c] = [byName(esm), byName(cjs)];
  const problems = names.flatMap((n) => {
    if (!e[n]?.length || !c[n]?.length) return [`${n}: no exports (ESM ${e[n]?.length ?? 0}, CJS ${c[n]?.length ?? 0})`];
    const onlyEsm = e[n].filter((k) => !c[n].includes(k));
    const onlyCjs = c[n].filter((k) => !e[n].includes(k));
    return onlyEsm.length || onlyCjs.length ? [`${n}: ESM only ${onlyEsm.join(',') || '-'}; CJS only ${onlyCjs.join(',') || '-'}`] : [];
  });
  if (problems.length) throw new Error(problems.join('\n'));
  return names.map((n) => `${n.slice(8)} ${e[n].length}`).join(', ');
});

await step('@srdiff/core/io loads without TensorFlow.js', async () => {
  fs.writeFileSync(path.join(project, 'io-alone.cjs'), "require('@srdiff/core/io');\nconst tf = Object.keys(require.cache).filter((k) => k.includes('@tensorflow'));\nif (tf.length) { console.error(tf.join('\\n')); process.exit(1); }\n");
  await mustRun(process.execPath, ['io-alone.cjs'], { cwd: project });
});

// 5. README main examples, as shipped in the installed packages.
const examples = {};
for (const { name } of packages) {
  const readme = path.join(project, 'node_modules', '@srdiff', name, 'README.md');
  try {
    examples[name] = mainExample(fs.readFileSync(readme, 'utf8'), `@srdiff/${name}/README.md`);
  } catch (err) {
    record(`@srdiff/${name}: README main example`, false, 0);
    process.stderr.write(`${err.message}\n`);
  }
}

// 6. Types: one file importing every package, plus the TypeScript examples, under node16 and bundler.
const tsc = path.join(project, 'node_modules', 'typescript', 'bin', 'tsc');
const importAll = names.map((n, i) => `import * as p${i} from '${n}';`).join('\n') + `\nexport const all = [${names.map((_, i) => `p${i}`).join(', ')}];\n`;
const tsExamples = Object.entries(examples).filter(([, e]) => e.kind === 'ts');
for (const resolution of ['node16', 'bundler']) {
  await step(`type-check imports${tsExamples.length ? ` and the ${tsExamples.map(([n]) => n).join(', ')} README examples` : ''} (moduleResolution ${resolution})`, async () => {
    const dir = path.join(project, `types-${resolution}`);
    fs.mkdirSync(dir, { recursive: true });
    const ext = resolution === 'node16' ? '.mts' : '.ts';
    fs.writeFileSync(path.join(dir, `imports${ext}`), importAll);
    if (resolution === 'node16') {
      // The CommonJS side of the exports map, with its own declaration files.
      fs.writeFileSync(path.join(dir, 'imports.cts'), names.map((n, i) => `import p${i} = require('${n}');`).join('\n') + `\nexport const all = [${names.map((_, i) => `p${i}`).join(', ')}];\n`);
    }
    for (const [name, e] of tsExamples) fs.writeFileSync(path.join(dir, `example-${name}${ext}`), `${e.code}\nexport {};\n`);
    const compilerOptions = resolution === 'node16'
      ? { module: 'node16', moduleResolution: 'node16' }
      : { module: 'esnext', moduleResolution: 'bundler' };
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, target: 'es2022', lib: ['es2022'], strict: true, noEmit: true, types: ['node'], skipLibCheck: true }, include: ['*'] }, null, 2));
    await mustRun(process.execPath, [tsc, '-p', dir], { cwd: dir, timeoutSeconds: 300 });
  });
}

// 7. Run each README's main example in a working folder holding the files it names.
const typescript = createRequire(path.join(project, 'package.json'))('typescript');
for (const { name } of packages) {
  const e = examples[name];
  if (!e) continue;
  await step(`@srdiff/${name}: README main example runs`, async () => {
    const dir = path.join(project, 'examples', name);
    await prepareExampleFolder(name, dir, { repo, project });
    const file = path.join(dir, e.kind === 'cjs' ? 'example.cjs' : 'example.mjs');
    const code = e.kind === 'ts'
      ? typescript.transpileModule(e.code, { compilerOptions: { module: typescript.ModuleKind.ESNext, target: typescript.ScriptTarget.ES2022 } }).outputText
      : e.code;
    fs.writeFileSync(file, code);
    const r = await mustRun(process.execPath, [file], { cwd: dir, timeoutSeconds: 300 });
    return `(${r.output.trim().split('\n').length} lines of output)`;
  });
}

// 8. The bins, as `npx` finds them in a project that installed the packages.
for (const { pkg } of packages) {
  for (const bin of Object.keys(pkg.bin ?? {})) {
    await step(`npx ${bin} --help / -V`, async () => {
      // npm itself warns about the documented .npmrc key (it is onnxruntime-node's, not npm's): not the bin's output.
      const own = (r) => r.output.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n').trim();
      const help = own(await mustRun(npx, ['--no-install', bin, '--help'], { cwd: project }));
      if (!help.startsWith(`${bin} `)) throw new Error(`\`${bin} --help\` printed:\n${help}`);
      const version = own(await mustRun(npx, ['--no-install', bin, '-V'], { cwd: project }));
      if (version !== pkg.version) throw new Error(`\`${bin} -V\` printed ${version}, package.json says ${pkg.version}`);
    });
  }
}

finish();

function finish() {
  const failed = results.filter((r) => !r.ok);
  const total = results.reduce((s, r) => s + r.seconds, 0);
  process.stderr.write(`\nconsumer test: ${results.length - failed.length}/${results.length} passed in ${total.toFixed(0)} s${failed.length ? `; failed: ${failed.map((f) => f.step).join('; ')}` : ''}\n`);
  if (keep || failed.length) process.stderr.write(`project kept in ${work}\n`);
  else fs.rmSync(work, { recursive: true, force: true });
  process.exit(failed.length ? 1 : 0);
}
