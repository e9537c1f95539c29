export { tiledProcess, TILED_PROCESS_DEFAULTS, type TiledProcessOptions, type TileInfo } from './tiled-process';
export { planAxis, tileStarts, type AxisTiling } from './tile-grid';
