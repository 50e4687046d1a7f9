// Synthetic observations for the pure health-rule tests: a healthy baseline that each test bends one way.
import { resolveConfig } from '../../../src/config/resolve';
import type { SegScopeConfig } from '../../../src/protocol/config';
import type { BatchSample, EpochObservations, LayerFacts, ModelFacts, StaticObservations } from '../../../src/engine/health';

export const CLASSES = ['background', 'square', 'disc'];

export function config(over: Partial<SegScopeConfig> = {}): ReturnType<typeof resolveConfig> {
  return resolveConfig({
    data: { format: 'voc', root: '.', classes: CLASSES, ...(over.data ?? {}) },
    model: { arch: 'unet', ...(over.model ?? {}) },
    train: { batchSize: 8, ...(over.train ?? {}) },
    loss: { ...(over.loss ?? {}) },
    metrics: over.metrics,
  });
}

export function layer(name: string, over: Partial<LayerFacts> = {}): LayerFacts {
  return { name, className: 'Conv2D', trainable: true, params: 100, activation: 'linear', isBatchNorm: false, ...over };
}

export function model(layers: LayerFacts[] = [
  layer('enc/conv1'), layer('enc/conv1_bn', { className: 'SegScopeBatchNorm', isBatchNorm: true, bnInferenceMode: false, params: 64 }),
  layer('enc/conv1_relu', { className: 'Activation', params: 0, trainable: false, activation: 'relu' }), layer('head/logits'),
]): ModelFacts {
  return {
    layers,
    trainableParams: layers.filter((l) => l.trainable).reduce((s, l) => s + l.params, 0),
    outputActivation: layers[layers.length - 1].activation ?? 'linear',
    outputLayer: layers[layers.length - 1].name,
  };
}

export function batch(over: Partial<BatchSample> = {}): BatchSample {
  return {
    batchSize: 8, size: 64,
    images: { min: -1, max: 1, mean: -0.1, std: 0.5 },
    maskValues: [0, 1, 2, 255], maskValueCounts: { 0: 20000, 1: 6000, 2: 5000, 255: 1768 },
    sourceMaskValues: [0, 1, 2, 255],
    ...over,
  };
}

export function staticObs(over: Partial<StaticObservations> = {}): StaticObservations {
  return { config: config(), model: model(), batch: batch(), ...over };
}

export function epochObs(over: Partial<EpochObservations> = {}): EpochObservations {
  return {
    config: config(), epoch: 3, layerOrder: ['enc/conv1', 'enc/conv1_bn', 'head/logits'],
    lossHistory: [1.2, 0.9, 0.7], lossUnit: 'epoch',
    layers: {
      'enc/conv1': { mean: 0, std: 1, min: -3, max: 3, zeros: 0, saturated: 0, gradNorm: 0.05, updateRatio: 2e-3 },
      'enc/conv1_bn': { mean: 0, std: 1, min: -3, max: 3, zeros: 0, saturated: 0, gradNorm: 0.02, updateRatio: 1e-3 },
      'head/logits': { mean: 0, std: 1, min: -3, max: 3, zeros: 0, saturated: 0, gradNorm: 0.1, updateRatio: 3e-3 },
    },
    confusion: [[900, 50, 50], [30, 250, 20], [10, 20, 170]],
    ...over,
  };
}
