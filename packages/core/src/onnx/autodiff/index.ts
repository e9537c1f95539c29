export { buildGradients, GradientError, type GradientOptions, type GradientGraph } from './differentiate';
export { inferShapes, broadcastShapes, ShapeInferenceError, type TensorInfo, type TensorElement, type DimBindings } from './shape-inference';
export { GRADIENT_RULES, GradientRuleError, type GradContext, type GradRule } from './rules';
export { viewNode, type NodeView } from './graph-view';
