import fs from 'node:fs';
import path from 'node:path';
import { manualSeed, readEmbeddingTensor, readNpy, selectBackend, tf } from '@srdiff/core';
import { SemanticRefinementModule, loadSrm, refine, refineFolder, saveSrmWeights } from '../src';
import { SRM_FIXTURE, fixture, fixtureMeta, intNpy, relError, tempDir, writeEmbeddings } from './helpers';

let model: SemanticRefinementModule;
const D = 16;

beforeAll(async () => {
  await selectBackend('wasm');
  manualSeed(11);
  model = new SemanticRefinementModule({ inputDim: D, hiddenDim: 32, numLayers: 2, numHeads: 4 });
});
afterAll(() => model.dispose());

function vectors(n: number, seed: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => Float32Array.from({ length: D }, (_, j) => Math.sin(seed + i * 7.1 + j * 1.3)));
}

describe('refine', () => {
  test('arrays, host tensors and tfjs tensors give the forward pass, whatever the batch size', () => {
    const rows = vectors(7, 1);
    const x = tf.tensor2d(rows.flatMap((r) => Array.from(r)), [7, D]);
    const expected = model.forward(x).dataSync();
    const fromArrays = refine(model, rows, { batchSize: 3 });
    expect(fromArrays).toHaveLength(7);
    expect(relError(Float32Array.from(fromArrays.flatMap((r) => Array.from(r))), expected)).toBeLessThan(1e-6);
    const host = refine(model, { shape: [7, D], data: x.dataSync() as Float32Array }, { batchSize: 2 });
    expect(host.shape).toEqual([7, D]);
    expect(relError(host.data, expected)).toBeLessThan(1e-6);
    expect(model.refine(rows)).toEqual(refine(model, rows));
    const t = refine(model, x);
    expect(relError(t.dataSync(), expected)).toBeLessThan(1e-6);
    tf.dispose([x, t]);
  });

  test('a wrong width is named', () => {
    expect(() => refine(model, [new Float32Array(D), new Float32Array(D + 1)])).toThrow(`refine: embedding 1 is ${D + 1} wide, the SRM expects ${D}`);
    expect(() => refine(model, { shape: [2, 8], data: new Float32Array(16) })).toThrow(`expected a [N, ${D}] tensor, got shape [2, 8]`);
  });
});

describe('refineFolder', () => {
  test('writes one refined .npy per input, same basename and shape, atomically', async () => {
    const root = tempDir();
    const lqDir = path.join(root, 'LQCLS');
    const outDir = path.join(root, 'RestoreCLS');
    const rows = vectors(5, 2);
    writeEmbeddings(lqDir, { a: rows[0]!, b: rows[1]!, c: rows[2]! });
    writeEmbeddings(lqDir, { d: rows[3]!, e: rows[4]! }, true);
    const progress: number[] = [];
    const result = await refineFolder(lqDir, outDir, model, { batchSize: 2, onProgress: (p) => progress.push(p.done) });
    expect(result).toEqual({ outDir, total: 5, written: 5, skipped: 0 });
    expect(progress).toEqual([0, 2, 4, 5]);
    expect(fs.readdirSync(outDir).sort()).toEqual(['a.npy', 'b.npy', 'c.npy', 'd.npy', 'e.npy']); // no temporary files left
    const expected = refine(model, rows);
    const names = ['a', 'b', 'c', 'd', 'e'];
    for (const [i, name] of names.entries()) {
      const t = await readNpy(path.join(outDir, `${name}.npy`));
      expect(t.shape).toEqual(i < 3 ? [D] : [1, D]);
      expect(relError(t.data, expected[i]!)).toBeLessThan(1e-6);
    }
    // Resuming keeps what is there.
    fs.rmSync(path.join(outDir, 'c.npy'));
    expect(await refineFolder(lqDir, outDir, model, { skipExisting: true })).toMatchObject({ written: 1, skipped: 4 });
  });

  test("reads the original's .pt embeddings and writes .npy; an existing .pt output is kept, never duplicated", async () => {
    const root = tempDir();
    const lqDir = path.join(root, 'LQCLS');
    const outDir = path.join(root, 'RestoreCLS');
    fs.mkdirSync(lqDir, { recursive: true });
    fs.copyFileSync(path.join(SRM_FIXTURE, 'embedding_view.pt'), path.join(lqDir, 'a.pt'));
    fs.copyFileSync(path.join(SRM_FIXTURE, 'embedding_offset_view.pt'), path.join(lqDir, 'b.pt'));
    const inputs = await Promise.all(['embedding_view.pt', 'embedding_offset_view.pt'].map((f) => readEmbeddingTensor(path.join(SRM_FIXTURE, f))));
    expect(await refineFolder(lqDir, outDir, model)).toMatchObject({ total: 2, written: 2 });
    expect(fs.readdirSync(outDir).sort()).toEqual(['a.npy', 'b.npy']);
    const expected = refine(model, inputs.map((t) => t.data));
    for (const [i, name] of ['a', 'b'].entries()) {
      const t = await readNpy(path.join(outDir, `${name}.npy`));
      expect(t.shape).toEqual([1, D]);
      expect(relError(t.data, expected[i]!)).toBeLessThan(1e-6);
    }
    const originalOut = path.join(root, 'OriginalRestoreCLS');
    fs.mkdirSync(originalOut);
    fs.copyFileSync(path.join(SRM_FIXTURE, 'embedding_view.pt'), path.join(originalOut, 'a.pt'));
    await expect(refineFolder(lqDir, originalOut, model)).rejects.toThrow(`${path.join(originalOut, 'a.pt')} already exists`);
    expect(await refineFolder(lqDir, originalOut, model, { skipExisting: true })).toMatchObject({ written: 1, skipped: 1 });
    expect(fs.readdirSync(originalOut).sort()).toEqual(['a.pt', 'b.npy']);
  });

  test('bad inputs are named: wrong width, non-float file, empty folder, abort', async () => {
    const root = tempDir();
    const lqDir = path.join(root, 'LQCLS');
    writeEmbeddings(lqDir, { a: new Float32Array(D), b: new Float32Array(D - 1) });
    await expect(refineFolder(lqDir, path.join(root, 'out'), model)).rejects.toThrow(`${path.join(lqDir, 'b.npy')}: embedding is ${D - 1} wide, expected ${D}`);
    fs.writeFileSync(path.join(lqDir, 'b.npy'), intNpy([1, 2]));
    await expect(refineFolder(lqDir, path.join(root, 'out'), model)).rejects.toThrow(/b\.npy: dtype '<i4' is not a float type/);
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    await expect(refineFolder(empty, path.join(root, 'out'), model)).rejects.toThrow(`no .npy or .pt embeddings in ${empty}`);
    await expect(refineFolder(lqDir, lqDir, model)).rejects.toThrow(/outDir must differ/);
    const controller = new AbortController();
    controller.abort(new Error('stop now'));
    writeEmbeddings(lqDir, { b: new Float32Array(D) });
    await expect(refineFolder(lqDir, path.join(root, 'out'), model, { signal: controller.signal })).rejects.toThrow('stop now');
  });
});

