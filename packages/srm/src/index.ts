/**
 * @srdiff/srm — SR-Diff's Semantic Refinement Module (the original `CLSEnhancer`): maps the VLM
 * embedding of a degraded image towards the embedding of its clean image; trained on (LQ, GT)
 * embedding pairs, then frozen to condition the diffusion model.
 */
export {
  SRM_DEFAULTS,
  TRAIN_SRM_DEFAULTS,
  REFINE_DEFAULTS,
  RUN_DEFINING_SETTINGS,
  resolveSrmConfig,
  resolveTrainSrmSettings,
  type SrmConfig,
  type TrainSrmSettings,
} from './config';
export { SemanticRefinementModule, inferSrmConfig, type FromStateDictOptions, type SrmIntermediates } from './models/semantic-refinement-module';
export { SREncoderLayer } from './models/sr-encoder-layer';
export { GeluMlp } from './models/gelu-mlp';
export { linear } from '@srdiff/core';
export { hybridLoss, rowCosineSimilarity, HYBRID_LOSS_ALPHA } from './loss/hybrid-loss';
export { listEmbeddingFiles, readEmbeddingFile, EMBEDDING_EXTENSION, type EmbeddingFile } from './data/embedding-files';
export {
  createEmbeddingPairs,
  readEmbeddingPairs,
  selectPairs,
  splitEmbeddingPairs,
  type EmbeddingPairs,
  type ReadEmbeddingPairsOptions,
} from './data/embedding-pairs';
export { saveSrmWeights, loadSrm, SRM_WEIGHTS_FILE, SRM_WEIGHTS_FORMAT } from './io/srm-weights';
export { srmTrainStep, type SrmStepSettings, type SrmStepResult } from './training/train-step';
export { createSrmStepEngine, resolveSrmEngine, type SrmEngineName, type SrmStepEngine } from './training/step-engine';
export { evaluateSrm, type SrmEvaluation, type EvaluateSrmOptions } from './training/evaluate';
export {
  readSrmCheckpoint,
  writeSrmCheckpoint,
  CHECKPOINT_LAST_FILE,
  CHECKPOINT_BEST_FILE,
  SRM_CHECKPOINT_FORMAT,
  type SrmCheckpointMeta,
  type SrmEpochRecord,
  type SrmBest,
  type SrmBestMetric,
  type LoadedSrmCheckpoint,
} from './training/srm-checkpoint';
export {
  trainSrm,
  SrmTrainingAbortedError,
  type TrainSrmOptions,
  type TrainSrmResult,
  type SrmTrainingEvent,
  type EmbeddingFolders,
} from './training/train-srm';
export { refine, refineFolder, type RefineOptions, type RefineFolderOptions, type RefineFolderResult } from './refine';
export { verifySrmReference, type VerifySrmOptions } from './verify';
export * from './onnx';
