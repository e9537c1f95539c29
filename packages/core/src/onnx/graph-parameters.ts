import type { HostTensor, TensorDict } from '../io/host-tensor';
import type { OnnxGraphBuilder } from './graph-builder';

/**
 * How a network's weights enter its graph:
 * - `'constant'`: as initializers holding the values (inference; ORT folds any arithmetic the
 *   emitters do on them, e.g. transposes, into new constants when the session loads);
 * - `'input'`: as graph inputs (training: the same graph is differentiated with respect to them,
 *   and the values are fed at every step).
 */
export type ParameterMode = 'constant' | 'input';

export interface GraphParametersOptions {
  mode?: ParameterMode;
  /** Where the weights came from, for error messages. */
  source?: string;
  /** The error type to throw (default Error), so each package keeps its own. */
  error?: new (message: string) => Error;
}

/**
 * The state dict a graph emitter reads from (PyTorch names and layouts). Every read checks the shape
 * the architecture expects, and {@link assertAllUsed} lists keys nobody read, so a checkpoint of
 * another config fails with the names of what does not fit instead of producing a wrong graph.
 * Emitters take graph tensors with {@link tensor} and express any re-layout of a weight as graph
 * ops on it, so one emitter serves both modes.
 */
export class GraphParameters {
  readonly mode: ParameterMode;
  readonly source: string;
  private readonly used = new Set<string>();
  private readonly tensors = new Map<string, string>();
  private readonly declared: string[] = [];
  private readonly ErrorType: new (message: string) => Error;

  constructor(private readonly g: OnnxGraphBuilder, private readonly dict: TensorDict, options: GraphParametersOptions = {}) {
    this.mode = options.mode ?? 'constant';
    this.source = options.source ?? 'state dict';
    this.ErrorType = options.error ?? Error;
  }

  /** Whether weights are graph inputs (a training graph). */
  get trainable(): boolean {
    return this.mode === 'input';
  }

  /** The host value of `name`, which must have `shape` (marks it used). */
  take(name: string, shape: readonly number[]): HostTensor {
    const t = this.dict[name];
    if (!t) throw new this.ErrorType(`${this.source}: missing key "${name}" (expected shape [${shape.join(', ')}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new this.ErrorType(`${this.source}: "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new this.ErrorType(`${this.source}: "${name}" holds ${t.data.length} values for shape [${shape.join(', ')}]`);
    this.used.add(name);
    return t;
  }

  /** The graph tensor of weight `name` (PyTorch name and layout): an initializer or a graph input. */
  tensor(name: string, shape: readonly number[]): string {
    const cached = this.tensors.get(name);
    if (cached) return cached;
    const t = this.take(name, shape);
    const tensor = this.mode === 'input' ? this.g.input(name, [...shape]) : this.g.initializer(name, t.data, [...shape]);
    if (this.mode === 'input') this.declared.push(name);
    this.tensors.set(name, tensor);
    return tensor;
  }

  /**
   * Marks weights that exist for the architecture but provably do not influence this graph (e.g.
   * the queries of an attention over one key). Their gradient is exactly zero.
   */
  skip(names: readonly string[]): void {
    for (const name of names) if (this.dict[name]) this.used.add(name);
  }

  /** Weights declared as graph inputs, in order (input mode). */
  get inputNames(): readonly string[] {
    return this.declared;
  }

  /** Weights that were read (shape-checked) or skipped but are not in the graph: their gradient is zero. */
  get unusedNames(): readonly string[] {
    return [...this.used].filter((k) => !this.tensors.has(k));
  }

  /** Throws when the dict holds keys the emitter never read. */
  assertAllUsed(): void {
    const unexpected = Object.keys(this.dict).filter((k) => !this.used.has(k));
    if (unexpected.length) {
      const shown = unexpected.slice(0, 10).map((k) => `"${k}"`).join(', ');
      throw new this.ErrorType(`${this.source}: ${unexpected.length} unexpected key(s) for this config: ${shown}${unexpected.length > 10 ? ', …' : ''}`);
    }
  }
}
