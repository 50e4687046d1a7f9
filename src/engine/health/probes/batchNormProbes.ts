// Active probes of frozen BatchNorm layers: training vs inference output on the same batch, and moving-statistic drift.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BatchNormDrift, FrozenBatchNormProbe } from '../observations';

function movingWeights(layer: tfl.layers.Layer): tfl.LayerVariable[] {
  return layer.weights.filter((w) => /moving_(mean|variance)/.test(w.originalName ?? w.name));
}

/**
 * Runs each named BatchNorm layer on its real input for this batch twice: training=true and training=false. Stock
 * BatchNorm updates its moving statistics when called in training mode, so they are restored afterwards.
 */
export function probeFrozenBatchNorm(model: tfl.LayersModel, images: tf.Tensor4D, layerNames: string[]): FrozenBatchNormProbe[] {
  if (layerNames.length === 0) return [];
  const layers = layerNames.map((n) => model.getLayer(n));
  const inputsModel = tfl.model({ inputs: model.inputs, outputs: layers.map((l) => l.input as tfl.SymbolicTensor) });
  const saved = layers.map((l) => movingWeights(l).map((w) => tf.clone(w.read())));
  try {
    const inputs = [inputsModel.predict(images)].flat() as tf.Tensor[];
    const result = layers.map((layer, i) => {
      const difference = tf.tidy(() => {
        const train = layer.apply(inputs[i], { training: true }) as tf.Tensor;
        const infer = layer.apply(inputs[i], { training: false }) as tf.Tensor;
        const scale = tf.add(tf.max(tf.abs(infer)), 1e-6);
        return tf.div(tf.max(tf.abs(tf.sub(train, infer))), scale).dataSync()[0];
      });
      return { layer: layer.name, trainInferenceDifference: difference };
    });
    tf.dispose(inputs);
    return result;
  } finally {
    layers.forEach((l, i) => movingWeights(l).forEach((w, k) => w.write(saved[i][k])));
    tf.dispose(saved.flat());
  }
}

export interface MovingStatsSnapshot {
  layers: string[];
  values: { mean: Float32Array; variance: Float32Array }[];
}

export function snapshotMovingStats(model: tfl.LayersModel, layerNames: string[]): MovingStatsSnapshot {
  const values = layerNames.map((n) => {
    const [mean, variance] = ['moving_mean', 'moving_variance'].map((kind) => {
      const w = movingWeights(model.getLayer(n)).find((v) => (v.originalName ?? v.name).includes(kind));
      return w ? (w.read().dataSync() as Float32Array).slice() : new Float32Array(0);
    });
    return { mean, variance };
  });
  return { layers: layerNames.slice(), values };
}

/** ‖after − before‖ / ‖scale‖ (L2 over the channels). */
function changeRelativeTo(before: Float32Array, after: Float32Array, scale: ArrayLike<number>): number {
  let diff = 0, norm = 0;
  for (let i = 0; i < before.length; i++) {
    diff += (after[i] - before[i]) ** 2;
    norm += scale[i] ** 2;
  }
  return Math.sqrt(diff) / (Math.sqrt(norm) + 1e-6);
}

/**
 * Mean drift in units of the features' standard deviation (the moving mean often starts at 0, so "relative to itself"
 * would be meaningless); variance drift relative to the variance before.
 */
export function movingStatsDrift(before: MovingStatsSnapshot, after: MovingStatsSnapshot): BatchNormDrift[] {
  return before.layers.map((layer, i) => {
    const b = before.values[i], a = after.values[i];
    const std = b.variance.map((v) => Math.sqrt(Math.max(v, 0)));
    return {
      layer,
      movingMeanDrift: changeRelativeTo(b.mean, a.mean, std),
      movingVarianceDrift: changeRelativeTo(b.variance, a.variance, b.variance),
    };
  });
}
