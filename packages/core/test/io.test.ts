import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  parseNpy, parseSafetensors, readNpy, readSafetensors, serializeNpy, serializeSafetensors, writeFileAtomic, writeNpy,
  writeSafetensors, NpyError, SafetensorsError, parseTemporaryName, removeStaleTemporaries,
} from '../src';
import { FIXTURES } from './helpers';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-io-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('safetensors', () => {
  test('reads a file written by PyTorch (the SRM reference weights)', async () => {
    const { tensors } = await readSafetensors(path.join(FIXTURES, 'srm/weights.safetensors'));
    const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'srm/meta.json'), 'utf8'));
    for (const [name, shape] of meta.params) expect(tensors[name]!.shape).toEqual(shape);
  });

  test('round-trips float32 tensors and metadata, data 8-byte aligned', () => {
    const t = { a: { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-30, NaN, Infinity]) }, b: { shape: [], data: Float32Array.from([7]) } };
    const bytes = serializeSafetensors(t, { note: 'x' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const back = parseSafetensors(bytes);
    expect(back.metadata).toEqual({ note: 'x' });
    expect(back.tensors.a!.shape).toEqual([2, 3]);
    expect(Array.from(back.tensors.a!.data)).toEqual(Array.from(t.a.data));
    expect(back.tensors.b!.shape).toEqual([]);
  });

  test('reads F16, BF16, F64 and integer data', () => {
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
      d: { dtype: 'F64', shape: [1], data_offsets: [6, 14] },
      i: { dtype: 'I64', shape: [1], data_offsets: [14, 22] },
    });
    const hb = new TextEncoder().encode(header);
    const buf = new Uint8Array(8 + hb.length + 22);
    const v = new DataView(buf.buffer);
    v.setBigUint64(0, BigInt(hb.length), true);
    buf.set(hb, 8);
    const o = 8 + hb.length;
    v.setUint16(o, 0x3c00, true); // 1.0
    v.setUint16(o + 2, 0xc000, true); // -2.0
    v.setUint16(o + 4, 0x3fc0, true); // bf16 1.5
    v.setFloat64(o + 6, 0.1, true);
    v.setBigInt64(o + 14, -5n, true);
    const { tensors } = parseSafetensors(buf);
    expect(Array.from(tensors.h!.data)).toEqual([1, -2]);
    expect(tensors.b!.data[0]).toBe(1.5);
    expect(tensors.d!.data[0]).toBeCloseTo(0.1, 7);
    expect(tensors.i!.data[0]).toBe(-5);
  });

  test('a truncated file names the file and says what is wrong', async () => {
    const file = path.join(dir, 'w.safetensors');
    await writeSafetensors(file, { w: { shape: [4, 4], data: new Float32Array(16) } });
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    await expect(readSafetensors(file)).rejects.toThrow(new RegExp(`${file}: tensor "w": data_offsets \\[0, 64\\] fall outside`));
    fs.writeFileSync(file, bytes.subarray(0, 20));
    await expect(readSafetensors(file)).rejects.toThrow(/header claims \d+ bytes but only 12 follow/);
    fs.writeFileSync(file, bytes.subarray(0, 3));
    await expect(readSafetensors(file)).rejects.toThrow(SafetensorsError);
  });

  test('a header entry whose size disagrees with its shape is rejected', () => {
    const hb = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }));
    const buf = new Uint8Array(8 + hb.length + 8);
    new DataView(buf.buffer).setBigUint64(0, BigInt(hb.length), true);
    buf.set(hb, 8);
    expect(() => parseSafetensors(buf, 'x.safetensors')).toThrow(/x.safetensors: tensor "w": shape \[3\] of F32 needs 12 bytes, data_offsets span 8/);
  });

  test('a missing file is a clear error', async () => {
    await expect(readSafetensors(path.join(dir, 'nope.safetensors'))).rejects.toThrow(/nope.safetensors: cannot read \(ENOENT\)/);
  });
});

