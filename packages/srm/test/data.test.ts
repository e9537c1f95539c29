import fs from 'node:fs';
import path from 'node:path';
import { createEmbeddingPairs, readEmbeddingPairs, splitEmbeddingPairs, resolveTrainSrmSettings, TRAIN_SRM_DEFAULTS } from '../src';
import { readEmbeddingTensor } from '@srdiff/core';
import { SRM_FIXTURE, intNpy, tempDir, writeEmbeddings } from './helpers';

function folders() {
  const root = tempDir();
  return { root, lq: path.join(root, 'LQCLS'), gt: path.join(root, 'GTCLS') };
}

describe('readEmbeddingPairs', () => {
  test('pairs are matched by basename, not by listing order; [D] and [1, D] files both load', async () => {
    const { lq, gt } = folders();
    writeEmbeddings(lq, { b: [2, 2, 2], a: [1, 1, 1], c: [3, 3, 3] });
    writeEmbeddings(gt, { c: [30, 30, 30], a: [10, 10, 10] }, true);
    writeEmbeddings(gt, { b: [20, 20, 20] });
    fs.writeFileSync(path.join(gt, 'notes.txt'), 'ignored');
    const pairs = await readEmbeddingPairs(lq, gt);
    expect(pairs.names).toEqual(['a', 'b', 'c']);
    expect(pairs.dim).toBe(3);
    expect(Array.from(pairs.lq)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(Array.from(pairs.gt)).toEqual([10, 10, 10, 20, 20, 20, 30, 30, 30]);
  });

  test("the original's .pt embeddings (a [1, D] view tensor) pair by name with .npy ones", async () => {
    const { lq, gt } = folders();
    fs.mkdirSync(lq, { recursive: true });
    fs.copyFileSync(path.join(SRM_FIXTURE, 'embedding_view.pt'), path.join(lq, 'a.pt'));
    fs.copyFileSync(path.join(SRM_FIXTURE, 'embedding_offset_view.pt'), path.join(lq, 'b.pt'));
    const view = await readEmbeddingTensor(path.join(SRM_FIXTURE, 'embedding_view.pt'));
    const offset = await readEmbeddingTensor(path.join(SRM_FIXTURE, 'embedding_offset_view.pt'));
    writeEmbeddings(gt, { a: offset.data }, true);
    fs.copyFileSync(path.join(SRM_FIXTURE, 'embedding_view.pt'), path.join(gt, 'b.pt'));
    const pairs = await readEmbeddingPairs(lq, gt);
    expect(pairs.names).toEqual(['a', 'b']);
    expect(pairs.dim).toBe(16);
    expect(Array.from(pairs.lq)).toEqual([...view.data, ...offset.data]);
    expect(Array.from(pairs.gt)).toEqual([...offset.data, ...view.data]);
    writeEmbeddings(lq, { a: view.data });
    await expect(readEmbeddingPairs(lq, gt)).rejects.toThrow(`${path.join(lq, 'a.npy')} and ${path.join(lq, 'a.pt')} are two embeddings of one image; keep one`);
  });

  test('an unmatched file is an error naming it', async () => {
    const { lq, gt } = folders();
    writeEmbeddings(lq, { a: [1, 2], b: [3, 4] });
    writeEmbeddings(gt, { a: [1, 2], z: [3, 4] });
    await expect(readEmbeddingPairs(lq, gt)).rejects.toThrow(`${path.join(lq, 'b.npy')} has no partner ${path.join(gt, 'b.npy')}`);
    await expect(readEmbeddingPairs(lq, gt)).rejects.toThrow(`${path.join(gt, 'z.npy')} has no partner`);
  });

  test('an empty or missing folder is a clear error', async () => {
    const { lq, gt } = folders();
    fs.mkdirSync(lq, { recursive: true });
    writeEmbeddings(gt, { a: [1] });
    await expect(readEmbeddingPairs(lq, gt)).rejects.toThrow(`no .npy or .pt embeddings in ${lq}`);
    await expect(readEmbeddingPairs(path.join(lq, 'nope'), gt)).rejects.toThrow(/cannot read embedding folder .*nope \(ENOENT\)/);
  });

  test('a .npy that is not float is refused, naming the file and its dtype', async () => {
    const { lq, gt } = folders();
    writeEmbeddings(lq, { a: [1, 2, 3, 4] });
    fs.mkdirSync(gt, { recursive: true });
    fs.writeFileSync(path.join(gt, 'a.npy'), intNpy([1, 2, 3, 4]));
    await expect(readEmbeddingPairs(lq, gt)).rejects.toThrow(`${path.join(gt, 'a.npy')}: dtype '<i4' is not a float type`);
  });

  test('a width mismatch names the file and the expected width', async () => {
    const { lq, gt } = folders();
    writeEmbeddings(lq, { a: [1, 2, 3], b: [1, 2, 3] });
    writeEmbeddings(gt, { a: [1, 2, 3], b: [1, 2, 3, 4] });
    await expect(readEmbeddingPairs(lq, gt)).rejects.toThrow(`${path.join(gt, 'b.npy')}: embedding is 4 wide, expected 3`);
    writeEmbeddings(gt, { b: [1, 2, 3] });
    await expect(readEmbeddingPairs(lq, gt, { inputDim: 512 })).rejects.toThrow(`${path.join(lq, 'a.npy')}: embedding is 3 wide, expected 512`);
  });

  test('several rows per file, or non-finite values, are refused', async () => {
    const { lq, gt } = folders();
    fs.mkdirSync(lq, { recursive: true });
    writeEmbeddings(gt, { a: [1, 2] });
    const { serializeNpy } = await import('@srdiff/core');
    fs.writeFileSync(path.join(lq, 'a.npy'), serializeNpy({ shape: [2, 1], data: Float32Array.of(1, 2) }));
    await expect(readEmbeddingPairs(lq, gt)).rejects.toThrow(/expected one embedding of shape \[D\] or \[1, D\], got shape \[2, 1\]/);
    writeEmbeddings(lq, { a: [1, NaN] });
    await expect(readEmbeddingPairs(lq, gt)).rejects.toThrow(`${path.join(lq, 'a.npy')}: value 1 is NaN`);
  });
});

describe('in-memory pairs and the validation split', () => {
  test('createEmbeddingPairs checks counts and widths', () => {
    expect(() => createEmbeddingPairs([[1, 2]], [])).toThrow(/1 LQ embeddings but 0 GT/);
    expect(() => createEmbeddingPairs([[1, 2], [1]], [[1, 2], [1, 2]])).toThrow(/lq\[1\] is 1 wide, expected 2/);
    const p = createEmbeddingPairs([[1, 2], [3, 4]], [[5, 6], [7, 8]]);
    expect(p).toMatchObject({ count: 2, dim: 2, names: ['0', '1'] });
  });

  test('the split is seeded, disjoint and complete', () => {
    const rows = Array.from({ length: 50 }, (_, i) => [i, -i]);
    const pairs = createEmbeddingPairs(rows, rows);
    const a = splitEmbeddingPairs(pairs, 0.1, 3);
    const b = splitEmbeddingPairs(pairs, 0.1, 3);
    const c = splitEmbeddingPairs(pairs, 0.1, 4);
    expect(a.val!.names).toEqual(b.val!.names);
    expect(a.val!.names).not.toEqual(c.val!.names);
    expect(a.val!.count).toBe(5);
    expect(a.train.count).toBe(45);
    expect(new Set([...a.train.names, ...a.val!.names]).size).toBe(50);
    expect(splitEmbeddingPairs(pairs, 0, 3).val).toBeUndefined();
    expect(splitEmbeddingPairs(createEmbeddingPairs([[1]], [[1]]), 0.5, 0).val).toBeUndefined();
  });
});

describe('training settings', () => {
  test('defaults mirror sr/train.py', () => {
    expect(TRAIN_SRM_DEFAULTS).toMatchObject({ epochs: 10000, batchSize: 8192, lr: 3e-4, warmupSteps: 500, minLr: 5e-7, weightDecay: 1e-4, maxGradNorm: 1, alpha: 0.7, eps: 1e-8, betas: [0.9, 0.999] });
  });

  test('bad values are named', () => {
    expect(() => resolveTrainSrmSettings({ batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => resolveTrainSrmSettings({ lr: -1 })).toThrow(/lr must be > 0, got -1/);
    expect(() => resolveTrainSrmSettings({ valFraction: 1 })).toThrow(/valFraction must be in \[0, 1\), got 1/);
    expect(() => resolveTrainSrmSettings({ betas: [0.9, 1] })).toThrow(/betas must be two numbers in \[0, 1\)/);
    expect(() => resolveTrainSrmSettings({ lr: 1e-4, minLr: 1e-3 })).toThrow(/minLr 0.001 is above lr 0.0001/);
  });
});
