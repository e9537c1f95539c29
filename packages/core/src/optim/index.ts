export * from './gradients';
export * from './adamw';
export * from './lr-schedules';
export * from './ema';
export * from './host';