describe('npy', () => {
  test('round-trips float32 with a 64-byte aligned header', async () => {
    const file = path.join(dir, 'e.npy');
    const t = { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.25]) };
    await writeNpy(file, t);
    const bytes = fs.readFileSync(file);
    expect((10 + bytes.readUInt16LE(8)) % 64).toBe(0);
    expect(bytes.subarray(10, 10 + bytes.readUInt16LE(8)).toString('latin1')).toContain("'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    const back = await readNpy(file);
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(t.data));
  });

  test('1-D shapes use the Python tuple form', () => {
    const bytes = serializeNpy({ shape: [4], data: new Float32Array(4) });
    expect(Buffer.from(bytes).toString('latin1')).toContain("'shape': (4,)");
    expect(parseNpy(bytes).shape).toEqual([4]);
  });

  const npyWith = (descr: string, shape: string, payload: Uint8Array) => {
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
    header += ' '.repeat((64 - ((11 + header.length) % 64)) % 64) + '\n';
    const out = new Uint8Array(10 + header.length + payload.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(out.buffer).setUint16(8, header.length, true);
    for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
    out.set(payload, 10 + header.length);
    return out;
  };

  test('float64 and big-endian float32 are converted', () => {
    const f8 = new Uint8Array(16);
    new DataView(f8.buffer).setFloat64(0, 0.5, true);
    new DataView(f8.buffer).setFloat64(8, -3, true);
    expect(Array.from(parseNpy(npyWith('<f8', '(2,)', f8)).data)).toEqual([0.5, -3]);
    const be = new Uint8Array(4);
    new DataView(be.buffer).setFloat32(0, 2.5, false);
    expect(parseNpy(npyWith('>f4', '(1,)', be)).data[0]).toBe(2.5);
  });

  test('a non-float dtype names the file and the dtype expected', async () => {
    const file = path.join(dir, 'labels.npy');
    fs.writeFileSync(file, npyWith('<i8', '(2,)', new Uint8Array(16)));
    await expect(readNpy(file)).rejects.toThrow(new RegExp(`${file}: dtype '<i8' is not a float type; expected float32 \\('<f4'\\)`));
    await expect(readNpy(file)).rejects.toThrow(NpyError);
  });

  test('truncated data and non-npy files are rejected', () => {
    expect(() => parseNpy(npyWith('<f4', '(8,)', new Uint8Array(16)), 'short.npy')).toThrow(/short.npy: shape \(8\) of '<f4' needs 32 data bytes, file has 16/);
    expect(() => parseNpy(new TextEncoder().encode('hello world, not numpy'), 'text.npy')).toThrow(/text.npy: not a .npy file/);
  });

  test('a negative or fractional dimension names the file (was: "Invalid typed array length: -16")', async () => {
    const file = path.join(dir, 'neg.npy');
    fs.writeFileSync(file, npyWith('<f4', '(-16,)', new Uint8Array(64)));
    await expect(readNpy(file)).rejects.toThrow(new RegExp(`${file}: shape \\(-16,\\) has the dimension -16; dimensions are non-negative integers`));
    expect(() => parseNpy(npyWith('<f4', '(2, 1.5)', new Uint8Array(64)), 'frac.npy')).toThrow(/frac.npy: .*dimension 1.5/);
  });
});

describe('writeFileAtomic', () => {
  test('replaces the file whole and leaves no temporary files behind', async () => {
    const file = path.join(dir, 'sub', 'out.bin');
    await writeFileAtomic(file, 'first');
    await writeFileAtomic(file, 'second version');
    expect(fs.readFileSync(file, 'utf8')).toBe('second version');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['out.bin']);
  });

  test('a failed write keeps the previous content', async () => {
    const file = path.join(dir, 'keep.txt');
    await writeFileAtomic(file, 'good');
    const bad = { [Symbol.iterator]: () => { throw new Error('boom'); } } as unknown as Uint8Array;
    await expect(writeFileAtomic(file, bad)).rejects.toThrow();
    expect(fs.readFileSync(file, 'utf8')).toBe('good');
    expect(fs.readdirSync(dir)).toEqual(['keep.txt']);
  });
});

describe('removeStaleTemporaries', () => {
  const deadPid = () => spawnSync('true').pid!;

  test('removes temporaries whose writer is gone, keeps a live writer\'s and every other file', async () => {
    const sleeper = spawn('sleep', ['30']);
    try {
      const now = Date.now();
      const stale = `.step-00000004.ckpt.${deadPid()}.${now}.k2j4.tmp`;
      const staleOld = `.options.yml.${deadPid()}.${now}.tmp`;
      const live = `.step-00000006.ckpt.${sleeper.pid}.${now}.x9.tmp`;
      fs.mkdirSync(path.join(dir, 'sub'));
      for (const f of [stale, staleOld, live, 'step-00000004.ckpt', '.hidden', 'notes.tmp', path.join('sub', stale)]) fs.writeFileSync(path.join(dir, f), 'x');
      expect(parseTemporaryName(stale)).toEqual({ target: 'step-00000004.ckpt', pid: expect.any(Number), startedMs: now });

      const removed = await removeStaleTemporaries(dir);
      expect(removed.map((f) => path.basename(f)).sort()).toEqual([staleOld, stale].sort());
      expect(fs.readdirSync(dir).sort()).toEqual(['.hidden', live, 'notes.tmp', 'step-00000004.ckpt', 'sub'].sort());
      expect(await removeStaleTemporaries(dir, { recursive: true })).toEqual([path.join(dir, 'sub', stale)]);
    } finally {
      sleeper.kill();
    }
  });

  test('a live pid that started after the write began is a reused number, not the writer', async () => {
    const sleeper = spawn('sleep', ['30']);
    try {
      await new Promise((r) => setTimeout(r, 50));
      const reused = `.w.bin.${sleeper.pid}.${Date.now() - 60_000}.ab.tmp`;
      fs.writeFileSync(path.join(dir, reused), 'x');
      expect((await removeStaleTemporaries(dir)).map((f) => path.basename(f))).toEqual(process.platform === 'linux' ? [reused] : []);
    } finally {
      sleeper.kill();
    }
  });

  test('accept limits removal to the targets named', async () => {
    const a = `.a.ckpt.${deadPid()}.${Date.now()}.q.tmp`;
    const b = `.b.png.${deadPid()}.${Date.now()}.q.tmp`;
    for (const f of [a, b]) fs.writeFileSync(path.join(dir, f), 'x');
    expect((await removeStaleTemporaries(dir, { accept: (t) => t.endsWith('.ckpt') })).map((f) => path.basename(f))).toEqual([a]);
  });
});
