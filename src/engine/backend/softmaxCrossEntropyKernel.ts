// Softmax cross-entropy with an ignore label as one pass over the wasm heap: the loss and its gradient together.
import * as tf from '@tensorflow/tfjs-core';
import { heapView, type WasmBackendInternals } from './wasmHeap';
import { nativeKernelsFor, type NativeKernels } from './nativeKernels';

/**
 * Kernel name (wasm only). Inputs: logits [..., C] float32, probs = softmax(logits) (wasm's own Softmax kernel, ~5×
 * faster than exponentials in JavaScript), labels [...] int32. Outputs: loss [] and dLoss/dLogits.
 */
export const SOFTMAX_CROSS_ENTROPY = 'SegScopeSoftmaxCrossEntropy';

/** log softmax(z)_y of one row, in float64 (for rows whose probability underflowed in float32). */
function logSoftmaxAt(logits: Float32Array, base: number, C: number, y: number): number {
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, logits[base + c]);
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp(logits[base + c] - max);
  return logits[base + y] - max - Math.log(sum);
}

/** The loss alone (the numerator needs log p_y per valid pixel only): what the native gradient kernel leaves to JavaScript. */
function softmaxCrossEntropyLoss(
  logits: Float32Array, probs: Float32Array, labels: Int32Array, C: number, ignoreLabel: number, weights: number[] | null,
): { loss: number; norm: number } {
  let denominator = 0, numerator = 0;
  for (let p = 0; p < labels.length; p++) {
    const y = labels[p];
    if (y === ignoreLabel || y < 0 || y >= C) continue;
    const w = weights ? weights[y] : 1;
    denominator += w;
    const py = probs[p * C + y];
    numerator -= w * (py > 1e-30 ? Math.log(py) : logSoftmaxAt(logits, p * C, C, y));
  }
  const norm = Math.max(denominator, 1e-12);
  return { loss: numerator / norm, norm };
}

/** Loss in JavaScript, gradient with the native SIMD kernel (split over two threads for large batches). */
function softmaxCrossEntropyNative(
  native: NativeKernels, logits: tf.TensorInfo, probs: tf.TensorInfo, labels: tf.TensorInfo, C: number, ignoreLabel: number,
  weights: number[] | null, grad: tf.TensorInfo,
): number {
  const weightPtr = weights ? native.malloc(4 * C) : 0;
  try {
    const buffer = native.buffer;
    if (weights) new Float32Array(buffer, weightPtr, C).set(weights);
    const pixels = tf.util.sizeFromShape(labels.shape);
    const { loss, norm } = softmaxCrossEntropyLoss(new Float32Array(buffer, native.offset(logits), pixels * C),
      new Float32Array(buffer, native.offset(probs), pixels * C), new Int32Array(buffer, native.offset(labels), pixels), C, ignoreLabel, weights);
    const probsOff = native.offset(probs), labelsOff = native.offset(labels), gradOff = native.offset(grad);
    native.run('softmax_ce_grad', pixels, C, (begin, end) => [probsOff, labelsOff, C, ignoreLabel, weightPtr, 1 / norm, gradOff, begin, end]);
    return loss;
  } finally {
    if (weights) native.free(weightPtr);
  }
}

/**
 * loss = −Σ w_y·log p_y / Σ w_y over the valid pixels (label in 0..C−1 and not the ignore label; w = 1 without class
 * weights), 0 when there is none; grad = w_y·(p − onehot(y)) / Σ w_y, 0 at void pixels.
 */
export function softmaxCrossEntropyInto(
  logits: Float32Array, probs: Float32Array, labels: Int32Array, classes: number, ignoreLabel: number,
  weights: number[] | null, grad: Float32Array,
): number {
  const C = classes, pixels = labels.length;
  const valid = (y: number) => y !== ignoreLabel && y >= 0 && y < C;
  let denominator = 0;
  for (let p = 0; p < pixels; p++) if (valid(labels[p])) denominator += weights ? weights[labels[p]] : 1;
  const norm = Math.max(denominator, 1e-12);
  let numerator = 0;
  for (let p = 0; p < pixels; p++) {
    const y = labels[p], base = p * C;
    if (!valid(y)) {
      grad.fill(0, base, base + C);
      continue;
    }
    const w = weights ? weights[y] : 1;
    const py = probs[base + y];
    numerator -= w * (py > 1e-30 ? Math.log(py) : logSoftmaxAt(logits, base, C, y));
    const scale = w / norm;
    for (let c = 0; c < C; c++) grad[base + c] = probs[base + c] * scale;
    grad[base + y] -= scale;
  }
  return numerator / norm;
}

export const softmaxCrossEntropyKernel: tf.KernelConfig = {
  kernelName: SOFTMAX_CROSS_ENTROPY, backendName: 'wasm',
  kernelFunc: ({ inputs, attrs = {}, backend }) => {
    const wasm = backend as unknown as WasmBackendInternals;
    const logits = inputs.logits as tf.TensorInfo, labels = inputs.labels as tf.TensorInfo, probs = inputs.probs as tf.TensorInfo;
    const C = logits.shape[logits.shape.length - 1];
    const loss = wasm.makeOutput([], 'float32');
    const grad = wasm.makeOutput(logits.shape, 'float32');
    const native = nativeKernelsFor(backend);
    if (native) {
      const value = softmaxCrossEntropyNative(native, logits, probs, labels, C, attrs.ignoreLabel as number,
        (attrs.weights as number[] | null) ?? null, grad);
      (heapView(wasm, loss) as Float32Array)[0] = value;
      return [loss, grad];
    }
    const value = softmaxCrossEntropyInto(heapView(wasm, logits) as Float32Array, heapView(wasm, probs) as Float32Array,
      heapView(wasm, labels) as Int32Array, C, attrs.ignoreLabel as number, (attrs.weights as number[] | null) ?? null,
      heapView(wasm, grad) as Float32Array);
    (heapView(wasm, loss) as Float32Array)[0] = value;
    return [loss, grad];
  },
};

/** Registers the kernel for wasm. Idempotent. */
export function registerSoftmaxCrossEntropyKernel(): void {
  if (!tf.getKernel(SOFTMAX_CROSS_ENTROPY, 'wasm')) tf.registerKernel(softmaxCrossEntropyKernel);
}
