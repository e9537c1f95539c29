import { IRSDE, type IRSDEOptions } from '@srdiff/sde';
import { validate } from './schema';
import { TRAIN_OPTIONS_SCHEMA, type TrainOptions } from './train-options';

/**
 * The one layer between the options files (the original's YAML keys, snake_case) and the
 * packages' option objects: every command and the trainer build their IR-SDE here, from the
 * `sde` section, and take its defaults from the schema — not from constants of their own.
 */

/** The `sde` section of an options file (train.yml / test.yml), resolved. */
export type SdeSection = TrainOptions['sde'];

/** The `sde` section's defaults, read off the schema (the one place they are written). */
export function defaultSdeSection(): SdeSection {
  return validate<TrainOptions>(TRAIN_OPTIONS_SCHEMA, { sde: {} }).value.sde;
}

/** `sde.max_sigma`, `sde.T`, … → `@srdiff/sde`'s {@link IRSDEOptions}. */
export function irsdeOptions(sde: Pick<SdeSection, 'max_sigma' | 'T' | 'schedule' | 'eps'>): IRSDEOptions {
  return { maxSigma: sde.max_sigma, T: sde.T, schedule: sde.schedule, eps: sde.eps };
}

/**
 * The IR-SDE the section describes, sampled in `steps` steps when given (`sde.sample_T` by
 * default; the network time is then scaled by T/steps), else in all T.
 */
export function samplingSde(sde: Pick<SdeSection, 'max_sigma' | 'T' | 'schedule' | 'eps' | 'sample_T'>, steps: number | null | undefined = sde.sample_T): IRSDE {
  const full = new IRSDE(irsdeOptions(sde));
  return steps ? full.withSampleSteps(steps) : full;
}
