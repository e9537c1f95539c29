import { field, object, type ObjectSpec } from './schema';

/**
 * Options of `srdiff train` / `srdiff test` / `srdiff restore`, with the original SR-Diff YAML keys
 * (`options/train.yml`, `options/test.yml`) so an original file works once its paths are changed.
 * Keys we add are marked "(srdiff)". Every default lives here.
 */
export const TASKS = ['hazy', 'low-light', 'rainy', 'motion-blurry'] as const;

const sde = object({
  max_sigma: field('number', 'noise level of the SDE in 0–255 units (divided by 255 when >= 1)', { default: 10, gt: 0 }),
  T: field('integer', 'number of diffusion steps', { default: 100, min: 1 }),
  schedule: field('string', 'theta schedule', { default: 'cosine', choices: ['cosine', 'linear', 'constant'] }),
  eps: field('number', 'how close the forward process gets to mu at T', { default: 0.005, gt: 0, lt: 1 }),
  sample_T: field('integer', '(srdiff) sampling steps when fewer than T (the network time is scaled by T/sample_T)', { nullable: true, min: 1 }),
  sampling_mode: field('string', 'reverse process used to restore', { default: 'posterior', choices: ['posterior', 'sde', 'ode'] }),
});

const dataset = object(
  {
    name: field('string', 'dataset name shown in logs', { default: 'dataset' }),
    mode: field('string', 'dataset mode (paired LQ/GT folders)', { default: 'LQGT', choices: ['LQGT', 'MDLQGT'] }),
    dataroot: field('string', '(srdiff) root of the standard layout datasets/{train,val}/<task>/{LQ,GT,...}', { nullable: true }),
    dataroot_GT: field('string', 'folder of ground-truth images (instead of dataroot)', { nullable: true }),
    dataroot_LQ: field('string', 'folder of degraded images (instead of dataroot)', { nullable: true }),
    context: field('string', '(srdiff) embeddings guiding the UNet: RestoreCLS (refined by the SRM; computed with srm.path when missing) or LQCLS (unrefined, what the original training code uses)', { default: 'RestoreCLS', choices: ['RestoreCLS', 'LQCLS'] }),
    batch_size: field('integer', 'images per training batch', { default: 4, min: 1 }),
    patch_size: field('integer', 'training crop size in pixels', { default: 256, min: 8 }),
    use_flip: field('boolean', 'random horizontal/vertical flips', { default: true }),
    use_rot: field('boolean', 'random 90-degree rotations', { default: true }),
    use_shuffle: field('boolean', 'shuffle every epoch', { default: true }),
    n_workers: field('integer', 'decode-ahead depth (batches prefetched)', { default: 2, min: 0 }),
    small_images: field('string', '(srdiff) images smaller than patch_size: error or reflect-pad', { default: 'error', choices: ['error', 'pad'] }),
    on_error: field('string', '(srdiff) a pair that cannot be used (undecodable image, bad embedding, missing partner): stop, naming the file, or skip it with a warning (counted)', { default: 'stop', choices: ['stop', 'skip'] }),
    max_images: field('integer', '(srdiff) use at most this many pairs (validation/test)', { nullable: true, min: 1 }),
  },
  { ignored: ['color', 'large-size', 'use_crop', 'GT_size', 'LR_size', 'dataroot_LQCLS'] },
);

export const NETWORK_SETTING = object({
  in_nc: field('integer', 'input channels', { default: 3, min: 1 }),
  out_nc: field('integer', 'output channels', { default: 3, min: 1 }),
  nf: field('integer', 'base width of the UNet', { default: 64, min: 1 }),
  ch_mult: field('integer[]', 'width multiplier per level', { default: [1, 2, 4, 8] }),
  context_dim: field('integer', 'width of the semantic embedding (the VLM width)', { default: 768, min: 1 }),
  use_degra_context: field('boolean', 'text/prompt context path', { default: false }),
  use_image_context: field('boolean', 'cross-attention on the image embedding', { default: true }),
});

