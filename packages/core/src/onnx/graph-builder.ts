import { encodeAttribute, type OnnxAttributeValue } from './attributes';
import { onnx, OnnxDataType, type OnnxElementType, type OnnxNamespace } from './proto';

/** A tensor dimension of a graph input/output: a fixed size or a symbolic name (`'batch'`). */
export type OnnxDim = number | string;

export interface OnnxNodeOptions {
  /** Node name; default `<scope>/<opType>_<n>`. Output names derive from it. */
  name?: string;
  /** Number of outputs (default 1) or their exact names. */
  outputs?: number | string[];
  /** Operator domain, e.g. `'com.microsoft'` (default: the ONNX domain). */
  domain?: string;
}

export interface OnnxModelOptions {
  /** IR version of the file (default 8, what opsets 17–18 require; ORT ≥ 1.14 reads it). */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Free-form key/value pairs stored in the model (`metadata_props`), e.g. a weights hash. */
  metadata?: Record<string, string>;
  /** Extra operator-set imports for non-default domains, e.g. `{ 'com.microsoft': 1 }`. */
  domainOpsets?: Record<string, number>;
}

export interface OnnxGraphBuilderOptions {
  /** Default-domain opset the emitted nodes target (default 17: LayerNormalization, Softmax over any axis). */
  opset?: number;
}

export type FloatData = Float32Array | readonly number[];

interface ValueInfo {
  name: string;
  elemType: OnnxElementType;
  shape?: OnnxDim[];
}

const DEFAULT_OPSET = 17;
const DEFAULT_IR_VERSION = 8;

