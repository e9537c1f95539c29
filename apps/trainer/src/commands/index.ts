import type { Command } from '../cli/command';
import { convertCommand } from './convert';
import { demoCommand } from './demo';
import { exportCommand } from './export';
import { extractCommand } from './extract';
import { refineCommand } from './refine';
import { restoreCommand } from './restore';
import { testCommand } from './test';
import { trainCommand } from './train';
import { trainSrmCommand } from './train-srm';
import { verifyCommand } from './verify';

/** Every `srdiff` command, in pipeline order. */
export const COMMANDS: Command[] = [
  extractCommand,
  trainSrmCommand,
  refineCommand,
  trainCommand,
  testCommand,
  restoreCommand,
  exportCommand,
  convertCommand,
  verifyCommand,
  demoCommand,
];
