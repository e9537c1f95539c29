import fs from 'node:fs';
import path from 'node:path';

/**
 * The folder of bundled clean photographs (`assets/clean/*.png`: scikit-image sample images,
 * public domain / CC0, downscaled to 256 px; sources and licences in the package's NOTICE).
 * Works from the sources, the CommonJS and the ESM builds (tsup shims `__dirname` for ESM).
 */
export function bundledCleanImagesDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'assets', 'clean');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`@srdiff/data: bundled images not found above ${__dirname} (is the package's assets/ folder installed?)`);
}
