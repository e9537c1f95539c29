import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  findEmbeddingFile, readEmbeddingTensor, readSafetensors, readStateDictFile, readTorchFile, serializeNpy, stripModulePrefix, torchStateDict,
  writeSafetensors, type TensorDict,
} from '../src';
import { FIXTURES } from './helpers';

const PTH = path.join(FIXTURES, 'pth');
let dir: string;
let expected: TensorDict;
beforeAll(async () => {
  expected = (await readSafetensors(path.join(PTH, 'expected.safetensors'))).tensors;
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-sd-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The reference's tensors of one file, keyed as in the file (`<file>/<prefix>` stripped). */
function referenceDict(file: string, prefix = ''): TensorDict {
  const head = `${file}/${prefix}`;
  return Object.fromEntries(Object.entries(expected).filter(([k]) => k.startsWith(head)).map(([k, t]) => [k.slice(head.length), t]));
}

function expectSame(got: TensorDict, want: TensorDict): void {
  expect(Object.keys(got)).toEqual(Object.keys(want));
  for (const [k, t] of Object.entries(want)) {
    expect([k, got[k]!.shape]).toEqual([k, t.shape]);
    expect(Buffer.from(got[k]!.data.buffer, got[k]!.data.byteOffset, got[k]!.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true);
  }
}

describe('readStateDictFile', () => {
  test('a torch.save state dict (zip) and the legacy format, told by content not name', async () => {
    const zip = await readStateDictFile(path.join(PTH, 'srm_best_model.pth'));
    expect(zip.format).toBe('torch-zip');
    expectSame(zip.tensors, referenceDict('srm_best_model.pth'));
    const renamed = path.join(dir, 'weights.bin');
    fs.copyFileSync(path.join(PTH, 'srm_legacy_format.pth'), renamed);
    const legacy = await readStateDictFile(renamed);
    expect(legacy.format).toBe('torch-legacy');
    expectSame(legacy.tensors, referenceDict('srm_legacy_format.pth'));
  });

  test('an SRM epoch checkpoint gives its model_state_dict', async () => {
    const r = await readStateDictFile(path.join(PTH, 'srm_epoch_checkpoint.pth'));
    expect(r.key).toBe('model_state_dict');
    expectSame(r.tensors, referenceDict('srm_epoch_checkpoint.pth', 'model_state_dict/'));
  });

  test('half and bfloat16 weights come back as their exact float32 values', async () => {
    expectSame((await readStateDictFile(path.join(PTH, 'srm_fp16.pth'))).tensors, referenceDict('srm_fp16.pth'));
    expectSame((await readStateDictFile(path.join(PTH, 'srm_bf16.pth'))).tensors, referenceDict('srm_bf16.pth'));
  });

  test('a DDP state dict loses its module. prefix (and can keep it)', async () => {
    const r = await readStateDictFile(path.join(PTH, 'srm_ddp_module_prefix.pth'));
    expect(r.strippedModulePrefix).toBe(true);
    expect(Object.keys(r.tensors)).toEqual(Object.keys(referenceDict('srm_best_model.pth')));
    const kept = await readStateDictFile(path.join(PTH, 'srm_ddp_module_prefix.pth'), { stripModulePrefix: false });
    expect(Object.keys(kept.tensors).every((k) => k.startsWith('module.'))).toBe(true);
  });

  test('stripModulePrefix strips only when every key has it', () => {
    const t = { shape: [1], data: Float32Array.of(1) };
    expect(stripModulePrefix({ 'module.a': t, 'module.b.c': t })).toEqual({ tensors: { a: t, 'b.c': t }, stripped: true });
    const mixed = { 'module.a': t, b: t };
    expect(stripModulePrefix(mixed)).toEqual({ tensors: mixed, stripped: false });
    expect(stripModulePrefix({})).toEqual({ tensors: {}, stripped: false });
  });

  test('safetensors files, whatever their name', async () => {
    const file = path.join(dir, 'w.pth');
    await writeSafetensors(file, referenceDict('srm_best_model.pth'), { note: 'x' });
    const r = await readStateDictFile(file);
    expect(r.format).toBe('safetensors');
    expect(r.metadata).toEqual({ note: 'x' });
    expectSame(r.tensors, referenceDict('srm_best_model.pth'));
  });

  test('a Hugging Face folder: model.safetensors first, else pytorch_model.bin, else shards listed by an index', async () => {
    fs.copyFileSync(path.join(PTH, 'srm_best_model.pth'), path.join(dir, 'pytorch_model.bin'));
    const bin = await readStateDictFile(dir);
    expect(bin.files).toEqual([path.join(dir, 'pytorch_model.bin')]);
    expectSame(bin.tensors, referenceDict('srm_best_model.pth'));
    const half = referenceDict('srm_fp16.pth');
    await writeSafetensors(path.join(dir, 'model.safetensors'), half);
    expect((await readStateDictFile(dir)).format).toBe('safetensors');

    const sharded = fs.mkdtempSync(path.join(dir, 'sharded-'));
    const all = referenceDict('srm_best_model.pth');
    const names = Object.keys(all);
    const first = Object.fromEntries(names.slice(0, 10).map((k) => [k, all[k]!]));
    const rest = Object.fromEntries(names.slice(10).map((k) => [k, all[k]!]));
    await writeSafetensors(path.join(sharded, 'model-00001-of-00002.safetensors'), first);
    await writeSafetensors(path.join(sharded, 'model-00002-of-00002.safetensors'), rest);
    const weightMap = Object.fromEntries(names.map((k, i) => [k, i < 10 ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
    fs.writeFileSync(path.join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const r = await readStateDictFile(sharded);
    expect(r.files).toHaveLength(2);
    expect(Object.keys(r.tensors).sort()).toEqual([...names].sort());
    fs.writeFileSync(path.join(sharded, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...weightMap, extra: 'model-00001-of-00002.safetensors' } }));
    await expect(readStateDictFile(sharded)).rejects.toThrow(/1 tensors listed in the index are not in their shards \(extra\)/);
  });

  test('errors name the file: missing, empty folder, not weights, not a state dict', async () => {
    await expect(readStateDictFile(path.join(dir, 'nope.pth'))).rejects.toThrow(/nope\.pth: cannot read weights \(ENOENT\)/);
    await expect(readStateDictFile(dir)).rejects.toThrow(/no weights in this folder \(looked for model\.safetensors/);
    fs.writeFileSync(path.join(dir, 'x.txt'), 'hello world, not weights');
    await expect(readStateDictFile(path.join(dir, 'x.txt'))).rejects.toThrow(/x\.txt: not a weights file/);
    await expect(readStateDictFile(path.join(FIXTURES, 'pth-extra', 'nested.pth'))).rejects.toThrow(
      /nested\.pth: not a state dict: its top-level keys are list \(list\), tuple \(tuple\).*"model_state_dict"/,
    );
    await expect(readStateDictFile(path.join(FIXTURES, 'pth-extra', 'os_system.pth'))).rejects.toThrow(/"os\.system"/);
  });

  test('torchStateDict converts integer tensors to float32 and refuses non-string keys', async () => {
    const dtypes = await readTorchFile(path.join(FIXTURES, 'pth-extra', 'dtypes.pth'));
    const { tensors } = torchStateDict(dtypes, 'dtypes.pth');
    expect(Array.from(tensors.u8!.data)).toEqual([0, 255]);
    expect(tensors.scalar!.shape).toEqual([]);
    const intKeyed = new Map([[0, (dtypes as Map<string, never>).get('f32')!]]);
    expect(() => torchStateDict(intKeyed, 'k.pth')).toThrow(/k\.pth: state dict has a int key 0; parameter names are strings/);
  });
});

describe('embedding files (.npy and the original .pt)', () => {
  test('a .pt view tensor reads as its [1, D] values; a .npy alike', async () => {
    const t = await readEmbeddingTensor(path.join(PTH, 'embedding_offset_view.pt'));
    expect(t.shape).toEqual([1, 16]);
    expect(Array.from(t.data)).toEqual(Array.from(expected['embedding_offset_view.pt']!.data));
    fs.writeFileSync(path.join(dir, 'a.npy'), serializeNpy(t));
    expect(await readEmbeddingTensor(path.join(dir, 'a.npy'))).toEqual(t);
  });

  test('a .pt that is not one float tensor is refused, naming the file', async () => {
    await expect(readEmbeddingTensor(path.join(PTH, 'srm_best_model.pth'))).rejects.toThrow(/srm_best_model\.pth: holds a dict, expected one embedding tensor/);
    fs.writeFileSync(path.join(dir, 'x.pt'), 'junk');
    await expect(readEmbeddingTensor(path.join(dir, 'x.pt'))).rejects.toThrow(/x\.pt: not a \.npy file/);
  });

  test('findEmbeddingFile: <stem>.npy or <stem>.pt; both is an error naming both', () => {
    expect(findEmbeddingFile(dir, 'a')).toBeUndefined();
    fs.writeFileSync(path.join(dir, 'a.pt'), '');
    expect(findEmbeddingFile(dir, 'a')).toBe(path.join(dir, 'a.pt'));
    fs.writeFileSync(path.join(dir, 'a.npy'), '');
    expect(() => findEmbeddingFile(dir, 'a')).toThrow(/a\.npy and .*a\.pt: two embeddings for "a"; keep one/);
  });
});
