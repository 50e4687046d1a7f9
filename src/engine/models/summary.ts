// Parameter counts and the per-layer summary written into run.json.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LayerSummary, ModelSummary } from '../../protocol/runFolder';
import { isBatchNorm } from './batchNorm';

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Learnable parameters of a layer: every weight except BatchNorm's moving mean/variance (PyTorch's `parameters()`). */
export function learnableParams(layer: tfl.layers.Layer): number {
  const movingStats = isBatchNorm(layer) ? new Set(['moving_mean', 'moving_variance']) : new Set<string>();
  let n = 0;
  for (const w of layer.weights) {
    const local = w.originalName.split('/').pop()!;
    if (!movingStats.has(local)) n += size(w.shape as number[]);
  }
  return n;
}

/**
 * The number PyTorch reports as `sum(p.numel() for p in m.parameters())` for the same network: BatchNorm gamma and
 * beta count, moving statistics do not (tfjs' countParams() counts them). Frozen layers still count, as in PyTorch.
 */
export function countTrainableLikeTorch(model: tfl.LayersModel): number {
  return model.layers.reduce((n, layer) => n + learnableParams(layer), 0);
}

/** `params` = all weights including moving statistics (tfjs' count); `trainableParams` = weights the optimiser updates. */
export function summarizeModel(model: tfl.LayersModel): ModelSummary {
  const layers: LayerSummary[] = model.layers.map((layer) => {
    const shape = layer.outputShape;
    const single = (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
    return {
      name: layer.name,
      className: layer.getClassName(),
      outputShape: single.slice(1).map((d) => d ?? -1),
      params: layer.countParams(),
      trainable: layer.trainable,
    };
  });
  const trainableParams = model.trainableWeights.reduce((n, w) => n + size(w.shape as number[]), 0);
  return { name: model.name, params: model.countParams(), trainableParams, layers };
}
