import fs from 'node:fs';
import path from 'node:path';

/** Where each restored image goes, and what the naming had to do about collisions. */
export interface OutputPlan {
  targets: { input: string; output: string }[];
  /** Inputs that share a name (a.jpg, a.png): each keeps its extension in the output name. */
  renamed: string[];
}

const resolved = (p: string) => {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/**
 * Names the outputs of `srdiff restore`: `<out>/<name>.png` — except where several inputs share a
 * name without extension (`a.jpg`, `a.png` would both become `a.png`, one of them lost), where each
 * keeps its extension (`a.jpg.png`, `a.png.png`). An output that would overwrite any input is an
 * error (with `--out` pointing at the inputs' own folder, `b.png` would replace the original),
 * thrown by `refuse` before anything is written.
 */
export function planOutputs(inputs: readonly string[], outDir: string, refuse: (message: string) => Error): OutputPlan {
  const stem = (f: string) => path.basename(f, path.extname(f));
  const byStem = new Map<string, string[]>();
  for (const f of inputs) byStem.set(stem(f), [...(byStem.get(stem(f)) ?? []), f]);
  const renamed: string[] = [];
  const targets = inputs.map((input) => {
    const shared = byStem.get(stem(input))!;
    if (shared.length > 1 && shared[0] === input) renamed.push(`${shared.map((f) => path.basename(f)).join(' and ')} share the name "${stem(input)}": written as ${shared.map((f) => `${path.basename(f)}.png`).join(' and ')}`);
    return { input, output: path.join(outDir, shared.length > 1 ? `${path.basename(input)}.png` : `${stem(input)}.png`) };
  });
  const inputSet = new Set(inputs.map(resolved));
  const clobbered = targets.filter((t) => inputSet.has(resolved(t.output)));
  if (clobbered.length) {
    throw refuse(
      `--out ${outDir}: restoring would overwrite the input${clobbered.length > 1 ? 's' : ''} ${clobbered.map((t) => t.output).join(', ')}; ` +
        'pass --out <another folder> (inputs are never overwritten)',
    );
  }
  const seen = new Map<string, string>();
  for (const t of targets) {
    const key = resolved(t.output);
    const other = seen.get(key);
    if (other) throw refuse(`${other} and ${t.input} would both be written to ${t.output}; rename one of them`);
    seen.set(key, t.input);
  }
  return { targets, renamed };
}
