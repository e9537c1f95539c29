import fs from 'node:fs';
import path from 'node:path';
import { formatVerifyTable, onnxRuntimeAvailable, selectBackend, type VerifyRow } from '@srdiff/core';
import { verifyMetricsReference } from '@srdiff/metrics';
import { verifySdeReference } from '@srdiff/sde';
import { verifySrmReference } from '@srdiff/srm';
import { verifyUnetReference } from '@srdiff/unet';
import { verifyBlipReference, verifyClipReference } from '@srdiff/vlm';
import type { Command } from '../cli/command';

type TrainingEngine = 'tfjs' | 'onnx';

/**
 * The parity cases `srdiff verify` knows, by the folder name a reference set uses for each. The
 * networks (unet, srm) run once per training engine asked for (`--engine`); the others are
 * engine-independent.
 */
const CASES: Array<{ folder: string; run: (dir: string, engine: TrainingEngine) => Promise<VerifyRow[]>; perEngine?: boolean }> = [
  { folder: 'sde', run: (dir) => verifySdeReference(dir) },
  { folder: 'srm', run: (dir, engine) => verifySrmReference(dir, { engine }), perEngine: true },
  { folder: 'unet', run: (dir, engine) => verifyUnetReference(dir, { engine }), perEngine: true },
  { folder: 'metrics', run: (dir) => verifyMetricsReference(dir) },
  { folder: 'tiny-clip', run: (dir) => verifyClipReference(dir) },
  { folder: 'tiny-blip', run: (dir) => verifyBlipReference(dir) },
];

/**
 * A folder in the tiny-blip layout under any name (`expected.json` + a `model/` whose config is a
 * BLIP): reference sets of other BLIP sizes are run as BLIP cases too. The root itself counts.
 */
export function isBlipReferenceFolder(dir: string): boolean {
  const config = path.join(dir, 'model', 'config.json');
  if (!fs.existsSync(path.join(dir, 'expected.json')) || !fs.existsSync(config)) return false;
  try {
    return (JSON.parse(fs.readFileSync(config, 'utf8')) as { model_type?: unknown }).model_type === 'blip';
  } catch {
    return false;
  }
}

function blipLayoutCases(root: string): Array<{ folder: string; dir: string }> {
  if (isBlipReferenceFolder(root)) return [{ folder: path.basename(path.resolve(root)), dir: root }];
  const named = new Set(CASES.map((c) => c.folder));
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !named.has(e.name) && isBlipReferenceFolder(path.join(root, e.name)))
    .map((e) => ({ folder: e.name, dir: path.join(root, e.name) }));
}

