import type { HostTensor, Rng } from '@srdiff/core';
import { rngOf, type Degraded } from './common';
import { addHaze, type HazeOptions } from './haze';
import { makeLowLight, type LowLightOptions } from './low-light';
import { addMotionBlur, type MotionBlurOptions } from './motion-blur';
import { addRain, type RainOptions } from './rain';

export type DegradationTask = 'hazy' | 'rainy' | 'motion-blurry' | 'low-light';
export const DEGRADATION_TASKS: readonly DegradationTask[] = ['hazy', 'low-light', 'rainy', 'motion-blurry'];

export interface DegradationOptions {
  hazy?: HazeOptions;
  rainy?: RainOptions;
  'motion-blurry'?: MotionBlurOptions;
  'low-light'?: LowLightOptions;
}

/** Applies the synthetic degradation of `task` (deterministic for a seed). */
export function degrade(task: DegradationTask, image: HostTensor, seed: number | Rng, options: DegradationOptions = {}): Degraded {
  const rng = rngOf(seed);
  switch (task) {
    case 'hazy':
      return addHaze(image, rng, options.hazy);
    case 'rainy':
      return addRain(image, rng, options.rainy);
    case 'motion-blurry': {
      const { image: out, params } = addMotionBlur(image, rng, options['motion-blurry']);
      return { image: out, params };
    }
    case 'low-light':
      return makeLowLight(image, rng, options['low-light']);
    default:
      throw new Error(`degrade: unknown task "${task as string}"; expected one of ${DEGRADATION_TASKS.join(', ')}`);
  }
}
