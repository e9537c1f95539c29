import fs from 'node:fs';
import { CHECKPOINTS_KEPT, checkpointStep, listCheckpoints, readDiffusionCheckpoint, rejection, type RejectedCheckpoint } from './diffusion-checkpoint';

interface Verdict {
  size: number;
  mtimeMs: number;
  rejected?: RejectedCheckpoint;
}

/**
 * What a run knows about the checkpoints of its folder, and the pruning that uses it. Pruning by
 * step alone would keep damaged files and delete good ones (three damaged "newest" files and the
 * only good one goes); instead the newest {@link CHECKPOINTS_KEPT} *good* checkpoints are kept,
 * damaged ones do not count and are removed once good ones exist, and nothing is deleted while no
 * good checkpoint is known. A file is read (and its checksum checked) at most once per size and
 * modification time: the ones this run wrote or loaded are known already.
 */
export class CheckpointLedger {
  private readonly verdicts = new Map<string, Verdict>();

  constructor(
    readonly dir: string,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** A checkpoint known to be good: just written, or just loaded. */
  vouch(file: string): void {
    const st = statOf(file);
    if (st) this.verdicts.set(file, st);
  }

  /** A checkpoint found unusable (e.g. while resuming). */
  reject(r: RejectedCheckpoint): void {
    const st = statOf(r.file);
    if (st) this.verdicts.set(r.file, { ...st, rejected: r });
  }

  /** Why a checkpoint is unusable, or undefined when it is good (read once per version of the file). */
  async problem(file: string): Promise<RejectedCheckpoint | undefined> {
    const st = statOf(file);
    if (!st) return { file, reason: `${file}: gone`, damaged: false };
    const known = this.verdicts.get(file);
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.rejected;
    let rejected: RejectedCheckpoint | undefined;
    try {
      await readDiffusionCheckpoint(file);
    } catch (err) {
      rejected = rejection(file, err);
    }
    this.verdicts.set(file, { ...st, rejected });
    return rejected;
  }

  /**
   * Keeps the newest {@link CHECKPOINTS_KEPT} good checkpoints at or below `step` (this run's
   * history) and removes older ones; damaged ones are removed too, but only once a good one is kept.
   * Unreadable-for-now files (permissions) and files that are not checkpoints are left alone.
   */
  async prune(step: number): Promise<void> {
    const kept: string[] = [];
    const older: string[] = [];
    const damaged: RejectedCheckpoint[] = [];
    for (const file of listCheckpoints(this.dir)) {
      const s = checkpointStep(file)!;
      if (s <= step && kept.length >= CHECKPOINTS_KEPT) {
        older.push(file); // good or not, older than the kept ones: no need to read it
        continue;
      }
      const problem = await this.problem(file);
      if (problem?.damaged) damaged.push(problem);
      else if (!problem && s <= step) kept.push(file);
    }
    if (!kept.length) return;
    for (const file of older) await this.remove(file);
    for (const d of damaged) {
      await this.remove(d.file);
      this.log(`removed damaged checkpoint ${d.reason}`);
    }
  }

  private async remove(file: string): Promise<void> {
    await fs.promises.rm(file, { force: true });
    this.verdicts.delete(file);
  }

  /**
   * Moves checkpoints newer than `step` out of the way (`step-….ckpt.superseded`): a run resumed
   * from an earlier checkpoint makes a new history, and a later `--resume` must not jump onto the
   * abandoned one. Nothing is deleted; damaged ones stay for {@link prune} to remove. Returns the
   * files moved.
   */
  async supersedeAfter(step: number): Promise<string[]> {
    const moved: string[] = [];
    for (const file of listCheckpoints(this.dir)) {
      if (checkpointStep(file)! <= step || (await this.problem(file))?.damaged) continue;
      const target = `${file}.superseded`;
      await fs.promises.rename(file, target);
      this.verdicts.delete(file);
      moved.push(target);
    }
    return moved;
  }
}

function statOf(file: string): { size: number; mtimeMs: number } | undefined {
  try {
    const st = fs.statSync(file);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}
