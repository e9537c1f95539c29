import path from 'node:path';
import { writeFileAtomic } from '@srdiff/core';
import type { DatasetEvaluation } from './evaluate-dataset';

/** One CSV field as RFC 4180 writes it: quoted (quotes doubled) when it holds a comma, a quote or a line break. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows as RFC 4180 CSV (CRLF-free: LF line ends, which every reader accepts), ending with a line break. */
export function formatCsv(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

export const METRICS_CSV_HEADER = ['task', 'name', 'psnr', 'ssim', 'psnr_y', 'ssim_y', 'lq_psnr', 'lq_ssim', 'lq_psnr_y', 'lq_ssim_y'] as const;

/**
 * `metrics.json` (everything, with the run's settings in `info`) and `metrics.csv` (one row per
 * image) of an evaluated test set, each written atomically. File names go through a real CSV
 * writer: a name like `x,y"z.png` stays one field.
 */
export async function writeEvaluationFiles(dir: string, e: DatasetEvaluation, info: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path.join(dir, 'metrics.json'), JSON.stringify({ ...info, best_of: e.bestOf, mean: e.mean, lq_mean: e.lqMean, by_task: e.byTask, rows: e.rows }, null, 2));
  const rows = e.rows.map((r) => [r.task, r.name, r.psnr, r.ssim, r.psnrY, r.ssimY, r.lq.psnr, r.lq.ssim, r.lq.psnrY, r.lq.ssimY]);
  await writeFileAtomic(path.join(dir, 'metrics.csv'), formatCsv([METRICS_CSV_HEADER, ...rows]));
}
