import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readNpy, writeNpy } from '@srdiff/core';
import { createClipExtractor, embeddingFileName, ManifestMismatchError, readManifest, type ClipExtractor } from '../src';
import { writeMixedImages } from './helpers/mixed-images';

const fixture = path.join(__dirname, 'fixtures', 'tiny-clip');
const modelDir = path.join(fixture, 'model');
const COUNT = 50;

let tmp: string;
let inDir: string;
let names: string[];
let extractor: ClipExtractor;

const npyFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.npy')).sort();
const tempFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vlm-folder-'));
  inDir = path.join(tmp, 'LQ');
  names = await writeMixedImages(inDir, COUNT);
  fs.writeFileSync(path.join(inDir, 'notes.txt'), 'not an image');
  extractor = await createClipExtractor({ model: modelDir, allowRemote: false });
});
afterAll(async () => {
  await extractor.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('extractFolder', () => {
  it('writes one [width] float32 .npy per image (same basename) and a manifest', async () => {
    const outDir = path.join(tmp, 'LQCLS');
    const progress: number[] = [];
    const result = await extractor.extractFolder(inDir, outDir, { batchSize: 16, onProgress: (p) => progress.push(p.done) });
    expect(result).toMatchObject({ total: COUNT, written: COUNT, skipped: 0, failed: [] });
    expect(npyFiles(outDir)).toEqual(names.map(embeddingFileName).sort());
    expect(progress).toEqual([0, 16, 32, 48, 50]);
    const manifest = await readManifest(outDir);
    expect(manifest).toMatchObject({ model: modelDir, output: 'image_embeds', normalize: false, preprocessing: 'python', width: 16, shape: [16], count: COUNT, images: COUNT, complete: true });
    // Each file holds what extract() gives for that image.
    const direct = await extractor.extract(names.map((n) => path.join(inDir, n)));
    for (const [i, name] of names.entries()) {
      const npy = await readNpy(path.join(outDir, embeddingFileName(name)));
      expect(npy.shape).toEqual([16]);
      expect(Array.from(npy.data)).toEqual(Array.from(direct[i]!));
    }
    // A second run computes nothing.
    const again = await extractor.extractFolder(inDir, outDir);
    expect(again).toMatchObject({ written: 0, skipped: COUNT });
    // skipExisting: false recomputes everything.
    expect((await extractor.extractFolder(inDir, outDir, { skipExisting: false })).written).toBe(COUNT);
  });

  it("refuses a folder holding the original's .pt embeddings for these images (never a second file beside them)", async () => {
    const outDir = path.join(tmp, 'original-LQCLS');
    fs.mkdirSync(outDir);
    const stem = names[3]!.slice(0, names[3]!.length - path.extname(names[3]!).length);
    fs.writeFileSync(path.join(outDir, `${stem}.pt`), 'a torch.save file');
    await expect(extractor.extractFolder(inDir, outDir)).rejects.toThrow(`${outDir} already holds .pt embeddings (the original code's; 1 of these images, e.g. ${path.join(outDir, `${stem}.pt`)})`);
    expect(fs.readdirSync(outDir)).toEqual([`${stem}.pt`]);
  });

  it('killed midway (SIGKILL), a re-run completes the rest without recomputing what was written', async () => {
    const outDir = path.join(tmp, 'killed');
    const child = await bundleChild();
    const proc = spawn(process.execPath, [child, inDir, outDir, modelDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    const killedAt = await new Promise<number>((resolve, reject) => {
      let buffer = '';
      proc.stdout.on('data', (d: Buffer) => {
        buffer += d.toString();
        const done = Math.max(0, ...[...buffer.matchAll(/done (\d+)/g)].map((m) => Number(m[1])));
        if (done >= 12) {
          proc.kill('SIGKILL');
          resolve(done);
        }
      });
      proc.on('exit', (code) => reject(new Error(`child exited (${code}) before being killed: ${stderr}`)));
    });
    await new Promise((r) => proc.once('exit', r));
    const before = npyFiles(outDir);
    expect(before.length).toBeGreaterThanOrEqual(killedAt);
    expect(before.length).toBeLessThan(COUNT);
    const mtimes = new Map(before.map((f) => [f, fs.statSync(path.join(outDir, f)).mtimeMs]));
    for (const f of before) expect((await readNpy(path.join(outDir, f))).shape).toEqual([16]); // complete files only
    expect(await readManifest(outDir)).toMatchObject({ complete: false });

    const result = await extractor.extractFolder(inDir, outDir, { batchSize: 8 });
    expect(result.skipped).toBe(before.length);
    expect(result.written).toBe(COUNT - before.length);
    expect(npyFiles(outDir)).toHaveLength(COUNT);
    for (const [f, mtime] of mtimes) expect(fs.statSync(path.join(outDir, f)).mtimeMs).toBe(mtime);
    expect(tempFiles(outDir)).toEqual([]);
    expect(await readManifest(outDir)).toMatchObject({ count: COUNT, complete: true });
  });

  it('refuses a folder made with other settings unless overwrite is set', async () => {
    const outDir = path.join(tmp, 'mismatch');
    const few = path.join(tmp, 'few');
    fs.mkdirSync(few);
    for (const n of names.slice(0, 3)) fs.copyFileSync(path.join(inDir, n), path.join(few, n));
    await extractor.extractFolder(few, outDir);
    const normalized = await createClipExtractor({ model: modelDir, allowRemote: false, normalize: true });
    try {
      const err = await normalized.extractFolder(few, outDir).catch((e) => e);
      expect(err).toBeInstanceOf(ManifestMismatchError);
      expect(err.message).toMatch(/normalize: cached false, now true/);
      expect(err.message).toMatch(/overwrite: true/);
      const result = await normalized.extractFolder(few, outDir, { overwrite: true });
      expect(result.written).toBe(3);
      expect((await readManifest(outDir))!.normalize).toBe(true);
      const v = await readNpy(path.join(outDir, embeddingFileName(names[0]!)));
      expect(Math.hypot(...v.data)).toBeCloseTo(1, 5);
    } finally {
      await normalized.dispose();
    }
  });

  it('a corrupt image: stop names it and writes no partial file; skip embeds the others and records it', async () => {
    const dir = path.join(tmp, 'with-corrupt');
    fs.mkdirSync(dir);
    for (const n of names.slice(0, 5)) fs.copyFileSync(path.join(inDir, n), path.join(dir, n));
    const bad = path.join(dir, 'img_02_bad.png');
    fs.writeFileSync(bad, fs.readFileSync(path.join(inDir, names[0]!)).subarray(0, 60)); // truncated PNG

    const stopOut = path.join(tmp, 'stop-out');
    await expect(extractor.extractFolder(dir, stopOut, { batchSize: 2 })).rejects.toThrow(`${bad}: cannot decode image`);
    expect(npyFiles(stopOut)).not.toContain('img_02_bad.npy');
    expect(tempFiles(stopOut)).toEqual([]);

    const skipOut = path.join(tmp, 'skip-out');
    const skipped: string[] = [];
    const result = await extractor.extractFolder(dir, skipOut, { batchSize: 2, onError: 'skip', onSkip: (f) => skipped.push(f.source) });
    expect(skipped).toEqual([bad]);
    expect(result.written).toBe(5);
    expect(result.failed).toEqual([{ file: bad, error: expect.stringContaining('cannot decode image') }]);
    expect(npyFiles(skipOut)).toHaveLength(5);
    expect(await readManifest(skipOut)).toMatchObject({ count: 5, images: 6, complete: false, failures: [{ file: bad }] });
  });

  it('two images with the same basename are an error naming both', async () => {
    const dir = path.join(tmp, 'dupes');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(inDir, names[0]!), path.join(dir, 'a.png'));
    fs.copyFileSync(path.join(inDir, names[1]!), path.join(dir, 'a.jpg'));
    await expect(extractor.extractFolder(dir, path.join(tmp, 'dupes-out'))).rejects.toThrow(/a.jpg and .*a.png would both be embedded as a.npy/);
    await expect(extractor.extractFolder(path.join(tmp, 'nope'), path.join(tmp, 'x'))).rejects.toThrow(/cannot read image folder .*nope \(ENOENT\)/);
  });
});

describe('extractFolder sees what dataset discovery sees', () => {
  it('embeds images in sub-folders (sub/a.png → sub/a.npy) and symlinked files and folders; hidden entries are skipped', async () => {
    const dir = path.join(tmp, 'nested');
    const elsewhere = path.join(tmp, 'elsewhere');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.mkdirSync(path.join(elsewhere, 'linked'), { recursive: true });
    fs.copyFileSync(path.join(inDir, names[0]!), path.join(dir, 'a.png'));
    fs.copyFileSync(path.join(inDir, names[1]!), path.join(dir, 'sub', 'b.png'));
    fs.copyFileSync(path.join(inDir, names[2]!), path.join(elsewhere, 'c.png'));
    fs.copyFileSync(path.join(inDir, names[3]!), path.join(elsewhere, 'linked', 'd.png'));
    fs.symlinkSync(path.join(elsewhere, 'c.png'), path.join(dir, 'c.png'));
    fs.symlinkSync(path.join(elsewhere, 'linked'), path.join(dir, 'linked'));
    fs.symlinkSync(dir, path.join(dir, 'sub', 'loop')); // a cycle must not recurse for ever
    fs.copyFileSync(path.join(inDir, names[4]!), path.join(dir, '.hidden.png'));
    const out = path.join(tmp, 'nested-out');
    const result = await extractor.extractFolder(dir, out);
    expect(result).toMatchObject({ total: 4, written: 4 });
    for (const f of ['a.npy', 'c.npy', 'linked/d.npy', 'sub/b.npy']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    expect(fs.existsSync(path.join(out, '.hidden.npy'))).toBe(false);
  });

  it('embeds exactly the images it is given (relative paths)', async () => {
    const out = path.join(tmp, 'chosen-out');
    const result = await extractor.extractFolder(path.join(tmp, 'nested'), out, { images: ['sub/b.png', 'a.png'] });
    expect(result).toMatchObject({ total: 2, written: 2 });
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.npy')).sort()).toEqual(['a.npy']);
    expect(fs.existsSync(path.join(out, 'sub', 'b.npy'))).toBe(true);
  });

  it('a re-run repairs an embedding file that is damaged or not finite instead of keeping it', async () => {
    const out = path.join(tmp, 'repair-out');
    await extractor.extractFolder(inDir, out);
    const good = await readNpy(path.join(out, embeddingFileName(names[0]!)));
    const nan = new Float32Array(good.data.length).fill(NaN);
    await writeNpy(path.join(out, embeddingFileName(names[0]!)), { shape: [nan.length], data: nan });
    fs.writeFileSync(path.join(out, embeddingFileName(names[1]!)), 'garbage of any size');
    const again = await extractor.extractFolder(inDir, out);
    expect(again).toMatchObject({ written: 2, skipped: COUNT - 2 });
    expect(Array.from((await readNpy(path.join(out, embeddingFileName(names[0]!)))).data)).toEqual(Array.from(good.data));
  });
});

/** Bundles the child script (TypeScript sources) into plain JS next to node_modules, so it resolves the externals. */
async function bundleChild(): Promise<string> {
  const esbuild = require('esbuild') as typeof import('esbuild');
  const outDir = path.join(__dirname, '..', 'node_modules', '.vlm-test');
  const outfile = path.join(outDir, 'extract-folder-child.cjs');
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'helpers', 'extract-folder-child.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
    external: ['sharp', '@huggingface/transformers', 'onnxruntime-node'],
    alias: { '@srdiff/core': path.join(__dirname, '..', '..', 'core', 'src', 'index.ts') },
  });
  return outfile;
}