describe('SRM weights files', () => {
  test('saveSrmWeights / loadSrm round-trip with the config in the metadata', async () => {
    const file = path.join(tempDir(), 'srm.safetensors');
    await saveSrmWeights(file, model);
    const loaded = await loadSrm(file);
    expect(loaded.config).toEqual(model.config);
    const a = model.stateDict();
    const b = loaded.stateDict();
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(b[k]!.data).toEqual(a[k]!.data);
    loaded.dispose();
  });

  test('a state dict converted from the original .pth (no metadata) loads with its shape inferred', async () => {
    const meta = fixtureMeta();
    const loaded = await loadSrm(path.join(SRM_FIXTURE, 'weights.safetensors'), { numHeads: meta.constructor.num_heads });
    expect(loaded.config).toEqual({ inputDim: 16, hiddenDim: 32, numLayers: 2, numHeads: 4 });
    const io = await fixture('srm/io.safetensors');
    const out = refine(loaded, { shape: io.x!.shape, data: io.x!.data });
    expect(relError(out.data, io.out!.data)).toBeLessThan(meta.tolerances['io.safetensors:out'].value);
    loaded.dispose();
    await expect(loadSrm(path.join(SRM_FIXTURE, 'nope.safetensors'))).rejects.toThrow(/cannot read SRM weights \(ENOENT\)/);
  });

  test.each(['srm_best_model.pth', 'srm_epoch_checkpoint.pth', 'srm_ddp_module_prefix.pth'])(
    "the original's %s loads directly (no conversion), with the reference weights bit for bit",
    async (file) => {
      const meta = fixtureMeta();
      const reference = await fixture('srm/weights.safetensors');
      const loaded = await loadSrm(path.join(SRM_FIXTURE, file), { numHeads: meta.constructor.num_heads });
      expect(loaded.config).toEqual({ inputDim: 16, hiddenDim: 32, numLayers: 2, numHeads: 4 });
      const sd = loaded.stateDict();
      for (const [k, t] of Object.entries(reference)) expect([k, Buffer.from(sd[k]!.data.buffer).equals(Buffer.from(t.data.slice().buffer))]).toEqual([k, true]);
      const io = await fixture('srm/io.safetensors');
      const out = refine(loaded, { shape: io.x!.shape, data: io.x!.data });
      expect(relError(out.data, io.out!.data)).toBeLessThan(meta.tolerances['io.safetensors:out'].value);
      loaded.dispose();
    },
  );

  test('a .pth that is not an SRM state dict is refused, naming the file', async () => {
    const file = path.join(tempDir(), 'embedding.pth');
    fs.copyFileSync(path.join(SRM_FIXTURE, 'embedding_view.pt'), file);
    await expect(loadSrm(file)).rejects.toThrow(`${file}: not a state dict: the file holds a Tensor`);
  });
});
