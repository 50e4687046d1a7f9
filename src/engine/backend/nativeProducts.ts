// Matrix products and 1×1 convolutions on the native SIMD kernels (about 2.5× XNNPACK's wasm speed on the bench
// model's shapes): A·B, A·Bᵀ, Aᵀ·B (no transposes; float64 across row chunks), 1×1 stride-1 convolutions with bias
// and ReLU/ReLU6.
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './nativeKernels';

/** [M, N] of a rank-2 matrix or a rank-3 batch of one; null otherwise. */
export function singleMatrix(t: tf.TensorInfo): [number, number] | null {
  if (t.shape.length === 2) return [t.shape[0], t.shape[1]];
  if (t.shape.length === 3 && t.shape[0] === 1) return [t.shape[1], t.shape[2]];
  return null;
}

/** Whether BatchMatMul(a, b) without transposeA can run natively (one float32 matrix each, inner sizes agree). */
export function nativeProductApplies(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  const ma = singleMatrix(a), mb = singleMatrix(b);
  return !transposeA && a.dtype === 'float32' && b.dtype === 'float32' && ma !== null && mb !== null &&
    a.shape.length === b.shape.length && ma[1] === (transposeB ? mb[1] : mb[0]);
}

/** out = a·b ([M, K]·[K, N]), or a·bᵀ with b [N, K] (b is transposed into scratch first: it is the small operand). */
export function productNative(native: NativeKernels, a: tf.TensorInfo, b: tf.TensorInfo, transposeB: boolean, out: tf.TensorInfo): void {
  const [M, K] = singleMatrix(a)!;
  const [rowsB, colsB] = singleMatrix(b)!;
  const N = transposeB ? rowsB : colsB;
  let bOff = native.offset(b), scratch = 0;
  try {
    if (transposeB) {
      scratch = native.malloc(4 * rowsB * colsB);
      const src = native.offset(b);
      native.run('transpose2d', rowsB, colsB, (r0, r1) => [src, rowsB, colsB, scratch, r0, r1]);
      bOff = scratch;
    }
    const aOff = native.offset(a), outOff = native.offset(out);
    native.run('matmul_a_b', M, K * N, (r0, r1) => [aOff, bOff, K, N, outOff, r0, r1]);
  } finally {
    if (scratch) native.free(scratch);
  }
}

/** Activations the 1×1 path applies itself (others go to the stock kernel). */
export const NATIVE_ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

/** Whether a (fused) convolution is a 1×1 stride-1 product the native kernels can run. */
export function nativePointwiseApplies(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.NamedAttrMap): boolean {
  const strides = [attrs.strides].flat() as number[];
  const pad = attrs.pad;
  const zeroPad = pad === 'same' || pad === 'valid' || (Array.isArray(pad) && (pad as unknown as number[][]).flat().every((p) => p === 0));
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  return x.dtype === 'float32' && filter.dtype === 'float32' && x.shape.length === 4 && filter.shape[0] === 1 &&
    filter.shape[1] === 1 && strides.every((s) => s === 1) && zeroPad && (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
    attrs.dimRoundingMode == null && activation in NATIVE_ACTIVATIONS && filter.shape[2] === x.shape[3];
}

/** y ([N, H, W, Cout]) = act(x·W + bias) for a 1×1 stride-1 convolution. */
export function pointwiseConvNative(
  native: NativeKernels, x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | undefined, activation: string | undefined,
  y: tf.TensorInfo,
): void {
  const K = x.shape[3], N = filter.shape[3];
  const M = tf.util.sizeFromShape(x.shape) / K;
  const xOff = native.offset(x), wOff = native.offset(filter), yOff = native.offset(y);
  native.run('matmul_a_b', M, K * N, (r0, r1) => [xOff, wOff, K, N, yOff, r0, r1]);
  const act = NATIVE_ACTIVATIONS[activation ?? 'linear'];
  if (bias || act !== 0) {
    const biasOff = bias ? native.offset(bias) : 0;
    native.run('bias_activation', M, N, (r0, r1) => [yOff, biasOff, N, act, r0, r1]);
  }
}

/** Whether `BatchMatMul(a, b, transposeA=true, transposeB=false)` can run natively: one float32 matrix pair. */
export function nativeMatMulAtBApplies(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  const ma = singleMatrix(a), mb = singleMatrix(b);
  return transposeA && !transposeB && a.dtype === 'float32' && b.dtype === 'float32' && ma !== null && mb !== null &&
    a.shape.length === b.shape.length && ma[0] === mb[0];
}

/** The output shape of aᵀ·b: [I, J], or [1, I, J] for batches of one. */
export function matMulAtBShape(a: tf.TensorInfo, b: tf.TensorInfo): number[] {
  const I = singleMatrix(a)![1], J = singleMatrix(b)![1];
  return a.shape.length === 2 ? [I, J] : [1, I, J];
}

/** out = aᵀ·b for a [M, I] and b [M, J] (or batches of one). */
export function matMulAtBNative(native: NativeKernels, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo): void {
  const [M, I] = singleMatrix(a)!, J = singleMatrix(b)![1];
  const bytes = 8 * I * J;
  const slots = native.reductionSlots(M, I * J, bytes);
  const { raw, acc } = native.zeroedAccumulators(slots, I * J);
  try {
    const aOff = native.offset(a), bOff = native.offset(b);
    native.runReduction('matmul_at_b', M, slots, bytes, (r0, r1, slot) => [aOff, bOff, I, J, acc + slot, r0, r1]);
    native.sumAccumulators(acc, slots, I * J, native.offset(out));
  } finally {
    native.free(raw);
  }
}
