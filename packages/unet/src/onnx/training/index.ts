export { buildUnetTrainingGraph, gradientOutputName, UNET_TRAINING_IO, type UnetTrainingGraph, type UnetTrainingGraphOptions } from './unet-training-graph';
export { OnnxUnetTrainer, type UnetTrainingBatch } from './onnx-unet-trainer';
