import type { OnnxGraphBuilder } from '../graph-builder';
import { initializerValues, viewNode, type NodeView } from './graph-view';

export type TensorElement = 'float' | 'int64' | 'bool';

/** What static inference knows of a tensor: its shape, element type and, for small int64 tensors, its values. */
export interface TensorInfo {
  shape: number[];
  dtype: TensorElement;
  /**
   * The values, when they are known while building: int64 shape arithmetic (Shape → Concat →
   * Reshape) and small float constants.
   */
  value?: number[];
}

export class ShapeInferenceError extends Error {
  constructor(node: NodeView | string, message: string) {
    super(`shape inference${typeof node === 'string' ? '' : ` at ${node.name} (${node.opType})`}: ${message}`);
    this.name = 'ShapeInferenceError';
  }
}

/** Values of symbolic input dimensions (`{ batch: 4, height: 64, width: 64 }`). */
export type DimBindings = Record<string, number>;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], where: NodeView | string = 'broadcast'): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new ShapeInferenceError(where, `shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function elementwise(op: string, a: number[], b: number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const pick = (v: number[], i: number) => (v.length === 1 ? v[0]! : v[i]!);
  const f: Record<string, (x: number, y: number) => number> = {
    Add: (x, y) => x + y,
    Sub: (x, y) => x - y,
    Mul: (x, y) => x * y,
    Div: (x, y) => Math.trunc(x / y),
    Mod: (x, y) => ((x % y) + y) % y,
  };
  const fn = f[op];
  if (!fn) return undefined;
  return Array.from({ length: n }, (_, i) => fn(pick(a, i), pick(b, i)));
}

type Rule = (n: NodeView, inputs: (TensorInfo | undefined)[]) => TensorInfo[];

const need = (n: NodeView, t: TensorInfo | undefined, what: string): TensorInfo => {
  if (!t) throw new ShapeInferenceError(n, `input ${what} is missing`);
  return t;
};
const needValue = (n: NodeView, t: TensorInfo | undefined, what: string): number[] => {
  const v = need(n, t, what).value;
  if (!v) throw new ShapeInferenceError(n, `input ${what} must be known while building (a constant or shape arithmetic)`);
  return v;
};

const same: Rule = (n, [x]) => [{ shape: [...need(n, x, 'X').shape], dtype: x!.dtype }];

const binary: Rule = (n, [a, b]) => {
  const A = need(n, a, 'A');
  const B = need(n, b, 'B');
  const shape = broadcastShapes(A.shape, B.shape, n);
  const value = A.value && B.value && A.dtype === 'int64' ? elementwise(n.opType, A.value, B.value) : undefined;
  return [{ shape, dtype: A.dtype, value }];
};

function convOutput(n: NodeView, x: number[], w: number[], transposed: boolean): number[] {
  const spatial = x.length - 2;
  const kernel = w.slice(2);
  const strides = n.ints('strides') ?? new Array(spatial).fill(1);
  const dilations = n.ints('dilations') ?? new Array(spatial).fill(1);
  const pads = n.ints('pads') ?? new Array(2 * spatial).fill(0);
  const group = n.int('group', 1);
  if (n.ints('auto_pad') !== undefined) throw new ShapeInferenceError(n, 'auto_pad is not supported');
  const out = [x[0]!, transposed ? w[1]! * group : w[0]!];
  for (let i = 0; i < spatial; i++) {
    const k = (kernel[i]! - 1) * dilations[i]! + 1;
    if (transposed) {
      const extra = (n.ints('output_padding') ?? [])[i] ?? 0;
      out.push(strides[i]! * (x[i + 2]! - 1) + extra + k - pads[i]! - pads[i + spatial]!);
    } else {
      out.push(Math.floor((x[i + 2]! + pads[i]! + pads[i + spatial]! - k) / strides[i]!) + 1);
    }
  }
  return out;
}

function sliceRange(dim: number, start: number, end: number, step: number): [number, number, number] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
  } else {
    s = clamp(s, 0, dim - 1);
    e = clamp(e, -1, dim - 1);
  }
  const count = Math.max(0, Math.ceil((e - s) / step));
  return [s, count, step];
}

/** Resolved Slice of a node: per axis of the input, [start, count, step]. */
export function resolveSlice(n: NodeView, shape: readonly number[], inputs: (TensorInfo | undefined)[]): [number, number, number][] {
  const starts = needValue(n, inputs[1], 'starts');
  const ends = needValue(n, inputs[2], 'ends');
  const axes = inputs[3] ? needValue(n, inputs[3], 'axes') : starts.map((_, i) => i);
  const steps = inputs[4] ? needValue(n, inputs[4], 'steps') : starts.map(() => 1);
  const ranges: [number, number, number][] = shape.map((d) => [0, d, 1]);
  axes.forEach((axis, i) => {
    const a = normAxis(axis, shape.length);
    if (steps[i] === 0) throw new ShapeInferenceError(n, 'a slice step is 0');
    ranges[a] = sliceRange(shape[a]!, starts[i]!, ends[i]!, steps[i]!);
  });
  return ranges;
}

function reduced(n: NodeView, shape: number[], axes: number[] | undefined, keepdims: boolean): number[] {
  const all = axes === undefined || axes.length === 0;
  const set = new Set((axes ?? []).map((a) => normAxis(a, shape.length)));
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (all || set.has(i)) {
      if (keepdims) out.push(1);
    } else out.push(d);
  });
  void n;
  return out;
}

/** The axes a reduction node reduces (attribute before opset 18 for ReduceMean/Max; input for ReduceSum). */
export function reductionAxes(n: NodeView, inputs: (TensorInfo | undefined)[], rank: number): number[] {
  const fromInput = n.inputs[1] ? needValue(n, inputs[1], 'axes') : undefined;
  const axes = fromInput ?? n.ints('axes');
  if (!axes || axes.length === 0) {
    if (n.opType === 'ReduceSum' && n.int('noop_with_empty_axes', 0)) return [];
    return Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => normAxis(a, rank));
}

const RULES: Record<string, Rule> = {
  Identity: (n, [x]) => [{ ...need(n, x, 'X'), shape: [...x!.shape] }],
  Add: binary, Sub: binary, Mul: binary, Div: binary, Mod: binary, Pow: binary,
  Equal: (n, inputs) => [{ ...binary(n, inputs)[0]!, dtype: 'bool', value: undefined }],
  Where: (n, [c, a, b]) => [{ shape: broadcastShapes(broadcastShapes(need(n, c, 'C').shape, need(n, a, 'X').shape, n), need(n, b, 'Y').shape, n), dtype: a!.dtype }],
  Neg: same, Abs: same, Sign: same, Sigmoid: same, Exp: same, Log: same, Erf: same, Sqrt: same, Reciprocal: same,
  Sin: same, Cos: same, Tanh: same, Relu: same, Softmax: same, InstanceNormalization: same,
  Cast: (n, [x]) => {
    const to = n.int('to', 1);
    const dtype: TensorElement = to === 7 ? 'int64' : to === 9 ? 'bool' : 'float';
    return [{ shape: [...need(n, x, 'input').shape], dtype, value: x!.value ? [...x!.value] : undefined }];
  },
  Shape: (n, [x]) => {
    const shape = need(n, x, 'data').shape;
    const clampAxis = (a: number) => Math.min(Math.max(normAxis(a, shape.length), 0), shape.length);
    const value = shape.slice(clampAxis(n.int('start', 0)), clampAxis(n.int('end', shape.length)));
    return [{ shape: [value.length], dtype: 'int64', value }];
  },
  Concat: (n, inputs) => {
    const ts = inputs.map((t, i) => need(n, t, `input ${i}`));
    const rank = ts[0]!.shape.length;
    const axis = normAxis(n.int('axis', 0), rank);
    const shape = [...ts[0]!.shape];
    shape[axis] = ts.reduce((s, t) => s + t.shape[axis]!, 0);
    const value = rank === 1 && ts.every((t) => t.value) ? ts.flatMap((t) => t.value!) : undefined;
    return [{ shape, dtype: ts[0]!.dtype, value }];
  },
  Reshape: (n, [x, s]) => {
    const X = need(n, x, 'data');
    const target = needValue(n, s, 'shape').map((d, i) => (d === 0 ? X.shape[i]! : d));
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const shape = target.map((d) => (d === -1 ? size(X.shape) / known : d));
    if (size(shape) !== size(X.shape) || shape.some((d) => !Number.isInteger(d))) throw new ShapeInferenceError(n, `cannot reshape [${X.shape}] to [${target}]`);
    return [{ shape, dtype: X.dtype, value: X.value ? [...X.value] : undefined }];
  },
  Flatten: (n, [x]) => {
    const X = need(n, x, 'input');
    const axis = normAxis(n.int('axis', 1), X.shape.length);
    return [{ shape: [size(X.shape.slice(0, axis)), size(X.shape.slice(axis))], dtype: X.dtype }];
  },
  Transpose: (n, [x]) => {
    const X = need(n, x, 'data');
    const perm = n.ints('perm') ?? X.shape.map((_, i) => X.shape.length - 1 - i);
    return [{ shape: perm.map((p) => X.shape[p]!), dtype: X.dtype }];
  },
  Unsqueeze: (n, [x, a]) => {
    const X = need(n, x, 'data');
    const given = a ? needValue(n, a, 'axes') : n.ints('axes') ?? [];
    const axes = given.map((v) => normAxis(v, X.shape.length + given.length));
    const shape = [...X.shape];
    for (const axis of [...axes].sort((p, q) => p - q)) shape.splice(axis, 0, 1);
    return [{ shape, dtype: X.dtype, value: X.value ? [...X.value] : undefined }];
  },
  Squeeze: (n, [x, a]) => {
    const X = need(n, x, 'data');
    const axes = a ? needValue(n, a, 'axes').map((v) => normAxis(v, X.shape.length)) : X.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    return [{ shape: X.shape.filter((_, i) => !axes.includes(i)), dtype: X.dtype, value: X.value ? [...X.value] : undefined }];
  },
  Slice: (n, inputs) => {
    const X = need(n, inputs[0], 'data');
    const ranges = resolveSlice(n, X.shape, inputs);
    const value = X.value && X.shape.length === 1 ? Array.from({ length: ranges[0]![1] }, (_, i) => X.value![ranges[0]![0] + i * ranges[0]![2]]!) : undefined;
    return [{ shape: ranges.map((r) => r[1]), dtype: X.dtype, value }];
  },
  Split: (n, inputs) => {
    const X = need(n, inputs[0], 'input');
    const axis = normAxis(n.int('axis', 0), X.shape.length);
    const sizes = inputs[1] ? needValue(n, inputs[1], 'split') : new Array(n.outputs.length).fill(X.shape[axis]! / n.outputs.length);
    return sizes.map((s) => {
      const shape = [...X.shape];
      shape[axis] = s;
      return { shape, dtype: X.dtype };
    });
  },
  Pad: (n, [x, p]) => {
    const X = need(n, x, 'data');
    const pads = needValue(n, p, 'pads');
    return [{ shape: X.shape.map((d, i) => d + pads[i]! + pads[i + X.shape.length]!), dtype: X.dtype }];
  },
  Expand: (n, [x, s]) => {
    const X = need(n, x, 'input');
    return [{ shape: broadcastShapes(X.shape, needValue(n, s, 'shape'), n), dtype: X.dtype }];
  },
  Conv: (n, [x, w]) => [{ shape: convOutput(n, need(n, x, 'X').shape, need(n, w, 'W').shape, false), dtype: 'float' }],
  ConvTranspose: (n, [x, w]) => [{ shape: convOutput(n, need(n, x, 'X').shape, need(n, w, 'W').shape, true), dtype: 'float' }],
  MatMul: (n, [a, b]) => {
    const A = need(n, a, 'A').shape;
    const B = need(n, b, 'B').shape;
    if (A.length < 2 || B.length < 2) throw new ShapeInferenceError(n, 'MatMul of a vector is not supported');
    if (A[A.length - 1] !== B[B.length - 2]) throw new ShapeInferenceError(n, `inner dimensions differ: [${A}] · [${B}]`);
    const batch = broadcastShapes(A.slice(0, -2), B.slice(0, -2), n);
    return [{ shape: [...batch, A[A.length - 2]!, B[B.length - 1]!], dtype: 'float' }];
  },
  Gemm: (n, [a, b]) => {
    const A = need(n, a, 'A').shape;
    const B = need(n, b, 'B').shape;
    const m = n.int('transA', 0) ? A[1]! : A[0]!;
    const cols = n.int('transB', 0) ? B[0]! : B[1]!;
    return [{ shape: [m, cols], dtype: 'float' }];
  },
  ReduceMean: (n, inputs) => {
    const X = need(n, inputs[0], 'data');
    return [{ shape: reduced(n, X.shape, reductionAxes(n, inputs, X.shape.length), n.int('keepdims', 1) === 1), dtype: X.dtype }];
  },
  LayerNormalization: (n, [x]) => {
    const X = need(n, x, 'X');
    const axis = normAxis(n.int('axis', -1), X.shape.length);
    const stat = X.shape.map((d, i) => (i < axis ? d : 1));
    const outs: TensorInfo[] = [{ shape: [...X.shape], dtype: 'float' }, { shape: stat, dtype: 'float' }, { shape: [...stat], dtype: 'float' }];
    return outs.slice(0, n.outputs.length);
  },
};
RULES.ReduceSum = RULES.ReduceMean!;
RULES.ReduceMax = RULES.ReduceMean!;

/** Static shapes, element types and known values of every tensor of a built graph. */
export function inferShapes(g: OnnxGraphBuilder, dims: DimBindings = {}): Map<string, TensorInfo> {
  const info = new Map<string, TensorInfo>();
  for (const input of g.graphInputs) {
    const shape = (input.shape ?? []).map((d) => {
      if (typeof d === 'number') return d;
      const bound = dims[d];
      if (bound === undefined) throw new ShapeInferenceError(input.name, `input "${input.name}" has the symbolic dimension "${d}": give its size`);
      return bound;
    });
    if (!input.shape) throw new ShapeInferenceError(input.name, `input "${input.name}" has no declared shape`);
    info.set(input.name, { shape, dtype: input.elemType === 'int64' ? 'int64' : input.elemType === 'bool' ? 'bool' : 'float' });
  }
  for (const [name, init] of initializerValues(g)) {
    // Small float constants keep their values too (a Pow's exponent, a scale).
    const value = init.dtype === 'int64' ? (init.values as number[]) : init.values.length <= 64 ? Array.from(init.values) : undefined;
    info.set(name, { shape: init.dims, dtype: init.dtype, value });
  }
  for (const proto of g.graphNodes) {
    const n = viewNode(proto);
    const rule = RULES[n.opType];
    if (!rule || n.domain) throw new ShapeInferenceError(n, `no shape rule for ${n.domain ? `${n.domain}.` : ''}${n.opType}`);
    const outs = rule(n, n.inputs.map((i) => (i === '' ? undefined : info.get(i))));
    n.outputs.forEach((o, i) => {
      if (o === '') return;
      const t = outs[i];
      if (!t) throw new ShapeInferenceError(n, `no shape for output ${i}`);
      info.set(o, t);
    });
  }
  return info;
}
