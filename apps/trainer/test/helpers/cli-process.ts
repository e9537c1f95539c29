/** Running the `srdiff` CLI from tests: in this process (its sources) or as a child (the build). */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { runCli } from '../../src/cli/main';

/** The built CLI (the trainer's test target builds first). */
export const BUILT_CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');

/** Runs the CLI in this process, collecting everything it prints (stdout and stderr, in order). */
export async function runInProcess(args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runCli(args, { out: (s) => lines.push(s), log: (s) => lines.push(s) });
  return { code, output: lines.join('\n') };
}

/** Runs the built CLI in a fresh process; resolves with its exit code, signal and output. */
export function runBuilt(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const child = spawn(process.execPath, [BUILT_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, output })));
}
