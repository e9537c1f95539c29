import * as tf from '@tensorflow/tfjs-core';
import { uniformInit, xavierBound } from './init';
import { linear } from '../ops/linear';
import { Linear } from './linear';
import { Module } from './module';

/**
 * `torch.nn.MultiheadAttention(embedDim, numHeads, batch_first=True)` without dropout: the packed
 * `in_proj_weight` `[3E, E]` (rows q | k | v) and `in_proj_bias`, then `out_proj`. Heads are
 * contiguous blocks of E/numHeads channels; scores are scaled by (E/numHeads)^-0.5.
 */
export class MultiheadAttention extends Module {
  readonly inProjWeight: tf.Variable;
  readonly inProjBias: tf.Variable;
  readonly outProj: Linear;
  readonly headDim: number;

  constructor(readonly embedDim: number, readonly numHeads: number) {
    super();
    if (embedDim % numHeads !== 0) {
      throw new Error(`MultiheadAttention: embed_dim ${embedDim} must be divisible by num_heads ${numHeads}`);
    }
    this.headDim = embedDim / numHeads;
    this.inProjWeight = this.addParameter('in_proj_weight', uniformInit([3 * embedDim, embedDim], xavierBound(embedDim, 3 * embedDim)));
    this.inProjBias = this.addParameter('in_proj_bias', tf.zeros([3 * embedDim]));
    this.outProj = this.addModule('out_proj', new Linear(embedDim, embedDim));
    const zeros = tf.zeros([embedDim]);
    this.outProj.bias!.assign(zeros); // PyTorch zero-initialises out_proj.bias
    zeros.dispose();
  }

  /** query `[B, Lq, E]`, key/value `[B, Lk, E]` → `[B, Lq, E]`. Omit key/value for self-attention. */
  forward(query: tf.Tensor3D, key: tf.Tensor3D = query, value: tf.Tensor3D = key): tf.Tensor3D {
    const E = this.embedDim;
    for (const [name, t] of [['query', query], ['key', key], ['value', value]] as const) {
      if (t.rank !== 3 || t.shape[2] !== E) {
        throw new Error(`MultiheadAttention(${E}, ${this.numHeads}): ${name} must be [batch, length, ${E}], got [${t.shape.join(', ')}]`);
      }
    }
    return tf.tidy(() => {
      let q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D;
      if (query === key && key === value) {
        [q, k, v] = tf.split(this.project(query, 0, 3 * E), 3, -1) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      } else {
        q = this.project(query, 0, E);
        k = this.project(key, E, E);
        v = this.project(value, 2 * E, E);
      }
      const heads = (t: tf.Tensor3D) => tf.transpose(tf.reshape(t, [t.shape[0], t.shape[1], this.numHeads, this.headDim]), [0, 2, 1, 3]);
      const qh = tf.mul(heads(q), this.headDim ** -0.5);
      const attn = tf.softmax(tf.matMul(qh as tf.Tensor4D, heads(k) as tf.Tensor4D, false, true));
      const ctx = tf.transpose(tf.matMul(attn, heads(v) as tf.Tensor4D), [0, 2, 1, 3]);
      return this.outProj.forward(tf.reshape(ctx, [query.shape[0], query.shape[1], E])) as tf.Tensor3D;
    });
  }

  private project(x: tf.Tensor3D, offset: number, rows: number): tf.Tensor3D {
    const w = rows === 3 * this.embedDim ? this.inProjWeight : tf.slice(this.inProjWeight, [offset, 0], [rows, this.embedDim]);
    const b = rows === 3 * this.embedDim ? this.inProjBias : tf.slice(this.inProjBias, [offset], [rows]);
    return linear(x, w, b) as tf.Tensor3D;
  }
}
