export { ParameterArena, arenaSlots, layoutOf, type ArenaSlot, type ArenaAllocator } from './parameter-arena';
export { ArenaSpace } from './arena-space';
export { HostAdamW } from './host-adamw';
export { HostEma } from './host-ema';
export { clipGradNormInPlace } from './clip-grad-norm';
