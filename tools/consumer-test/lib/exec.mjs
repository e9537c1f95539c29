// Running a command with a time limit, its output captured (and shown when it fails).
import { spawn } from 'node:child_process';

/**
 * Runs `command args` in `cwd`; resolves with { code, output, seconds }. Never rejects: a
 * command that cannot start or runs past `timeoutSeconds` resolves with a non-zero code.
 */
export function run(command, args, { cwd, env = {}, timeoutSeconds = 300 } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[consumer-test] killed after ${timeoutSeconds} s`;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, output: `${output}\n${err.message}`, seconds: (Date.now() - started) / 1000 });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output, seconds: (Date.now() - started) / 1000 });
    });
  });
}
