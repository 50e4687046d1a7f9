// Softmax cross-entropy from logits with an ignore label on the wasm heap: softmax, loss and gradient in one native pass.
import * as tf from '@tensorflow/tfjs-core';
import { heapView, type WasmBackendInternals } from './wasmHeap';
import { nativeKernelsFor, type NativeKernels } from './nativeKernels';

/**
 * Kernel name (wasm only). Inputs: logits [..., C] float32, labels [...] int32, and — only when the native kernels are
 * off (see needsProbabilities) — probs = softmax(logits) from wasm's own Softmax kernel. Outputs: loss [] and dLoss/dLogits.
 */
export const SOFTMAX_CROSS_ENTROPY = 'SegScopeSoftmaxCrossEntropy';

/** Whether the kernel on this backend needs the `probs` input: only the JavaScript fallback does. */
export function needsProbabilities(backend: unknown): boolean {
  return nativeKernelsFor(backend) === null;
}

/** log softmax(z)_y of one row, in float64 (for rows whose probability underflowed in float32). */
function logSoftmaxAt(logits: Float32Array, base: number, C: number, y: number): number {
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, logits[base + c]);
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp(logits[base + c] - max);
  return logits[base + y] - max - Math.log(sum);
}

/**
 * Softmax, loss and gradient in one native pass over the logits ('softmax_ce'), in two chunks that either thread may
 * take; their float64 loss sums (one slot each) are added in chunk order, so the loss is the same on every run. Two
 * chunks, not more: each call also sums the class weights over all labels.
 */
function softmaxCrossEntropyNative(
  native: NativeKernels, logits: tf.TensorInfo, labels: tf.TensorInfo, C: number, ignoreLabel: number,
  weights: number[] | null, grad: tf.TensorInfo,
): number {
  const pixels = tf.util.sizeFromShape(labels.shape);
  const slots = Math.min(2, native.reductionSlots(pixels, C, 16));
  // Scratch: per slot [numerator, Σ w] (float64), then the class weights (float32).
  const raw = native.malloc(16 * slots + 8 + (weights ? 4 * C : 0));
  try {
    const acc = Math.ceil(raw / 8) * 8, weightPtr = weights ? acc + 16 * slots : 0;
    const buffer = native.buffer;
    new Float64Array(buffer, acc, 2 * slots).fill(0);
    if (weights) new Float32Array(buffer, weightPtr, C).set(weights);
    const logitsOff = native.offset(logits), labelsOff = native.offset(labels), gradOff = native.offset(grad);
    native.runReduction('softmax_ce', pixels, slots, 16, (begin, end, slot) =>
      [logitsOff, labelsOff, pixels, C, ignoreLabel, weightPtr, gradOff, acc + slot, begin, end]);
    const sums = new Float64Array(native.buffer, acc, 2 * slots);
    let numerator = 0;
    for (let i = 0; i < slots; i++) numerator += sums[2 * i];
    return numerator / Math.max(sums[1], 1e-12);
  } finally {
    native.free(raw);
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
    const logits = inputs.logits as tf.TensorInfo, labels = inputs.labels as tf.TensorInfo, probs = inputs.probs as tf.TensorInfo | undefined;
    const C = logits.shape[logits.shape.length - 1];
    const ignoreLabel = attrs.ignoreLabel as number, weights = (attrs.weights as number[] | null) ?? null;
    const native = nativeKernelsFor(backend);
    if (!native && !probs) throw new Error(`${SOFTMAX_CROSS_ENTROPY} without native kernels needs the probs input`);
    const loss = wasm.makeOutput([], 'float32');
    const grad = wasm.makeOutput(logits.shape, 'float32');
    const value = native
      ? softmaxCrossEntropyNative(native, logits, labels, C, ignoreLabel, weights, grad)
      : softmaxCrossEntropyInto(heapView(wasm, logits) as Float32Array, heapView(wasm, probs!) as Float32Array,
        heapView(wasm, labels) as Int32Array, C, ignoreLabel, weights, heapView(wasm, grad) as Float32Array);
    (heapView(wasm, loss) as Float32Array)[0] = value;
    return [loss, grad];
  },
};

/** Registers the kernel for wasm. Idempotent. */
export function registerSoftmaxCrossEntropyKernel(): void {
  if (!tf.getKernel(SOFTMAX_CROSS_ENTROPY, 'wasm')) tf.registerKernel(softmaxCrossEntropyKernel);
}
