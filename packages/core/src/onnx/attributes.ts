import { OnnxAttributeType } from './proto';
import type { OnnxNamespace } from './proto';

/**
 * Node attribute values. Plain numbers are INT when they are integers and FLOAT otherwise, which is
 * ambiguous for a float attribute that happens to be whole (`alpha: 1`): wrap such values with
 * {@link attr.float} / {@link attr.floats}. Number arrays follow the same rule as a whole.
 */
export type OnnxAttributeValue = number | string | number[] | string[] | TypedAttribute;

export interface TypedAttribute {
  readonly kind: 'float' | 'floats' | 'int' | 'ints';
  readonly value: number | readonly number[];
}

export const attr = {
  float: (value: number): TypedAttribute => ({ kind: 'float', value }),
  floats: (value: readonly number[]): TypedAttribute => ({ kind: 'floats', value }),
  int: (value: number): TypedAttribute => ({ kind: 'int', value }),
  ints: (value: readonly number[]): TypedAttribute => ({ kind: 'ints', value }),
};

function checkInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v)) throw new Error(`ONNX attribute "${name}": ${v} is not an integer`);
  return v;
}

export function encodeAttribute(name: string, value: OnnxAttributeValue): OnnxNamespace.IAttributeProto {
  if (typeof value === 'string') {
    return { name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(value) };
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: OnnxAttributeType.INT, i: value } : { name, type: OnnxAttributeType.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) {
      return { name, type: OnnxAttributeType.STRINGS, strings: (value as string[]).map((s) => new TextEncoder().encode(s)) };
    }
    const nums = value as number[];
    if (nums.some((v) => typeof v !== 'number')) throw new Error(`ONNX attribute "${name}": mixed array`);
    return nums.every(Number.isInteger)
      ? { name, type: OnnxAttributeType.INTS, ints: [...nums] }
      : { name, type: OnnxAttributeType.FLOATS, floats: [...nums] };
  }
  const typed = value as TypedAttribute;
  switch (typed.kind) {
    case 'float':
      return { name, type: OnnxAttributeType.FLOAT, f: typed.value as number };
    case 'floats':
      return { name, type: OnnxAttributeType.FLOATS, floats: [...(typed.value as number[])] };
    case 'int':
      return { name, type: OnnxAttributeType.INT, i: checkInt(name, typed.value as number) };
    case 'ints':
      return { name, type: OnnxAttributeType.INTS, ints: (typed.value as number[]).map((v) => checkInt(name, v)) };
    default:
      throw new Error(`ONNX attribute "${name}": unsupported value ${JSON.stringify(value)}`);
  }
}
