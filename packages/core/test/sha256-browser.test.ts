import { createHash } from 'node:crypto';
import { createSha256 as browserSha256 } from '../src/hash/sha256.browser';
import { createSha256 } from '../src/hash/sha256';

// The browser build swaps hash/sha256.ts for hash/sha256.browser.ts (plain JavaScript): both must
// give Node's digest, for any split of the input into chunks (fingerprints hash tensor by tensor).
describe('sha256 (browser variant)', () => {
  const cases: Array<[string, Uint8Array[]]> = [
    ['empty', []],
    ['abc', [new TextEncoder().encode('abc')]],
    ['55 bytes (one block with padding)', [new Uint8Array(55).fill(7)]],
    ['56 bytes (padding spills into a second block)', [new Uint8Array(56).fill(9)]],
    ['64 bytes', [new Uint8Array(64).map((_, i) => i)]],
    ['odd chunks across blocks', [new Uint8Array(3).fill(1), new Uint8Array(61).fill(2), new Uint8Array(130).map((_, i) => i * 7), new Uint8Array(1)]],
    ['1 MiB of pseudo-random bytes', [new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 24)]],
  ];
  it.each(cases)('%s', (_, chunks) => {
    const node = createHash('sha256');
    const plain = browserSha256();
    for (const c of chunks) {
      node.update(c);
      plain.update(c);
    }
    const want = node.digest('hex');
    expect(plain.digestHex()).toBe(want);
    const wrapped = createSha256();
    for (const c of chunks) wrapped.update(c);
    expect(wrapped.digestHex()).toBe(want);
  });

  it('hashes strings as UTF-8 and refuses updates after the digest', () => {
    const h = browserSha256().update('srdiff-weights-v1\n{"é":1}\n');
    expect(h.digestHex()).toBe(createHash('sha256').update('srdiff-weights-v1\n{"é":1}\n').digest('hex'));
    expect(() => h.update('x')).toThrow(/after digestHex/);
  });
});
