// Aᵀ·B (the weight gradient of 1×1 convolutions) on the native SIMD kernels, with no transposes; float64 across chunks.
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './nativeKernels';

/** [M, N] of a rank-2 matrix or a rank-3 batch of one; null otherwise. */
function singleMatrix(t: tf.TensorInfo): [number, number] | null {
  if (t.shape.length === 2) return [t.shape[0], t.shape[1]];
  if (t.shape.length === 3 && t.shape[0] === 1) return [t.shape[1], t.shape[2]];
  return null;
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
  const parts = native.threads;
  const bytes = 8 * I * J;
  const raw = native.malloc(parts * bytes + 16);
  const acc = Math.ceil(raw / 16) * 16;
  try {
    new Float64Array(native.buffer, acc, parts * I * J).fill(0);
    const aOff = native.offset(a), bOff = native.offset(b);
    native.run('matmul_at_b', M, I * J, (r0, r1, part) => [aOff, bOff, I, J, acc + part * bytes, r0, r1]);
    const sums = new Float64Array(native.buffer, acc, parts * I * J);
    const result = new Float32Array(native.buffer, native.offset(out), I * J);
    for (let k = 0; k < I * J; k++) {
      let s = 0;
      for (let p = 0; p < parts; p++) s += sums[p * I * J + k];
      result[k] = s;
    }
  } finally {
    native.free(raw);
  }
}
