// Marks tensors that a fused BatchNorm+activation op already activated, so the activation layer after it passes them on.
import * as tf from '@tensorflow/tfjs-core';

export type FusableActivation = 'relu' | 'relu6';

/** Keyed by the tensor's data, so a clone of a marked tensor counts too; entries go when the data does. */
const activated = new WeakMap<object, FusableActivation>();

export function markActivationApplied(t: tf.Tensor, activation: FusableActivation): void {
  activated.set(t.dataId, activation);
}

export function activationAlreadyApplied(t: tf.Tensor, activation: FusableActivation): boolean {
  return activated.get(t.dataId) === activation;
}
