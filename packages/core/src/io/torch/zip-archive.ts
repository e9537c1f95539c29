import zlib from 'node:zlib';
import type { ByteSource } from './byte-source';
import { crc32 } from './crc32';
import { TorchFileError } from './torch-file-error';

/**
 * A minimal zip reader for `torch.save` archives: the central directory (zip64 too, which PyTorch
 * writes for files over 4 GiB), stored entries (what PyTorch's writer emits, 64-byte aligned) and
 * deflated ones (an archive re-zipped by another tool), each checked against its CRC-32. Node's
 * built-in zlib inflates; nothing else is needed, so no dependency is added for a format this small.
 */

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;

export const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

export function looksLikeZip(head: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => head[i] === b);
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function u64(v: DataView, at: number, source: string, what: string): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new TorchFileError(source, `zip ${what} ${n} is not a usable size (corrupt archive)`);
  return Number(n);
}

export class ZipArchive {
  private constructor(
    private readonly source: ByteSource,
    readonly entries: Map<string, ZipEntry>,
  ) {}

  static async open(source: ByteSource): Promise<ZipArchive> {
    const { cdOffset, cdSize, count } = await readEndOfDirectory(source);
    const cd = await source.read(cdOffset, cdSize, 'the zip central directory');
    const v = view(cd);
    const entries = new Map<string, ZipEntry>();
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 46 > cd.length || v.getUint32(at, true) !== CENTRAL_SIG) {
        throw new TorchFileError(source.name, `zip central directory entry ${i} of ${count} is malformed (corrupt archive)`);
      }
      const flags = v.getUint16(at + 8, true);
      const method = v.getUint16(at + 10, true);
      const crc = v.getUint32(at + 16, true);
      let compressedSize = v.getUint32(at + 20, true);
      let size = v.getUint32(at + 24, true);
      const nameLen = v.getUint16(at + 28, true);
      const extraLen = v.getUint16(at + 30, true);
      const commentLen = v.getUint16(at + 32, true);
      let localHeaderOffset = v.getUint32(at + 42, true);
      if (at + 46 + nameLen + extraLen + commentLen > cd.length) throw new TorchFileError(source.name, `zip central directory entry ${i} runs past the directory (corrupt archive)`);
      const name = new TextDecoder().decode(cd.subarray(at + 46, at + 46 + nameLen));
      // zip64: the fields that overflowed 32 bits come, in this order, in extra field 0x0001.
      const extra = view(cd.subarray(at + 46 + nameLen, at + 46 + nameLen + extraLen));
      for (let e = 0; e + 4 <= extra.byteLength; ) {
        const id = extra.getUint16(e, true);
        const len = extra.getUint16(e + 2, true);
        if (id === 0x0001) {
          let p = e + 4;
          const next = (what: string) => {
            if (p + 8 > e + 4 + len) throw new TorchFileError(source.name, `zip64 field of "${name}" lacks its ${what} (corrupt archive)`);
            const n = u64(extra, p, source.name, what);
            p += 8;
            return n;
          };
          if (size === U32_MAX) size = next('size');
          if (compressedSize === U32_MAX) compressedSize = next('compressed size');
          if (localHeaderOffset === U32_MAX) localHeaderOffset = next('header offset');
        }
        e += 4 + len;
      }
      if (flags & 1) throw new TorchFileError(source.name, `zip entry "${name}" is encrypted`);
      entries.set(name, { name, method, compressedSize, size, crc, localHeaderOffset });
      at += 46 + nameLen + extraLen + commentLen;
    }
    return new ZipArchive(source, entries);
  }

  /** The entry's bytes, inflated if needed and checked against its CRC-32. */
  async read(entry: ZipEntry): Promise<Uint8Array> {
    const name = this.source.name;
    const local = await this.source.read(entry.localHeaderOffset, 30, `the local header of zip entry "${entry.name}"`);
    const lv = view(local);
    if (lv.getUint32(0, true) !== LOCAL_SIG) throw new TorchFileError(name, `zip entry "${entry.name}" has no local header at byte ${entry.localHeaderOffset} (corrupt archive)`);
    // Sizes come from the central directory: PyTorch pads with a local extra field of its own length.
    const dataOffset = entry.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    const raw = await this.source.read(dataOffset, entry.compressedSize, `zip entry "${entry.name}" (${entry.compressedSize} bytes)`);
    let data: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) throw new TorchFileError(name, `stored zip entry "${entry.name}" declares ${entry.size} bytes but holds ${entry.compressedSize} (corrupt archive)`);
      data = raw;
    } else if (entry.method === 8) {
      try {
        data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (err) {
        throw new TorchFileError(name, `zip entry "${entry.name}" does not inflate to its declared ${entry.size} bytes (${(err as Error).message})`);
      }
      if (data.length !== entry.size) throw new TorchFileError(name, `zip entry "${entry.name}" inflates to ${data.length} bytes, not its declared ${entry.size} (corrupt archive)`);
    } else {
      throw new TorchFileError(name, `zip entry "${entry.name}" uses compression method ${entry.method}; only stored (0) and deflate (8) are read`);
    }
    if (crc32(data) !== entry.crc) throw new TorchFileError(name, `zip entry "${entry.name}" fails its CRC-32 check (corrupt or truncated file)`);
    return data;
  }
}

async function readEndOfDirectory(source: ByteSource): Promise<{ cdOffset: number; cdSize: number; count: number }> {
  // The end record is 22 bytes plus a comment of up to 65535: search the tail backwards for it.
  const tailLen = Math.min(source.size, 22 + 0xffff);
  const tail = await source.read(source.size - tailLen, tailLen, 'the end of the zip archive');
  const tv = view(tail);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG && i + 22 + tv.getUint16(i + 20, true) <= tailLen) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new TorchFileError(source.name, `zip archive has no end-of-directory record: the file is truncated (an interrupted download or save?) or not a torch.save file`);
  }
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
    const loc = eocd - 20;
    if (loc < 0 || tv.getUint32(loc, true) !== ZIP64_LOCATOR_SIG) throw new TorchFileError(source.name, 'zip64 archive without its locator record (corrupt archive)');
    const recordOffset = u64(tv, loc + 8, source.name, 'zip64 record offset');
    const record = view(await source.read(recordOffset, 56, 'the zip64 end-of-directory record'));
    if (record.getUint32(0, true) !== ZIP64_EOCD_SIG) throw new TorchFileError(source.name, 'zip64 end-of-directory record is missing (corrupt archive)');
    count = u64(record, 32, source.name, 'entry count');
    cdSize = u64(record, 40, source.name, 'directory size');
    cdOffset = u64(record, 48, source.name, 'directory offset');
  }
  // Each directory entry takes at least 46 bytes: a larger count is a corrupt (or hostile) record.
  if (count * 46 > cdSize) throw new TorchFileError(source.name, `zip directory claims ${count} entries in ${cdSize} bytes (corrupt archive)`);
  if (cdOffset + cdSize > source.size) {
    throw new TorchFileError(source.name, `zip directory lies at bytes [${cdOffset}, ${cdOffset + cdSize}) but the file has ${source.size} bytes (truncated)`);
  }
  return { cdOffset, cdSize, count };
}
