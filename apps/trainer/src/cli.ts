#!/usr/bin/env node
import { runCli } from './cli/main';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`srdiff: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
