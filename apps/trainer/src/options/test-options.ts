import { TRAIN_OPTIONS_SCHEMA, type DatasetOptions, type TrainOptions } from './train-options';
import { field, object, type ObjectSpec } from './schema';

/**
 * Options of `srdiff test` (the original `options/test.yml`): the same sections as training, but
 * `datasets` holds any number of named test sets (`test1`, `test2`, ...) and `path.results_root`
 * receives the restored images and metrics.
 */
const trainFields = TRAIN_OPTIONS_SCHEMA.fields;
const datasetSpec = (trainFields.datasets as ObjectSpec).fields.val!;

export const TEST_OPTIONS_SCHEMA: ObjectSpec<TestOptions> = object<TestOptions>(
  {
    name: trainFields.name!,
    distortion: trainFields.distortion!,
    backend: trainFields.backend!,
    engine: trainFields.engine!,
    sde: trainFields.sde!,
    datasets: object({}, { additional: datasetSpec }),
    network_G: trainFields.network_G!,
    srm: trainFields.srm!,
    vlm: trainFields.vlm!,
    path: object(
      {
        pretrain_model_G: field('string', 'UNet weights (safetensors), a training checkpoint, or a run folder', { nullable: true }),
        strict_load: field('boolean', 'require the weights to match the network exactly', { default: true }),
        results_root: field('string', '(srdiff) where restored images and metrics go (default results/<name>)', { nullable: true }),
      },
      { ignored: ['daclip', 'root', 'resume_state', 'experiments_root'] },
    ),
    test: object({
      best_of: field('integer', '(srdiff) samples per image, best PSNR against GT kept (the original: 10; optimistic)', { default: 1, min: 1 }),
      crop_border: field('integer', 'pixels cropped from each side before measuring (test.py: degradation.scale = 4)', { default: 4, min: 0 }),
      seed: field('integer', 'seed of the sampling noise', { default: 0 }),
      tile: field('integer', '(srdiff) images larger than this are restored in overlapping tiles', { nullable: true, min: 32 }),
    }),
  },
  { ignored: ['model', 'gpu_ids', 'use_tb_logger', 'degradation', 'suffix', 'is_train', 'dist'] },
);

export interface TestOptions extends Pick<TrainOptions, 'name' | 'distortion' | 'backend' | 'engine' | 'sde' | 'network_G' | 'srm' | 'vlm'> {
  datasets: Record<string, DatasetOptions>;
  path: { pretrain_model_G: string | null; strict_load: boolean; results_root: string | null };
  test: { best_of: number; crop_border: number; seed: number; tile: number | null };
}
