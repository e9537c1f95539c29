import { checkObjectGraph, ObjectGraphError } from './object-graph';
import type { PyValue } from './pickle/python-values';
import { TorchFileError } from './torch-file-error';
import type { TorchTensorData } from './torch-dtypes';
import { materialiseTensor, TensorLayoutError } from './materialise-tensor';
import type { StorageRef, TorchTensor } from './torch-tensor';

/**
 * The last step of both formats: check the unpickled graph, then read each storage once (in the
 * order tensors first use it) and copy out every tensor that uses it, so at most one decoded
 * storage is held beyond the tensors themselves.
 */
export async function materialiseAll(
  root: unknown,
  source: string,
  readStorage: (key: string, ref: StorageRef) => Promise<TorchTensorData>,
): Promise<PyValue> {
  let checked: ReturnType<typeof checkObjectGraph>;
  try {
    checked = checkObjectGraph(root);
  } catch (err) {
    if (err instanceof ObjectGraphError) throw new TorchFileError(source, err.message);
    throw err;
  }
  const byStorage = new Map<string, TorchTensor[]>();
  for (const t of checked.tensorPaths.keys()) {
    const ref = t.layout.storage;
    const id = `${ref.key}\u0000${ref.type.name}`;
    const list = byStorage.get(id) ?? [];
    list.push(t);
    byStorage.set(id, list);
  }
  for (const tensors of byStorage.values()) {
    const ref = tensors[0]!.layout.storage;
    const data = await readStorage(ref.key, ref);
    tensors.forEach((t, i) => {
      try {
        t.setData(materialiseTensor(t, data, i === 0));
      } catch (err) {
        if (err instanceof TensorLayoutError) throw new TorchFileError(source, `tensor "${checked.tensorPaths.get(t) || '<the whole file>'}": ${err.message}`);
        throw err;
      }
    });
  }
  return checked.value;
}
