import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes a file so that readers see either the old content or the complete new content, never a
 * torn file: write a temporary sibling, fsync it, rename over the target, fsync the directory.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  const tmp = temporaryName(file);
  const handle = await fs.promises.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/** Synchronous variant of {@link writeFileAtomic}, for signal handlers and exit paths. */
export function writeFileAtomicSync(file: string, data: Uint8Array | string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = temporaryName(file);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  try {
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    /* directories cannot be fsynced on every platform */
  }
}

/**
 * The temporary sibling an atomic write goes through: `.<name>.<pid>.<ms>.<random>.tmp`. Hidden,
 * and it carries the writer's pid so that {@link removeStaleTemporaries} can tell an abandoned one
 * (its writer was killed mid-write) from one being written right now.
 */
function temporaryName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
}

/** `.<name>.<pid>.<ms>[.<random>].tmp`: what {@link temporaryName} makes (and the older form without the random part). */
const TEMPORARY = /^\.(.+)\.(\d+)\.(\d+)(?:\.[a-z0-9]*)?\.tmp$/;

/** The target and writer of an atomic write's temporary file name, or undefined for any other name. */
export function parseTemporaryName(name: string): { target: string; pid: number; startedMs: number } | undefined {
  const m = TEMPORARY.exec(name);
  return m ? { target: m[1]!, pid: Number(m[2]), startedMs: Number(m[3]) } : undefined;
}

/**
 * Whether the process that began writing a temporary file at `startedMs` may still be writing it:
 * its pid is alive and (where /proc tells) that process started before the write did — a live pid
 * that started later is a reused number, not the writer.
 */
function writerMayBeAlive(pid: number, startedMs: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const started = processStartMs(pid);
  // 2 s of slack: the boot time /proc gives is in whole seconds.
  return started === undefined || started <= startedMs + 2000;
}

/**
 * When a process started (ms since the epoch), from Linux's /proc: field 22 of /proc/<pid>/stat is
 * its start in clock ticks after boot (USER_HZ, 100 on every Linux architecture Node runs on),
 * /proc/stat's btime the boot in seconds. Undefined where /proc is not available.
 */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the temporaries of atomic writes (see {@link writeFileAtomic}) whose writer is gone —
 * left behind when a process is killed mid-write (`kill -9`, power loss). Only files named as this
 * module names them are touched, and never one whose writer may still be running. `accept` narrows
 * them further by their target's name (e.g. only checkpoints). Returns the files removed.
 */
export async function removeStaleTemporaries(dir: string, options: { recursive?: boolean; accept?: (target: string) => boolean } = {}): Promise<string[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (options.recursive) removed.push(...(await removeStaleTemporaries(full, options)));
      continue;
    }
    const parsed = parseTemporaryName(e.name);
    if (!parsed || (options.accept && !options.accept(parsed.target))) continue;
    if (writerMayBeAlive(parsed.pid, parsed.startedMs)) continue;
    await fs.promises.rm(full, { force: true });
    removed.push(full);
  }
  return removed;
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await fs.promises.open(dir, 'r');
    await handle.sync().catch(() => undefined);
    await handle.close();
  } catch {
    /* directories cannot be opened for sync on every platform */
  }
}
