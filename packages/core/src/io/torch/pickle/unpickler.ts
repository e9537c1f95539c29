import { TorchFileError } from '../torch-file-error';
import { PyTuple, pyTypeName, type PyValue } from './python-values';

/**
 * A pickle virtual machine that builds data and never runs code. Python's own unpickler imports
 * any `module.name` a file mentions and calls it (that is how a pickle runs `os.system`); this one
 * asks {@link UnpicklerHooks.findGlobal}, which returns one of a fixed set of harmless builders or
 * throws, and it implements no opcode that could reach anything else (`INST`, `OBJ`, `EXT*` and
 * out-of-band buffers are refused). Protocols 0–5 are read; `torch.save` writes protocol 2.
 *
 * It works on an explicit stack (no recursion, so nesting depth cannot overflow it), checks every
 * length against the bytes that remain before allocating, and consumes at least one byte per
 * opcode, so any input ends in a value or an error in time linear in its size.
 */

/** A global the hooks allowed: something that builds a value when called (REDUCE / NEWOBJ). */
export interface PickleGlobal {
  readonly qualifiedName: string;
  call(args: unknown[], at: string): unknown;
}

export interface UnpicklerHooks {
  /** Returns the builder for `module.name`, or throws naming it. */
  findGlobal(module: string, name: string, at: string): PickleGlobal;
  /** Resolves a persistent id (PyTorch's storages), or throws. */
  persistentLoad(pid: unknown, at: string): unknown;
  /** Applies BUILD state to an object the hooks made (e.g. an OrderedDict's `_metadata`), or throws. */
  build?(target: unknown, state: unknown, at: string): unknown;
}

export function isPickleGlobal(v: unknown): v is PickleGlobal {
  return typeof v === 'object' && v !== null && 'qualifiedName' in v && typeof (v as PickleGlobal).call === 'function';
}

const MARK = Symbol('MARK');
/** Python ints wider than this are refused: nothing torch.save writes needs them, and decoding is quadratic. */
const MAX_LONG_BYTES = 1024;

const OPCODE_NAMES: Record<number, string> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

export class Unpickler {
  private pos: number;
  private readonly bytes: Uint8Array;
  private stack: unknown[] = [];
  private marks: unknown[][] = [];
  private memo = new Map<number, unknown>();
  private readonly view: DataView;

