// Per-layer output statistics (mean, std, min, max, fraction of zeros, fraction saturated), computed on the backend
// per image and merged across images in JS.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LayerStats } from '../../protocol/runFolder';

/** How a layer's output saturates: ReLU6 at its cap, sigmoid/softmax near 0 or 1, tanh near ±1, or not at all. */
export type Saturation = { kind: 'none' } | { kind: 'above'; at: number } | { kind: 'unit'; eps: number } | { kind: 'abs'; at: number };

const UNIT_EPS = 1e-3;

function saturationOfActivation(activation: unknown): Saturation | undefined {
  const name = typeof activation === 'string' ? activation.toLowerCase() : undefined;
  if (name === 'relu6') return { kind: 'above', at: 6 };
  if (name === 'sigmoid' || name === 'softmax' || name === 'hard_sigmoid') return { kind: 'unit', eps: UNIT_EPS };
  if (name === 'tanh') return { kind: 'abs', at: 1 - UNIT_EPS };
  return undefined;
}

export function saturationOf(layer: tfl.layers.Layer): Saturation {
  let config: Record<string, unknown> = {};
  try {
    config = layer.getConfig() as Record<string, unknown>;
  } catch {
    // some custom layers cannot serialise; treat them as non-saturating
  }
  const className = layer.getClassName();
  if (className === 'ReLU' && typeof config.maxValue === 'number') return { kind: 'above', at: config.maxValue };
  if (className === 'Softmax') return { kind: 'unit', eps: UNIT_EPS };
  return saturationOfActivation(config.activation) ?? { kind: 'none' };
}

/** [mean, variance, min, max, zeros, saturated, count] of one tensor, as a 1-D tensor of 7 values. */
export function rawStats(t: tf.Tensor, saturation: Saturation): tf.Tensor1D {
  return tf.tidy(() => {
    const flat = tf.reshape(t, [-1]);
    const { mean, variance } = tf.moments(flat);
    const zeros = tf.sum(tf.cast(tf.equal(flat, 0), 'float32'));
    let saturated: tf.Tensor;
    switch (saturation.kind) {
      case 'above': saturated = tf.sum(tf.cast(tf.greaterEqual(flat, saturation.at - 1e-6), 'float32')); break;
      case 'unit': saturated = tf.sum(tf.cast(tf.logicalOr(tf.lessEqual(flat, saturation.eps), tf.greaterEqual(flat, 1 - saturation.eps)), 'float32')); break;
      case 'abs': saturated = tf.sum(tf.cast(tf.greaterEqual(tf.abs(flat), saturation.at), 'float32')); break;
      default: saturated = tf.scalar(0);
    }
    return tf.stack([mean, variance, tf.min(flat), tf.max(flat), zeros, saturated, tf.scalar(flat.size)]) as tf.Tensor1D;
  });
}

/** Merges per-image raw statistics (7 numbers each) into one LayerStats. */
export function mergeRawStats(parts: ArrayLike<number>[]): LayerStats {
  let n = 0, sum = 0, min = Infinity, max = -Infinity, zeros = 0, saturated = 0;
  for (const p of parts) {
    n += p[6]; sum += p[0] * p[6]; min = Math.min(min, p[2]); max = Math.max(max, p[3]); zeros += p[4]; saturated += p[5];
  }
  const mean = n > 0 ? sum / n : 0;
  let squares = 0;
  for (const p of parts) squares += p[6] * (p[1] + (p[0] - mean) ** 2);
  return {
    mean, std: n > 0 ? Math.sqrt(Math.max(0, squares / n)) : 0,
    min: n > 0 ? min : 0, max: n > 0 ? max : 0,
    zeros: n > 0 ? zeros / n : 0, saturated: n > 0 ? saturated / n : 0,
  };
}