function bytesOf(view: ArrayBufferView): Uint8Array {
  // rawData is little-endian; every platform Node and browsers ship on is little-endian.
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function checkShape(shape: readonly number[], length: number, what: string): void {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${what}: invalid shape [${shape.join(', ')}]`);
  if (size !== length) throw new Error(`${what}: shape [${shape.join(', ')}] needs ${size} values, got ${length}`);
}

/**
 * A typed builder of ONNX graphs over the `onnx-proto` schema: graph inputs/outputs with symbolic
 * dimensions, float/int64 initializers, nodes returning their output names, a few helpers for the
 * ops that need shape inputs, and serialisation to a `ModelProto`.
 *
 * Names are unique within the graph; `scope(name, fn)` prefixes the nodes created inside `fn`, so a
 * graph emitted module by module keeps the module path in its node names (`downs.0.2/Conv_3`).
 */
export class OnnxGraphBuilder {
  readonly opset: number;
  private readonly nodes: OnnxNamespace.INodeProto[] = [];
  private readonly initializers: OnnxNamespace.ITensorProto[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly names = new Set<string>();
  private readonly constantCache = new Map<string, string>();
  private readonly stopped = new Set<string>();
  private readonly scopes: string[] = [];
  private counter = 0;
  private parameterCount = 0;

  constructor(readonly name = 'graph', options: OnnxGraphBuilderOptions = {}) {
    this.opset = options.opset ?? DEFAULT_OPSET;
    if (!Number.isInteger(this.opset) || this.opset < 13) throw new Error(`OnnxGraphBuilder: opset ${this.opset} is not supported (need ≥ 13)`);
  }

  /** Number of nodes / initializers / initializer values so far. */
  get stats(): { nodes: number; initializers: number; initializerValues: number } {
    return { nodes: this.nodes.length, initializers: this.initializers.length, initializerValues: this.parameterCount };
  }

  /** Runs `fn` with `name` appended to the node-name prefix. */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** The current scope path joined with `/`, plus `base`. */
  scopedName(base: string): string {
    return this.scopes.length ? `${this.scopes.join('/')}/${base}` : base;
  }

  /** A graph-unique name starting with `base`. */
  uniqueName(base: string): string {
    const name = this.freshName(base);
    this.names.add(name);
    return name;
  }

  /** An unused name starting with `base`, not yet reserved. */
  private freshName(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    return name;
  }

  private claim(name: string, what: string): string {
    if (this.names.has(name)) throw new Error(`OnnxGraphBuilder: ${what} name "${name}" is already used`);
    this.names.add(name);
    return name;
  }

  /** Declares a graph input and returns its name. */
  input(name: string, shape: OnnxDim[], elemType: OnnxElementType = 'float'): string {
    this.inputs.push({ name: this.claim(name, 'input'), elemType, shape: [...shape] });
    return name;
  }

  /**
   * Declares `value` (a tensor produced in the graph) as a graph output. With `as`, the output gets
   * that name through an Identity node; the shape, when given, is recorded for consumers.
   */
  output(value: string, options: { as?: string; shape?: OnnxDim[]; elemType?: OnnxElementType } = {}): string {
    let name = value;
    if (options.as !== undefined && options.as !== value) {
      name = this.node('Identity', [value], {}, { name: options.as, outputs: [options.as] })[0]!;
    }
    if (this.outputs.some((o) => o.name === name)) throw new Error(`OnnxGraphBuilder: "${name}" is already a graph output`);
    this.outputs.push({ name, elemType: options.elemType ?? 'float', shape: options.shape && [...options.shape] });
    return name;
  }

  /** Adds a float32 initializer (a weight); returns its name. */
  initializer(name: string, data: FloatData, shape: number[]): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    checkShape(shape, values.length, `initializer "${name}"`);
    this.initializers.push({ name: this.claim(name, 'initializer'), dims: [...shape], dataType: OnnxDataType.float, rawData: bytesOf(values) });
    this.parameterCount += values.length;
    return name;
  }

  /** Adds an int64 initializer (shapes, axes, indices); returns its name. */
  int64Initializer(name: string, values: readonly number[], shape: number[] = [values.length]): string {
    checkShape(shape, values.length, `initializer "${name}"`);
    const data = BigInt64Array.from(values.map((v) => {
      if (!Number.isSafeInteger(v)) throw new Error(`initializer "${name}": ${v} is not an integer`);
      return BigInt(v);
    }));
    this.initializers.push({ name: this.claim(name, 'initializer'), dims: [...shape], dataType: OnnxDataType.int64, rawData: bytesOf(data) });
    return name;
  }

  /** A deduplicated float constant (scalar when `shape` is `[]`, the default for one value). */
  constFloat(values: number | FloatData, shape?: number[]): string {
    const arr = typeof values === 'number' ? Float32Array.of(values) : values instanceof Float32Array ? values : Float32Array.from(values);
    const dims = shape ?? (typeof values === 'number' ? [] : [arr.length]);
    const key = `f:${dims.join('x')}:${Array.from(arr).join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached) return cached;
    const name = this.initializer(this.freshName(`const_f${arr.length === 1 ? `_${String(arr[0]).replace(/[^0-9a-z.-]/gi, '_')}` : `${arr.length}`}`), arr, dims);
    this.parameterCount -= arr.length;
    this.constantCache.set(key, name);
    return name;
  }

  /** A deduplicated int64 constant (1-D unless `shape` says otherwise). */
  constInt64(values: readonly number[], shape?: number[]): string {
    const dims = shape ?? [values.length];
    const key = `i:${dims.join('x')}:${values.join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached) return cached;
    const name = this.int64Initializer(this.freshName(`const_i64_${values.join('_').replace(/-/g, 'm') || 'empty'}`), values, dims);
    this.constantCache.set(key, name);
    return name;
  }

  /**
   * Appends a node; returns its output names. Empty strings in `inputs` mark omitted optional inputs.
   */
  node(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttributeValue | undefined> = {}, options: OnnxNodeOptions = {}): string[] {
    const nodeName = options.name !== undefined ? this.claimNodeName(options.name) : this.uniqueName(this.scopedName(opType));
    for (const input of inputs) {
      if (input !== '' && !this.names.has(input)) throw new Error(`OnnxGraphBuilder: node ${nodeName} (${opType}) reads "${input}", which nothing defines`);
    }
    let outputs: string[];
    if (Array.isArray(options.outputs)) {
      outputs = options.outputs.map((o) => (o === nodeName ? o : this.claim(o, 'output')));
    } else {
      const count = options.outputs ?? 1;
      outputs = count === 1 ? [nodeName] : Array.from({ length: count }, (_, i) => this.uniqueName(`${nodeName}:${i}`));
    }
    const attribute = Object.entries(attrs)
      .filter((entry): entry is [string, OnnxAttributeValue] => entry[1] !== undefined)
      .map(([k, v]) => encodeAttribute(k, v));
    this.nodes.push({ name: nodeName, opType, input: [...inputs], output: outputs, attribute, domain: options.domain ?? '' });
    return outputs;
  }

  private claimNodeName(name: string): string {
    // A node named like its (single) output shares the name; claim it once.
    return this.claim(name, 'node');
  }

  /** {@link node} for single-output ops: returns the output name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttributeValue | undefined> = {}, options: Omit<OnnxNodeOptions, 'outputs'> = {}): string {
    return this.node(opType, inputs, attrs, options)[0]!;
  }

  // ---- introspection (what the gradient builder and shape inference read) ----

  /** The nodes so far, in the order added (a topological order: a node only reads defined names). */
  get graphNodes(): readonly OnnxNamespace.INodeProto[] {
    return this.nodes;
  }

  /** The initializers so far. */
  get graphInitializers(): readonly OnnxNamespace.ITensorProto[] {
    return this.initializers;
  }

  /** The declared graph inputs (name, element type, shape). */
  get graphInputs(): readonly { name: string; elemType: OnnxElementType; shape?: readonly OnnxDim[] }[] {
    return this.inputs;
  }

  /** The declared graph outputs. */
  get graphOutputs(): readonly { name: string; elemType: OnnxElementType; shape?: readonly OnnxDim[] }[] {
    return this.outputs;
  }

  /** Whether `name` is defined in the graph (an input, initializer or node output). */
  has(name: string): boolean {
    return this.names.has(name);
  }

  /**
   * `x` as a value that gradients do not flow through (an Identity the differentiator treats as a
   * constant), e.g. the max subtracted before a softmax's exp: it changes no value, only overflow.
   */
  stopGradient(x: string): string {
    const out = this.op('Identity', [x]);
    this.stopped.add(out);
    return out;
  }

  /** Whether `name` was made by {@link stopGradient}. */
  isStopGradient(name: string): boolean {
    return this.stopped.has(name);
  }

  // ---- helpers for common ops (they hide the opset-dependent forms) ----

  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }

  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }

  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }

  matMul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }

  /** `x · Wᵀ + b` with a PyTorch-layout weight `[out, in]` (Gemm, 2-D `x`). */
  gemm(x: string, weight: string, bias?: string): string {
    return this.op('Gemm', bias ? [x, weight, bias] : [x, weight], { transB: 1 });
  }

  sigmoid(x: string): string {
    return this.op('Sigmoid', [x]);
  }

  /** SiLU / swish: `x · sigmoid(x)`. */
  silu(x: string): string {
    return this.mul(x, this.sigmoid(x));
  }

  /** Exact (erf) GELU as its decomposition, which ORT fuses into one Gelu kernel. */
  gelu(x: string): string {
    const erf = this.op('Erf', [this.mul(x, this.constFloat(Math.SQRT1_2))]);
    return this.mul(this.mul(x, this.add(erf, this.constFloat(1))), this.constFloat(0.5));
  }

  softmax(x: string, axis: number): string {
    return this.op('Softmax', [x], { axis });
  }

  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm });
  }

  /** Reshape to a static target (`0` copies the input's dimension, `-1` is inferred). */
  reshape(x: string, shape: readonly number[] | string): string {
    return this.op('Reshape', [x, typeof shape === 'string' ? shape : this.constInt64(shape)]);
  }

  concat(inputs: readonly string[], axis: number): string {
    return this.op('Concat', inputs, { axis });
  }

  unsqueeze(x: string, axes: number[]): string {
    return this.opset >= 13 ? this.op('Unsqueeze', [x, this.constInt64(axes)]) : this.op('Unsqueeze', [x], { axes });
  }

  squeeze(x: string, axes: number[]): string {
    return this.op('Squeeze', [x, this.constInt64(axes)]);
  }

  /** Static slice along `axes`. */
  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const inputs = [x, this.constInt64(starts), this.constInt64(ends), this.constInt64(axes)];
    if (steps) inputs.push(this.constInt64(steps));
    return this.op('Slice', inputs);
  }

  /** Splits `x` along `axis` into parts of the given sizes. */
  split(x: string, sizes: number[], axis: number): string[] {
    return this.node('Split', [x, this.constInt64(sizes)], { axis }, { outputs: sizes.length });
  }

  /** `Shape` of x, optionally restricted to `[start, end)`. */
  shape(x: string, start?: number, end?: number): string {
    return this.op('Shape', [x], { start, end });
  }

  /** Mean over `axes` (keepdims by default), in the opset's form. */
  reduceMean(x: string, axes: number[], keepdims = true): string {
    return this.opset >= 18
      ? this.op('ReduceMean', [x, this.constInt64(axes)], { keepdims: keepdims ? 1 : 0 })
      : this.op('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  /** Sum over `axes` (keepdims by default); opset ≥ 13 takes the axes as an input. */
  reduceSum(x: string, axes: number[], keepdims = true): string {
    return this.op('ReduceSum', [x, this.constInt64(axes)], { keepdims: keepdims ? 1 : 0 });
  }

  /** ONNX LayerNormalization over the trailing axes from `axis` (opset ≥ 17). */
  layerNorm(x: string, scale: string, bias: string | undefined, epsilon: number, axis = -1): string {
    if (this.opset < 17) throw new Error('layerNorm needs opset ≥ 17');
    return this.op('LayerNormalization', bias ? [x, scale, bias] : [x, scale], { axis, epsilon: attrFloat(epsilon) });
  }

  /** 2-D convolution, NCHW; weight `[out, in/group, kh, kw]`. */
  conv(x: string, weight: string, bias: string | undefined, options: { pads?: number[]; strides?: number[]; group?: number } = {}): string {
    return this.op('Conv', bias ? [x, weight, bias] : [x, weight], {
      pads: options.pads,
      strides: options.strides,
      group: options.group,
    });
  }

  // ---- serialisation ----

  private valueInfo(v: ValueInfo): OnnxNamespace.IValueInfoProto {
    const tensorType: OnnxNamespace.TypeProto.ITensor = { elemType: OnnxDataType[v.elemType] };
    if (v.shape) {
      tensorType.shape = { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
    }
    return { name: v.name, type: { tensorType } };
  }

  /** The graph as an ONNX `ModelProto` message object. */
  toModelProto(options: OnnxModelOptions = {}): OnnxNamespace.ModelProto {
    if (this.outputs.length === 0) throw new Error('OnnxGraphBuilder: the graph has no outputs');
    const opsetImport: OnnxNamespace.IOperatorSetIdProto[] = [{ domain: '', version: this.opset }];
    for (const [domain, version] of Object.entries(options.domainOpsets ?? {})) opsetImport.push({ domain, version });
    const graph: OnnxNamespace.IGraphProto = {
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs.map((v) => this.valueInfo(v)),
      output: this.outputs.map((v) => this.valueInfo(v)),
    };
    return onnx.ModelProto.create({
      irVersion: options.irVersion ?? DEFAULT_IR_VERSION,
      opsetImport,
      producerName: options.producerName ?? 'srdiff',
      producerVersion: options.producerVersion ?? '',
      docString: options.docString ?? '',
      graph,
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
  }

  /** The serialised model (`.onnx` file bytes). */
  serialize(options: OnnxModelOptions = {}): Uint8Array {
    return onnx.ModelProto.encode(this.toModelProto(options)).finish();
  }
}

/** Float attribute helper usable in attribute objects. */
function attrFloat(value: number): OnnxAttributeValue {
  return { kind: 'float', value };
}
