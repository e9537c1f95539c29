import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PyTuple, readSafetensors, readTorchFile, TorchFileError, TorchTensor, type PyValue } from '../src';
import { ZipArchive } from '../src/io/torch/zip-archive';
import { bytesSource, openFileSource } from '../src/io/torch/byte-source';
import { crc32, crc32Js } from '../src/io/torch/crc32';
import { loadZipTorchFile } from '../src/io/torch/zip-format';
import { FIXTURES } from './helpers';

/**
 * The .pth reader against PyTorch itself: the shared `pth` reference set (files written by
 * torch.save 1.13, with their structure and every tensor's float32 values) and the extra edge and
 * hostile cases of tools/pth-fixtures/make_pth_fixtures.py.
 */

const PTH = path.join(FIXTURES, 'pth');
const EXTRA = path.join(FIXTURES, 'pth-extra');
type Structure = Record<string, unknown>;
const reference = JSON.parse(fs.readFileSync(path.join(PTH, 'expected.json'), 'utf8')) as { files: Record<string, { structure: Structure; sha256: string }> };
const extra = JSON.parse(fs.readFileSync(path.join(EXTRA, 'expected.json'), 'utf8')) as {
  valid: Record<string, { structure: Structure; values: Record<string, (number | string)[]> }>;
  hostile: Record<string, { error_contains: string[]; what: string }>;
};

/** Our value in the reference's structure-tree format. */
function structureOf(v: PyValue): Structure {
  if (v instanceof TorchTensor) {
    const { layout } = v;
    return { tensor: true, dtype: v.dtype, shape: [...v.shape], stride: layout.stride, storage_offset: layout.storageOffset, storage_numel: layout.storage.numel };
  }
  if (v instanceof Map) return { dict: [...v].map(([k, x]) => [k instanceof PyTuple ? { tuple: k.items } : k, structureOf(x)]) };
  if (Array.isArray(v)) return { list: v.map(structureOf) };
  if (v instanceof PyTuple) return { tuple: v.items.map(structureOf) };
  if (typeof v === 'bigint') return { bigint: String(v) };
  return { value: v };
}

/** Every tensor under `<file>/<key path>`, as the reference names them. */
function tensorsOf(v: PyValue, prefix: string, out = new Map<string, TorchTensor>()): Map<string, TorchTensor> {
  if (v instanceof TorchTensor) out.set(prefix, v);
  else if (v instanceof Map) for (const [k, x] of v) tensorsOf(x, `${prefix}/${String(k)}`, out);
  else if (Array.isArray(v)) v.forEach((x, i) => tensorsOf(x, `${prefix}/${i}`, out));
  else if (v instanceof PyTuple) v.items.forEach((x, i) => tensorsOf(x, `${prefix}/${i}`, out));
  return out;
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the read to fail');
}

describe('readTorchFile on the pth reference set (torch.save 1.13)', () => {
  const files = Object.keys(reference.files).filter((f) => f !== 'unet_lastest_G.pth'); // tested by @srdiff/unet against its weights
  let expected: Record<string, { data: Float32Array; shape: number[] }>;
  beforeAll(async () => {
    expected = (await readSafetensors(path.join(PTH, 'expected.safetensors'))).tensors;
  });

  test('the fixtures are the reference files (SHA-256)', () => {
    for (const f of files) expect([f, crypto.createHash('sha256').update(fs.readFileSync(path.join(PTH, f))).digest('hex')]).toEqual([f, reference.files[f]!.sha256]);
  });

  test.each(files)('%s: structure as PyTorch loads it, every tensor bit-exact', async (file) => {
    const value = await readTorchFile(path.join(PTH, file));
    expect(structureOf(value)).toEqual(reference.files[file]!.structure);
    const tensors = tensorsOf(value, file);
    const names = [...tensors.keys()].map((k) => (k === `${file}` ? file : k));
    expect(names.length).toBeGreaterThan(0);
    for (const [name, t] of tensors) {
      const ref = expected[name === file ? file : name];
      expect(ref).toBeDefined();
      expect([name, ...t.shape]).toEqual([name, ...ref!.shape]);
      expect(t.toFloat32().length).toBe(ref!.data.length);
      // bit patterns, so -0 and NaN payloads count too
      expect(Buffer.compare(Buffer.from(bits(t.toFloat32()).buffer.slice(0)), Buffer.from(bits(ref!.data.slice()).buffer))).toBe(0);
    }
  });

  test('an embedding view ([1, 16] of a [1, 30, 16] hidden state) reads its 16 values only, offset 48 included', async () => {
    const view = (await readTorchFile(path.join(PTH, 'embedding_offset_view.pt'))) as TorchTensor;
    expect(view.shape).toEqual([1, 16]);
    expect(view.layout.storageOffset).toBe(48);
    expect(view.data).toBeInstanceOf(Float32Array);
    expect(view.data.length).toBe(16);
  });

  test('reads from bytes as from a path, naming the given source in errors', async () => {
    const file = fs.readFileSync(path.join(PTH, 'srm_legacy_format.pth'));
    const bytes = Buffer.concat([Buffer.alloc(3), file]).subarray(3); // a Buffer view at an odd offset
    const a = await readTorchFile(bytes, { source: 'mem.pth' });
    const b = await readTorchFile(path.join(PTH, 'srm_legacy_format.pth'));
    expect(structureOf(a)).toEqual(reference.files['srm_legacy_format.pth']!.structure);
    const fromPath = tensorsOf(b, 'f');
    for (const [name, t] of tensorsOf(a, 'f')) expect([name, Array.from(t.toFloat32())]).toEqual([name, Array.from(fromPath.get(name)!.toFloat32())]);
    const err = await rejection(readTorchFile(bytes.subarray(0, 5000), { source: 'mem.pth' }));
    expect(err).toBeInstanceOf(TorchFileError);
    expect(err.message).toMatch(/^mem\.pth: /);
  });
});

