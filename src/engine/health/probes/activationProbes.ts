// Active probes of activations and weights: ReLU units that (almost) never fire on a batch, and the first non-finite weight.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { DeadUnits } from '../observations';
import { THRESHOLDS } from '../thresholds';
import { describeLayer } from './describeModel';

/** Layers whose output is a ReLU (Activation/ReLU layers, or layers with a relu/relu6 activation). */
export function reluLayers(model: tfl.LayersModel): string[] {
  return model.layers.filter((l) => /^relu6?$/.test(describeLayer(l).activation ?? '')).map((l) => l.name);
}

/** Per ReLU layer: channels whose output is above 0 at fewer than 1 % of the batch's positions (inference mode). */
export function probeDeadUnits(model: tfl.LayersModel, images: tf.Tensor4D): Record<string, DeadUnits> {
  const names = reluLayers(model);
  if (names.length === 0) return {};
  const probe = tfl.model({ inputs: model.inputs, outputs: names.map((n) => model.getLayer(n).output as tfl.SymbolicTensor) });
  const outputs = [probe.predict(images)].flat() as tf.Tensor[];
  const result: Record<string, DeadUnits> = {};
  names.forEach((name, i) => {
    const activeShare = tf.tidy(() => {
      const out = outputs[i];
      const channels = out.shape[out.shape.length - 1] ?? 1;
      return tf.mean(tf.cast(tf.greater(tf.reshape(out, [-1, channels]), 0), 'float32'), 0);
    });
    const share = activeShare.dataSync();
    activeShare.dispose();
    let inactive = 0;
    for (const s of share) if (!(s >= THRESHOLDS.reluInactivity)) inactive++;
    result[name] = { units: share.length, inactive };
  });
  tf.dispose(outputs);
  return result;
}

/** The first layer (model order) with a NaN or ±Inf weight, or undefined. */
export function firstNonFiniteWeightLayer(model: tfl.LayersModel): string | undefined {
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(w.read()))).dataSync()[0]);
      if (bad) return layer.name;
    }
  }
  return undefined;
}
