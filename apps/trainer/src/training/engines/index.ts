import type { BackendName } from '@srdiff/core';
import type { IRSDE, IRSDEOptions } from '@srdiff/sde';
import type { ConditionalUNet, UNetConfig } from '@srdiff/unet';
import type { TrainOptions } from '../../options/train-options';
import { OnnxTrainingEngine } from './onnx-engine';
import { TfjsTrainingEngine } from './tfjs-engine';
import { resolveTrainingEngine, type DiffusionTrainingEngine, type TrainingEngineChoice } from './training-engine';

export { resolveTrainingEngine, type DiffusionTrainingEngine, type TrainingEngineChoice } from './training-engine';

/**
 * Starts the engine `train.engine` names from `model`'s weights (seeded initialisation or the
 * pretrained ones). The engine owns `model` from here (the ONNX engine copies its weights and
 * releases it).
 */
export async function startTrainingEngine(
  model: ConditionalUNet, sde: IRSDE, sdeOptions: IRSDEOptions, options: TrainOptions, backend: { backend: BackendName; description: string },
): Promise<DiffusionTrainingEngine> {
  const name = resolveTrainingEngine(options.train.engine as TrainingEngineChoice);
  if (name === 'tfjs') return TfjsTrainingEngine.start(model, sde, sdeOptions, options, backend);
  const weights = model.stateDict();
  const config = model.config as UNetConfig;
  model.dispose();
  return OnnxTrainingEngine.start(weights, config, sde, options);
}