export const verifyCommand: Command = {
  spec: {
    name: 'verify',
    summary: 'check parity with the original PyTorch code on a reference folder (UNet, SRM, IR-SDE, metrics, CLIP, BLIP)',
    usage: 'srdiff verify --reference <dir> [--cases unet,srm,...] [--engine all|tfjs|onnx] [--json out.json]',
    options: {
      reference: { type: 'string', valueName: 'DIR', description: 'folder laid out like shared/reference (sde/, srm/, unet/, metrics/, tiny-clip/, tiny-blip/ or any folder in its layout)', required: true },
      cases: { type: 'string[]', valueName: 'LIST', description: `cases to run (default: every folder present; known: ${CASES.map((c) => c.folder).join(', ')})` },
      backend: { type: 'string', description: 'TensorFlow.js backend', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto' },
      engine: { type: 'string', description: 'training engine(s) whose unet and srm cases run: tfjs, onnx (the ONNX Runtime inference and training-step graphs) or all', choices: ['all', 'tfjs', 'onnx'], default: 'all' },
      json: { type: 'string', valueName: 'FILE', description: 'also write the rows as JSON' },
      all: { type: 'boolean', description: 'print every row (default: a summary per case plus every failure)', default: false },
    },
    examples: ['srdiff verify --reference path/to/reference'],
  },
  async run({ options, out, log }) {
    const root = options.reference as string;
    if (!fs.existsSync(root)) throw new Error(`reference folder ${root} does not exist`);
    const wanted = options.cases as string[] | undefined;
    for (const w of wanted ?? []) {
      if (!CASES.some((c) => c.folder === w)) throw new Error(`unknown case "${w}"; known: ${CASES.map((c) => c.folder).join(', ')}`);
    }
    const selection = await selectBackend(options.backend as 'auto');
    log(`verify: tfjs backend ${selection.description}`);
    const rows: VerifyRow[] = [];
    let ran = 0;
    // Each case has a kind (what --cases selects): its folder name, or tiny-blip for a BLIP set under another name.
    const engines: TrainingEngine[] = options.engine === 'all' ? ['tfjs', 'onnx'] : [options.engine as TrainingEngine];
    if (engines.includes('onnx') && !onnxRuntimeAvailable()) throw new Error('--engine onnx: onnxruntime-node is not installed (npm i onnxruntime-node), or pass --engine tfjs');
    const cases = [
      ...CASES.flatMap((c) => (c.perEngine ? engines : (['tfjs'] as TrainingEngine[])).map((engine) => ({
        kind: c.folder,
        folder: c.perEngine && engine === 'onnx' ? `${c.folder} (onnx)` : c.folder,
        dir: path.join(root, c.folder),
        run: async (dir: string) => {
          const rows = await c.run(dir, engine);
          return c.perEngine && engine === 'onnx' ? rows.map((r) => ({ ...r, case: `${r.case} (onnx)` })) : rows;
        },
      }))),
      ...blipLayoutCases(root).map((b) => ({ kind: 'tiny-blip', folder: b.folder, dir: b.dir, run: verifyBlipReference })),
    ];
    for (const c of cases) {
      const { dir } = c;
      const present = fs.existsSync(dir);
      if (wanted ? !wanted.includes(c.kind) : !present) continue;
      // An asked-for case whose folder is missing fails, unless another folder of that kind ran.
      if (!present && cases.some((o) => o !== c && o.kind === c.kind && fs.existsSync(o.dir))) continue;
      ran += 1;
      const started = Date.now();
      try {
        const caseRows = await c.run(dir);
        if (!caseRows.length) caseRows.push({ case: c.folder, key: '(no comparisons)', error: NaN, tolerance: 0, kind: 'abs', pass: false, note: 'the case produced no rows' });
        rows.push(...caseRows);
      } catch (err) {
        rows.push({ case: c.folder, key: '(case failed to run)', error: NaN, tolerance: 0, kind: 'abs', pass: false, note: (err as Error).message });
      }
      log(`verify: ${c.folder} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    if (!ran) throw new Error(`no known case folders in ${root} (looked for ${CASES.map((c) => c.folder).join(', ')}, and folders in the tiny-blip layout)`);
    const failures = rows.filter((r) => !r.pass);
    const shown = options.all ? rows : failures;
    const summary = summarize(rows);
    out(formatVerifyTable(summary));
    if (shown.length) {
      out('');
      out(options.all ? 'All rows:' : 'Failures:');
      out(formatVerifyTable(shown));
      for (const r of shown.filter((r) => r.note)) out(`  ${r.case} ${r.key}: ${r.note}`);
    }
    if (options.json) fs.writeFileSync(options.json as string, JSON.stringify(rows, null, 2));
    out('');
    out(`${rows.length - failures.length} passed, ${failures.length} failed`);
    return failures.length ? 1 : 0;
  },
};

/** One line per case: the row with the largest error relative to its tolerance. */
function summarize(rows: VerifyRow[]): VerifyRow[] {
  const byCase = new Map<string, VerifyRow[]>();
  for (const r of rows) byCase.set(r.case, [...(byCase.get(r.case) ?? []), r]);
  return [...byCase.entries()].map(([name, list]) => {
    const worst = list.reduce((a, b) => (ratio(b) > ratio(a) ? b : a));
    const failed = list.filter((r) => !r.pass).length;
    return { ...worst, case: name, key: `${list.length} keys, worst: ${worst.key}`, pass: failed === 0 };
  });
}

function ratio(r: VerifyRow): number {
  if (Number.isNaN(r.error)) return Infinity;
  return r.tolerance > 0 ? r.error / r.tolerance : r.error > 0 ? Infinity : 0;
}
