import type { TensorDict } from '../host-tensor';
import { pyTypeName, type PyValue } from './pickle/python-values';
import { TorchFileError } from './torch-file-error';
import { TorchTensor } from './torch-tensor';

/**
 * Keys under which checkpoints keep the model's weights: `model_state_dict` is the original
 * SR-Diff's SRM epoch checkpoint (`sr/train.py`: `{epoch, model_state_dict, optimizer_state_dict,
 * loss}`); `state_dict` the other common convention.
 */
export const CHECKPOINT_STATE_DICT_KEYS = ['model_state_dict', 'state_dict'] as const;

export interface TorchStateDict {
  /** float32 tensors under their PyTorch names (other dtypes converted, as `.float()` would). */
  tensors: TensorDict;
  /** The checkpoint key the weights were found under, when the file is not a bare state dict. */
  key?: string;
}

function isTensorDict(v: unknown): v is Map<PyValue, PyValue> {
  if (!(v instanceof Map) || v.size === 0) return false;
  for (const x of v.values()) if (!(x instanceof TorchTensor)) return false;
  return true;
}

/**
 * The state dict a loaded `torch.save` file holds: the file itself when it is a dict of tensors
 * (`torch.save(model.state_dict())`), else the dict under one of {@link CHECKPOINT_STATE_DICT_KEYS}.
 * Anything else is an error that names the file and lists what it holds.
 */
export function torchStateDict(value: PyValue, source: string): TorchStateDict {
  let dict: Map<PyValue, PyValue> | undefined;
  let key: string | undefined;
  if (isTensorDict(value)) dict = value;
  else if (value instanceof Map) {
    key = CHECKPOINT_STATE_DICT_KEYS.find((k) => isTensorDict(value.get(k)));
    if (key) dict = value.get(key) as Map<PyValue, PyValue>;
  }
  if (!dict) throw new TorchFileError(source, `not a state dict: ${describeTop(value)}; expected a dict of tensors (torch.save(model.state_dict())) or a checkpoint with one under ${CHECKPOINT_STATE_DICT_KEYS.map((k) => `"${k}"`).join(' or ')}`);
  const tensors: TensorDict = {};
  for (const [k, t] of dict) {
    if (typeof k !== 'string') throw new TorchFileError(source, `state dict${key ? ` "${key}"` : ''} has a ${pyTypeName(k)} key ${String(k)}; parameter names are strings`);
    tensors[k] = (t as TorchTensor).toHostTensor();
  }
  return { tensors, key };
}

function describeTop(v: PyValue): string {
  if (!(v instanceof Map)) return `the file holds a ${pyTypeName(v)}`;
  if (!v.size) return 'the file holds an empty dict';
  const entries = [...v].slice(0, 8).map(([k, x]) => `${String(k)} (${pyTypeName(x)})`);
  return `its top-level keys are ${entries.join(', ')}${v.size > 8 ? `, … (${v.size} in all)` : ''}`;
}

/** The prefix `nn.DataParallel` / `DistributedDataParallel` put on every key of a wrapped model's state dict. */
export const DDP_PREFIX = 'module.';

/**
 * Strips `module.` from every key when every key has it (a state dict saved from a model wrapped
 * in DataParallel / DistributedDataParallel, as the original code trains); otherwise returns the
 * dict unchanged. Keys keep their order. The weight loaders of srdiff call this, so such files
 * load by name.
 */
export function stripModulePrefix(tensors: TensorDict): { tensors: TensorDict; stripped: boolean } {
  const keys = Object.keys(tensors);
  if (!keys.length || !keys.every((k) => k.startsWith(DDP_PREFIX))) return { tensors, stripped: false };
  const out: TensorDict = {};
  for (const k of keys) out[k.slice(DDP_PREFIX.length)] = tensors[k]!;
  return { tensors: out, stripped: true };
}
