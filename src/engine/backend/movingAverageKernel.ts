// BatchNorm's moving-average update of mean and variance as one wasm kernel instead of six small ops per layer.
import * as tf from '@tensorflow/tfjs-core';
import { heapView, makeOutput, type WasmBackendInternals } from './wasmHeap';

/** Kernel name (wasm). Inputs: movingMean, movingVariance, mean, variance ([C] float32). Attr: momentum. Outputs: the two new moving values. */
export const MOVING_AVERAGES = 'SegScopeMovingAverages';

/**
 * moving − (moving − batch)·(1 − momentum), rounded to float32 after every operation as tfjs-layers' three ops (sub,
 * mul, sub) round it: the same numbers bit for bit.
 */
export function movingAverageInto(moving: Float32Array, batch: Float32Array, momentum: number, out: Float32Array): void {
  const f = Math.fround, decay = f(1 - momentum);
  for (let c = 0; c < moving.length; c++) out[c] = f(moving[c] - f(f(moving[c] - batch[c]) * decay));
}

const movingAverageKernel: tf.KernelConfig = {
  kernelName: MOVING_AVERAGES, backendName: 'wasm',
  kernelFunc: ({ inputs, attrs = {}, backend }) => {
    const t = (name: string) => inputs[name] as tf.TensorInfo;
    const outputs = [makeOutput(backend, t('movingMean').shape), makeOutput(backend, t('movingVariance').shape)];
    const view = (info: tf.TensorInfo) => heapView(backend as unknown as WasmBackendInternals, info) as Float32Array;
    const momentum = attrs.momentum as number;
    movingAverageInto(view(t('movingMean')), view(t('mean')), momentum, view(outputs[0]));
    movingAverageInto(view(t('movingVariance')), view(t('variance')), momentum, view(outputs[1]));
    return outputs;
  },
};

/** Registers the kernel for wasm. Idempotent. */
export function registerMovingAverageKernel(): void {
  if (!tf.getKernel(MOVING_AVERAGES, 'wasm')) tf.registerKernel(movingAverageKernel);
}

/**
 * The updated moving mean and variance, moving ← moving − (moving − batch)·(1 − momentum) as tfjs-layers computes
 * it: one kernel call on wasm instead of six ops (390 kernel calls per training step of the bench model), tfjs ops
 * elsewhere. New tensors; the caller writes them into the variables.
 */
export function updatedMovingAverages(
  movingMean: tf.Tensor1D, movingVariance: tf.Tensor1D, mean: tf.Tensor1D, variance: tf.Tensor1D, momentum: number,
): [tf.Tensor1D, tf.Tensor1D] {
  if (tf.getBackend() === 'wasm' && tf.getKernel(MOVING_AVERAGES, 'wasm') && [movingMean, movingVariance, mean, variance].every((t) => t.dtype === 'float32')) {
    return tf.engine().runKernel(MOVING_AVERAGES, { movingMean, movingVariance, mean, variance },
      { momentum } as unknown as tf.NamedAttrMap) as [tf.Tensor1D, tf.Tensor1D];
  }
  return tf.tidy(() => [[movingMean, mean], [movingVariance, variance]].map(([moving, batch]) =>
    tf.sub(moving, tf.mul(tf.sub(moving, batch), 1 - momentum))) as [tf.Tensor1D, tf.Tensor1D]);
}
