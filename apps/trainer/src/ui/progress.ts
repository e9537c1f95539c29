/**
 * Progress reporting for long work: a redrawn bar on a terminal, periodic plain lines otherwise
 * (CI logs, pipes). Shows done/total, rate, ETA and any live fields (loss, lr, ...).
 */
export interface ProgressOptions {
  label: string;
  total: number;
  /** Where to write (default stderr, so stdout stays for results). */
  stream?: NodeJS.WriteStream;
  /** Minimum seconds between plain-line updates when not on a terminal. */
  plainEverySeconds?: number;
  /** Units counted, e.g. 'it', 'img'. */
  unit?: string;
  /** Steps already done when resuming (not counted in the rate). */
  start?: number;
  quiet?: boolean;
}

export class Progress {
  private done: number;
  private readonly startDone: number;
  private readonly started = Date.now();
  private lastDraw = 0;
  private fields: Record<string, string> = {};
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env.CI;
    this.done = opts.start ?? 0;
    this.startDone = this.done;
  }

  /** Sets the completed count and live fields, redrawing when due. */
  update(done: number, fields: Record<string, string | number> = {}): void {
    this.done = done;
    for (const [k, v] of Object.entries(fields)) this.fields[k] = typeof v === 'number' ? formatNumber(v) : v;
    const now = Date.now();
    const every = this.tty ? 100 : (this.opts.plainEverySeconds ?? 10) * 1000;
    if (now - this.lastDraw >= every || done >= this.opts.total) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  tick(fields: Record<string, string | number> = {}): void {
    this.update(this.done + 1, fields);
  }

  /** Rate in units per second since start (excluding resumed work). */
  rate(): number {
    const secs = (Date.now() - this.started) / 1000;
    return secs > 0 ? (this.done - this.startDone) / secs : 0;
  }

  finish(message?: string): void {
    this.draw(true);
    if (message && !this.opts.quiet) this.stream.write(`${message}\n`);
  }

  /** Prints a line without corrupting the bar. */
  log(line: string): void {
    if (this.opts.quiet) return;
    if (this.tty) this.stream.write('\r\x1b[K');
    this.stream.write(`${line}\n`);
    if (this.tty) this.draw(false);
  }

  private draw(final: boolean): void {
    if (this.opts.quiet) return;
    const { total, label, unit = 'it' } = this.opts;
    const frac = total > 0 ? Math.min(1, this.done / total) : 1;
    const rate = this.rate();
    const remaining = rate > 0 ? (total - this.done) / rate : NaN;
    const extras = Object.entries(this.fields).map(([k, v]) => `${k} ${v}`).join('  ');
    const stats = `${this.done}/${total} ${(frac * 100).toFixed(0)}%  ${rate >= 1 ? rate.toFixed(2) + ` ${unit}/s` : rate > 0 ? (1 / rate).toFixed(2) + ` s/${unit}` : `- ${unit}/s`}  ETA ${formatDuration(remaining)}${extras ? '  ' + extras : ''}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round(frac * width);
      this.stream.write(`\r\x1b[K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}${final ? '\n' : ''}`);
    } else {
      this.stream.write(`${label}: ${stats}\n`);
    }
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(3) : v.toPrecision(4);
}
