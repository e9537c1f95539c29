import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensors, type TensorDict } from '@srdiff/core';

/** A fresh folder in the system's temp folder (the caller removes it). */
export function tempDir(prefix = 'srdiff-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The tensors of a fixture file, `<dir>/<rel>` (a test's `test/fixtures/…`). */
export async function fixtureTensors(dir: string, rel: string): Promise<TensorDict> {
  return (await readSafetensors(path.join(dir, rel))).tensors;
}
