export { readTorchFile, torchFileFormat, type ReadTorchFileOptions, type TorchFileFormat } from './read-torch-file';
export { TorchFileError } from './torch-file-error';
export { TorchTensor, isTorchTensor, type TensorLayout, type StorageRef } from './torch-tensor';
export type { TorchDtype, TorchTensorData } from './torch-dtypes';
export { PyTuple, type PyValue, type PyDict, type PySet } from './pickle/python-values';
export { torchStateDict, stripModulePrefix, CHECKPOINT_STATE_DICT_KEYS, DDP_PREFIX, type TorchStateDict } from './torch-state-dict';
export { MAX_NESTING, MAX_EXPANDED_VALUES } from './object-graph';
export { MAX_TENSOR_ELEMENTS } from './materialise-tensor';
