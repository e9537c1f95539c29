import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { TensorDict } from './host-tensor';
import { parseSafetensors, serializeSafetensors } from './safetensors';
import { writeFileAtomic } from './atomic';

/**
 * A training checkpoint in one safetensors file: tensor groups under prefixed keys
 * (`model.<name>`, `optimizer.exp_avg.<name>`, `ema.<name>`, ...) plus JSON metadata (step, schedule
 * position, RNG states, options). A SHA-256 of the tensor bytes is stored in the metadata so a
 * damaged file is detected on load, not trained on. Written atomically.
 */
export interface Checkpoint<Meta = Record<string, unknown>> {
  groups: Record<string, TensorDict>;
  meta: Meta;
}

export const CHECKPOINT_FORMAT = 'srdiff-checkpoint/1';

/**
 * What is wrong with a checkpoint file: it cannot be read (`io`: missing, permissions — the file
 * itself may be fine), is not a safetensors file or is cut short (`unreadable`), is safetensors but
 * not a training checkpoint (`not-checkpoint`: e.g. plain weights), or its tensors fail the
 * checksum (`damaged`).
 */
export type CheckpointProblem = 'io' | 'unreadable' | 'not-checkpoint' | 'damaged';

export class CheckpointError extends Error {
  constructor(readonly file: string, message: string, readonly problem: CheckpointProblem = 'unreadable') {
    super(`${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}

function digest(groups: Record<string, TensorDict>): string {
  const h = createHash('sha256');
  for (const [group, dict] of Object.entries(groups)) {
    for (const [name, t] of Object.entries(dict)) {
      h.update(`${group}.${name}:${t.shape.join(',')};`);
      h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
  }
  return h.digest('hex');
}

export function serializeCheckpoint(ckpt: Checkpoint<unknown>): Uint8Array {
  const flat: TensorDict = {};
  for (const [group, dict] of Object.entries(ckpt.groups)) {
    if (group.includes('/')) throw new Error(`checkpoint group "${group}" must not contain "/"`);
    for (const [name, t] of Object.entries(dict)) flat[`${group}/${name}`] = t;
  }
  return serializeSafetensors(flat, {
    format: CHECKPOINT_FORMAT,
    groups: JSON.stringify(Object.keys(ckpt.groups)),
    meta: JSON.stringify(ckpt.meta),
    sha256: digest(ckpt.groups),
  });
}

export function parseCheckpoint<Meta = Record<string, unknown>>(bytes: Uint8Array, file = '<buffer>'): Checkpoint<Meta> {
  let parsed;
  try {
    parsed = parseSafetensors(bytes, file);
  } catch (err) {
    throw new CheckpointError(file, `unreadable checkpoint (${(err as Error).message})`, 'unreadable');
  }
  const { tensors, metadata } = parsed;
  if (metadata.format !== CHECKPOINT_FORMAT) {
    // No API hint here: the caller knows which option or flag loads plain weights instead.
    throw new CheckpointError(file, `not an srdiff training checkpoint (format "${metadata.format ?? 'none'}", expected "${CHECKPOINT_FORMAT}"; plain weights are not a checkpoint)`, 'not-checkpoint');
  }
  const groups: Record<string, TensorDict> = {};
  for (const g of JSON.parse(metadata.groups ?? '[]') as string[]) groups[g] = {};
  // safetensors does not keep key order: restore each group's order from the names' first appearance.
  for (const [key, t] of Object.entries(tensors)) {
    const slash = key.indexOf('/');
    const group = key.slice(0, slash);
    (groups[group] ??= {})[key.slice(slash + 1)] = t;
  }
  if (metadata.sha256 && digest(groups) !== metadata.sha256) {
    throw new CheckpointError(file, 'checksum mismatch: the file is damaged', 'damaged');
  }
  return { groups, meta: JSON.parse(metadata.meta ?? '{}') as Meta };
}

export async function writeCheckpoint(file: string, ckpt: Checkpoint<unknown>): Promise<void> {
  await writeFileAtomic(file, serializeCheckpoint(ckpt));
}

export async function readCheckpoint<Meta = Record<string, unknown>>(file: string): Promise<Checkpoint<Meta>> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    throw new CheckpointError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'io');
  }
  return parseCheckpoint<Meta>(bytes, file);
}
