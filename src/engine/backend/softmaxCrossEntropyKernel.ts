// Softmax cross-entropy with an ignore label as one pass over the wasm heap: the loss and its gradient together.
import * as tf from '@tensorflow/tfjs-core';
import { heapView, type WasmBackendInternals } from './wasmHeap';

/** Kernel name (wasm only). Inputs: logits [..., C] float32, labels [...] int32. Outputs: loss [] and dLoss/dLogits. */
export const SOFTMAX_CROSS_ENTROPY = 'SegScopeSoftmaxCrossEntropy';

/**
 * loss = −Σ w_y·log softmax(x)_y / Σ w_y over the valid pixels (label in 0..C−1 and not the ignore label; w = 1
 * without class weights), 0 when there is none; grad = w_y·(softmax(x) − onehot(y)) / Σ w_y, 0 at void pixels.
 * Log-sum-exp in float64 after subtracting the row maximum.
 */
export function softmaxCrossEntropyInto(
  logits: Float32Array, labels: Int32Array, classes: number, ignoreLabel: number, weights: number[] | null,
  grad: Float32Array,
): number {
  const C = classes, pixels = labels.length;
  let numerator = 0, denominator = 0;
  for (let p = 0; p < pixels; p++) {
    const y = labels[p], base = p * C;
    if (y === ignoreLabel || y < 0 || y >= C) {
      grad.fill(0, base, base + C);
      continue;
    }
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (logits[base + c] > max) max = logits[base + c];
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(logits[base + c] - max);
      grad[base + c] = e;
      sum += e;
    }
    const w = weights ? weights[y] : 1;
    numerator -= w * (logits[base + y] - max - Math.log(sum));
    denominator += w;
    const scale = w / sum;
    for (let c = 0; c < C; c++) grad[base + c] *= scale;
    grad[base + y] -= w;
  }
  const norm = Math.max(denominator, 1e-12);
  for (let i = 0; i < grad.length; i++) grad[i] /= norm;
  return numerator / norm;
}

export const softmaxCrossEntropyKernel: tf.KernelConfig = {
  kernelName: SOFTMAX_CROSS_ENTROPY, backendName: 'wasm',
  kernelFunc: ({ inputs, attrs = {}, backend }) => {
    const wasm = backend as unknown as WasmBackendInternals;
    const logits = inputs.logits as tf.TensorInfo, labels = inputs.labels as tf.TensorInfo;
    const C = logits.shape[logits.shape.length - 1];
    const loss = wasm.makeOutput([], 'float32');
    const grad = wasm.makeOutput(logits.shape, 'float32');
    const value = softmaxCrossEntropyInto(heapView(wasm, logits) as Float32Array, heapView(wasm, labels) as Int32Array, C,
      attrs.ignoreLabel as number, (attrs.weights as number[] | null) ?? null, heapView(wasm, grad) as Float32Array);
    (heapView(wasm, loss) as Float32Array)[0] = value;
    return [loss, grad];
  },
};

/** Registers the kernel for wasm. Idempotent. */
export function registerSoftmaxCrossEntropyKernel(): void {
  if (!tf.getKernel(SOFTMAX_CROSS_ENTROPY, 'wasm')) tf.registerKernel(softmaxCrossEntropyKernel);
}
