// Lets a kernel be written with ordinary tfjs ops: wraps its inputs as Tensors and returns its result as a Tensor.
import * as tf from '@tensorflow/tfjs-core';

/** The engine hands kernels the op's Tensors; wrap a bare TensorInfo just in case (sharing its data, not copying). */
function asTensor(info: tf.TensorInfo, owned: tf.Tensor[]): tf.Tensor4D {
  if (info instanceof tf.Tensor) return info as tf.Tensor4D;
  const t = tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor4D;
  owned.push(t);
  return t;
}

/**
 * Runs a kernel body made of ops. Ops inside a kernel are not recorded on the gradient tape; the engine accepts a
 * Tensor as a kernel's result (it checks for `rank`), so the body's result is handed back as is.
 */
export function composedKernel(inputs: tf.NamedTensorInfoMap, body: (t: Record<string, tf.Tensor4D>) => tf.Tensor): tf.TensorInfo {
  const owned: tf.Tensor[] = [];
  try {
    const tensors: Record<string, tf.Tensor4D> = {};
    for (const [name, info] of Object.entries(inputs)) if (info) tensors[name] = asTensor(info, owned);
    return tf.tidy(() => body(tensors)) as unknown as tf.TensorInfo;
  } finally {
    for (const t of owned) t.dispose();
  }
}
