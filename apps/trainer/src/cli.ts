#!/usr/bin/env node
import os from 'node:os';
import { WASM_THREADS_ENV_VAR } from '@srdiff/core';
import { runCli } from './cli/main';

// The CLI owns its process: let the wasm backend use every core unless the user says otherwise
// (SRDIFF_WASM_THREADS=1). Libraries default to one thread.
process.env[WASM_THREADS_ENV_VAR] ??= String(Math.min(os.availableParallelism(), 8));

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`srdiff: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
