/**
 * @srdiff/trainer — the `srdiff` CLI and the pipeline pieces behind it, usable from code.
 */
export { runCli } from './cli/main';
export { COMMANDS } from './commands';
export { trainDiffusion, NonFiniteLossError, type TrainDiffusionOptions, type TrainDiffusionResult, type TrainEvent } from './training/train-diffusion';
export { loadDiffusionCheckpoint, listCheckpoints, type DiffusionCheckpointMeta } from './training/diffusion-checkpoint';
export { RunDir } from './training/run-dir';
export { loadOptions, mergeOptions, type LoadedOptions } from './options/load-options';
export { OptionsError, validate as validateOptions, describeSchema } from './options/schema';
export { TRAIN_OPTIONS_SCHEMA, TASKS, type TrainOptions, type DatasetOptions, type NetworkSetting } from './options/train-options';
export { TEST_OPTIONS_SCHEMA, type TestOptions } from './options/test-options';
export { createEngine, resolveEngine, type EngineChoice, type RestoreEngine } from './restore/engine';
export { restoreImage, type RestoreImageOptions } from './restore/restore-image';
export { evaluateDataset, type DatasetEvaluation, type EvaluationRow } from './restore/evaluate-dataset';
export { resolveUnetModel, type ResolvedModel } from './pipeline/resolve-model';
export { matchingLossGradients, type MatchingLossSettings, type DiffusionBatch } from './training/diffusion-loss';
export { DataParallelGradients, resolveGradientThreads, type DataParallelOptions } from './training/parallel/data-parallel';
