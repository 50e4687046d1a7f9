// Reads the facts the health rules need from a tfjs LayersModel: layer kinds, activations, trainability, BatchNorm mode.
import type * as tfl from '@tensorflow/tfjs-layers';
import { BatchNorm, isBatchNorm } from '../../models/batchNorm';
import type { LayerFacts, ModelFacts } from '../observations';

function activationOf(layer: tfl.layers.Layer): string | undefined {
  const className = layer.getClassName();
  if (className === 'Softmax') return 'softmax';
  if (className === 'ReLU') return 'relu';
  try {
    const activation = (layer.getConfig() as Record<string, unknown>).activation;
    return typeof activation === 'string' ? activation.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

export function describeLayer(layer: tfl.layers.Layer): LayerFacts {
  const bn = isBatchNorm(layer);
  return {
    name: layer.name,
    className: layer.getClassName(),
    trainable: layer.trainable && layer.trainableWeights.length > 0,
    params: layer.countParams(),
    activation: activationOf(layer),
    isBatchNorm: bn,
    // Stock BatchNormalization follows the training flag, i.e. it is never forced into inference mode.
    ...(bn ? { bnInferenceMode: layer instanceof BatchNorm ? layer.inferenceMode : false } : {}),
  };
}

export function describeModel(model: tfl.LayersModel): ModelFacts {
  const layers = model.layers.map(describeLayer);
  const outputLayer = model.outputs[0].sourceLayer as tfl.layers.Layer;
  const trainableParams = model.layers
    .filter((l) => l.trainable)
    .reduce((sum, l) => sum + l.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0), 0);
  return {
    layers, trainableParams, outputLayer: outputLayer.name, outputActivation: activationOf(outputLayer) ?? 'linear',
  };
}