export const TRAIN_OPTIONS_SCHEMA: ObjectSpec<TrainOptions> = object<TrainOptions>(
  {
    name: field('string', 'experiment name (run folder name)', { default: 'srdiff' }),
    distortion: field('string[]', 'tasks to train on (subfolders of dataroot)', { default: [] }),
    backend: field('string', '(srdiff) TensorFlow.js backend for training', { default: 'auto', choices: ['auto', 'tensorflow', 'wasm', 'cpu'] }),
    engine: field('string', '(srdiff) engine for validation sampling', { default: 'auto', choices: ['auto', 'onnx', 'tfjs'] }),
    sde,
    datasets: object({ train: dataset, val: dataset }),
    network_G: object({
      which_model_G: field('string', 'network class', { default: 'ConditionalUNet', choices: ['ConditionalUNet'] }),
      setting: NETWORK_SETTING,
    }),
    srm: object({
      path: field('string', '(srdiff) frozen SRM weights/checkpoint, used to refine LQCLS when RestoreCLS is absent (and by restore)', { nullable: true }),
    }),
    vlm: object({
      model: field('string', '(srdiff) the VLM the embeddings came from (recorded from LQCLS/manifest.json; used by restore)', { nullable: true }),
    }),
    path: object(
      {
        pretrain_model_G: field('string', 'weights to start from (safetensors state dict)', { nullable: true }),
        resume_state: field('string', 'checkpoint to resume (or "auto": the run folder\'s last checkpoint)', { nullable: true }),
        strict_load: field('boolean', 'require pretrain_model_G keys to match exactly', { default: true }),
        experiments_root: field('string', '(srdiff) run folder (default runs/<name>)', { nullable: true }),
      },
      { ignored: ['daclip', 'root', 'models', 'training_state', 'log', 'val_images', 'results_root'] },
    ),
    train: object(
      {
        optimizer: field('string', 'optimizer', { default: 'AdamW', choices: ['AdamW', 'Adam'] }),
        lr_G: field('number', 'learning rate', { default: 2e-4, gt: 0 }),
        lr_scheme: field('string', 'learning-rate schedule', { default: 'TrueCosineAnnealingLR', choices: ['TrueCosineAnnealingLR', 'MultiStepLR', 'Constant'] }),
        beta1: field('number', 'Adam beta1', { default: 0.9, min: 0, lt: 1 }),
        beta2: field('number', 'Adam beta2', { default: 0.99, min: 0, lt: 1 }),
        weight_decay_G: field('number', 'decoupled weight decay', { default: 0, min: 0 }),
        niter: field('integer', 'training iterations', { default: 1500000, min: 1 }),
        warmup_iter: field('integer', 'linear warm-up iterations (-1: none)', { default: -1, min: -1 }),
        lr_steps: field('integer[]', 'MultiStepLR milestones', { default: [200000, 400000, 700000] }),
        lr_gamma: field('number', 'MultiStepLR factor', { default: 0.5, gt: 0 }),
        eta_min: field('number', 'final learning rate of the cosine schedule', { default: 3e-6, min: 0 }),
        is_weighted: field('boolean', 'weighted matching loss (not used by SR-Diff)', { default: false }),
        loss_type: field('string', 'matching loss', { default: 'l1', choices: ['l1', 'l2'] }),
        weight: field('number', 'loss weight', { default: 1, gt: 0 }),
        manual_seed: field('integer', 'seed of every random choice', { default: 0 }),
        val_freq: field('integer', 'validate every N iterations', { default: 5000, min: 1 }),
        ema_beta: field('number', '(srdiff) EMA decay ceiling (the original: 0.995)', { default: 0.995, min: 0, lt: 1 }),
        ema_update_every: field('integer', '(srdiff) EMA update period (the original: 10)', { default: 10, min: 1 }),
        ema_update_after_step: field('integer', '(srdiff) EMA copies the weights until this step (ema_pytorch default)', { default: 100, min: 0 }),
        grad_clip: field('number', '(srdiff) global grad-norm clip (the original: none)', { nullable: true, gt: 0 }),
        threads: field('integer', '(srdiff) threads computing gradients: ONNX Runtime intra-op threads (engine onnx), or threads each on a shard of the batch (engine tfjs, data parallel on wasm/cpu; at most batch_size); 0 = one per CPU core', { default: 0, min: 0 }),
        engine: field('string', '(srdiff) what runs the training steps: onnx (the whole step as one ONNX Runtime graph; fast), tfjs (the TensorFlow.js reference engine) or auto (onnx when onnxruntime-node loads)', { default: 'auto', choices: ['auto', 'onnx', 'tfjs'] }),
        providers: field('string[]', '(srdiff) ONNX Runtime execution providers for training and validation, in order of preference (e.g. [cuda, cpu]; one that cannot start falls back to the next)', { default: ['cpu'] }),
      },
      { ignored: ['restarts', 'restart_weights', 'clear_state', 'lr_D', 'pixel_criterion'] },
    ),
    logger: object({
      print_freq: field('integer', 'log every N iterations', { default: 200, min: 1 }),
      save_checkpoint_freq: field('integer', 'checkpoint every N iterations', { default: 5000, min: 1 }),
    }),
  },
  { ignored: ['model', 'gpu_ids', 'use_tb_logger', 'degradation', 'suffix', 'is_train', 'dist'] },
);

export type Task = (typeof TASKS)[number];

export interface DatasetOptions {
  name: string;
  mode: string;
  dataroot: string | null;
  dataroot_GT: string | null;
  dataroot_LQ: string | null;
  context: 'RestoreCLS' | 'LQCLS';
  batch_size: number;
  patch_size: number;
  use_flip: boolean;
  use_rot: boolean;
  use_shuffle: boolean;
  n_workers: number;
  small_images: 'error' | 'pad';
  on_error: 'stop' | 'skip';
  max_images: number | null;
}

export interface NetworkSetting {
  in_nc: number;
  out_nc: number;
  nf: number;
  ch_mult: number[];
  context_dim: number;
  use_degra_context: boolean;
  use_image_context: boolean;
}

export interface TrainOptions {
  name: string;
  distortion: string[];
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  engine: 'auto' | 'onnx' | 'tfjs';
  sde: { max_sigma: number; T: number; schedule: 'cosine' | 'linear' | 'constant'; eps: number; sample_T: number | null; sampling_mode: 'posterior' | 'sde' | 'ode' };
  datasets: { train: DatasetOptions; val: DatasetOptions };
  network_G: { which_model_G: string; setting: NetworkSetting };
  srm: { path: string | null };
  vlm: { model: string | null };
  path: { pretrain_model_G: string | null; resume_state: string | null; strict_load: boolean; experiments_root: string | null };
  train: {
    optimizer: 'AdamW' | 'Adam';
    lr_G: number;
    lr_scheme: 'TrueCosineAnnealingLR' | 'MultiStepLR' | 'Constant';
    beta1: number;
    beta2: number;
    weight_decay_G: number;
    niter: number;
    warmup_iter: number;
    lr_steps: number[];
    lr_gamma: number;
    eta_min: number;
    is_weighted: boolean;
    loss_type: 'l1' | 'l2';
    weight: number;
    manual_seed: number;
    val_freq: number;
    ema_beta: number;
    ema_update_every: number;
    ema_update_after_step: number;
    grad_clip: number | null;
    threads: number;
    engine: 'auto' | 'onnx' | 'tfjs';
    providers: string[];
  };
  logger: { print_freq: number; save_checkpoint_freq: number };
}
