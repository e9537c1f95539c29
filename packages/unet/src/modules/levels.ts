import { Conv2d, Module } from '@srdiff/core';
import type { LevelPlan } from '../config';
import { LinearAttention } from './linear-attention';
import { PreNorm, Residual, type ContextAttention } from './pre-norm';
import { defaultConv, ResBlock } from './resblock';
import { downsample, Upsample } from './resampling';
import { SpatialTransformer } from './spatial-transformer';

/** `Residual(PreNorm(dim, attention))` with a SpatialTransformer or a LinearAttention. */
export function attentionBlock(dim: number, transformer: boolean, contextDim: number): Residual {
  const attention: ContextAttention = transformer ? new SpatialTransformer(dim, contextDim) : new LinearAttention(dim);
  return new Residual(new PreNorm(dim, attention));
}

/**
 * One level of the encoder (`downs.L`): `0` ResBlock, `1` ResBlock, `2` Residual(PreNorm(attention)),
 * `3` Downsample (4×4 stride-2 conv; at the deepest level a 3×3 conv without bias, no resolution change).
 */
export class DownLevel extends Module {
  readonly block1: ResBlock;
  readonly block2: ResBlock;
  readonly attention: Residual;
  readonly downsample: Conv2d;

  constructor(readonly plan: LevelPlan, timeDim: number, contextDim: number) {
    super();
    const dim = plan.dimIn;
    this.block1 = this.addModule('0', new ResBlock(dim, dim, timeDim));
    this.block2 = this.addModule('1', new ResBlock(dim, dim, timeDim));
    this.attention = this.addModule('2', attentionBlock(dim, plan.transformer, contextDim));
    this.downsample = this.addModule('3', plan.isDeepest ? defaultConv(dim, plan.dimOut) : downsample(dim, plan.dimOut));
  }
}

/**
 * One level of the decoder (`ups.L`, stored deepest-first): `0` and `1` ResBlocks taking the skip
 * concatenated (dim_out + dim_in → dim_out), `2` Residual(PreNorm(attention)), `3` Upsample
 * (nearest ×2 + 3×3 conv; at the shallowest level a 3×3 conv without bias, no upsampling).
 */
export class UpLevel extends Module {
  readonly block1: ResBlock;
  readonly block2: ResBlock;
  readonly attention: Residual;
  readonly upsample: Upsample | Conv2d;

  constructor(readonly plan: LevelPlan, timeDim: number, contextDim: number) {
    super();
    const { dimIn, dimOut } = plan;
    this.block1 = this.addModule('0', new ResBlock(dimOut + dimIn, dimOut, timeDim));
    this.block2 = this.addModule('1', new ResBlock(dimOut + dimIn, dimOut, timeDim));
    this.attention = this.addModule('2', attentionBlock(dimOut, plan.transformer, contextDim));
    this.upsample = this.addModule('3', plan.isShallowest ? defaultConv(dimOut, dimIn) : new Upsample(dimOut, dimIn));
  }
}
