import fs from 'node:fs';
import path from 'node:path';
import { readSafetensors, type HostTensor, type TensorDict, type Tolerance } from '@srdiff/core';
import type { Schedule } from '../schedule/theta-schedules';

/**
 * Reading a reference folder laid out like the PyTorch reference set's `sde/` (meta.json +
 * schedules/ops/trajectory safetensors). Everything a verifier needs comes from meta.json, since
 * other reference sets use other configs, timesteps and seeds.
 */
export interface SdeConfigMeta {
  max_sigma?: number;
  max_sigma_arg?: number;
  T: number;
  eps: number;
  schedule: Schedule;
  sample_T?: number;
  sample_scale?: number;
}

export interface SdeReferenceMeta {
  tables: { configs: Record<string, SdeConfigMeta> };
  ops: {
    config: SdeConfigMeta;
    ts: number[];
    functions: { name: string; args: string[]; scalar: boolean }[];
    sample_T?: number;
  };
  trajectory: {
    config: SdeConfigMeta;
    sample_T?: number;
    sample_scale?: number;
    toy_noise_model_coefficients?: { a: number; b: number };
    t_sequence?: number[];
    methods: Record<string, { states: string; z: string | null }>;
  };
  tolerances: Record<string, Tolerance>;
}

export class ReferenceFormatError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ReferenceFormatError';
  }
}

export async function readSdeMeta(dir: string): Promise<SdeReferenceMeta> {
  const file = path.join(dir, 'meta.json');
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw new ReferenceFormatError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected a folder laid out like the reference's sde/`);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (err) {
    throw new ReferenceFormatError(file, `not valid JSON (${(err as Error).message})`);
  }
  for (const key of ['tables.configs', 'ops.config', 'ops.ts', 'ops.functions', 'trajectory.config', 'trajectory.methods', 'tolerances']) {
    if (lookup(meta, key) === undefined) throw new ReferenceFormatError(file, `missing "${key}"`);
  }
  return meta as SdeReferenceMeta;
}

/** Reads `<dir>/<name>`; missing keys are reported by {@link tensorOf}. */
export async function readReferenceTensors(dir: string, name: string): Promise<{ file: string; tensors: TensorDict }> {
  const file = path.join(dir, name);
  return { file, tensors: (await readSafetensors(file)).tensors };
}

export function tensorOf(source: { file: string; tensors: TensorDict }, key: string): HostTensor {
  const t = source.tensors[key];
  if (!t) throw new ReferenceFormatError(source.file, `missing tensor "${key}"`);
  return t;
}

function lookup(obj: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}