describe('readTorchFile edge cases (tools/pth-fixtures)', () => {
  test.each(Object.keys(extra.valid))('%s: structure and values as PyTorch loads them', async (file) => {
    const spec = extra.valid[file]!;
    const value = await readTorchFile(path.join(EXTRA, file));
    expect(structureOf(value)).toEqual(spec.structure);
    const tensors = tensorsOf(value, file);
    expect([...tensors.keys()]).toEqual(Object.keys(spec.values));
    for (const [name, t] of tensors) {
      const want = spec.values[name]!;
      const got = Array.from(t.data as ArrayLike<number | bigint>);
      expect([name, got.length]).toEqual([name, want.length]);
      got.forEach((g, i) => {
        const w = want[i]!;
        if (typeof g === 'bigint' || t.dtype.startsWith('int') || t.dtype === 'uint8') expect([name, i, String(g)]).toEqual([name, i, String(w)]);
        else if (t.dtype === 'bool') expect([name, i, g]).toEqual([name, i, w === 'True' ? 1 : 0]);
        else {
          const n = w === 'nan' ? NaN : w === 'inf' ? Infinity : w === '-inf' ? -Infinity : (w as number);
          const ref = t.dtype === 'float64' ? n : Math.fround(n);
          expect([name, i, Object.is(g, ref) || (Number.isNaN(g) && Number.isNaN(ref))]).toEqual([name, i, true]);
        }
      });
    }
  });

  test('dtypes keep their arrays: float64 → Float64Array, int64 → BigInt64Array, half/bfloat16 → Float32Array, bool → Uint8Array', async () => {
    const d = (await readTorchFile(path.join(EXTRA, 'dtypes.pth'))) as Map<string, TorchTensor>;
    expect(d.get('f64')!.data).toBeInstanceOf(Float64Array);
    expect(d.get('i64')!.data).toBeInstanceOf(BigInt64Array);
    expect(d.get('i32')!.data).toBeInstanceOf(Int32Array);
    expect(d.get('f16')!.data).toBeInstanceOf(Float32Array);
    expect(d.get('bf16')!.data).toBeInstanceOf(Float32Array);
    expect(d.get('bool')!.data).toBeInstanceOf(Uint8Array);
    expect(d.get('scalar')!.shape).toEqual([]);
    expect(Array.from(d.get('i64')!.toFloat32())).toEqual([-(2 ** 62), 2 ** 40, -1, 0]); // as .float() rounds
  });

  test('deflated.pth really is deflated (the inflate path is exercised)', async () => {
    const zip = await ZipArchive.open(bytesSource(fs.readFileSync(path.join(EXTRA, 'deflated.pth')), 'deflated.pth'));
    expect([...zip.entries.values()].filter((e) => e.name.includes('/data/')).map((e) => e.method)).toEqual([8, 8]);
  });

  test('tensors sharing one storage get their own arrays', async () => {
    const d = (await readTorchFile(path.join(EXTRA, 'views.pth'))) as Map<string, TorchTensor>;
    const whole = d.get('whole')!.data as Float32Array;
    const rows = d.get('row_offset')!.data as Float32Array;
    expect(rows.buffer).not.toBe(whole.buffer);
    rows[0] = 1234;
    expect(whole[16]).not.toBe(1234);
  });
});

