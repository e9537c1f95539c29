#!/usr/bin/env node
import { version } from '../package.json';
import { runDataCli } from './cli/run-data-cli';

runDataCli(process.argv.slice(2), { out: (line) => process.stdout.write(`${line}\n`), err: process.stderr, version }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`srdiff-data: ${err.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
