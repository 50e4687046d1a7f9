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

/**
 * out = a·b for a [M, K] and b [K, N], or with transposeB a·bᵀ for b [N, K]: b is read in place when it is not
 * transposed and N is a multiple of 8; else it is packed once into K×8 column panels (pack_b, with 4×4 shuffle
 * transposes for bᵀ), which both threads then read while they share the rows.
 */
function multiply(native: NativeKernels, aOff: number, bOff: number, M: number, K: number, N: number, transposeB: boolean, outOff: number): void {
  const panels = Math.ceil(N / 8);
  const packed = transposeB || N % 8 !== 0 ? native.malloc(4 * K * panels * 8) : 0;
  try {
    if (packed) native.run('pack_b', panels, 8 * K, (g0, g1) => [bOff, K, N, transposeB ? 1 : 0, packed, g0, g1]);
    native.run('matmul_a_b', M, K * N, (r0, r1) => [aOff, bOff, K, N, outOff, packed, r0, r1]);
  } finally {
    if (packed) native.free(packed);
  }
}

/** out = a·b ([M, K]·[K, N]), or a·bᵀ with b [N, K]. */
export function productNative(native: NativeKernels, a: tf.TensorInfo, b: tf.TensorInfo, transposeB: boolean, out: tf.TensorInfo): void {
  const [M, K] = singleMatrix(a)!;
  const [rowsB, colsB] = singleMatrix(b)!;
  multiply(native, native.offset(a), native.offset(b), M, K, transposeB ? rowsB : colsB, transposeB, native.offset(out));
}

/** Activations the 1×1 path applies itself (others go to the stock kernel). */
export const NATIVE_ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

/** Whether a convolution's attributes and float32 filter make it a 1×1 stride-1 unpadded NHWC product. */
function isPointwise(filter: tf.TensorInfo, attrs: tf.NamedAttrMap): boolean {
  const strides = [attrs.strides].flat() as number[];
  const pad = attrs.pad;
  const zeroPad = pad === 'same' || pad === 'valid' || (Array.isArray(pad) && (pad as unknown as number[][]).flat().every((p) => p === 0));
  return filter.dtype === 'float32' && filter.shape.length === 4 && filter.shape[0] === 1 && filter.shape[1] === 1 &&
    strides.every((s) => s === 1) && zeroPad && (attrs.dataFormat ?? 'NHWC') === 'NHWC' && attrs.dimRoundingMode == null;
}

/** Whether a (fused) convolution is a 1×1 stride-1 product the native kernels can run. */
export function nativePointwiseApplies(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.NamedAttrMap): boolean {
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  return x.dtype === 'float32' && x.shape.length === 4 && isPointwise(filter, attrs) && activation in NATIVE_ACTIVATIONS &&
    filter.shape[2] === x.shape[3];
}

/** Whether Conv2DBackpropInput is that of a 1×1 stride-1 convolution: dx = dy·Wᵀ, one product. */
export function nativePointwiseInputGradientApplies(dy: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.NamedAttrMap): boolean {
  const inputShape = attrs.inputShape as number[] | undefined;
  return dy.dtype === 'float32' && dy.shape.length === 4 && isPointwise(filter, attrs) && inputShape?.length === 4 &&
    inputShape[0] === dy.shape[0] && inputShape[1] === dy.shape[1] && inputShape[2] === dy.shape[2] &&
    inputShape[3] === filter.shape[2] && dy.shape[3] === filter.shape[3];
}

/** dx ([N, H, W, Cin]) = dy·Wᵀ of a 1×1 stride-1 convolution: W ([1, 1, Cin, Cout]) is read as [Cin, Cout], transposed. */
export function pointwiseInputGradientNative(native: NativeKernels, dy: tf.TensorInfo, filter: tf.TensorInfo, dx: tf.TensorInfo): void {
  const K = filter.shape[3], N = filter.shape[2];
  const M = tf.util.sizeFromShape(dy.shape) / K;
  multiply(native, native.offset(dy), native.offset(filter), M, K, N, true, native.offset(dx));
}

/** y ([N, H, W, Cout]) = act(x·W + bias) for a 1×1 stride-1 convolution. */
export function pointwiseConvNative(
  native: NativeKernels, x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | undefined, activation: string | undefined,
  y: tf.TensorInfo,
): void {
  const K = x.shape[3], N = filter.shape[3];
  const M = tf.util.sizeFromShape(x.shape) / K;
  const yOff = native.offset(y);
  multiply(native, native.offset(x), native.offset(filter), M, K, N, false, yOff);
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

/** Rows per chunk of matmul_at_b (PRODUCT_CHUNK in native/products.c): its packing scratch holds one chunk of a and b. */
const AT_B_CHUNK_ROWS = 256;

/**
 * out = aᵀ·b for a [M, I] and b [M, J] (or batches of one): each chunk of rows writes its own float64 matrix (no
 * zero-fill), with per-thread scratch to pack its operands; sum_parts adds the chunks in order and rounds to float32.
 */
export function matMulAtBNative(native: NativeKernels, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo): void {
  const [M, I] = singleMatrix(a)!, J = singleMatrix(b)![1];
  const accBytes = 8 * I * J;
  const packBytes = 4 * AT_B_CHUNK_ROWS * (Math.ceil(I / 4) * 4 + Math.ceil(J / 8) * 8);
  const slots = native.reductionSlots(M, I * J, accBytes);
  const raw = native.malloc(slots * accBytes + 2 * packBytes + 16);
  const acc = Math.ceil(raw / 16) * 16, pack = acc + slots * accBytes;
  try {
    const aOff = native.offset(a), bOff = native.offset(b);
    native.runReduction('matmul_at_b', M, slots, accBytes, (r0, r1, slot, thread) => [aOff, bOff, I, J, acc + slot, pack + thread, r0, r1], packBytes);
    native.sumAccumulators(acc, slots, I * J, native.offset(out));
  } finally {
    native.free(raw);
  }
}
