import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const COLUMNS = [
  ['case', (r) => r.case],
  ['op', (r) => r.op],
  ['backend', (r) => r.backend],
  ['impl', (r) => r.impl],
  ['median ms', (r) => (r.status === 'ok' ? formatMs(r.medianMs) : r.status)],
  ['min ms', (r) => (r.status === 'ok' ? formatMs(r.minMs) : '')],
  ['CPU ms', (r) => (r.status === 'ok' && r.cpuMedianMs !== undefined ? formatMs(r.cpuMedianMs) : '')],
  ['GFLOP/s', (r) => (r.status === 'ok' && r.gflops !== undefined ? r.gflops.toFixed(2) : '')],
  ['runs', (r) => (r.runsMs ? String(r.runsMs.length) : '')],
  ['note', (r) => r.note ?? ''],
];

function formatMs(ms) {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/** A plain-text table of the rows, columns padded to their widest cell. */
export function formatTable(rows) {
  const cells = [COLUMNS.map(([title]) => title), ...rows.map((r) => COLUMNS.map(([, get]) => String(get(r))))];
  const widths = COLUMNS.map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  const line = (row) => row.map((cell, c) => (c >= 4 && c <= 8 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    logicalCpus: cpus.length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function gitCommit(cwd) {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

/** Writes `value` as JSON through a temporary file and a rename, so a reader never sees half a file. */
export function writeJsonAtomic(file, value) {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}
