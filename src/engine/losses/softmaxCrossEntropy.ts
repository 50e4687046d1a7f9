// Fused softmax cross-entropy from logits with an ignore label (wasm): one kernel for the softmax, the loss and its gradient.
import * as tf from '@tensorflow/tfjs-core';
import { needsProbabilities, SOFTMAX_CROSS_ENTROPY } from '../backend/softmaxCrossEntropyKernel';

/** Whether the fused loss can run: wasm with the kernel registered and float32 logits. */
export function canUseFusedCrossEntropy(output: tf.Tensor): boolean {
  return tf.getBackend() === 'wasm' && output.dtype === 'float32' && tf.getKernel(SOFTMAX_CROSS_ENTROPY, 'wasm') !== undefined;
}

/**
 * dLoss/dLogits·dy. The loss is usually the value differentiated (dy = 1): then the saved gradient itself, shared
 * without a copy (a reshape on wasm), instead of a multiplication over all logits.
 */
function scaleGradient(grad: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return dy.size === 1 && dy.dataSync()[0] === 1 ? tf.reshape(grad, grad.shape) : tf.mul(grad, dy);
}

/**
 * The same value as focalCrossEntropy(logSoftmax(logits), targets, weights, 0, false): the weighted mean over valid
 * pixels of −log p_label. The gradient is computed with the loss and saved, so backward is at most one multiplication.
 */
export function fusedSoftmaxCrossEntropy(
  labels: tf.Tensor, logits: tf.Tensor4D, ignoreLabel: number, weights: number[] | undefined,
): tf.Scalar {
  const int = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    // Natively the kernel computes the softmax itself; the JavaScript fallback takes it from wasm's Softmax kernel.
    const probs = needsProbabilities(tf.backend()) ? tf.softmax(x) : null;
    const [loss, grad] = tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, probs ? { logits: x, probs, labels: int } : { logits: x, labels: int },
      { ignoreLabel, weights: weights ?? null } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    probs?.dispose();
    save([grad]);
    return { value: loss, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => scaleGradient(saved[0], dy as tf.Tensor) };
  });
  const result = op(logits) as tf.Scalar;
  if (int !== labels) int.dispose();
  return result;
}
