import { onnx } from './proto';

export interface OnnxModelSummary {
  irVersion: number;
  /** Opset per domain (`''` is the default ONNX domain). */
  opsets: Record<string, number>;
  producerName: string;
  metadata: Record<string, string>;
  inputs: string[];
  outputs: string[];
}

function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/**
 * Decodes the header of a serialised ONNX model: versions, opsets, `metadata_props` and the graph's
 * input/output names. Pass a Node `Buffer` (what `fs.readFile` returns): protobufjs then views the
 * weight bytes instead of copying them.
 */
export function readOnnxModelSummary(bytes: Uint8Array, source = '<buffer>'): OnnxModelSummary {
  let model;
  try {
    model = onnx.ModelProto.decode(asDecodable(bytes));
  } catch (err) {
    throw new Error(`${source}: not a readable ONNX model (${(err as Error).message})`);
  }
  const opsets: Record<string, number> = {};
  for (const o of model.opsetImport ?? []) opsets[o.domain ?? ''] = toNumber(o.version as number);
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) metadata[p.key ?? ''] = p.value ?? '';
  return {
    irVersion: toNumber(model.irVersion as number),
    opsets,
    producerName: model.producerName ?? '',
    metadata,
    inputs: (model.graph?.input ?? []).map((v) => v.name ?? ''),
    outputs: (model.graph?.output ?? []).map((v) => v.name ?? ''),
  };
}

/** A Node `Buffer` view where there is one (protobufjs then views the weights instead of copying them); the bytes as they are in a browser. */
function asDecodable(bytes: Uint8Array): Uint8Array {
  if (typeof Buffer === 'undefined') return bytes;
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