describe('reading large files piece by piece (as files over 64 MiB are)', () => {
  test('the same values as a whole-file read; a truncated file on disk is reported', async () => {
    const file = path.join(PTH, 'srm_epoch_checkpoint.pth');
    const source = await openFileSource(file, file, 0);
    let pieces: PyValue;
    try {
      pieces = await loadZipTorchFile(source);
    } finally {
      await source.close();
    }
    const whole = await readTorchFile(file);
    expect(structureOf(pieces)).toEqual(structureOf(whole));
    const a = tensorsOf(pieces, 'f');
    for (const [name, t] of tensorsOf(whole, 'f')) expect([name, Array.from(a.get(name)!.toFloat32())]).toEqual([name, Array.from(t.toFloat32())]);
    const cut = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pth-')), 'cut.pth');
    fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 100_000));
    const s2 = await openFileSource(cut, cut, 0);
    await expect(loadZipTorchFile(s2)).rejects.toThrow(/cut\.pth: zip archive has no end-of-directory record: the file is truncated/);
    await s2.close();
  });

  test('CRC-32: the table implementation agrees with zlib on every length mod 8', () => {
    const data = Uint8Array.from({ length: 1037 }, (_, i) => (i * 131 + 7) & 0xff);
    for (const n of [0, 1, 7, 8, 9, 100, 1037]) expect(crc32Js(data.subarray(0, n))).toBe(crc32(data.subarray(0, n)));
    expect(crc32Js(new TextEncoder().encode('123456789'))).toBe(0xcbf43926); // the standard check value
  });
});

describe('hostile and broken files: a specific error, never a crash or a hang', () => {
  test.each(Object.keys(extra.hostile))('%s', async (file) => {
    const spec = extra.hostile[file]!;
    const t0 = Date.now();
    const err = await rejection(readTorchFile(path.join(EXTRA, file)));
    expect(err).toBeInstanceOf(TorchFileError);
    expect(err.message.startsWith(path.join(EXTRA, file))).toBe(true);
    for (const s of spec.error_contains) expect(err.message).toContain(s);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test('the os.system file runs nothing: the error comes from the GLOBAL opcode, before any REDUCE', async () => {
    const err = await rejection(readTorchFile(path.join(EXTRA, 'os_system.pth')));
    expect(err.message).toMatch(/"os\.system".*data\.pkl byte 2\)/);
  });

  test('a zip cut anywhere is reported as truncated or corrupt', async () => {
    const bytes = fs.readFileSync(path.join(PTH, 'srm_best_model.pth'));
    for (const cut of [10, 100, 2000, bytes.length / 2, bytes.length - 30, bytes.length - 1].map(Math.floor)) {
      const err = await rejection(readTorchFile(bytes.subarray(0, cut), { source: `cut@${cut}` }));
      expect(err).toBeInstanceOf(TorchFileError);
      expect(err.message).toMatch(/truncated|corrupt/);
    }
  });

  test('a flipped byte in a storage fails its CRC-32', async () => {
    const bytes = Buffer.from(fs.readFileSync(path.join(PTH, 'srm_best_model.pth')));
    bytes[4000] ^= 0x40; // inside srm_best_model/data/0
    const err = await rejection(readTorchFile(bytes, { source: 'flipped.pth' }));
    expect(err.message).toContain('CRC-32');
  });

  test('the legacy format cut at every 500th byte: always a TorchFileError', async () => {
    const bytes = fs.readFileSync(path.join(PTH, 'srm_legacy_format.pth'));
    for (let cut = 1; cut < bytes.length; cut += 500) {
      const err = await rejection(readTorchFile(bytes.subarray(0, cut), { source: 'legacy' }));
      expect([cut, err.name]).toEqual([cut, 'TorchFileError']);
    }
  });

  test('random byte corruption (seeded): each file loads or fails with a TorchFileError', async () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const file of ['srm_legacy_format.pth', 'embedding_view.pt']) {
      const original = fs.readFileSync(path.join(PTH, file));
      for (let trial = 0; trial < 150; trial++) {
        const bytes = Buffer.from(original);
        for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
        try {
          await readTorchFile(bytes, { source: file });
        } catch (err) {
          expect([file, trial, (err as Error).name]).toEqual([file, trial, 'TorchFileError']);
        }
      }
    }
  });

  test('not a torch file: empty, a plain pickle, a safetensors file', async () => {
    expect((await rejection(readTorchFile(new Uint8Array(0), { source: 'e' }))).message).toContain('empty');
    const plain = Uint8Array.from([0x80, 0x02, 0x4b, 0x07, 0x2e]); // pickle.dumps(7)
    expect((await rejection(readTorchFile(plain, { source: 'p' }))).message).toContain('not a torch.save file');
    const st = fs.readFileSync(path.join(PTH, 'expected.safetensors'));
    expect((await rejection(readTorchFile(st, { source: 's' }))).message).toContain('not a torch.save file');
  });
});
