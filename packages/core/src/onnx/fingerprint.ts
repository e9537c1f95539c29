import { createSha256 } from '../hash/sha256';
import type { TensorDict } from '../io/host-tensor';

/**
 * SHA-256 over a state dict (names in sorted order, shapes and float32 bytes) and a JSON-able
 * description (e.g. the network config and the exporter version). An exported graph records it so a
 * cached export next to a checkpoint can be recognised as stale when the weights change.
 */
export function fingerprintWeights(stateDict: TensorDict, description: unknown = null): string {
  const hash = createSha256();
  hash.update(`srdiff-weights-v1\n${JSON.stringify(description)}\n`);
  for (const name of Object.keys(stateDict).sort()) {
    const t = stateDict[name]!;
    hash.update(`${name}:${t.shape.join('x')}\n`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digestHex();
}
