import { PyTuple, type PyValue } from './pickle/python-values';
import { TorchTensor } from './torch-tensor';

/**
 * Checks what a pickle built before anything walks it: no cycles (a list inside itself, made with
 * the memo), nesting at most {@link MAX_NESTING} deep, and — counting shared containers once per
 * reference, as any tree walk would — at most {@link MAX_EXPANDED_VALUES} values, so a small file
 * of references to references cannot make later walks run for ever. The walk itself is iterative
 * and visits each object once. Returns each tensor's first key path (`model_state_dict/fc.weight`).
 */

export const MAX_NESTING = 1000;
export const MAX_EXPANDED_VALUES = 10_000_000;

export class ObjectGraphError extends Error {}

/** A dict key as a path segment. */
export function keySegment(k: unknown): string {
  if (typeof k === 'string') return k;
  if (k === null) return 'None';
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (k instanceof PyTuple) return `(${k.items.map(keySegment).join(', ')})`;
  return String(k);
}

function children(v: object): [unknown, string][] {
  if (Array.isArray(v)) return v.map((x, i) => [x, String(i)]);
  if (v instanceof PyTuple) return v.items.map((x, i) => [x, String(i)]);
  if (v instanceof Map) {
    const out: [unknown, string][] = [];
    for (const [k, x] of v) {
      if (k instanceof PyTuple) out.push([k, `${keySegment(k)}#key`]);
      out.push([x, keySegment(k)]);
    }
    return out;
  }
  if (v instanceof Set) return [...v].map((x, i) => [x, String(i)]);
  return [];
}

function isLeaf(v: unknown): boolean {
  return v === null || typeof v !== 'object' || v instanceof Uint8Array || v instanceof TorchTensor;
}

function isContainer(v: unknown): v is object {
  return Array.isArray(v) || v instanceof PyTuple || v instanceof Map || v instanceof Set;
}

interface Frame {
  node: object;
  kids: [unknown, string][];
  next: number;
  size: number;
  path: string;
}

export function checkObjectGraph(root: unknown): { value: PyValue; tensorPaths: Map<TorchTensor, string> } {
  const tensorPaths = new Map<TorchTensor, string>();
  const sizes = new Map<object, number>();
  const active = new Set<object>();
  const visitLeaf = (v: unknown, path: string): number => {
    if (v instanceof TorchTensor) {
      if (!tensorPaths.has(v)) tensorPaths.set(v, path);
    } else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) {
      throw new ObjectGraphError(`the pickle leaves a bare ${(v as { qualifiedName?: string }).qualifiedName ?? 'internal object'} at ${path || 'the top level'} (not data; malformed file)`);
    } else if (typeof v === 'symbol' || typeof v === 'function' || v === undefined) {
      throw new ObjectGraphError(`the pickle leaves a non-value at ${path || 'the top level'} (malformed file)`);
    }
    return 1;
  };
  if (isLeaf(root) || !isContainer(root)) {
    visitLeaf(root, '');
    return { value: root as PyValue, tensorPaths };
  }
  const frames: Frame[] = [{ node: root, kids: children(root), next: 0, size: 1, path: '' }];
  active.add(root);
  while (frames.length) {
    const f = frames[frames.length - 1]!;
    if (f.next === f.kids.length) {
      frames.pop();
      active.delete(f.node);
      sizes.set(f.node, f.size);
      const parent = frames[frames.length - 1];
      if (parent) parent.size = addSize(parent.size, f.size, parent.path);
      continue;
    }
    const [child, seg] = f.kids[f.next++]!;
    const path = f.path ? `${f.path}/${seg}` : seg;
    if (!isContainer(child)) {
      f.size = addSize(f.size, visitLeaf(child, path), f.path);
      continue;
    }
    if (active.has(child)) throw new ObjectGraphError(`the pickle builds a cycle: ${path} contains itself (torch.save files hold no cycles)`);
    const known = sizes.get(child);
    if (known !== undefined) {
      f.size = addSize(f.size, known, f.path);
      continue;
    }
    if (frames.length >= MAX_NESTING) throw new ObjectGraphError(`values nest more than ${MAX_NESTING} levels deep (at ${path.slice(0, 60)}…); refused`);
    active.add(child);
    frames.push({ node: child, kids: children(child), next: 0, size: 1, path });
  }
  return { value: root as PyValue, tensorPaths };
}

function addSize(a: number, b: number, where: string): number {
  const s = a + b;
  if (s > MAX_EXPANDED_VALUES) {
    throw new ObjectGraphError(`shared references expand to more than ${MAX_EXPANDED_VALUES.toLocaleString('en')} values (under ${where || 'the top level'}); refused as a hostile file`);
  }
  return s;
}

