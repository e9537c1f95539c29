// What each README's main example expects to find in its working folder, as a reader following
// the README would have it: the files the example names (a downloaded model, photos, an options
// file). Everything else the example does must work from the installed packages alone.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The tiny random CLIP of @srdiff/vlm's test fixtures, standing in for a downloaded ViT-B/32. */
function tinyClip(repo) {
  return path.join(repo, 'packages', 'vlm', 'test', 'fixtures', 'tiny-clip');
}

const TRAIN_YML = `# A tiny run of the README's example: 76 k parameters, 32x32 crops, one task.
name: consumer
distortion: [rainy]
sde: { max_sigma: 10, T: 10, schedule: cosine, eps: 0.005 }
datasets:
  train: { dataroot: datasets, batch_size: 2, patch_size: 32, n_workers: 0 }
network_G:
  setting: { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2], context_dim: 16, use_degra_context: false, use_image_context: false }
path: { experiments_root: runs/consumer }
train: { lr_G: 0.001, threads: 1, val_freq: 1000000 }
logger: { print_freq: 1000000, save_checkpoint_freq: 1000000 }
`;

/** Prepares `dir` for the example of `name` (@srdiff/<name>); `project` is the consumer project. */
export async function prepareExampleFolder(name, dir, { repo, project }) {
  fs.mkdirSync(dir, { recursive: true });
  const requireInProject = createRequire(path.join(project, 'package.json'));
  if (name === 'vlm') {
    const clip = tinyClip(repo);
    fs.cpSync(path.join(clip, 'model'), path.join(dir, 'models', 'clip-vit-base-patch32'), { recursive: true });
    fs.copyFileSync(path.join(clip, 'images', 'rgb_50x40.png'), path.join(dir, 'photo.png'));
    const sharp = requireInProject('sharp');
    await sharp(path.join(clip, 'images', 'rgb_32x32.png')).jpeg({ quality: 95 }).toFile(path.join(dir, 'other.jpg'));
    const lq = path.join(dir, 'datasets', 'train', 'hazy', 'LQ');
    fs.mkdirSync(lq, { recursive: true });
    for (const f of fs.readdirSync(path.join(clip, 'images'))) fs.copyFileSync(path.join(clip, 'images', f), path.join(lq, f));
  }
  if (name === 'trainer') {
    fs.writeFileSync(path.join(dir, 'train.yml'), TRAIN_YML);
    const { buildDegradedDataset, bundledCleanImagesDir } = requireInProject('@srdiff/data');
    await buildDegradedDataset(bundledCleanImagesDir(), path.join(dir, 'datasets'), { tasks: ['rainy'], perImage: 1, patchSize: 32, valFraction: 0, seed: 0 });
  }
}
