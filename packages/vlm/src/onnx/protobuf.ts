/**
 * Just enough of the protobuf wire format to walk an ONNX model and append a field to a message:
 * ONNX files are protobuf `ModelProto`s, and adding a graph output is an append (repeated field).
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

/** One field of a message: its number, wire type and the byte range it occupies. */
export interface ProtoField {
  field: number;
  wireType: number;
  /** Start of the tag (the field's first byte). */
  start: number;
  /** Payload range for length-delimited fields; the value's range otherwise. */
  payloadStart: number;
  end: number;
  /** The decoded value of a varint field. */
  value?: number;
}

function readVarint(buf: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error('protobuf: varint runs past the end of the buffer');
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale; // arithmetic, not shifts: sizes of large models exceed 2^31
    if ((byte & 0x80) === 0) return { value, next: pos };
    scale *= 128;
  }
  throw new Error('protobuf: varint longer than 10 bytes');
}

/** The fields of the message in `buf[start, end)`, in file order. */
export function readFields(buf: Uint8Array, start = 0, end = buf.length): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const tag = readVarint(buf, pos);
    pos = tag.next;
    const field = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (wireType === WIRE_VARINT) {
      const v = readVarint(buf, pos);
      fields.push({ field, wireType, start: fieldStart, payloadStart: pos, end: v.next, value: v.value });
      pos = v.next;
    } else if (wireType === WIRE_LENGTH_DELIMITED) {
      const len = readVarint(buf, pos);
      const payloadEnd = len.next + len.value;
      if (payloadEnd > end) throw new Error(`protobuf: field ${field} (length ${len.value}) runs past the end of its message`);
      fields.push({ field, wireType, start: fieldStart, payloadStart: len.next, end: payloadEnd });
      pos = payloadEnd;
    } else if (wireType === WIRE_FIXED64 || wireType === WIRE_FIXED32) {
      const size = wireType === WIRE_FIXED64 ? 8 : 4;
      fields.push({ field, wireType, start: fieldStart, payloadStart: pos, end: pos + size });
      pos += size;
    } else {
      throw new Error(`protobuf: unsupported wire type ${wireType} for field ${field} at byte ${fieldStart}`);
    }
  }
  if (pos !== end) throw new Error('protobuf: message ends inside a field');
  return fields;
}

export function readString(buf: Uint8Array, f: ProtoField): string {
  return new TextDecoder().decode(buf.subarray(f.payloadStart, f.end));
}

function varintBytes(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

export function encodeVarintField(field: number, value: number): Uint8Array {
  return Uint8Array.from([...varintBytes(field * 8 + WIRE_VARINT), ...varintBytes(value)]);
}

export function encodeBytesField(field: number, payload: Uint8Array): Uint8Array {
  const head = varintBytes(field * 8 + WIRE_LENGTH_DELIMITED).concat(varintBytes(payload.length));
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

export function encodeStringField(field: number, text: string): Uint8Array {
  return encodeBytesField(field, new TextEncoder().encode(text));
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
