// Log-probabilities and probabilities from the model output, for logits or for probabilities (clipped).
import * as tf from '@tensorflow/tfjs-core';

/** Clip for probability outputs (Keras' epsilon). */
export const PROBABILITY_EPSILON = 1e-7;

/** Stable log-softmax for logits; log of the clipped values for probabilities. Call inside tf.tidy. */
export function logProbabilities(output: tf.Tensor4D, fromLogits: boolean): tf.Tensor4D {
  if (fromLogits) return tf.logSoftmax(output);
  return tf.log(tf.clipByValue(output, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON));
}
