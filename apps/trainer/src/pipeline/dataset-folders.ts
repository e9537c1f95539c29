import fs from 'node:fs';
import path from 'node:path';

/** One task folder of the standard layout: `<root>/<phase>/<task>/{LQ,GT,LQCLS,GTCLS,RestoreCLS}`. */
export interface TaskFolder {
  phase: string;
  task: string;
  dir: string;
}

const isDir = (p: string) => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Lists `<root>/<phase>/<task>` folders that hold `LQ/` (and `GT/`), for the given phases and
 * optional task filter; errors name the folder that is missing.
 */
export function listTaskFolders(root: string, phases: string[], tasks?: string[]): TaskFolder[] {
  if (!isDir(root)) throw new Error(`dataset root ${root} does not exist`);
  const out: TaskFolder[] = [];
  for (const phase of phases) {
    const phaseDir = path.join(root, phase);
    if (!isDir(phaseDir)) continue;
    const names = tasks?.length ? tasks : fs.readdirSync(phaseDir).filter((t) => isDir(path.join(phaseDir, t, 'LQ'))).sort();
    for (const task of names) {
      const dir = path.join(phaseDir, task);
      if (!isDir(path.join(dir, 'LQ'))) throw new Error(`task folder ${dir} has no LQ/ subfolder`);
      out.push({ phase, task, dir });
    }
  }
  if (!out.length) throw new Error(`no task folders with LQ/ under ${root}/{${phases.join(',')}}/ — expected ${root}/{train,val}/<task>/{LQ,GT}`);
  return out;
}
