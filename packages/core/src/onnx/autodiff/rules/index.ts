import { CONVOLUTION_RULES } from './convolution';
import { ELEMENTWISE_RULES } from './elementwise';
import { LINEAR_ALGEBRA_RULES } from './linear-algebra';
import { NORMALIZATION_RULES } from './normalization';
import { REDUCTION_RULES } from './reductions';
import { SHAPE_RULES } from './shape-ops';
import type { GradRule } from './types';

/** Reverse-mode rules by ONNX op type (default domain). */
export const GRADIENT_RULES: Readonly<Record<string, GradRule>> = Object.freeze({
  ...ELEMENTWISE_RULES,
  ...SHAPE_RULES,
  ...REDUCTION_RULES,
  ...LINEAR_ALGEBRA_RULES,
  ...CONVOLUTION_RULES,
  ...NORMALIZATION_RULES,
});

export { GradientRuleError, type GradContext, type GradRule } from './types';
