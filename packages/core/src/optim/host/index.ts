export { ParameterArena, type ArenaSlot } from './parameter-arena';
export { HostAdamW } from './host-adamw';
export { HostEma } from './host-ema';
export { clipGradNormInPlace } from './clip-grad-norm';
