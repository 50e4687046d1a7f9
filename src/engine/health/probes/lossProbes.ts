// Active probes of the loss: perturb the predictions at void pixels only, and read the one-hot targets it builds.
import * as tf from '@tensorflow/tfjs-core';
import { buildTargets } from '../../losses/targets';
import type { ResolvedConfig } from '../../../config/resolve';
import type { OneHotTargetProbe, OutputProbe, VoidPerturbationProbe } from '../observations';

export type LossFunction = (labels: tf.Tensor, output: tf.Tensor) => tf.Scalar;

/**
 * Black box: loss(labels, output) vs loss(labels, output with large random changes at void pixels only). A loss that
 * excludes void gives the same number. Works for user loss modules, which are called exactly as in training.
 */
export function probeVoidPerturbation(
  loss: LossFunction, labels: tf.Tensor3D, output: tf.Tensor4D, ignoreLabel: number, numClasses: number, seed = 7,
): VoidPerturbationProbe {
  const voidMask = tf.tidy(() => {
    const l = tf.cast(labels, 'int32');
    const isVoid = tf.logicalOr(tf.equal(l, ignoreLabel), tf.logicalOr(tf.less(l, 0), tf.greaterEqual(l, numClasses)));
    return tf.expandDims(tf.cast(isVoid, 'float32'), -1);
  });
  const voidPixels = tf.tidy(() => tf.sum(voidMask).dataSync()[0]);
  const before = loss(labels, output);
  const perturbed = tf.tidy(() => {
    // Keeps probabilities valid when the output is a probability map, so that the loss stays finite either way.
    const noise = tf.randomUniform(output.shape, 0, 1, 'float32', seed);
    const isProbability = tf.tidy(() => tf.min(output).dataSync()[0] >= 0 && tf.max(output).dataSync()[0] <= 1);
    const replacement = isProbability ? tf.softmax(tf.mul(noise, 8)) : tf.mul(tf.sub(noise, 0.5), 20);
    return tf.add(tf.mul(output, tf.sub(1, voidMask)), tf.mul(replacement, voidMask));
  });
  const after = loss(labels, perturbed);
  const result = { voidPixels, lossBefore: before.dataSync()[0], lossAfter: after.dataSync()[0] };
  tf.dispose([voidMask, before, perturbed, after]);
  return result;
}

/** The one-hot targets the built-in losses build for this batch (only meaningful with loss.target 'onehot'). */
export function probeOneHotTargets(labels: tf.Tensor3D, cfg: ResolvedConfig): OneHotTargetProbe {
  return tf.tidy(() => {
    const t = buildTargets(labels, {
      numClasses: cfg.numClasses, ignoreLabel: cfg.data.ignoreLabel, target: cfg.loss.target, onehotIgnore: cfg.loss.onehotIgnore,
    });
    return { maxChannelValue: tf.max(t.target).dataSync()[0], voidPixels: tf.sum(t.voidMask).dataSync()[0] };
  });
}

/** Does the model already output probabilities? And the largest probability once the loss has done its part. */
export function probeOutput(output: tf.Tensor4D, fromLogits: boolean): OutputProbe {
  return tf.tidy(() => {
    const min = tf.min(output).dataSync()[0];
    const max = tf.max(output).dataSync()[0];
    const sumError = tf.max(tf.abs(tf.sub(tf.sum(output, -1), 1))).dataSync()[0];
    const outputsAreProbabilities = min >= -1e-6 && max <= 1 + 1e-6 && sumError < 1e-3;
    const probabilities = fromLogits ? tf.softmax(output) : output;
    return { outputsAreProbabilities, maxProbabilityAsLossSeesIt: tf.max(probabilities).dataSync()[0] };
  });
}
