/**
 * Progress of a long `srdiff-data` job on stderr. On a terminal one line is redrawn in place
 * (`\r`); anywhere else (CI logs, pipes, files) each update is a whole line of its own, since a
 * carriage return there only glues the updates together (`10/28 pairs20/28 pairs`).
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export function progressWriter(stream: ProgressStream, unit: string): { update(done: number, total: number): void; end(): void } {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  let drawn = false;
  return {
    update(done, total) {
      stream.write(tty ? `\r${done}/${total} ${unit}` : `${done}/${total} ${unit}\n`);
      drawn = true;
    },
    end() {
      if (tty && drawn) stream.write('\n');
    },
  };
}