  constructor(
    bytes: Uint8Array,
    private readonly hooks: UnpicklerHooks,
    private readonly source: string,
    /** Where this pickle starts in `bytes` (the legacy format holds several in a row). */
    start = 0,
    /** What is being unpickled, for error messages (`data.pkl`, `the storage keys`). */
    private readonly label = 'pickle',
  ) {
    this.pos = start;
    // slice() below must copy: a Node Buffer's does not, so work on a plain Uint8Array view.
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Runs to STOP; returns the value and the offset just after it. */
  load(): { value: unknown; end: number } {
    const b = this.bytes;
    for (;;) {
      if (this.pos >= b.length) throw this.error(`${this.label} ends without a STOP opcode (truncated file)`);
      const at = this.pos;
      const op = b[this.pos++]!;
      switch (op) {
        case 0x80: this.take(1); break; // PROTO
        case 0x95: this.take(8); break; // FRAME: a length hint only
        case 0x2e: { // STOP
          if (this.stack.length !== 1 || this.marks.length) throw this.error(`${this.label} stops with ${this.stack.length} values on its stack (malformed)`, at);
          return { value: this.stack[0], end: this.pos };
        }
        case 0x28: this.marks.push(this.stack); this.stack = []; break; // MARK
        case 0x30: this.pop(at); break; // POP
        case 0x31: this.popMark(at); break; // POP_MARK
        case 0x32: this.push(this.top(at)); break; // DUP
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4a: this.push(this.view.getInt32(this.at(4), true)); break; // BININT
        case 0x4b: this.push(b[this.at(1)]!); break; // BININT1
        case 0x4d: this.push(this.view.getUint16(this.at(2), true)); break; // BININT2
        case 0x8a: this.push(this.long(b[this.at(1)]!, at)); break; // LONG1
        case 0x8b: this.push(this.long(this.length(4, at), at)); break; // LONG4
        case 0x47: this.push(this.view.getFloat64(this.at(8), false)); break; // BINFLOAT (big-endian)
        case 0x49: this.push(this.textInt(at)); break; // INT
        case 0x4c: this.push(this.textInt(at)); break; // LONG
        case 0x46: this.push(this.textFloat(at)); break; // FLOAT
        case 0x58: this.push(this.utf8(this.length(4, at), at)); break; // BINUNICODE
        case 0x8c: this.push(this.utf8(b[this.at(1)]!, at)); break; // SHORT_BINUNICODE
        case 0x8d: this.push(this.utf8(this.length(8, at), at)); break; // BINUNICODE8
        case 0x56: this.push(rawUnicodeEscape(this.line(at))); break; // UNICODE
        // Python 2 `str` (old files): bytes, read as Latin-1 text as `encoding='latin1'` does.
        case 0x54: this.push(latin1(this.take(this.length(4, at)))); break; // BINSTRING
        case 0x55: this.push(latin1(this.take(b[this.at(1)]!))); break; // SHORT_BINSTRING
        case 0x53: this.push(pythonStringLiteral(this.line(at), () => this.error('malformed STRING literal', at))); break; // STRING
        case 0x42: this.push(this.take(this.length(4, at)).slice()); break; // BINBYTES
        case 0x43: this.push(this.take(b[this.at(1)]!).slice()); break; // SHORT_BINBYTES
        case 0x8e: this.push(this.take(this.length(8, at)).slice()); break; // BINBYTES8
        case 0x96: this.push(this.take(this.length(8, at)).slice()); break; // BYTEARRAY8
        case 0x29: this.push(new PyTuple([])); break; // EMPTY_TUPLE
        case 0x85: this.push(new PyTuple(this.popN(1, at))); break; // TUPLE1
        case 0x86: this.push(new PyTuple(this.popN(2, at))); break; // TUPLE2
        case 0x87: this.push(new PyTuple(this.popN(3, at))); break; // TUPLE3
        case 0x74: this.push(new PyTuple(this.popMark(at))); break; // TUPLE
        case 0x5d: this.push([]); break; // EMPTY_LIST
        case 0x6c: this.push(this.popMark(at)); break; // LIST
        case 0x61: { const v = this.pop(at); this.list(at).push(v); break; } // APPEND
        case 0x65: { const items = this.popMark(at); const l = this.list(at); for (const v of items) l.push(v); break; } // APPENDS
        case 0x7d: this.push(new Map()); break; // EMPTY_DICT
        case 0x64: { const items = this.popMark(at); const d = new Map(); this.setItems(d, items, at); this.push(d); break; } // DICT
        case 0x73: { const v = this.pop(at); const k = this.pop(at); this.dict(at).set(this.key(k, at), v); break; } // SETITEM
        case 0x75: { const items = this.popMark(at); this.setItems(this.dict(at), items, at); break; } // SETITEMS
        case 0x8f: this.push(new Set()); break; // EMPTY_SET
        case 0x90: { const items = this.popMark(at); const s = this.top(at); if (!(s instanceof Set)) throw this.error(`ADDITEMS on a ${pyTypeName(s)}`, at); for (const v of items) s.add(this.key(v, at)); break; } // ADDITEMS
        case 0x91: this.push(new Set(this.popMark(at).map((v) => this.key(v, at)))); break; // FROZENSET
        case 0x70: this.memo.set(this.textIndex(at), this.top(at)); break; // PUT
        case 0x71: this.memo.set(b[this.at(1)]!, this.top(at)); break; // BINPUT
        case 0x72: this.memo.set(this.view.getUint32(this.at(4), true), this.top(at)); break; // LONG_BINPUT
        case 0x94: this.memo.set(this.memo.size, this.top(at)); break; // MEMOIZE
        case 0x67: this.push(this.recall(this.textIndex(at), at)); break; // GET
        case 0x68: this.push(this.recall(b[this.at(1)]!, at)); break; // BINGET
        case 0x6a: this.push(this.recall(this.view.getUint32(this.at(4), true), at)); break; // LONG_BINGET
        case 0x63: { const module = this.line(at); const name = this.line(at); this.push(this.global(module, name, at)); break; } // GLOBAL
        case 0x93: { const name = this.pop(at); const module = this.pop(at); if (typeof module !== 'string' || typeof name !== 'string') throw this.error('STACK_GLOBAL needs two strings', at); this.push(this.global(module, name, at)); break; } // STACK_GLOBAL
        case 0x52: { const args = this.pop(at); const fn = this.pop(at); this.push(this.call(fn, args, 'REDUCE', at)); break; } // REDUCE
        case 0x81: { const args = this.pop(at); const cls = this.pop(at); this.push(this.call(cls, args, 'NEWOBJ', at)); break; } // NEWOBJ
        case 0x92: { const kwargs = this.pop(at); const args = this.pop(at); const cls = this.pop(at); if (!(kwargs instanceof Map) || kwargs.size) throw this.error('NEWOBJ_EX with keyword arguments is not used by torch.save files', at); this.push(this.call(cls, args, 'NEWOBJ_EX', at)); break; }
        case 0x62: { const state = this.pop(at); const target = this.pop(at); this.push(this.build(target, state, at)); break; } // BUILD
        case 0x51: { const pid = this.pop(at); this.push(this.hooks.persistentLoad(pid, this.where(at))); break; } // BINPERSID
        case 0x50: this.push(this.hooks.persistentLoad(this.line(at), this.where(at))); break; // PERSID
        default: {
          const name = OPCODE_NAMES[op];
          throw this.error(name ? `opcode ${name} is refused: it creates arbitrary objects, which torch.save files never need` : `unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} (corrupt file, or not a pickle)`, at);
        }
      }
    }
  }

  private where(at: number): string {
    return `${this.label} byte ${at}`;
  }

  private error(message: string, at = this.pos): TorchFileError {
    return new TorchFileError(this.source, `${message} (${this.where(at)})`);
  }

  /** Advances past `n` bytes, returning where they start. */
  private at(n: number): number {
    if (this.pos + n > this.bytes.length) throw this.error(`${this.label} ends inside an opcode (truncated file)`);
    const p = this.pos;
    this.pos += n;
    return p;
  }

  private take(n: number): Uint8Array {
    const p = this.at(n);
    return this.bytes.subarray(p, p + n);
  }

  /** A 4- or 8-byte length, checked against what remains so a huge value cannot allocate. */
  private length(width: 4 | 8, at: number): number {
    const p = this.at(width);
    const n = width === 4 ? this.view.getUint32(p, true) : Number(this.view.getBigUint64(p, true));
    if (n > this.bytes.length - this.pos) throw this.error(`declares ${n} bytes of data but only ${this.bytes.length - this.pos} remain (truncated or corrupt)`, at);
    return n;
  }

  private line(at: number): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw this.error(`${this.label} ends inside a text opcode (truncated file)`, at);
    const s = latin1(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private utf8(n: number, at: number): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.take(n));
    } catch {
      throw this.error('a string is not valid UTF-8', at);
    }
  }

  private long(n: number, at: number): number | bigint {
    if (n > MAX_LONG_BYTES) throw this.error(`a ${n}-byte integer is refused (torch.save files hold no integers wider than ${MAX_LONG_BYTES} bytes)`, at);
    const bytes = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    if (n && bytes[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return narrow(v);
  }

  private textInt(at: number): number | bigint | boolean {
    const s = this.line(at).replace(/L$/, '');
    if (s === '00') return false; // protocol 0 writes bools as I00 / I01
    if (s === '01') return true;
    if (!/^[-+]?\d{1,2000}$/.test(s)) throw this.error(`malformed integer "${s.slice(0, 40)}"`, at);
    return narrow(BigInt(s));
  }

  private textFloat(at: number): number {
    const s = this.line(at);
    const v = Number(s);
    if (Number.isNaN(v) && !/^[-+]?nan$/i.test(s)) throw this.error(`malformed float "${s.slice(0, 40)}"`, at);
    return v;
  }

  private textIndex(at: number): number {
    const s = this.line(at);
    if (!/^\d{1,15}$/.test(s)) throw this.error(`malformed memo index "${s.slice(0, 40)}"`, at);
    return Number(s);
  }

  private push(v: unknown): void {
    this.stack.push(v);
  }

  private pop(at: number): unknown {
    if (!this.stack.length) throw this.error('pops an empty stack (malformed pickle)', at);
    return this.stack.pop();
  }

  private popN(n: number, at: number): PyValue[] {
    if (this.stack.length < n) throw this.error('pops an empty stack (malformed pickle)', at);
    return this.stack.splice(this.stack.length - n, n) as PyValue[];
  }

  private top(at: number): unknown {
    if (!this.stack.length) throw this.error('reads an empty stack (malformed pickle)', at);
    return this.stack[this.stack.length - 1];
  }

  private popMark(at: number): PyValue[] {
    const items = this.stack;
    const outer = this.marks.pop();
    if (!outer) throw this.error('has no MARK to pop to (malformed pickle)', at);
    this.stack = outer;
    return items as PyValue[];
  }

  private list(at: number): unknown[] {
    const l = this.top(at);
    if (!Array.isArray(l)) throw this.error(`appends to a ${pyTypeName(l)}, not a list`, at);
    return l;
  }

  private dict(at: number): Map<unknown, unknown> {
    const d = this.top(at);
    if (!(d instanceof Map)) throw this.error(`sets an item on a ${pyTypeName(d)}, not a dict`, at);
    return d;
  }

  /** Only hashable Python values can be keys; a list or dict as a key is a malformed file. */
  private key(k: unknown, at: number): unknown {
    if (k === null || ['boolean', 'number', 'bigint', 'string'].includes(typeof k) || k instanceof PyTuple) return k;
    throw this.error(`uses a ${pyTypeName(k)} as a dict key or set item`, at);
  }

  private setItems(d: Map<unknown, unknown>, items: unknown[], at: number): void {
    if (items.length % 2) throw this.error('SETITEMS with an odd number of values (malformed pickle)', at);
    for (let i = 0; i < items.length; i += 2) d.set(this.key(items[i], at), items[i + 1]);
  }

  private recall(i: number, at: number): unknown {
    if (!this.memo.has(i)) throw this.error(`refers to memo entry ${i}, which was never stored (malformed pickle)`, at);
    return this.memo.get(i);
  }

  private global(module: string, name: string, at: number): PickleGlobal {
    return this.hooks.findGlobal(module, name, this.where(at));
  }

  private call(fn: unknown, args: unknown, opcode: string, at: number): unknown {
    if (!isPickleGlobal(fn)) throw this.error(`${opcode} calls a ${pyTypeName(fn)}, which is not callable`, at);
    if (!(args instanceof PyTuple)) throw this.error(`${opcode} of ${fn.qualifiedName} with ${pyTypeName(args)} arguments (expected a tuple)`, at);
    return fn.call(args.items, this.where(at));
  }

  private build(target: unknown, state: unknown, at: number): unknown {
    if (!this.hooks.build) throw this.error(`BUILD on a ${pyTypeName(target)} is not supported`, at);
    return this.hooks.build(target, state, this.where(at));
  }
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}

/** Protocol 0's UNICODE argument: Latin-1 text with \uXXXX and \UXXXXXXXX escapes. */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4: string | undefined, u8: string | undefined) => String.fromCodePoint(parseInt((u4 ?? u8)!, 16)));
}

/** Protocol 0's STRING argument: a Python 2 `repr` of a str, quoted, with backslash escapes. */
function pythonStringLiteral(s: string, fail: () => Error): string {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s.length < 2 || s[s.length - 1] !== q) throw fail();
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return simple[e] ?? `\\${e}`;
  });
}
