import type { OnnxGraphBuilder } from '../graph-builder';
import { OnnxAttributeType, OnnxDataType, type OnnxNamespace } from '../proto';

/** A node of a built graph with typed attribute access. */
export interface NodeView {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** Input names; `''` marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  int(name: string, fallback: number): number;
  ints(name: string): number[] | undefined;
  float(name: string, fallback: number): number;
  str(name: string, fallback: string): string;
}

function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function viewNode(node: OnnxNamespace.INodeProto): NodeView {
  const attrs = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  return {
    name: node.name ?? '',
    opType: node.opType ?? '',
    domain: node.domain ?? '',
    inputs: node.input ?? [],
    outputs: node.output ?? [],
    int(name, fallback) {
      const a = attrs.get(name);
      return a && a.type === OnnxAttributeType.INT ? toNumber(a.i as number) : fallback;
    },
    ints(name) {
      const a = attrs.get(name);
      return a && a.type === OnnxAttributeType.INTS ? (a.ints ?? []).map((v) => toNumber(v as number)) : undefined;
    },
    float(name, fallback) {
      const a = attrs.get(name);
      return a && a.type === OnnxAttributeType.FLOAT ? (a.f ?? 0) : fallback;
    },
    str(name, fallback) {
      const a = attrs.get(name);
      return a && a.type === OnnxAttributeType.STRING && a.s ? new TextDecoder().decode(a.s as Uint8Array) : fallback;
    },
  };
}

/** An initializer's element type and values (int64 decoded to numbers; floats as Float32Array). */
export interface InitializerValue {
  dims: number[];
  dtype: 'float' | 'int64';
  values: Float32Array | number[];
}

/** Decodes the initializers of a builder (raw little-endian data, as the builder writes them). */
export function initializerValues(g: OnnxGraphBuilder): Map<string, InitializerValue> {
  const out = new Map<string, InitializerValue>();
  for (const t of g.graphInitializers) {
    const raw = t.rawData as Uint8Array;
    const dims = (t.dims ?? []).map((d) => toNumber(d as number));
    // Copy first: rawData may be an unaligned view into a larger buffer.
    const bytes = raw.slice();
    if (t.dataType === OnnxDataType.int64) {
      out.set(t.name!, { dims, dtype: 'int64', values: Array.from(new BigInt64Array(bytes.buffer), (v) => Number(v)) });
    } else if (t.dataType === OnnxDataType.float) {
      out.set(t.name!, { dims, dtype: 'float', values: new Float32Array(bytes.buffer) });
    }
  }
  return out;
}
