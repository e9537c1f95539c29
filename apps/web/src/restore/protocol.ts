import type { ModelLocation } from '../model/file-source';
import type { WebManifest } from '../model/manifest';

/** RGBA pixels, as `ImageData` holds them (transferable between the page and the worker). */
export interface Pixels {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export type SamplerName = 'posterior' | 'sde' | 'ode';

export interface RestoreSettings {
  steps: number;
  seed: number;
  sampler: SamplerName;
  /** Images larger than this (either side) go tile by tile. */
  tile: number;
  overlap: number;
}

/** The page → the worker. */
export type Request =
  | { type: 'load'; location: ModelLocation; base: string; threads: number; providers: string[] }
  | { type: 'restore'; id: number; image: Pixels; settings: RestoreSettings }
  | { type: 'cancel'; id: number };

export interface ModelInfo {
  manifest: WebManifest;
  label: string;
  providers: readonly string[];
  threads: number;
  graph: string;
  backend: string;
  crossOriginIsolated: boolean;
  /** Whether the browser gave a WebGPU adapter (onnxruntime-web skips a provider it cannot start). */
  webgpuAdapter: boolean;
}

/** The worker → the page. */
export type Reply =
  | { type: 'status'; text: string }
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'progress'; id: number; step: number; steps: number; tile: number; tiles: number }
  | { type: 'done'; id: number; image: Pixels; values: Float32Array; ms: number; msPerStep: number }
  | { type: 'cancelled'; id: number }
  | { type: 'error'; id?: number; message: string };
