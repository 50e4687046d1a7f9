// Probes the configured metric with crafted inputs whose right answer is known; loads user metric modules.
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ConfusionMatrix } from '../../metrics/confusion';
import type { MetricProbe } from '../observations';

/**
 * A metric: labels int32 [B, H, W] (void = ignore label), output = the model output [B, H, W, C]; returns the mIoU.
 * User modules (CommonJS, loaded only when trusted) export `metric(labels, output, tf)` returning a number, a scalar
 * tensor, or an object with `miou`.
 */
export type MetricFunction = (labels: tf.Tensor3D, output: tf.Tensor4D) => number;

export function builtInMetric(numClasses: number, ignoreLabel: number): MetricFunction {
  return (labels, output) => {
    const m = new ConfusionMatrix(numClasses, ignoreLabel);
    const predicted = tf.tidy(() => tf.cast(tf.argMax(output, -1), 'int32'));
    m.add(labels.dataSync() as Int32Array, predicted.dataSync() as Int32Array);
    predicted.dispose();
    return m.miou();
  };
}

export function loadMetricModule(modulePath: string): MetricFunction {
  const absolute = path.resolve(modulePath);
  const requireFrom = createRequire(absolute);
  const resolved = requireFrom.resolve(absolute);
  delete requireFrom.cache[resolved];
  const mod = requireFrom(resolved) as { metric?: unknown; default?: { metric?: unknown } };
  const metric = typeof mod.metric === 'function' ? mod.metric : typeof mod.default?.metric === 'function' ? mod.default.metric : undefined;
  if (!metric) throw new Error(`${modulePath} does not export a function 'metric(labels, output, tf)'`);
  return (labels, output) => {
    const r = (metric as (l: tf.Tensor, o: tf.Tensor, t: typeof tf) => unknown)(labels, output, tf);
    if (typeof r === 'number') return r;
    if (r instanceof tf.Tensor) {
      const v = r.dataSync()[0];
      r.dispose();
      return v;
    }
    if (r && typeof (r as { miou?: unknown }).miou === 'number') return (r as { miou: number }).miou;
    throw new Error(`metric() in ${modulePath} must return a number, a scalar tensor or { miou }`);
  };
}

/**
 * Crafted 1×8×8 case: a band of void pixels; (a) logits right on every valid pixel and wrong on every void pixel;
 * (b) a label map wrong on a third of the valid pixels, given as one-hot logits ×1 and ×10.
 */
export function probeMetric(metric: MetricFunction, source: string, numClasses: number, ignoreLabel: number): MetricProbe {
  const side = 8;
  const truth = new Int32Array(side * side);
  for (let i = 0; i < truth.length; i++) truth[i] = Math.floor(i / side) < 2 ? ignoreLabel : (i % side) % numClasses;
  const right = truth.map((v) => (v === ignoreLabel ? numClasses - 1 : v));
  const rightAtVoidWrong = truth.map((v) => (v === ignoreLabel ? (numClasses > 1 ? 1 : 0) : v));
  // Void pixels predicted as a class (1) that differs from what a "void → background" metric would assume.
  const partlyWrong = right.map((v, i) => (truth[i] !== ignoreLabel && i % 3 === 0 ? (v + 1) % numClasses : v));
  const labels = tf.tensor3d(truth, [1, side, side], 'int32');
  const asLogits = (map: Int32Array, scale: number) => tf.tidy(() =>
    tf.mul(tf.cast(tf.oneHot(tf.tensor3d(map, [1, side, side], 'int32'), numClasses), 'float32'), scale) as tf.Tensor4D);
  const run = (map: Int32Array, scale: number) => {
    const logits = asLogits(map, scale);
    try {
      return metric(labels, logits);
    } finally {
      logits.dispose();
    }
  };
  try {
    return {
      source,
      perfectExceptVoid: run(rightAtVoidWrong, 5),
      logitsScale1: run(partlyWrong, 1),
      logitsScale10: run(partlyWrong, 10),
    };
  } finally {
    labels.dispose();
  }
}
