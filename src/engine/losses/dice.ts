// Soft Dice loss over valid pixels: 1 − mean over present classes of 2·Σ p·t / (Σ p + Σ t).
import * as tf from '@tensorflow/tfjs-core';
import type { Targets } from './targets';

/**
 * Sums run over the batch and over pixels with mask 1 only (void pixels' probabilities never enter). A class is
 * "present" when its target sums to more than 0 in the batch; the loss averages Dice over those (weighted by
 * classWeights if given) and is 0 when no class is present. No smoothing term.
 */
export function softDice(p: tf.Tensor4D, t: Targets, classWeights?: number[]): tf.Scalar {
  return tf.tidy(() => {
    const axes = [0, 1, 2];
    const pm = tf.mul(p, t.mask);
    const intersection = tf.sum(tf.mul(pm, t.target), axes);
    const targetSum = tf.sum(tf.mul(t.target, t.mask), axes);
    const denominator = tf.add(tf.sum(pm, axes), targetSum);
    const present = tf.cast(tf.greater(targetSum, 0), 'float32');
    // Absent classes divide by 1 instead of a possible 0, so no NaN reaches the gradient.
    const safeDenominator = tf.where(tf.greater(present, 0), denominator, tf.onesLike(denominator));
    const dice = tf.div(tf.mul(2, intersection), safeDenominator);
    const weight = classWeights ? tf.mul(present, tf.tensor1d(classWeights)) : present;
    const weightSum = tf.sum(weight);
    const meanDice = tf.div(tf.sum(tf.mul(dice, weight)), tf.maximum(weightSum, 1e-12));
    return tf.where(tf.greater(weightSum, 0), tf.sub(1, meanDice), tf.scalar(0)) as tf.Scalar;
  });
}
