#!/usr/bin/env node
// The `srdiff` command. Committed (not generated) so that npm links it at install time, before
// anything is built: in a clone of the repository it first builds what is missing or stale
// (tools/ensure-built.cjs), in an installed package it runs dist/ as it is.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const pkg = path.join(__dirname, '..');
const workspaceTool = path.join(pkg, '..', '..', 'tools', 'ensure-built.cjs');
if (fs.existsSync(path.join(pkg, 'src')) && fs.existsSync(workspaceTool)) require(workspaceTool).ensureBuilt('apps/trainer', 'srdiff');
const cli = path.join(pkg, 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write(`srdiff: ${cli} is missing; this installation of @srdiff/trainer is incomplete (reinstall it).\n`);
  process.exit(1);
}
require(cli);
