import { tf } from '@srdiff/core';

/** Checks that `x` is a live 4-D image tensor; `name` and `where` make the error specific. */
export function checkImage(x: unknown, name: string, where: string): asserts x is tf.Tensor4D {
  if (!(x instanceof tf.Tensor)) throw new TypeError(`${where}: ${name} must be a tf.Tensor, got ${x === null ? 'null' : typeof x}`);
  if (x.isDisposed) throw new Error(`${where}: ${name} has been disposed`);
  if (x.rank !== 4) throw new Error(`${where}: ${name} must be a 4-D [batch, height, width, channels] tensor, got shape [${x.shape.join(', ')}]`);
}

/** Checks several images share one shape (the closed forms combine them elementwise). */
export function checkSameShape(where: string, images: Record<string, unknown>): tf.Tensor4D[] {
  const entries = Object.entries(images);
  entries.forEach(([name, x]) => checkImage(x, name, where));
  const [firstName, first] = entries[0] as [string, tf.Tensor4D];
  for (const [name, x] of entries.slice(1)) {
    const shape = (x as tf.Tensor4D).shape;
    if (shape.some((d, i) => d !== first.shape[i])) {
      throw new Error(`${where}: shape mismatch: ${firstName} is [${first.shape.join(', ')}] but ${name} is [${shape.join(', ')}]`);
    }
  }
  return entries.map(([, x]) => x as tf.Tensor4D);
}
