import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assetsDir } from '../src/pipeline/models';
import { writableCache } from '../src/restore/engine';

describe('writableCache (where restore and test keep the exported UNet graph)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-cache-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("beside the user's own weights: <weights>.onnx", () => {
    expect(writableCache(path.join(tmp, 'last_EMA.safetensors'))).toBe(path.join(tmp, 'last_EMA.onnx'));
    expect(writableCache(path.join(tmp, 'lastest_EMA.pth'))).toBe(path.join(tmp, 'lastest_EMA.pth.onnx'));
  });

  test('never inside the bundled assets or an installed package (built in memory instead)', () => {
    expect(writableCache(path.join(assetsDir(), 'demo-unet', 'model.safetensors'))).toBeUndefined();
    const installed = path.join(tmp, 'project', 'node_modules', 'some-model');
    fs.mkdirSync(installed, { recursive: true });
    expect(writableCache(path.join(installed, 'model.safetensors'))).toBeUndefined();
  });
});
