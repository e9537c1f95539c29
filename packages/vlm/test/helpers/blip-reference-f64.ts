import type { TensorDict } from '@srdiff/core';
import type { BlipConfig } from '../../src';

/**
 * An independent float64 implementation of the original's whole call path, written from
 * transformers' `modeling_blip.py` / `modeling_blip_text.py` for tests: the vision model, then the
 * text decoder on the FULL padded sequence (`[CLS] [SEP] [PAD]…`, causal + padding mask), and
 * `hidden_states[-1][:, 0]`. It shares nothing with the graph emitters (not the one-token
 * shortcut, not the weight layout handling), so agreement checks them.
 */
type Mat = Float64Array[]; // rows

function param(sd: TensorDict, key: string): Float64Array {
  const t = sd[key];
  if (!t) throw new Error(`reference: no ${key}`);
  return Float64Array.from(t.data);
}

function linear(sd: TensorDict, prefix: string, x: Mat): Mat {
  const w = sd[`${prefix}.weight`]!;
  const b = param(sd, `${prefix}.bias`);
  const [out, inp] = w.shape as [number, number];
  return x.map((row) => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = b[o]!;
      for (let i = 0; i < inp; i++) s += w.data[o * inp + i]! * row[i]!;
      y[o] = s;
    }
    return y;
  });
}

function layerNorm(sd: TensorDict, prefix: string, x: Mat, eps: number): Mat {
  const g = param(sd, `${prefix}.weight`);
  const b = param(sd, `${prefix}.bias`);
  return x.map((row) => {
    const n = row.length;
    const mean = row.reduce((a, v) => a + v, 0) / n;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i]! + b[i]!);
  });
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse; use the series / continued fraction split.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let f = 0;
  for (let k = 60; k >= 1; k--) f = k / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
const add = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));

/** softmax(q·kᵀ·scale + mask)·v per head; `mask[i][j]` false hides key j from query i. */
function attention(q: Mat, k: Mat, v: Mat, heads: number, scale: number, mask?: (i: number, j: number) => boolean): Mat {
  const d = q[0]!.length / heads;
  return q.map((qi, i) => {
    const out = new Float64Array(q[0]!.length);
    for (let h = 0; h < heads; h++) {
      const scores = k.map((kj, j) => {
        if (mask && !mask(i, j)) return -Infinity;
        let s = 0;
        for (let c = 0; c < d; c++) s += qi[h * d + c]! * kj[h * d + c]!;
        return s * scale;
      });
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < v.length; j++) for (let c = 0; c < d; c++) out[h * d + c] += (e[j]! / z) * v[j]![h * d + c]!;
    }
    return out;
  });
}

export function visionForward(sd: TensorDict, config: BlipConfig, pixels: Float32Array): Mat {
  const vc = config.vision_config;
  const { hidden_size: hidden, patch_size: p, image_size: s } = vc;
  const grid = s / p;
  const conv = sd['vision_model.embeddings.patch_embedding.weight']!.data;
  const convB = param(sd, 'vision_model.embeddings.patch_embedding.bias');
  const tokens: Mat = [Float64Array.from(sd['vision_model.embeddings.class_embedding']!.data)];
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const t = new Float64Array(hidden);
      for (let o = 0; o < hidden; o++) {
        let acc = convB[o]!;
        for (let c = 0; c < 3; c++) for (let ky = 0; ky < p; ky++) for (let kx = 0; kx < p; kx++) acc += conv[((o * 3 + c) * p + ky) * p + kx]! * pixels[(c * s + gy * p + ky) * s + gx * p + kx]!;
        t[o] = acc;
      }
      tokens.push(t);
    }
  }
  const pos = sd['vision_model.embeddings.position_embedding']!.data;
  let x: Mat = tokens.map((t, i) => t.map((v, c) => v + pos[i * hidden + c]!));
  const heads = vc.num_attention_heads;
  for (let l = 0; l < vc.num_hidden_layers; l++) {
    const pre = `vision_model.encoder.layers.${l}`;
    const qkv = linear(sd, `${pre}.self_attn.qkv`, layerNorm(sd, `${pre}.layer_norm1`, x, vc.layer_norm_eps));
    const q = qkv.map((r) => r.slice(0, hidden));
    const k = qkv.map((r) => r.slice(hidden, 2 * hidden));
    const v = qkv.map((r) => r.slice(2 * hidden));
    x = add(x, linear(sd, `${pre}.self_attn.projection`, attention(q, k, v, heads, (hidden / heads) ** -0.5)));
    const hiddenMlp = linear(sd, `${pre}.mlp.fc1`, layerNorm(sd, `${pre}.layer_norm2`, x, vc.layer_norm_eps)).map((r) => r.map(gelu));
    x = add(x, linear(sd, `${pre}.mlp.fc2`, hiddenMlp));
  }
  return layerNorm(sd, 'vision_model.post_layernorm', x, vc.layer_norm_eps);
}

/** The decoder on the whole sequence; returns every position of the last layer. */
export function decoderForward(sd: TensorDict, config: BlipConfig, image: Mat, inputIds: number[], attentionMask: number[]): Mat {
  const tc = config.text_config;
  const hidden = tc.hidden_size;
  const words = sd['text_decoder.bert.embeddings.word_embeddings.weight']!.data;
  const positions = sd['text_decoder.bert.embeddings.position_embeddings.weight']!.data;
  let x: Mat = inputIds.map((id, i) => Float64Array.from({ length: hidden }, (_, c) => words[id * hidden + c]! + positions[i * hidden + c]!));
  x = layerNorm(sd, 'text_decoder.bert.embeddings.LayerNorm', x, tc.layer_norm_eps);
  const heads = tc.num_attention_heads;
  const scale = 1 / Math.sqrt(hidden / heads);
  const causal = (i: number, j: number) => j <= i && attentionMask[j] === 1;
  for (let l = 0; l < tc.num_hidden_layers; l++) {
    const pre = `text_decoder.bert.encoder.layer.${l}`;
    const self = attention(linear(sd, `${pre}.attention.self.query`, x), linear(sd, `${pre}.attention.self.key`, x), linear(sd, `${pre}.attention.self.value`, x), heads, scale, causal);
    x = layerNorm(sd, `${pre}.attention.output.LayerNorm`, add(linear(sd, `${pre}.attention.output.dense`, self), x), tc.layer_norm_eps);
    const cross = attention(linear(sd, `${pre}.crossattention.self.query`, x), linear(sd, `${pre}.crossattention.self.key`, image), linear(sd, `${pre}.crossattention.self.value`, image), heads, scale);
    x = layerNorm(sd, `${pre}.crossattention.output.LayerNorm`, add(linear(sd, `${pre}.crossattention.output.dense`, cross), x), tc.layer_norm_eps);
    const inter = linear(sd, `${pre}.intermediate.dense`, x).map((r) => r.map(gelu));
    x = layerNorm(sd, `${pre}.output.LayerNorm`, add(linear(sd, `${pre}.output.dense`, inter), x), tc.layer_norm_eps);
  }
  return x;
}
