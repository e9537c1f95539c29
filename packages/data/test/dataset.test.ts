import fs from 'node:fs';
import path from 'node:path';
import { readEmbeddingTensor, writeNpy } from '@srdiff/core';
import { DatasetError, discoverDataset, PairedDataset } from '../src';
import { tempDir, writeAny } from './helpers';

let root: string;
beforeEach(() => {
  root = tempDir();
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const task = (phase: string, name: string) => path.join(root, phase, name);

async function makePair(taskDir: string, name: string, lqExt = 'png', gtExt = 'png', size: [number, number] = [20, 16]): Promise<void> {
  await writeAny(path.join(taskDir, 'LQ', `${name}.${lqExt}`), size[0], size[1], 2);
  await writeAny(path.join(taskDir, 'GT', `${name}.${gtExt}`), size[0], size[1], 3);
}

async function errorOf(p: Promise<unknown>): Promise<DatasetError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

describe('discoverDataset: the standard layout', () => {
  test('pairs by basename ignoring extension, across every supported format, tasks mixed', async () => {
    const hazy = task('train', 'hazy');
    const formats = ['png', 'jpg', 'webp', 'tif', 'gif'];
    for (const [i, ext] of formats.entries()) await makePair(hazy, `img${i}`, ext, formats[(i + 1) % formats.length]);
    await makePair(task('train', 'rainy'), 'r1');
    fs.writeFileSync(path.join(hazy, 'LQ', 'notes.txt'), 'ignored');
    fs.writeFileSync(path.join(hazy, 'GT', '.DS_Store'), 'ignored');
    fs.mkdirSync(task('train', 'empty-not-a-task'), { recursive: true });

    const index = await discoverDataset({ root, phase: 'train' });
    expect(index.tasks).toEqual(['hazy', 'rainy']);
    expect(index.pairs.map((p) => `${p.task}/${p.name}`)).toEqual(['hazy/img0', 'hazy/img1', 'hazy/img2', 'hazy/img3', 'hazy/img4', 'rainy/r1']);
    expect(path.basename(index.pairs[1]!.lq)).toBe('img1.jpg');
    expect(path.basename(index.pairs[1]!.gt)).toBe('img1.webp');
    expect(index.pairs.every((p) => p.width === 20 && p.height === 16)).toBe(true);
    expect(index.embeddings).toBeUndefined();

    const one = await discoverDataset({ root, phase: 'train', tasks: ['rainy'] });
    expect(one.pairs).toHaveLength(1);
  });

  test('pairing is by name, not by sort order (sub-folders pair by relative path)', async () => {
    const t = task('train', 'hazy');
    await writeAny(path.join(t, 'LQ', 'b.png'), 20, 16);
    await writeAny(path.join(t, 'LQ', 'sub', 'a.png'), 24, 16);
    await writeAny(path.join(t, 'GT', 'sub', 'a.jpg'), 24, 16);
    await writeAny(path.join(t, 'GT', 'b.png'), 20, 16);
    const { pairs } = await discoverDataset({ root, phase: 'train' });
    expect(pairs.map((p) => [p.name, path.relative(t, p.lq), path.relative(t, p.gt)])).toEqual([
      ['b', 'LQ/b.png', 'GT/b.png'],
      ['sub/a', 'LQ/sub/a.png', 'GT/sub/a.jpg'],
    ]);
  });

  test('every defect is an error naming the files; skip mode leaves them out with one warning', async () => {
    const t = task('train', 'hazy');
    await makePair(t, 'good');
    await writeAny(path.join(t, 'LQ', 'orphan.png'), 20, 16); // no GT partner
    await writeAny(path.join(t, 'GT', 'lonely.png'), 20, 16); // no LQ partner
    await makePair(t, 'dup');
    await writeAny(path.join(t, 'LQ', 'dup.jpg'), 20, 16); // two LQ images named "dup"
    await writeAny(path.join(t, 'LQ', 'sized.png'), 20, 16);
    await writeAny(path.join(t, 'GT', 'sized.png'), 20, 18); // size mismatch
    await makePair(t, 'broken');
    fs.writeFileSync(path.join(t, 'GT', 'broken.png'), 'garbage'); // unreadable

    const err = await errorOf(discoverDataset({ root, phase: 'train' }));
    expect(err.message).toMatch(/5 dataset problem\(s\)/);
    expect(err.message).toContain(`${path.join(t, 'LQ', 'orphan.png')} has no partner: no image named "orphan" (any extension) in ${path.join(t, 'GT')}`);
    expect(err.message).toContain(`${path.join(t, 'GT', 'lonely.png')} has no partner`);
    expect(err.message).toContain(`duplicate image name "dup": ${path.join(t, 'LQ', 'dup.jpg')} and ${path.join(t, 'LQ', 'dup.png')}`);
    expect(err.message).toContain(`size mismatch: LQ ${path.join(t, 'LQ', 'sized.png')} is 20×16, GT ${path.join(t, 'GT', 'sized.png')} is 20×18`);
    expect(err.message).toContain(`${path.join(t, 'GT', 'broken.png')}: cannot decode image`);
    expect(err.files).toEqual(expect.arrayContaining([path.join(t, 'LQ', 'orphan.png'), path.join(t, 'GT', 'sized.png')]));

    const warnings: string[] = [];
    const index = await discoverDataset({ root, phase: 'train' }, { onInvalid: 'skip', warn: (m) => warnings.push(m) });
    expect(index.pairs.map((p) => p.name)).toEqual(['good']);
    expect(index.skipped.map((s) => s.problem).sort()).toEqual(['duplicate-name', 'missing-partner', 'missing-partner', 'size-mismatch', 'unreadable']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 5 pair\(s\) \(.*missing-partner: 2.*\); 1 usable/);
  });

  test('missing folders and empty datasets are explained', async () => {
    let err = await errorOf(discoverDataset({ root, phase: 'val' }));
    expect(err.message).toContain(`${path.join(root, 'val')} does not exist; expected ${root}/{train,val}/<task>/{LQ,GT}`);
    fs.mkdirSync(path.join(root, 'val', 'hazy', 'LQ'), { recursive: true });
    err = await errorOf(discoverDataset({ root, phase: 'val' }));
    expect(err.problem).toBe('empty');
    err = await errorOf(discoverDataset({ root, phase: 'val', tasks: ['hazy'] }));
    expect(err.message).toContain(`task "hazy": folder ${path.join(root, 'val', 'hazy', 'GT')} does not exist`);
    fs.mkdirSync(path.join(root, 'val', 'hazy', 'GT'));
    err = await errorOf(discoverDataset({ root, phase: 'val' }));
    expect(err.message).toMatch(/no usable image pairs/);
  });

  test('two explicit folders (dataroot_LQ / dataroot_GT), task named after their parent', async () => {
    const t = task('val', 'motion-blurry');
    await makePair(t, 'x');
    const index = await discoverDataset({ dataroot_LQ: path.join(t, 'LQ'), dataroot_GT: path.join(t, 'GT') });
    expect(index.pairs.map((p) => [p.task, p.name])).toEqual([['motion-blurry', 'x']]);
  });
});

describe('embeddings', () => {
  test('auto prefers RestoreCLS over LQCLS; every pair needs one; shapes [D] and [1, D] load', async () => {
    const t = task('train', 'hazy');
    await makePair(t, 'a');
    await makePair(t, 'b');
    await writeNpy(path.join(t, 'LQCLS', 'a.npy'), { shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) });
    await writeNpy(path.join(t, 'LQCLS', 'b.npy'), { shape: [4], data: Float32Array.from([5, 6, 7, 8]) });
    let index = await discoverDataset({ root, phase: 'train' });
    expect(index.embeddings).toBe('LQCLS');
    const ds = new PairedDataset(index);
    expect(Array.from((await ds.readEmbedding(0))!)).toEqual([1, 2, 3, 4]);
    expect(Array.from((await ds.readEmbedding(1))!)).toEqual([5, 6, 7, 8]);

    await writeNpy(path.join(t, 'RestoreCLS', 'a.npy'), { shape: [4], data: Float32Array.from([9, 9, 9, 9]) });
    const err = await errorOf(discoverDataset({ root, phase: 'train' }));
    expect(err.problem).toBe('missing-embedding');
    expect(err.message).toContain(`pair "b" (${path.join(t, 'LQ', 'b.png')}) has no embedding ${path.join(t, 'RestoreCLS', 'b.npy')}`);
    index = await discoverDataset({ root, phase: 'train' }, { embeddings: 'LQCLS' });
    expect(index.pairs.every((p) => p.embedding?.includes('LQCLS'))).toBe(true);
    index = await discoverDataset({ root, phase: 'train' }, { embeddings: 'none' });
    expect(index.pairs.every((p) => p.embedding === undefined)).toBe(true);
  });

  test("the original's .pt embeddings ([1, D] view tensors) are found and read beside .npy; both for one pair is an error", async () => {
    const t = task('train', 'hazy');
    await makePair(t, 'a');
    await makePair(t, 'b');
    const pt = path.join(__dirname, 'fixtures', 'embedding_view.pt');
    fs.mkdirSync(path.join(t, 'LQCLS'), { recursive: true });
    fs.copyFileSync(pt, path.join(t, 'LQCLS', 'a.pt'));
    await writeNpy(path.join(t, 'LQCLS', 'b.npy'), { shape: [16], data: new Float32Array(16).fill(2) });
    const index = await discoverDataset({ root, phase: 'train' });
    expect(index.pairs.map((p) => path.basename(p.embedding!))).toEqual(['a.pt', 'b.npy']);
    const ds = new PairedDataset(index);
    expect(Array.from((await ds.readEmbedding(0))!)).toEqual(Array.from((await readEmbeddingTensor(pt)).data));
    expect((await ds.readEmbedding(0))!.length).toBe(16);
    await writeNpy(path.join(t, 'LQCLS', 'a.npy'), { shape: [16], data: new Float32Array(16) });
    const err = await errorOf(discoverDataset({ root, phase: 'train' }));
    expect(err.problem).toBe('duplicate-name');
    expect(err.message).toContain(`${path.join(t, 'LQCLS', 'a.npy')} and ${path.join(t, 'LQCLS', 'a.pt')}: two embeddings for "a"; keep one`);
  });

  test('a malformed embedding is an error naming the file', async () => {
    const t = task('train', 'hazy');
    await makePair(t, 'a');
    await writeNpy(path.join(t, 'RestoreCLS', 'a.npy'), { shape: [2, 3], data: new Float32Array(6) });
    const ds = await PairedDataset.open({ root, phase: 'train' });
    await expect(ds.readEmbedding(0)).rejects.toThrow(`${path.join(t, 'RestoreCLS', 'a.npy')}: expected an embedding of shape [D] or [1, D], got (2, 3)`);
  });

  test('tasks that disagree on embeddings are refused up front', async () => {
    await makePair(task('train', 'hazy'), 'a');
    await makePair(task('train', 'rainy'), 'b');
    await writeNpy(path.join(task('train', 'hazy'), 'RestoreCLS', 'a.npy'), { shape: [4], data: new Float32Array(4) });
    const err = await errorOf(discoverDataset({ root, phase: 'train' }));
    expect(err.message).toMatch(/tasks disagree on embeddings \(hazy: RestoreCLS, rainy: none\)/);
  });
});
