// Cross-entropy and focal loss: −Σ_c w_c·t_c·(1−p_c)^γ·log p_c per pixel, normalised by the pixels' total weight.
import * as tf from '@tensorflow/tfjs-core';
import type { Targets } from './targets';

/**
 * Mean over the pixels that take part: a valid pixel counts with the weight of its class (PyTorch's weighted
 * mean; 1 without weights); in 'value' one-hot mode every void pixel also counts once, as the naive Keras mean
 * over all pixels does. A batch without such pixels gives 0. gamma 0 = cross-entropy.
 */
export function focalCrossEntropy(
  logp: tf.Tensor4D, t: Targets, classWeights: number[] | undefined, gamma: number, countVoid: boolean,
): tf.Scalar {
  return tf.tidy(() => {
    let perClass: tf.Tensor = tf.mul(t.target, logp);
    if (gamma !== 0) {
      // Floor at 1e-7: (1−p)^γ with γ < 1 has an infinite derivative at p = 1 (reached in float32).
      const oneMinusP = tf.clipByValue(tf.sub(1, tf.exp(logp)), 1e-7, 1);
      perClass = tf.mul(perClass, tf.pow(oneMinusP, gamma));
    }
    const validOnehot = tf.mul(tf.clipByValue(t.target, 0, 1), tf.sub(1, t.voidMask));
    let pixelWeight: tf.Tensor;
    if (classWeights) {
      const w = tf.tensor1d(classWeights);
      perClass = tf.mul(perClass, w);
      pixelWeight = tf.sum(tf.mul(validOnehot, w), -1);
    } else {
      pixelWeight = tf.sum(validOnehot, -1);
    }
    const numerator = tf.neg(tf.sum(perClass));
    let denominator = tf.sum(pixelWeight);
    if (countVoid) denominator = tf.add(denominator, tf.sum(t.voidMask));
    return tf.div(numerator, tf.maximum(denominator, 1e-12)) as tf.Scalar;
  });
}
