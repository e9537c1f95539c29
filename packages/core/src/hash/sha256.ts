import { createHash } from 'node:crypto';

/** An incremental SHA-256 (Node's OpenSSL here; `sha256.browser.ts` is the same in plain JavaScript for pages). */
export interface Sha256 {
  update(data: Uint8Array | string): Sha256;
  /** The digest as 64 lowercase hex digits; the hash cannot be updated afterwards. */
  digestHex(): string;
}

export function createSha256(): Sha256 {
  const hash = createHash('sha256');
  const api: Sha256 = {
    update(data) {
      hash.update(data);
      return api;
    },
    digestHex: () => hash.digest('hex'),
  };
  return api;
}
